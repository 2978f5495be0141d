/**
 * `npm run bench`: our artifact CLI side by side with `flux push artifact` and `oras push`, an
 * unchanged re-push, a no-op `pulumi preview`, scale (time and peak RSS) and a CPU profile.
 * measure.ts measures; report.ts prints the table and writes bench/results/latest.json (and, on a
 * full run to the default file, the table in bench/README.md). Only ratios measured in this one run
 * mean anything: the machines are shared and noisy, so every comparison is interleaved round by round.
 *
 * Environment:
 *   BENCH_QUICK=1           smoke run: 2 rounds, trees sample + 1000, scale 100/1000, no preview
 *   BENCH_ROUNDS=N          cold-push rounds per tree and tool (default 5)
 *   BENCH_TREES=a,b         generated tree sizes for the cold push (default 1000,5000; the sample tree always runs)
 *   BENCH_REPUSH_ROUNDS=N   unchanged re-push rounds (default 5)
 *   BENCH_SCALE=a,b,c       scale sizes (default 100,1000,5000,20000)
 *   BENCH_SCALE_ROUNDS=N    scale rounds (default 3)
 *   BENCH_PREVIEW=auto|0|1  no-op preview part: auto runs it when the whole e2e tool chain is built
 *   BENCH_PREVIEW_ROUNDS=N  preview rounds (default 3)
 *   BENCH_STACK_POLICIES=a,b,c  policy counts of the stack-scale part (default 10,100,500)
 *   BENCH_PROFILE=0         skip the CPU profile
 *   BENCH_OUT=FILE          results file (default bench/results/latest.json)
 *   POLICY_STACK_TOOLS_BIN  use this bin dir (flux, oras, e2e tools) instead of scripts/build-tools.sh
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { repoRoot } from "../test/harness/paths";
import { benchConfig, CLI } from "./config";
import { measure } from "./measure";
import { BENCH_README, formatReport, readmeWithTable, scrub, writeResults } from "./report";
import { ensureBenchTools, machineInfo } from "./support/env";

const t0 = Date.now();
const log = (s: string) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${s}\n`);

async function main(): Promise<void> {
    const cfg = benchConfig(process.env);
    if (!fs.existsSync(CLI)) throw new Error(`${path.relative(repoRoot, CLI)} is missing: run npm run build (npm run bench does)`);
    log(`config: ${JSON.stringify({ ...cfg, out: path.relative(repoRoot, cfg.out) })}`);
    const tools = await ensureBenchTools(log);
    const machine = await machineInfo(tools);
    log(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, load ${machine.loadAverageStart.join(" ")}`);

    const results = await measure({ cfg, log }, tools, machine, t0);
    writeResults(results, cfg.out);
    const text = formatReport(results);
    process.stdout.write(text);
    // The committed figures: bench/README.md carries the table of the run that wrote latest.json.
    if (process.env.BENCH_QUICK !== "1" && !process.env.BENCH_OUT && fs.existsSync(BENCH_README)) {
        const cur = fs.readFileSync(BENCH_README, "utf8");
        const next = readmeWithTable(cur, text);
        if (next !== cur) fs.writeFileSync(BENCH_README, next);
    }
}

main().then(
    () => process.exit(0),
    (e) => {
        process.stderr.write(`bench failed: ${scrub((e as Error).stack ?? String(e))}\n`);
        process.exit(1);
    },
);
