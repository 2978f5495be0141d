/**
 * Writes what a benchmark run measured (measure.ts): bench/results/latest.json, the table printed
 * on stdout, and that table in bench/README.md below its marker. A pure function of the results
 * object, so the committed latest.json renders the committed table.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { repoRoot } from "../test/harness/paths";
import { generatedTreeName, profiledTreeSize } from "./config";
import type { BenchResults } from "./measure";
import { median } from "./support/stats";

/** bench/README.md and the line after which it carries the latest table. */
export const BENCH_README = path.join(repoRoot, "bench", "README.md");
export const README_MARKER = "<!-- latest-table -->";

function table(headers: string[], rows: (string | number)[][]): string {
    const cells = [headers, ...rows.map((r) => r.map(String))];
    const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
    const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
    return [line(headers), `| ${widths.map((w, i) => (i === 0 ? "-".repeat(w) : "-".repeat(w - 1) + ":")).join(" | ")} |`, ...rows.map((r) => line(r.map(String)))].join("\n");
}

/** Replaces machine paths (checkout, home, temp dir) so the committed results carry none. */
export function scrub(s: string): string {
    const pairs: [string, string][] = [
        [repoRoot, "<repo>"],
        [os.tmpdir(), "<tmp>"],
        [os.homedir(), "~"],
    ];
    for (const [from, to] of pairs) if (from && from !== "/") s = s.split(from).join(to);
    return s;
}

const fmt = (x: number | null | undefined, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? "n/a" : x.toFixed(d));

