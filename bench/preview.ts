/**
 * Part 3: no-op `pulumi preview` of the full stack vs the preview of a one-resource program, both
 * on the same file backend, with the real Pulumi engine and providers, against the end-to-end
 * cluster (kwok behind the kind shim, real Flux controllers, real registry with htpasswd/TLS).
 * Runs on the end-to-end harness (test/harness/); returns a null ratio with the reason when the
 * tool chain is incomplete or any step fails: never an invented number.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { resolveE2eFixtures } from "../test/harness/fixtures-resolver";
import { startFluxWhenReady, type FluxControllers } from "../test/harness/flux-controllers";
import { deleteAllClusters } from "../test/harness/kube";
import { repoRoot, samplePoliciesDir } from "../test/harness/paths";
import { checkOk } from "../test/harness/processes";
import { startRegistry, type RegistryHandle } from "../test/harness/registry";
import { seedStack } from "../test/harness/stack";
import { locateToolChain } from "../test/harness/tools";
import { E2eWorkspace } from "../test/harness/workspace";
import { fluxApplyMs } from "./support/flux-log";
import { median, round } from "./support/stats";
import { generateTree, readSamples } from "./support/trees";

const STACK = "bench";
const CLUSTER = `policy-stack-${STACK}`;
const MIN = 60_000;

export interface PreviewBench {
    noop_preview_ratio: number | null;
    /** Why the ratio is null. */
    reason?: string;
    full_preview_ms?: number[];
    one_resource_preview_ms?: number[];
    full_resources?: number;
    up_ms?: number;
    /** The same stack under `enforce` with generated trees of each size (stackScale). */
    stack_scale?: StackScalePoint[];
    /**
     * The largest tree's no-op preview against the smallest's, each first divided by the
     * one-resource preview of the same round (stackScaleRatio); null with the reason when not measured.
     */
    preview_500_vs_10?: number | null;
    /** The same without that correction: median preview with the largest tree / with the smallest. */
    preview_500_vs_10_raw?: number | null;
    stack_scale_reason?: string;
    total_ms: number;
}

/** One size of the stack-scale part: the stack enforcing `policies` generated policies. */
export interface StackScalePoint {
    policies: number;
    /** `pulumi up` that switched the stack to this tree (a new artifact tag, Flux applying it). */
    up_ms: number;
    /**
     * Flux's own time to apply this tree's revision (kustomize-controller's "Reconciliation finished
     * in", bench/support/flux-log.ts); null when its log does not show that apply.
     */
    flux_apply_ms: number | null;
    /** No-op `pulumi up --expect-no-changes` of the stack, each round (after the previews). */
    noop_up_ms: number[];
    noop_up_median_ms: number;
    /** No-op `pulumi preview --expect-no-changes` of the stack, each round. */
    preview_ms: number[];
    preview_median_ms: number;
    /** The one-resource program's preview in the same rounds (interleaved): the machine's drift. */
    one_resource_preview_ms: number[];
    /** Median over the rounds of preview / one-resource preview of the same round. */
    preview_vs_one_resource: number;
    /** The Kustomization's `spec` in the stack's state, as JSON. */
    kustomization_spec_bytes: number | null;
    /** Its `spec.patches` entries. */
    kustomization_patches: number | null;
}

/** The one-resource program: a ConfigMap on the same cluster, same language host and provider. */
const ONE_RESOURCE_PROGRAM = `import * as k8s from "@pulumi/kubernetes";

export const name = new k8s.core.v1.ConfigMap("bench-one", {
    metadata: { name: "bench-one", namespace: "default" },
    data: { purpose: "no-op preview baseline" },
}).metadata.name;
`;

