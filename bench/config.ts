/**
 * The benchmark's knobs (environment variables, documented in run.ts) and the constants every part
 * shares.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { repoRoot } from "../test/harness/paths";

export interface BenchConfig {
    /** Cold-push rounds per tree and tool. */
    rounds: number;
    /** Generated tree sizes for the cold push (the sample tree always runs). */
    trees: number[];
    repushRounds: number;
    scale: number[];
    scaleRounds: number;
    /** auto: the no-op preview part runs when the whole e2e tool chain is built. */
    preview: "auto" | "0" | "1";
    previewRounds: number;
    /** Policy counts of the stack-scale part of the preview benchmark (first and last are compared). */
    stackPolicies: number[];
    profile: boolean;
    /** Absolute path of the results file. */
    out: string;
}

export function benchConfig(env: NodeJS.ProcessEnv): BenchConfig {
    const quick = env.BENCH_QUICK === "1";
    const int = (v: string | undefined, d: number) => (v && /^\d+$/.test(v) ? Number(v) : d);
    const list = (v: string | undefined, d: number[]) => (v ? v.split(",").map((x) => Number(x.trim())).filter((x) => x > 0) : d);
    return {
        rounds: int(env.BENCH_ROUNDS, quick ? 2 : 5),
        trees: list(env.BENCH_TREES, quick ? [1000] : [1000, 5000]),
        repushRounds: int(env.BENCH_REPUSH_ROUNDS, quick ? 2 : 5),
        scale: list(env.BENCH_SCALE, quick ? [100, 1000] : [100, 1000, 5000, 20000]),
        scaleRounds: int(env.BENCH_SCALE_ROUNDS, quick ? 1 : 3),
        preview: (env.BENCH_PREVIEW ?? (quick ? "0" : "auto")) as "auto" | "0" | "1",
        previewRounds: int(env.BENCH_PREVIEW_ROUNDS, quick ? 1 : 3),
        stackPolicies: list(env.BENCH_STACK_POLICIES, [10, 100, 500]),
        profile: env.BENCH_PROFILE !== "0",
        out: path.resolve(repoRoot, env.BENCH_OUT ?? path.join("bench", "results", "latest.json")),
    };
}

/** The generated tree the CPU profile pushes: 5,000 files when measured, else the largest. */
export function profiledTreeSize(trees: readonly number[]): number {
    return trees.includes(5000) ? 5000 : Math.max(...trees);
}

/** A generated tree's name in the results. */
export const generatedTreeName = (files: number) => `gen-${files}`;

/** Our CLI, compiled. */
export const CLI = path.join(repoRoot, "build", "cli", "artifact.js");

/**
 * The Node flags between `node` and `build/cli/artifact.js` in an npm script line, so that the
 * benchmark runs the CLI exactly as the package's `artifact` script (the README's command) does.
 */
export function cliNodeFlags(script: string): string[] {
    const m = /(?:^|[;&|]\s*)node((?:\s+--[\w-]+(?:=\S+)?)*)\s+build\/cli\/artifact\.js$/.exec(script);
    if (!m) throw new Error(`package.json scripts.artifact does not end in "node [flags] build/cli/artifact.js": ${script}`);
    return m[1]!.trim().split(/\s+/).filter(Boolean);
}

let scriptFlags: string[] | undefined;

/** The Node flags of the package's `artifact` script (package.json, read once). */
export function artifactScriptFlags(): string[] {
    const pkg = () => JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> };
    return (scriptFlags ??= cliNodeFlags(pkg().scripts.artifact ?? ""));
}

/** `node` arguments that run our CLI with `args`, as `npm run -s artifact -- args` does. */
export function cliArgs(...args: string[]): string[] {
    return [...artifactScriptFlags(), CLI, ...args];
}

/** What every part gets: the knobs and the progress log (stderr). */
export interface BenchContext {
    cfg: BenchConfig;
    log: (s: string) => void;
}
