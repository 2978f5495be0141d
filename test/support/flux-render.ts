/**
 * Renders the program's own Flux objects (components/policySource.ts) to plain Kubernetes
 * manifests, by constructing PolicySource under Pulumi mocks and recording the inputs of the
 * OCIRepository and Kustomization it registers. A test can then apply exactly what `pulumi up`
 * would send, to a cluster where the real Flux controllers run.
 *
 * Sets global Pulumi mocks: use from a test file of its own (node:test runs each file in its own
 * process).
 */
import * as pulumi from "@pulumi/pulumi";

import type { PolicySourceArgs } from "../../components/policySource";

export interface RenderedPolicySource {
    ociRepository: { apiVersion: string; kind: string; metadata: any; spec: any };
    kustomization: { apiVersion: string; kind: string; metadata: any; spec: any };
}

/** Plain (non-Output) arguments of PolicySource, minus the resource dependencies. */
export type PlainPolicySourceArgs = Omit<PolicySourceArgs, "sourceDependsOn" | "applyDependsOn">;

let mocked = false;
const recorded: { type: string; name: string; inputs: Record<string, any> }[] = [];

/**
 * The OCIRepository and Kustomization manifests PolicySource registers, for each of `list`
 * (one Pulumi stack run for all of them; call once per process).
 */
export async function renderPolicySources(list: readonly PlainPolicySourceArgs[]): Promise<RenderedPolicySource[]> {
    if (!mocked) {
        await pulumi.runtime.setMocks({
            newResource(a: pulumi.runtime.MockResourceArgs) {
                recorded.push({ type: a.type, name: a.name, inputs: a.inputs });
                return { id: a.custom ? `${a.name}-id` : undefined, state: { ...a.inputs } };
            },
            call(a: pulumi.runtime.MockCallArgs) {
                throw new Error(`unexpected invoke ${a.token}`);
            },
        }, "policy-stack", "flux-test", false);
        mocked = true;
    }
    // Imported here so that the mocks are in place before any resource module loads.
    const { PolicySource } = require("../../components/policySource") as typeof import("../../components/policySource");
    const start = recorded.length;
    await pulumi.runtime.runInPulumiStack(async () => {
        list.forEach((args, i) => new PolicySource(`policy-source-${i}`, args));
        return {};
    });
    // Let every registration reach the mocks.
    await new Promise((r) => setTimeout(r, 50));
    const mine = recorded.slice(start);
    const pick = (i: number, type: string) => {
        const r = mine.find((x) => x.type === type && x.name.startsWith(`policy-source-${i}-`));
        if (!r) throw new Error(`PolicySource ${i} registered no ${type}; got ${mine.map((x) => `${x.type}/${x.name}`).join(", ")}`);
        const { apiVersion, kind, metadata, spec } = r.inputs;
        return JSON.parse(JSON.stringify({ apiVersion, kind, metadata, spec }));
    };
    return list.map((_, i) => ({
        ociRepository: pick(i, "kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository"),
        kustomization: pick(i, "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization"),
    }));
}