/** The results as the tables printed at the end of a run (paths scrubbed). */
export function formatReport(results: BenchResults): string {
    const { machine, config, preview, notes, goals } = results;
    const cold = results.cold_push.trees;
    const repushResult = results.repush.variants;
    const prof = results.profile;
    const points = results.scale.points;
    const g = results.scale.growth_per_10x;
    const gNet = results.scale.growth_per_10x_excluding_startup;
    const out: string[] = [];
    out.push(`\n## Benchmarks — ${results.date.slice(0, 16).replace("T", " ")} UTC, ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.go ?? "go ?"}, load avg ${machine.loadAverageStart[0]} → ${machine.loadAverageEnd[0]}`);
    out.push(`flux: ${machine.flux ?? "n/a"}; oras: ${(machine.oras ?? "n/a").replace(/\s+/g, " ")}; registry: ${machine.registry ?? "n/a"}\n`);
    out.push(`### 0. Process start-up, no work (ms, interleaved)\n`);
    out.push(table(["command", "min", "median"], Object.entries(results.startup.commands).map(([k, v]) => [k, fmt(v.min), fmt(v.median)])));
    out.push("");
    if (cold.length) {
        out.push(`### 1. Cold build+push (ms, ${config.rounds} interleaved rounds, fresh repository each)\n`);
        out.push(
            table(
                ["tree", "files", "ours min/med", "flux push min/med", "tar+oras min/med", "ours/flux", "ours/oras"],
                cold.map((c) => [c.tree, c.files, `${fmt(c.tools.ours.min)} / ${fmt(c.tools.ours.median)}`, `${fmt(c.tools.flux.min)} / ${fmt(c.tools.flux.median)}`, `${fmt(c.tools.oras.min)} / ${fmt(c.tools.oras.median)}`, fmt(c.ratio_vs_flux_push, 2), fmt(c.ratio_vs_oras_push, 2)]),
            ),
        );
    }
    if (repushResult.length) {
        out.push(`\n### 2. Unchanged re-push of ${results.repush.tree} (${config.repushRounds} rounds, counting proxy)\n`);
        out.push(
            table(
                ["variant", "median ms", "requests (max)", "blob uploads", "bytes up", "bytes down", "requests by route (last round)"],
                repushResult.map((v) => {
                    const last = v.rounds[v.rounds.length - 1]!;
                    const skips = v.rounds.filter((x) => x.skipped !== undefined);
                    const routes = Object.entries(last.byRoute).map(([k, n]) => `${k} ${n}`).join(", ");
                    return [v.variant + (skips.length ? ` (skipped ${skips.filter((x) => x.skipped).length}/${skips.length})` : ""), fmt(v.median_ms), v.requests, v.blob_uploads, v.bytes_uploaded, v.bytes_downloaded, routes];
                }),
            ),
        );
    }
    const editOne = results.edit_one_push;
    if (editOne) {
        out.push(`\n### 2b. Edit one file of ${editOne.tree} and push (ms, ${editOne.ours.ms.length} rounds, a new tag each)\n`);
        out.push(
            table(["tool", "each round", "min", "median"], [
                ["ours (validation cache of the earlier pushes)", editOne.ours.ms.map((x) => fmt(x)).join(", "), fmt(editOne.ours.min), fmt(editOne.ours.median)],
                ["flux push artifact", editOne.flux.ms.map((x) => fmt(x)).join(", "), fmt(editOne.flux.min), fmt(editOne.flux.median)],
                ["ours/flux", "", fmt(editOne.ratio_vs_flux_push_min, 2), fmt(editOne.ratio_vs_flux_push, 2)],
            ]),
        );
    }
    out.push(`\n### 3. No-op pulumi preview\n`);
    out.push(
        preview.noop_preview_ratio === null
            ? `noop_preview_ratio: null — ${preview.reason}`
            : table(["program", "preview ms (each round)", "median"], [
                  [`full stack (${preview.full_resources} resources)`, preview.full_preview_ms!.join(", "), fmt(median(preview.full_preview_ms!))],
                  ["one-resource program", preview.one_resource_preview_ms!.join(", "), fmt(median(preview.one_resource_preview_ms!))],
                  ["ratio", "", fmt(preview.noop_preview_ratio, 2)],
              ]),
    );
    if (preview.stack_scale?.length) {
        out.push(`\nThe same stack under \`enforce\`, generated policies (preview_500_vs_10: ${fmt(preview.preview_500_vs_10, 2)}, each size relative to the one-resource previews of its rounds; raw medians: ${fmt(preview.preview_500_vs_10_raw, 2)}):\n`);
        out.push(
            table(["policies", "up ms (switch)", "Flux apply ms", "no-op up ms (median)", "preview ms (each round)", "median", "one-resource ms (same rounds)", "preview / one-resource (median)", "Kustomization spec bytes", "patches"], preview.stack_scale.map((p) => [
                p.policies, fmt(p.up_ms), fmt(p.flux_apply_ms), fmt(p.noop_up_median_ms), p.preview_ms.join(", "), fmt(p.preview_median_ms), p.one_resource_preview_ms.join(", "), fmt(p.preview_vs_one_resource, 2), fmt(p.kustomization_spec_bytes), fmt(p.kustomization_patches),
            ])),
        );
    } else if (preview.noop_preview_ratio !== null) {
        out.push(`\npreview_500_vs_10: null — ${results.preview_500_vs_10_reason ?? preview.stack_scale_reason ?? "not measured"}`);
    }
    out.push(`\n### 4. Scale: \`artifact build\` (${config.scaleRounds} rounds; process start-up alone: ${fmt(median(results.scale.startup_ms))} ms)\n`);
    out.push(
        table(
            ["files", "KiB", "min ms", "median ms", "peak RSS MB (max)", "per 10x from previous", "same, start-up excluded"],
            points.map((p, i) => [p.files, fmt(p.bytes / 1024), fmt(p.min_ms), fmt(p.median_ms), fmt(p.max_peak_rss_mb, 1), i ? fmt(g[i - 1]!.per_10x, 2) : "", i ? fmt(gNet[i - 1]!.per_10x, 2) : ""]),
        ),
    );
    if (results.patches?.points.length) {
        out.push(`\n### 4b. Kustomization patches under \`enforce\` (generated trees; lib/policies/enforcement.ts)\n`);
        out.push(table(["policies", "patches (grouped)", "bytes", "one per policy", "bytes"], results.patches.points.map((p) => [p.policies, p.patches, p.bytes, p.per_policy_patches, p.per_policy_bytes])));
    }
    if (prof) {
        out.push(`\n### 5. Profile: our cold push of ${generatedTreeName(profiledTreeSize(config.trees))} (${fmt(prof.push_ms)} ms wall, ${prof.summary.totalMs} ms profiled; ${prof.file})\n`);
        out.push(table(["area", "self ms", "%"], prof.summary.areas.map((a) => [a.name, fmt(a.selfMs), fmt(a.pct, 1)])));
        out.push("");
        out.push(table(["top self time", "self ms", "%"], prof.summary.top.map((a) => [a.name, fmt(a.selfMs), fmt(a.pct, 1)])));
    }
    out.push(`\n### Goals\n`);
    out.push(table(["goal", "actual", "met"], goals.map((x) => [x.goal, x.actual === null ? "null" : String(x.actual), x.met === null ? "not measured" : x.met ? "yes" : "NO"])));
    for (const n of notes) out.push(`\nnote: ${n}`);
    out.push(`\nresults: ${path.resolve(repoRoot, config.out)} (total ${results.total_runtime_s} s)\n`);
    return scrub(out.join("\n")) + "\n";
}

/** The results file (paths scrubbed). */
export function writeResults(results: BenchResults, file: string): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, scrub(JSON.stringify(results, null, 2)) + "\n");
}

/** bench/README.md with `report` (formatReport's text) below its marker, as "Run of …". */
export function readmeWithTable(readme: string, report: string): string {
    const at = readme.indexOf(README_MARKER);
    if (at < 0) return readme;
    return `${readme.slice(0, at + README_MARKER.length)}\n${report.replace(/^\n+/, "").replace(/^## Benchmarks — /, "Run of ")}`;
}