export async function benchPreview(o: { binDir?: string; rounds: number; stackPolicies: number[]; log: (s: string) => void }): Promise<PreviewBench> {
    const started = Date.now();
    if (!o.binDir) return { noop_preview_ratio: null, reason: "no tool bin dir (scripts/build-tools.sh did not run or failed)", total_ms: 0 };
    let tools;
    try {
        tools = locateToolChain(o.binDir);
    } catch (e) {
        return {
            noop_preview_ratio: null,
            reason: `end-to-end tool chain incomplete, run scripts/build-tools.sh (all tools) first: ${(e as Error).message.replace(/\s*\n\s*/g, " ").replace(/\/[^\s,]*\/(bin-[0-9a-f]+)/g, "<tools>/$1")}`,
            total_ms: Date.now() - started,
        };
    }
    let fixtures;
    try {
        fixtures = await resolveE2eFixtures();
    } catch (e) {
        return { noop_preview_ratio: null, reason: `end-to-end fixtures unavailable: ${(e as Error).message}`, total_ms: Date.now() - started };
    }
    const ws = new E2eWorkspace(tools);
    let registry: RegistryHandle | undefined;
    let flux: FluxControllers | undefined;
    let upDone = false;
    try {
        registry = await startRegistry({ mode: "basic-tls" });
        o.log("preview: stack init + config");
        await seedStack(ws, { stack: STACK, registry, repository: "kyverno-policies", fixtures, reconcileTimeoutS: 180 });

        // Flux's controllers run as local processes once the cluster and Flux's CRDs exist (as in the e2e test).
        const watcher = startFluxWhenReady({ ws, cluster: CLUSTER, done: () => upDone }).then((started) => {
            flux = started;
        });
        o.log("preview: pulumi up of the full stack (kwok cluster, Flux, Kyverno, artifact)…");
        const up = await ws.pulumi(["up", "--yes"], { timeoutMs: 22 * MIN });
        upDone = true;
        await watcher;
        checkOk(up, "pulumi up of the full stack");

        const kubeconfigFile = path.join(ws.root, "kubeconfig-bench");
        const outputs = JSON.parse((await ws.pulumiOk(["stack", "output", "--json", "--show-secrets"])).stdout);
        fs.writeFileSync(kubeconfigFile, outputs.kubeconfig, { mode: 0o600 });

        const oneDir = path.join(ws.root, "one-resource");
        fs.mkdirSync(oneDir);
        fs.writeFileSync(path.join(oneDir, "Pulumi.yaml"), "name: bench-one-resource\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n");
        fs.writeFileSync(path.join(oneDir, "package.json"), JSON.stringify({ name: "bench-one-resource", private: true, main: "index.ts" }, null, 2));
        // Measured the same way as the program: transpile-only through its tsconfig's "ts-node"
        // section (no environment variable), so the ratio compares the programs, not type-checking.
        const oneTsconfig = JSON.parse(fs.readFileSync(path.join(repoRoot, "examples", "consumer", "tsconfig.json"), "utf8"));
        const programTsNode = (require("typescript") as typeof import("typescript")).readConfigFile(path.join(repoRoot, "tsconfig.json"), (f) => fs.readFileSync(f, "utf8")).config["ts-node"];
        fs.writeFileSync(path.join(oneDir, "tsconfig.json"), JSON.stringify({ ...oneTsconfig, "ts-node": programTsNode }, null, 2));
        fs.writeFileSync(path.join(oneDir, "index.ts"), ONE_RESOURCE_PROGRAM);
        fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(oneDir, "node_modules"), "dir");
        const oneOpts = { cwd: oneDir, env: { KUBECONFIG: kubeconfigFile } };
        await ws.pulumiOk(["stack", "init", STACK], oneOpts);
        o.log("preview: pulumi up of the one-resource program");
        await ws.pulumiOk(["up", "--yes"], { ...oneOpts, timeoutMs: 10 * MIN });

        const state = JSON.parse((await ws.pulumiOk(["stack", "export"])).stdout);
        const fullResources = (state.deployment?.resources ?? []).length;

        const { full, one } = await interleavedPreviews(ws, oneOpts, o.rounds, (r, fullMs, oneMs) => o.log(`preview: round ${r + 1}: stack ${fullMs} ms, one-resource ${oneMs} ms`));
        const base = {
            noop_preview_ratio: round(median(full) / median(one), 2),
            full_preview_ms: full,
            one_resource_preview_ms: one,
            full_resources: fullResources,
            up_ms: up.ms,
        };
        let scalePart: Pick<PreviewBench, "stack_scale" | "preview_500_vs_10" | "stack_scale_reason">;
        try {
            const points = await stackScale(ws, oneOpts, { ...o, fluxLogs: () => flux?.logs() ?? "" });
            const first = points[0];
            const last = points[points.length - 1];
            scalePart = {
                stack_scale: points,
                ...stackScaleRatio(points),
                ...(first && last && first.policies === 10 && last.policies === 500 ? {} : { stack_scale_reason: `sizes measured: ${o.stackPolicies.join(", ")} (the key compares 10 with 500)` }),
            };
        } catch (e) {
            scalePart = { preview_500_vs_10: null, stack_scale_reason: `stack-scale part failed: ${(e as Error).message.split("\n")[0]}` };
        }
        return { ...base, ...scalePart, total_ms: Date.now() - started };
    } catch (e) {
        return { noop_preview_ratio: null, reason: `preview benchmark failed: ${(e as Error).message.split("\n")[0]}`, total_ms: Date.now() - started };
    } finally {
        upDone = true;
        await deleteAllClusters(ws).catch(() => []);
        await flux?.stop();
        await registry?.stop();
        if (process.env.BENCH_KEEP) o.log(`preview: workspace kept at ${ws.root}`);
        else ws.remove();
    }
}

/**
 * preview_500_vs_10 from the stack-scale points (first = smallest tree, last = largest). The sizes
 * cannot be interleaved (each needs its tree deployed), and on a shared machine the load moves
 * between them by more than the effect measured, so each size's previews are first divided by the
 * one-resource previews interleaved with them; the raw ratio of medians is kept beside it.
 */
export function stackScaleRatio(points: StackScalePoint[]): { preview_500_vs_10: number | null; preview_500_vs_10_raw: number | null } {
    const first = points[0];
    const last = points[points.length - 1];
    if (!first || !last || first === last) return { preview_500_vs_10: null, preview_500_vs_10_raw: null };
    return {
        preview_500_vs_10: round(last.preview_vs_one_resource / first.preview_vs_one_resource, 2),
        preview_500_vs_10_raw: round(last.preview_median_ms / first.preview_median_ms, 2),
    };
}

