/**
 * Runs every part of the benchmark in order and returns the results object that report.ts writes
 * (bench/results/latest.json, the table, bench/README.md). Measures only: nothing is written here
 * but the CPU profile.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { repoRoot, samplePoliciesDir } from "../test/harness/paths";
import { startRegistry, type RegistryHandle } from "../test/harness/registry";
import { generatedTreeName, profiledTreeSize, type BenchConfig, type BenchContext } from "./config";
import { benchPreview, type PreviewBench } from "./preview";
import { patchCounts, type PatchCount } from "./patches";
import { coldPush, editOnePush, profile, repush, startupFloor, type ColdTree, type EditOnePush, type RepushVariant, type ToolTimes, type Tree } from "./push";
import { growth, scale, type ScalePoint } from "./scale";
import type { BenchTools, MachineInfo } from "./support/env";
import type { ProfileSummary } from "./support/profile";
import { median, round } from "./support/stats";
import { copyTree, generateTree, readSamples } from "./support/trees";

type Growth = { from: number; to: number; per_10x: number }[];

/** bench/results/latest.json: headline keys first, then the raw data (see bench/README.md). */
export interface BenchResults {
    date: string;
    machine: MachineInfo & { loadAverageEnd: number[] };
    /** The knobs, `out` relative to the repository. */
    config: BenchConfig;
    ratio_vs_flux_push: number | null;
    ratio_vs_oras_push: number | null;
    repush_blob_uploads: number | null;
    repush_requests: number | null;
    noop_preview_ratio: number | null;
    noop_preview_reason: string | null;
    /** Edit one file of the largest tree and push (warm validation cache), ours / flux push, medians. */
    edit_one_push_ratio_vs_flux: number | null;
    /** Cold build+push with an empty validation cache, ours / flux push, medians, worst tree (= ratio_vs_flux_push). */
    cold_push_ratio_vs_flux: number | null;
    rss_mb_5000: number | null;
    /** Kustomization patches of an `enforce` stack with 500 generated policies (lib/policies/enforcement.ts). */
    patches_for_500_policies: number | null;
    /** No-op preview of the stack enforcing 500 generated policies / enforcing 10, each relative to the one-resource preview of the same rounds (preview.ts stackScaleRatio). */
    preview_500_vs_10: number | null;
    preview_500_vs_10_reason: string | null;
    growth_per_10x: number | null;
    goals: { goal: string; target: number; actual: number | null; met: boolean | null }[];
    startup: { how: string; commands: Record<string, ToolTimes> };
    cold_push: { how: string; trees: ColdTree[] };
    repush: { tree: string; how: string; variants: RepushVariant[] };
    edit_one_push: EditOnePush | null;
    patches: { how: string; points: PatchCount[] };
    scale: {
        how: string;
        startup_ms: number[];
        points: ScalePoint[];
        growth_per_10x: Growth;
        growth_per_10x_excluding_startup: Growth;
        rss_growth_20000_vs_1000: number | null;
    };
    preview: PreviewBench;
    profile: { file: string; push_ms: number; summary: ProfileSummary } | null;
    notes: string[];
    total_runtime_s: number;
}

