/**
 * Part 4, scale: `artifact build` time and peak RSS as the tree grows, and the growth per 10x files.
 */
import { checkOk } from "../test/harness/processes";
import { cliArgs, type BenchContext } from "./config";
import type { Tree } from "./push";
import { timed } from "./support/env";
import { median, min, round } from "./support/stats";

export interface ScalePoint {
    files: number;
    bytes: number;
    ms: number[];
    min_ms: number;
    median_ms: number;
    peak_rss_mb: number[];
    max_peak_rss_mb: number;
}

/** Part 4: `artifact build` of every scale tree under GNU time, alternating the order each round. */
export async function scale({ cfg, log }: BenchContext, trees: Map<number, Tree>): Promise<{ points: ScalePoint[]; startup_ms: number[] }> {
    const ms = new Map<number, number[]>();
    const rss = new Map<number, number[]>();
    const startup: number[] = [];
    for (let r = 0; r < cfg.scaleRounds; r++) {
        startup.push(round(checkOk(await timed(process.execPath, cliArgs("--help")), "artifact --help").ms, 1));
        const order = r % 2 === 0 ? cfg.scale : [...cfg.scale].reverse();
        for (const n of order) {
            const tree = trees.get(n)!;
            const res = checkOk(await timed(process.execPath, cliArgs("build", "--path", tree.dir, "--output", "json"), { rss: true }), `build of ${n} files`);
            const files = JSON.parse(res.stdout).files;
            if (files !== n) throw new Error(`build of ${tree.name} shipped ${files} files, expected ${n}`);
            (ms.get(n) ?? ms.set(n, []).get(n)!).push(round(res.ms, 1));
            (rss.get(n) ?? rss.set(n, []).get(n)!).push(round(res.peakRssMb ?? NaN, 1));
        }
        log(`scale round ${r + 1}/${cfg.scaleRounds}: ${cfg.scale.map((n) => `${n}: ${ms.get(n)![r]!.toFixed(0)} ms ${rss.get(n)![r]} MB`).join(", ")}`);
    }
    const points = cfg.scale.map((n) => ({
        files: n,
        bytes: trees.get(n)!.bytes,
        ms: ms.get(n)!,
        min_ms: round(min(ms.get(n)!), 1),
        median_ms: round(median(ms.get(n)!), 1),
        peak_rss_mb: rss.get(n)!,
        max_peak_rss_mb: Math.max(...rss.get(n)!),
    }));
    return { points, startup_ms: startup };
}

/** Per-decade growth between consecutive sizes: (t2/t1)^(1/log10(n2/n1)). */
export function growth(points: ScalePoint[], minus = 0): { from: number; to: number; per_10x: number }[] {
    const out = [];
    for (let i = 1; i < points.length; i++) {
        const a = points[i - 1]!;
        const b = points[i]!;
        const ta = Math.max(1, a.min_ms - minus);
        const tb = Math.max(1, b.min_ms - minus);
        out.push({ from: a.files, to: b.files, per_10x: round((tb / ta) ** (1 / Math.log10(b.files / a.files)), 2) });
    }
    return out;
}
