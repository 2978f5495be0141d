/**
 * Runs the Pulumi program (index.ts, one PolicyStack) under strict Pulumi mocks and records every resource with
 * its type, name, inputs, provider, parent and dependsOn. Mocks never see resource options, so a
 * stack transformation records them: the seam that lets unit tests assert ordering.
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { repoRoot } from "../harness/paths";

export interface RecordedResource {
    type: string;
    name: string;
    custom: boolean;
    inputs: Record<string, any>;
    /** Provider reference (`urn::id`) the resource was registered with, for custom resources. */
    provider?: string;
    /** The parent resource, when there is one. */
    parent?: pulumi.Resource;
    /** Raw `dependsOn` option as passed; resolve with `dependencyNames`. */
    dependsOn?: pulumi.Input<pulumi.Input<pulumi.Resource>[]> | pulumi.Input<pulumi.Resource>;
    resource?: pulumi.Resource;
    /** The props as the program passed them (Outputs kept, so secretness can be checked). */
    props?: Record<string, any>;
}

/** Every resource type the program may create. Anything else fails the run: strict mocks. */
export const KNOWN_TYPES = new Set([
    "policy-stack:index:PolicyStack",
    "policy-stack:cluster:Cluster",
    "policy-stack:registry:LocalRegistry",
    "policy-stack:registry:RegistryAccess",
    "policy-stack:signing:VerificationKeys",
    "policy-stack:flux:Flux",
    "policy-stack:flux:PolicySource",
    "policy-stack:kyverno:Kyverno",
    "policy-stack:artifact:PolicyArtifact",
    "policy-stack:kyverno:EnforcementStatus",
    "pulumi:providers:kubernetes",
    "command:local:Command",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:Secret",
    "kubernetes:yaml/v2:ConfigFile",
    "kubernetes:helm.sh/v3:Release",
    "kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository",
    "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization",
    "pulumi-nodejs:dynamic/policy-stack:PolicyArtifact",
]);

/** What lib/sh/policy-status.sh prints for the enforcement status Command: one live policy and its report counts. */
export const FAKE_POLICY_STATUS = "policy\tkyverno.io/v1\tClusterPolicy\t-\tdisallow-latest-tag\tAudit\t-\tEnforce,Enforce,\ncount\tdisallow-latest-tag\tfail\t1\ncount\tdisallow-latest-tag\tpass\t3\n";

export const FAKE_KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\nusers:\n- name: kind\n  user:\n    client-key-data: c2VjcmV0LWtleQ==\n";

/** The dev stack's config as the committed Pulumi.dev.yaml sets it: kind, the local registry, policies/. */
export function devStackConfig(): Record<string, string> {
    return {
        "policy-stack:clusterMode": "kind",
        "policy-stack:registryMode": "local",
        "policy-stack:policiesPath": path.join(repoRoot, "policies"),
    };
}

export interface ProgramRun {
    /** What the program threw, if it failed. */
    error: unknown;
    resources: RecordedResource[];
    outputs: Record<string, any>;
    /** The first recorded resource of a type (and name, when given). */
    find(type: string, name?: string): RecordedResource;
    all(type: string): RecordedResource[];
    /** Name of `r`'s parent, if any. */
    parentName(r: RecordedResource): Promise<string | undefined>;
    /** Names of the resources `r` depends on (resolving Outputs and expanding nothing). */
    dependencyNames(r: RecordedResource): Promise<string[]>;
    /**
     * The URNs `r` answers to besides its own: its `aliases`, as the SDK resolves them for the
     * engine. (Its children inherit them in the engine, which mocks do not run.)
     */
    aliasUrns(r: RecordedResource): Promise<string[]>;
}

/** Mock state: what a provider would return for each type. */
function mockState(args: pulumi.runtime.MockResourceArgs): Record<string, any> {
    switch (args.type) {
        case "command:local:Command":
            return { ...args.inputs, stdout: args.name.endsWith("-kind") ? FAKE_KUBECONFIG : args.name === "enforcement-status-read" ? FAKE_POLICY_STATUS : "", stderr: "" };
        case "kubernetes:helm.sh/v3:Release":
            return { ...args.inputs, status: { version: args.inputs.version, appVersion: "v1.19.1", namespace: args.inputs.namespace, status: "deployed" } };
        case "kubernetes:yaml/v2:ConfigFile":
            return { ...args.inputs, resources: [] };
        default:
            return { ...args.inputs };
    }
}