/** Every part, in the order that keeps the registry's lifetime short. `startedAt`: when the run began (for total_runtime_s). */
export async function measure(ctx: BenchContext, tools: BenchTools, machine: MachineInfo, startedAt: number): Promise<BenchResults> {
    const { cfg, log } = ctx;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "policy-bench-"));
    let registry: RegistryHandle | undefined;
    const notes: string[] = [];
    try {
        // Trees: the sample itself plus generated ones with its size distribution.
        const samples = readSamples(samplePoliciesDir);
        const trees = new Map<number, Tree>();
        const treeOf = (n: number): Tree => {
            let t = trees.get(n);
            if (!t) {
                const dir = path.join(work, `tree-${n}`);
                const g = generateTree(samples, dir, n);
                t = { name: generatedTreeName(n), dir, files: g.files, bytes: g.bytes };
                trees.set(n, t);
            }
            return t;
        };
        const sampleDir = path.join(work, "tree-sample");
        const sc = copyTree(samplePoliciesDir, sampleDir);
        const sampleTree: Tree = { name: "policies-sample", dir: sampleDir, files: sc.files, bytes: sc.bytes };
        const coldTrees = [sampleTree, ...cfg.trees.map(treeOf)];
        log(`trees: ${coldTrees.map((t) => `${t.name} (${t.files} files, ${(t.bytes / 1024).toFixed(0)} KiB)`).join(", ")}`);

        registry = await startRegistry({ mode: "anonymous" });

        log("part 0: process start-up floor");
        const startupTimes = await startupFloor(ctx, tools);
        let cold: ColdTree[] = [];
        let repushResult: RepushVariant[] = [];
        let editOne: EditOnePush | null = null;
        let prof: Awaited<ReturnType<typeof profile>> | undefined;
        if (tools.flux && tools.oras) {
            log("part 1: cold build+push (ours vs flux push artifact vs tar czf + oras push)");
            cold = await coldPush(ctx, tools, registry, coldTrees, work);
            const big = coldTrees[coldTrees.length - 1]!;
            log(`part 2: unchanged re-push of ${big.name} through the counting proxy`);
            repushResult = await repush(ctx, tools, registry, big, fs.mkdtempSync(path.join(work, "cache-repush-")));
            log(`part 2b: edit one file of ${big.name} and push (ours with its validation cache vs flux push artifact)`);
            editOne = await editOnePush(ctx, tools, registry, big, work);
        } else {
            notes.push(`flux/oras unavailable (${tools.problem}): cold push and re-push comparisons not run`);
            log(`!!! ${notes[notes.length - 1]}`);
        }
        const profTree = treeOf(profiledTreeSize(cfg.trees));
        if (cfg.profile) {
            log(`part 5: node --cpu-prof of our cold push of ${profTree.name}`);
            prof = await profile(registry, profTree, work);
        }
        await registry.stop();
        registry = undefined;

        log("part 4b: Kustomization patches of an enforce stack, 10/100/500 generated policies");
        const patches = await patchCounts(samples, work);

        log(`part 4: scale, build of ${cfg.scale.join("/")} files`);
        for (const n of cfg.scale) treeOf(n);
        const sc4 = await scale(ctx, trees);
        const startup = median(sc4.startup_ms);
        const g = growth(sc4.points);
        const gNet = growth(sc4.points, startup);

        let preview: PreviewBench;
        if (cfg.preview === "0") {
            preview = { noop_preview_ratio: null, reason: "skipped: BENCH_PREVIEW=0 (or BENCH_QUICK=1)", total_ms: 0 };
        } else {
            log("part 3: no-op pulumi preview, full stack vs one-resource program");
            preview = await benchPreview({ binDir: tools.binDir, rounds: cfg.previewRounds, stackPolicies: cfg.stackPolicies, log });
            if (preview.noop_preview_ratio === null && cfg.preview === "1") throw new Error(`BENCH_PREVIEW=1 but: ${preview.reason}`);
        }
        if (preview.noop_preview_ratio === null) log(`!!! noop_preview_ratio is null: ${preview.reason}`);

        const headline = (k: "ratio_vs_flux_push" | "ratio_vs_oras_push") => (cold.length ? Math.max(...cold.map((c) => c[k])) : null);
        const ours = repushResult[0];
        const rss5000 = sc4.points.find((p) => p.files === 5000)?.max_peak_rss_mb ?? null;
        const patches500 = patches.find((p) => p.policies === 500)?.patches ?? null;
        const preview500vs10 = preview.preview_500_vs_10 ?? null;
        const growthWorst = g.length ? Math.max(...g.map((x) => x.per_10x)) : null;
        const rssPoints = sc4.points.map((p) => p.max_peak_rss_mb);
        const goals = [
            { goal: "edit one file of the largest tree and push <= 0.8x flux push (medians)", target: 0.8, actual: editOne?.ratio_vs_flux_push ?? null },
            { goal: "cold build+push, empty validation cache <= 2x flux push (worst tree, medians)", target: 2, actual: headline("ratio_vs_flux_push") },
            { goal: "cold build+push <= 0.8x flux push (worst tree, medians)", target: 0.8, actual: headline("ratio_vs_flux_push") },
            { goal: "cold build+push <= 0.8x tar czf + oras push (worst tree, medians)", target: 0.8, actual: headline("ratio_vs_oras_push") },
            { goal: "unchanged re-push: 0 blob uploads", target: 0, actual: ours?.blob_uploads ?? null },
            { goal: "unchanged re-push: <= 1 registry request", target: 1, actual: ours?.requests ?? null },
            { goal: "no-op preview <= 3x one-resource program", target: 3, actual: preview.noop_preview_ratio },
            { goal: "peak RSS at 5,000 files <= 100 MB", target: 100, actual: rss5000 },
            // Every generated tree of 100 or more policies holds all 12 sample shapes: the count must not grow past 100's.
            { goal: "Kustomization patches, 500 policies <= 100 policies (same shapes; enforce)", target: patches.find((p) => p.policies === 100)?.patches ?? 0, actual: patches500 },
            { goal: "no-op preview, 500 policies <= 1.5x 10 policies (stack under enforce; each vs the one-resource preview of its rounds)", target: 1.5, actual: preview500vs10 },
            { goal: "10x files <= 11x time (worst decade)", target: 11, actual: growthWorst },
        ].map((x) => ({ ...x, met: x.actual === null ? null : x.actual <= x.target }));

        return {
            date: new Date().toISOString(),
            machine: { ...machine, loadAverageEnd: os.loadavg().map((x) => round(x, 2)) },
            config: { ...cfg, out: path.relative(repoRoot, cfg.out) },
            ratio_vs_flux_push: headline("ratio_vs_flux_push"),
            ratio_vs_oras_push: headline("ratio_vs_oras_push"),
            repush_blob_uploads: ours?.blob_uploads ?? null,
            repush_requests: ours?.requests ?? null,
            noop_preview_ratio: preview.noop_preview_ratio,
            noop_preview_reason: preview.reason ?? null,
            edit_one_push_ratio_vs_flux: editOne?.ratio_vs_flux_push ?? null,
            cold_push_ratio_vs_flux: headline("ratio_vs_flux_push"),
            rss_mb_5000: rss5000,
            patches_for_500_policies: patches500,
            preview_500_vs_10: preview500vs10,
            preview_500_vs_10_reason: preview500vs10 === null ? (preview.stack_scale_reason ?? preview.reason ?? "not measured") : null,
            growth_per_10x: growthWorst,
            goals,
            startup: { how: "each command alone, interleaved; spawn-to-exit wall ms", commands: startupTimes },
            cold_push: {
                how: "fresh repository per push, tools interleaved with rotating order; ours = `node build/cli/artifact.js push` (a new process), flux = `flux push artifact`, oras = `tar czf` (GNU tar+gzip, sorted, owner 0, mtime 0) + `oras push` with Flux media types; times are spawn-to-exit wall ms",
                trees: cold,
            },
            repush: { tree: coldTrees[coldTrees.length - 1]!.name, how: "counted by a reverse proxy in front of the registry; blob uploads = upload sessions started (POST …/blobs/uploads/); ours keeps its validation cache between pushes", variants: repushResult },
            edit_one_push: editOne,
            patches: { how: "enforcementPatches (grouped, as the stack ships) and perPolicyEnforcementPatches of generated trees (copies of the sample policies, unique names) under enforce; bytes = the patches' targets and patch strings as JSON", points: patches },
            scale: {
                how: "`node build/cli/artifact.js build --path DIR --output json` under /usr/bin/time -f %M; growth per 10x = (t2/t1)^(1/log10(n2/n1)) on min times between consecutive sizes",
                startup_ms: sc4.startup_ms,
                points: sc4.points,
                growth_per_10x: g,
                growth_per_10x_excluding_startup: gNet,
                rss_growth_20000_vs_1000: sc4.points.length > 1 ? round(rssPoints[rssPoints.length - 1]! / (sc4.points.find((p) => p.files === 1000)?.max_peak_rss_mb ?? rssPoints[0]!), 2) : null,
            },
            preview,
            profile: prof ?? null,
            notes,
            total_runtime_s: Math.round((Date.now() - startedAt) / 1000),
        };
    } finally {
        await registry?.stop();
        fs.rmSync(work, { recursive: true, force: true });
    }
}