/**
 * `rounds` no-op previews of the stack and of the one-resource program, interleaved (alternating
 * which goes first each round) so that a load change hits both alike; `log` gets each round.
 */
async function interleavedPreviews(
    ws: E2eWorkspace, oneOpts: { cwd: string; env: NodeJS.ProcessEnv }, rounds: number, log: (round: number, fullMs: number, oneMs: number) => void,
): Promise<{ full: number[]; one: number[] }> {
    const full: number[] = [];
    const one: number[] = [];
    for (let r = 0; r < rounds; r++) {
        const order: ("full" | "one")[] = r % 2 === 0 ? ["full", "one"] : ["one", "full"];
        for (const which of order) {
            const res = await ws.pulumiOk(["preview", "--expect-no-changes"], which === "full" ? { timeoutMs: 10 * MIN } : { ...oneOpts, timeoutMs: 10 * MIN });
            (which === "full" ? full : one).push(res.ms);
        }
        log(r, full[r], one[r]);
    }
    return { full, one };
}

/**
 * Flux's apply time of `digest` from its log. kustomize-controller marks the Kustomization Ready
 * (which ends `pulumi up`) before it writes the "Reconciliation finished" line, so the line may
 * still be on its way: read the log again for up to 30 s.
 */
async function waitForFluxApply(logs: () => string, name: string, digest: string): Promise<number | undefined> {
    for (const deadline = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 1000))) {
        const ms = fluxApplyMs(logs(), name, digest);
        if (ms !== undefined || Date.now() > deadline) return ms;
    }
}

/**
 * The stack-scale part: the full stack switched to `enforce` and to a generated tree of each size
 * in turn (copies of the sample policies with unique names, a new artifact tag each, as a
 * release), `pulumi up`, then no-op previews interleaved with the one-resource program's. The
 * sizes run one after the other (a preview needs its tree deployed), so the one-resource previews
 * show how much the machine drifted between them.
 */
async function stackScale(
    ws: E2eWorkspace, oneOpts: { cwd: string; env: NodeJS.ProcessEnv },
    o: { rounds: number; stackPolicies: number[]; log: (s: string) => void; fluxLogs: () => string },
): Promise<StackScalePoint[]> {
    const samples = readSamples(samplePoliciesDir);
    const points: StackScalePoint[] = [];
    await ws.pulumiOk(["config", "set", "enforcement", "enforce"]);
    for (const [i, n] of o.stackPolicies.entries()) {
        const dir = path.join(ws.root, `policies-${n}`);
        generateTree(samples, dir, n);
        await ws.pulumiOk(["config", "set", "policiesPath", dir]);
        await ws.pulumiOk(["config", "set", "artifactTag", `1.${i + 1}.0`]);
        o.log(`preview: stack scale, pulumi up with ${n} policies under enforce…`);
        const up = await ws.pulumiOk(["up", "--yes"], { timeoutMs: 20 * MIN });
        const state = JSON.parse((await ws.pulumiOk(["stack", "export"])).stdout) as { deployment?: { resources?: { type: string; outputs?: { spec?: { patches?: unknown[] }; metadata?: { name?: string } } }[] } };
        const kustomization = (state.deployment?.resources ?? []).find((r) => r.type === "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization");
        const spec = kustomization?.outputs?.spec;
        const outputs = JSON.parse((await ws.pulumiOk(["stack", "output", "--json"])).stdout) as { artifactRevision?: string };
        const digest = /sha256:[0-9a-f]{64}/.exec(outputs.artifactRevision ?? "")?.[0];
        const name = kustomization?.outputs?.metadata?.name;
        const fluxApply = digest && name ? await waitForFluxApply(o.fluxLogs, name, digest) : undefined;
        const { full: previews, one: ones } = await interleavedPreviews(ws, oneOpts, o.rounds,
            (r, fullMs, oneMs) => o.log(`preview: ${n} policies, round ${r + 1}: stack ${fullMs} ms, one-resource ${oneMs} ms`));
        const noopUps: number[] = [];
        for (let r = 0; r < o.rounds; r++) {
            noopUps.push((await ws.pulumiOk(["up", "--yes", "--expect-no-changes"], { timeoutMs: 10 * MIN })).ms);
            o.log(`preview: ${n} policies, no-op up round ${r + 1}: ${noopUps[r]} ms`);
        }
        points.push({
            policies: n,
            up_ms: up.ms,
            flux_apply_ms: fluxApply === undefined ? null : round(fluxApply, 0),
            noop_up_ms: noopUps,
            noop_up_median_ms: median(noopUps),
            preview_ms: previews,
            preview_median_ms: median(previews),
            one_resource_preview_ms: ones,
            preview_vs_one_resource: round(median(previews.map((ms, r) => ms / ones[r]!)), 2),
            kustomization_spec_bytes: spec ? Buffer.byteLength(JSON.stringify(spec)) : null,
            kustomization_patches: spec ? (spec.patches ?? []).length : null,
        });
    }
    return points;
}