/**
 * Seeds config, installs mocks, runs the program inside a stack and returns what it registered
 * (and what it threw, rather than throwing, so tests can check nothing was registered).
 * Call once per process (node:test runs each file in its own process).
 */
export async function runProgram(options: { config: Record<string, string>; secretKeys?: string[]; preview: boolean; stack?: string }): Promise<ProgramRun> {
    const resources: RecordedResource[] = [];
    await pulumi.runtime.setMocks({
        newResource(args: pulumi.runtime.MockResourceArgs) {
            // The stack itself (runInPulumiStack registers it) is not part of the program.
            if (args.type === "pulumi:pulumi:Stack") return { id: undefined, state: {} };
            if (!KNOWN_TYPES.has(args.type)) throw new Error(`unexpected resource type ${args.type} (${args.name})`);
            resources.push({ type: args.type, name: args.name, custom: args.custom ?? true, inputs: args.inputs, provider: args.provider });
            return { id: options.preview && args.custom ? undefined : `${args.name}-id`, state: mockState(args) };
        },
        call(args: pulumi.runtime.MockCallArgs) {
            throw new Error(`unexpected invoke ${args.token}`);
        },
    }, "policy-stack", options.stack ?? "dev", options.preview);
    pulumi.runtime.setAllConfig(options.config, options.secretKeys ?? []);

    const transformed: { type: string; name: string; resource: pulumi.Resource; props: Record<string, any>; parent?: pulumi.Resource; dependsOn?: any }[] = [];
    const program = require("../../index") as () => Promise<Record<string, any>>;
    let error: unknown;
    // The program's own return value: runInPulumiStack hands back plain values, losing secretness.
    let programOutputs: Record<string, any> = {};
    await (pulumi.runtime.runInPulumiStack(async () => {
        pulumi.runtime.registerStackTransformation((args) => {
            transformed.push({ type: args.type, name: args.name, resource: args.resource, props: args.props, parent: args.opts.parent, dependsOn: args.opts.dependsOn });
            return undefined;
        });
        try {
            programOutputs = await program();
            return programOutputs;
        } catch (e) {
            error = e;
            return {};
        }
    }));
    const outputs = programOutputs;

    // Let every registration reach the mocks.
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const r of resources) {
        const t = transformed.find((x) => x.type === r.type && x.name === r.name);
        if (t) {
            r.parent = t.parent;
            r.dependsOn = t.dependsOn;
            r.resource = t.resource;
            r.props = t.props;
        }
    }
    const find = (type: string, name?: string) => {
        const r = resources.find((x) => x.type === type && (name === undefined || x.name === name));
        if (!r) throw new Error(`no ${type}${name ? ` named ${name}` : ""} was registered; got ${resources.map((x) => `${x.type}/${x.name}`).join(", ")}`);
        return r;
    };
    return {
        error,
        resources,
        outputs,
        find,
        all: (type) => resources.filter((x) => x.type === type),
        parentName: async (r) => (r.parent ? (await valueOf<string>(r.parent.urn)).split("::").pop() : undefined),
        async dependencyNames(r) {
            if (r.dependsOn === undefined) return [];
            const deps = await new Promise<pulumi.Resource[]>((resolve) =>
                pulumi.output(r.dependsOn as pulumi.Input<pulumi.Resource[]>).apply((d) => { resolve(([] as pulumi.Resource[]).concat(d)); return d; }));
            return Promise.all(deps.map((d) => new Promise<string>((resolve) => d.urn.apply((u) => { resolve(u.split("::").pop()!); return u; }))));
        },
        // The SDK keeps the collapsed aliases in a field of its own; there is no public accessor.
        aliasUrns: async (r) => Promise.all(((r.resource as any)?.__aliases ?? []).map((a: pulumi.Output<string>) => valueOf(a))),
    };
}

/** Resolves an Output's value (under mocks). */
export function valueOf<T>(output: pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(output).apply((v) => { resolve(v as T); return v; }));
}

/** Whether an Output is marked secret. */
export function isSecret(value: pulumi.Input<unknown>): Promise<boolean> {
    return (pulumi.output(value) as any).isSecret as Promise<boolean>;
}

/** The SDK's marker for a secret value in serialised inputs (what mocks receive). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** If `v` is a serialised secret, its value; otherwise undefined. Lets tests assert an input was secret. */
export function secretInput(v: unknown): unknown {
    return v !== null && typeof v === "object" && SECRET_SIG in (v as object) ? (v as { value: unknown }).value : undefined;
}
