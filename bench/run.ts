/**
 * `npm run bench`: our artifact CLI side by side with `flux push artifact` and `oras push`, an
 * unchanged re-push, a no-op `pulumi preview`, scale (time and peak RSS) and a CPU profile.
 * Prints a table and writes bench/results/latest.json. Only ratios measured in this one run mean
 * anything: the machines are shared and noisy, so every comparison is interleaved round by round.
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
 *   BENCH_PROFILE=0         skip the CPU profile
 *   BENCH_OUT=FILE          results file (default bench/results/latest.json)
 *   POLICY_STACK_TOOLS_BIN  use this bin dir (flux, oras, e2e tools) instead of scripts/build-tools.sh
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { repoRoot, samplePoliciesDir } from "../test/support/paths";
import { startCountingProxy, startRegistry, type CountingProxy, type RegistryHandle } from "../test/support/registry";
import { benchPreview, type PreviewBench } from "./preview";
import { ensureBenchTools, machineInfo, type BenchTools } from "./support/env";
import { median, min, round, timed, type Timed } from "./support/proc";
import { summariseProfile, type ProfileSummary } from "./support/profile";
import { copyTree, generateTree, readSamples } from "./support/trees";

// ---------------------------------------------------------------- configuration

const env = process.env;
const QUICK = env.BENCH_QUICK === "1";
const int = (v: string | undefined, d: number) => (v && /^\d+$/.test(v) ? Number(v) : d);
const list = (v: string | undefined, d: number[]) => (v ? v.split(",").map((x) => Number(x.trim())).filter((x) => x > 0) : d);
const CFG = {
    rounds: int(env.BENCH_ROUNDS, QUICK ? 2 : 5),
    trees: list(env.BENCH_TREES, QUICK ? [1000] : [1000, 5000]),
    repushRounds: int(env.BENCH_REPUSH_ROUNDS, QUICK ? 2 : 5),
    scale: list(env.BENCH_SCALE, QUICK ? [100, 1000] : [100, 1000, 5000, 20000]),
    scaleRounds: int(env.BENCH_SCALE_ROUNDS, QUICK ? 1 : 3),
    preview: (env.BENCH_PREVIEW ?? (QUICK ? "0" : "auto")) as "auto" | "0" | "1",
    previewRounds: int(env.BENCH_PREVIEW_ROUNDS, QUICK ? 1 : 3),
    profile: env.BENCH_PROFILE !== "0",
    out: path.resolve(repoRoot, env.BENCH_OUT ?? path.join("bench", "results", "latest.json")),
};

const TAG = "1.0.0";
const SOURCE = "https://github.com/example/policies";
const REVISION = "main@sha1:0123456789abcdef0123456789abcdef01234567";
const FLUX_CONFIG_MT = "application/vnd.cncf.flux.config.v1+json";
const FLUX_CONTENT_MT = "application/vnd.cncf.flux.content.v1.tar+gzip";
const CLI = path.join(repoRoot, "build", "cli", "artifact.js");

const t0 = Date.now();
const log = (s: string) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${s}\n`);

// ---------------------------------------------------------------- the three pushers

type Tool = "ours" | "flux" | "oras";
const TOOLS: Tool[] = ["ours", "flux", "oras"];

interface Tree {
    name: string;
    dir: string;
    files: number;
    bytes: number;
}

function oursPush(tree: Tree, url: string, extra: string[] = [], nodeFlags: string[] = []): Promise<Timed> {
    return timed(process.execPath, [...nodeFlags, CLI, "push", "--path", tree.dir, "--url", url, "--tag", TAG, "--source", SOURCE, "--revision", REVISION, "--insecure", "--output", "json", ...extra]);
}

function fluxPush(tools: BenchTools, tree: Tree, url: string): Promise<Timed> {
    return timed(tools.flux!, ["push", "artifact", `${url}:${TAG}`, "--path", tree.dir, "--source", SOURCE, "--revision", REVISION, "--insecure-registry", "--output", "json"], { env: fluxEnv() });
}

function fluxEnv(): NodeJS.ProcessEnv {
    // No cluster is involved; keep flux from reading a user's kubeconfig.
    return { ...process.env, KUBECONFIG: "/dev/null" };
}

/**
 * oras pushes a ready .tgz, so its time includes making one: `tar czf` (GNU tar with gzip, sorted,
 * owner 0, mtime 0: the reproducible equivalent of what Flux builds) and then `oras push` of that
 * layer with Flux's media types and annotations.
 */
async function orasPush(tools: BenchTools, tree: Tree, ref: string, work: string): Promise<Timed> {
    const dir = fs.mkdtempSync(path.join(work, "oras-"));
    try {
        fs.writeFileSync(path.join(dir, "config.json"), "{}");
        const tar = await timed("tar", ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-czf", path.join(dir, "layer.tgz"), "-C", tree.dir, "."]);
        if (tar.code !== 0) return tar;
        const push = await timed(
            tools.oras!,
            [
                "push", "--plain-http", "--disable-path-validation", ref,
                "--config", `config.json:${FLUX_CONFIG_MT}`,
                "--annotation", `org.opencontainers.image.source=${SOURCE}`,
                "--annotation", `org.opencontainers.image.revision=${REVISION}`,
                `layer.tgz:${FLUX_CONTENT_MT}`,
            ],
            { cwd: dir },
        );
        return { ...push, ms: tar.ms + push.ms, stderr: tar.stderr + push.stderr };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

function check(r: Timed, what: string): Timed {
    if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${(r.stdout + "\n" + r.stderr).slice(-2000)}`);
    return r;
}

// ---------------------------------------------------------------- part 1: cold build+push

interface ToolTimes {
    ms: number[];
    min: number;
    median: number;
}
interface ColdTree {
    tree: string;
    files: number;
    bytes: number;
    tools: Record<Tool, ToolTimes>;
    ratio_vs_flux_push: number;
    ratio_vs_oras_push: number;
    ratio_vs_flux_push_min: number;
    ratio_vs_oras_push_min: number;
}

async function coldPush(tools: BenchTools, registry: RegistryHandle, trees: Tree[], work: string): Promise<ColdTree[]> {
    const out: ColdTree[] = [];
    for (const tree of trees) {
        const ms: Record<Tool, number[]> = { ours: [], flux: [], oras: [] };
        for (let r = 0; r < CFG.rounds; r++) {
            // Interleaved, and the order rotates so no tool always runs first (or after the same one).
            const order = TOOLS.map((_, i) => TOOLS[(i + r) % TOOLS.length]!);
            for (const tool of order) {
                const repo = `cold/${tree.name}/${tool}-r${r}`;
                const res =
                    tool === "ours"
                        ? await oursPush(tree, registry.url(repo))
                        : tool === "flux"
                          ? await fluxPush(tools, tree, registry.url(repo))
                          : await orasPush(tools, tree, `${registry.host}/${repo}:${TAG}`, work);
                check(res, `${tool} push of ${tree.name} (round ${r + 1})`);
                ms[tool].push(round(res.ms, 1));
            }
            log(`cold push ${tree.name} round ${r + 1}/${CFG.rounds}: ${TOOLS.map((t) => `${t} ${ms[t][r]!.toFixed(0)} ms`).join(", ")}`);
        }
        const stat = (xs: number[]): ToolTimes => ({ ms: xs, min: round(min(xs), 1), median: round(median(xs), 1) });
        const tt = { ours: stat(ms.ours), flux: stat(ms.flux), oras: stat(ms.oras) };
        out.push({
            tree: tree.name,
            files: tree.files,
            bytes: tree.bytes,
            tools: tt,
            ratio_vs_flux_push: round(tt.ours.median / tt.flux.median, 2),
            ratio_vs_oras_push: round(tt.ours.median / tt.oras.median, 2),
            ratio_vs_flux_push_min: round(tt.ours.min / tt.flux.min, 2),
            ratio_vs_oras_push_min: round(tt.ours.min / tt.oras.min, 2),
        });
    }
    return out;
}

// ---------------------------------------------------------------- part 2: unchanged re-push

interface RepushRound {
    ms: number;
    requests: number;
    byRoute: Record<string, number>;
    blobUploads: number;
    bytesUploaded: number;
    bytesDownloaded: number;
    /** flux diff && skip: whether the diff said "unchanged" (and the push was skipped). */
    skipped?: boolean;
}
interface RepushVariant {
    variant: string;
    rounds: RepushRound[];
    median_ms: number;
    requests: number;
    blob_uploads: number;
    bytes_uploaded: number;
    bytes_downloaded: number;
}

function proxySnapshot(p: CountingProxy): Omit<RepushRound, "ms" | "skipped"> {
    const s = p.stats;
    return {
        requests: s.requests,
        byRoute: { ...s.byRoute },
        // Every blob upload starts an upload session: POST /v2/<repo>/blobs/uploads/ (mounts excluded).
        blobUploads: s.entries.filter((e) => e.kind === "upload" && e.method === "POST" && !/[?&]mount=/.test(e.path)).length,
        bytesUploaded: s.bytesIn,
        bytesDownloaded: s.bytesOut,
    };
}

async function repush(tools: BenchTools, registry: RegistryHandle, tree: Tree): Promise<RepushVariant[]> {
    const proxy = await startCountingProxy({ upstream: registry.baseUrl });
    try {
        const urls = { ours: proxy.url("repush/ours"), diff: proxy.url("repush/flux-diff"), flux: proxy.url("repush/flux-push") };
        check(await oursPush(tree, urls.ours), "initial push (ours)");
        check(await fluxPush(tools, tree, urls.diff), "initial flux push (diff variant)");
        check(await fluxPush(tools, tree, urls.flux), "initial flux push");
        const rounds: Record<string, RepushRound[]> = { ours: [], diff: [], flux: [] };
        const variants = ["ours", "diff", "flux"] as const;
        for (let r = 0; r < CFG.repushRounds; r++) {
            const order = variants.map((_, i) => variants[(i + r) % variants.length]!);
            for (const v of order) {
                proxy.reset();
                let ms: number;
                let skipped: boolean | undefined;
                if (v === "ours") {
                    ms = check(await oursPush(tree, urls.ours), "unchanged re-push (ours)").ms;
                } else if (v === "diff") {
                    // flux-local-dev's idiom: `flux diff artifact … || flux push artifact …`.
                    const d = await timed(tools.flux!, ["diff", "artifact", `${urls.diff}:${TAG}`, "--path", tree.dir, "--insecure-registry"], { env: fluxEnv() });
                    ms = d.ms;
                    skipped = d.code === 0;
                    if (!skipped) ms += check(await fluxPush(tools, tree, urls.diff), "flux push after diff").ms;
                } else {
                    ms = check(await fluxPush(tools, tree, urls.flux), "unchanged re-push (flux)").ms;
                }
                rounds[v]!.push({ ms: round(ms, 1), ...proxySnapshot(proxy), ...(skipped === undefined ? {} : { skipped }) });
            }
            log(`re-push round ${r + 1}/${CFG.repushRounds}: ${variants.map((v) => `${v} ${rounds[v]![r]!.ms.toFixed(0)} ms/${rounds[v]![r]!.requests} req`).join(", ")}`);
        }
        const names = { ours: "ours: artifact push (unchanged)", diff: "flux diff artifact && skip", flux: "flux push artifact (plain)" };
        return variants.map((v) => {
            const rs = rounds[v]!;
            return {
                variant: names[v],
                rounds: rs,
                median_ms: round(median(rs.map((x) => x.ms)), 1),
                requests: Math.max(...rs.map((x) => x.requests)),
                blob_uploads: Math.max(...rs.map((x) => x.blobUploads)),
                bytes_uploaded: Math.max(...rs.map((x) => x.bytesUploaded)),
                bytes_downloaded: Math.max(...rs.map((x) => x.bytesDownloaded)),
            };
        });
    } finally {
        await proxy.stop();
    }
}

// ---------------------------------------------------------------- part 0: process start-up floor

/** What starting each tool costs before any work: the floor under every cold push. */
async function startupFloor(tools: BenchTools): Promise<Record<string, ToolTimes>> {
    const cmds: [string, string, string[]][] = [
        ["node -e 0", process.execPath, ["-e", "0"]],
        ["node build/cli/artifact.js --help", process.execPath, [CLI, "--help"]],
        ...(tools.flux ? ([["flux --version", tools.flux, ["--version"]]] as [string, string, string[]][]) : []),
        ...(tools.oras ? ([["oras version", tools.oras, ["version"]]] as [string, string, string[]][]) : []),
    ];
    const ms = new Map<string, number[]>(cmds.map(([k]) => [k, []]));
    for (let r = 0; r < Math.max(5, CFG.rounds * 2); r++) {
        for (const [k, cmd, args] of cmds) ms.get(k)!.push(round(check(await timed(cmd, args), k).ms, 1));
    }
    return Object.fromEntries([...ms].map(([k, xs]) => [k, { ms: xs, min: round(min(xs), 1), median: round(median(xs), 1) }]));
}

// ---------------------------------------------------------------- part 4: scale

interface ScalePoint {
    files: number;
    bytes: number;
    ms: number[];
    min_ms: number;
    median_ms: number;
    peak_rss_mb: number[];
    max_peak_rss_mb: number;
}

async function scale(trees: Map<number, Tree>): Promise<{ points: ScalePoint[]; startup_ms: number[] }> {
    const ms = new Map<number, number[]>();
    const rss = new Map<number, number[]>();
    const startup: number[] = [];
    for (let r = 0; r < CFG.scaleRounds; r++) {
        startup.push(round(check(await timed(process.execPath, [CLI, "--help"]), "artifact --help").ms, 1));
        const order = r % 2 === 0 ? CFG.scale : [...CFG.scale].reverse();
        for (const n of order) {
            const tree = trees.get(n)!;
            const res = check(await timed(process.execPath, [CLI, "build", "--path", tree.dir, "--output", "json"], { rss: true }), `build of ${n} files`);
            const files = JSON.parse(res.stdout).files;
            if (files !== n) throw new Error(`build of ${tree.name} shipped ${files} files, expected ${n}`);
            (ms.get(n) ?? ms.set(n, []).get(n)!).push(round(res.ms, 1));
            (rss.get(n) ?? rss.set(n, []).get(n)!).push(round(res.peakRssMb ?? NaN, 1));
        }
        log(`scale round ${r + 1}/${CFG.scaleRounds}: ${CFG.scale.map((n) => `${n}: ${ms.get(n)![r]!.toFixed(0)} ms ${rss.get(n)![r]} MB`).join(", ")}`);
    }
    const points = CFG.scale.map((n) => ({
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
function growth(points: ScalePoint[], minus = 0): { from: number; to: number; per_10x: number }[] {
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

// ---------------------------------------------------------------- part 5: profile

async function profile(registry: RegistryHandle, tree: Tree): Promise<{ file: string; push_ms: number; summary: ProfileSummary }> {
    const dir = path.join(repoRoot, "bench", "results");
    const name = `push-${tree.name}.cpuprofile`;
    fs.rmSync(path.join(dir, name), { force: true });
    const res = check(await oursPush(tree, registry.url(`profile/${tree.name}-${Date.now()}`), [], ["--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-name", name]), "profiled push");
    return { file: path.relative(repoRoot, path.join(dir, name)), push_ms: round(res.ms, 1), summary: summariseProfile(path.join(dir, name), 15) };
}

// ---------------------------------------------------------------- output

function table(headers: string[], rows: (string | number)[][]): string {
    const cells = [headers, ...rows.map((r) => r.map(String))];
    const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
    const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
    return [line(headers), `| ${widths.map((w, i) => (i === 0 ? "-".repeat(w) : "-".repeat(w - 1) + ":")).join(" | ")} |`, ...rows.map((r) => line(r.map(String)))].join("\n");
}

/** Replaces machine paths (checkout, home, temp dir) so the committed results carry none. */
function scrub(s: string): string {
    const pairs: [string, string][] = [
        [repoRoot, "<repo>"],
        [os.tmpdir(), "<tmp>"],
        [os.homedir(), "~"],
    ];
    for (const [from, to] of pairs) if (from && from !== "/") s = s.split(from).join(to);
    return s;
}

const fmt = (x: number | null | undefined, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? "n/a" : x.toFixed(d));

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
    if (!fs.existsSync(CLI)) throw new Error(`${path.relative(repoRoot, CLI)} is missing: run npm run build (npm run bench does)`);
    log(`config: ${JSON.stringify({ ...CFG, out: path.relative(repoRoot, CFG.out) })}`);
    const tools = ensureBenchTools(log);
    const machine = machineInfo(tools);
    log(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, load ${machine.loadAverageStart.join(" ")}`);

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
                t = { name: `gen-${n}`, dir, files: g.files, bytes: g.bytes };
                trees.set(n, t);
            }
            return t;
        };
        const sampleDir = path.join(work, "tree-sample");
        const sc = copyTree(samplePoliciesDir, sampleDir);
        const sampleTree: Tree = { name: "policies-sample", dir: sampleDir, files: sc.files, bytes: sc.bytes };
        const coldTrees = [sampleTree, ...CFG.trees.map(treeOf)];
        log(`trees: ${coldTrees.map((t) => `${t.name} (${t.files} files, ${(t.bytes / 1024).toFixed(0)} KiB)`).join(", ")}`);

        registry = await startRegistry({ mode: "anonymous" });

        log("part 0: process start-up floor");
        const startupTimes = await startupFloor(tools);
        let cold: ColdTree[] = [];
        let repushResult: RepushVariant[] = [];
        let prof: Awaited<ReturnType<typeof profile>> | undefined;
        if (tools.flux && tools.oras) {
            log("part 1: cold build+push (ours vs flux push artifact vs tar czf + oras push)");
            cold = await coldPush(tools, registry, coldTrees, work);
            const big = coldTrees[coldTrees.length - 1]!;
            log(`part 2: unchanged re-push of ${big.name} through the counting proxy`);
            repushResult = await repush(tools, registry, big);
        } else {
            notes.push(`flux/oras unavailable (${tools.problem}): cold push and re-push comparisons not run`);
            log(`!!! ${notes[notes.length - 1]}`);
        }
        const profTree = treeOf(CFG.trees.includes(5000) ? 5000 : Math.max(...CFG.trees));
        if (CFG.profile) {
            log(`part 5: node --cpu-prof of our cold push of ${profTree.name}`);
            prof = await profile(registry, profTree);
        }
        await registry.stop();
        registry = undefined;

        log(`part 4: scale, build of ${CFG.scale.join("/")} files`);
        for (const n of CFG.scale) treeOf(n);
        const sc4 = await scale(trees);
        const startup = median(sc4.startup_ms);
        const g = growth(sc4.points);
        const gNet = growth(sc4.points, startup);

        let preview: PreviewBench;
        if (CFG.preview === "0") {
            preview = { noop_preview_ratio: null, reason: "skipped: BENCH_PREVIEW=0 (or BENCH_QUICK=1)", total_ms: 0 };
        } else {
            log("part 3: no-op pulumi preview, full stack vs one-resource program");
            preview = await benchPreview({ binDir: tools.binDir, rounds: CFG.previewRounds, log });
            if (preview.noop_preview_ratio === null && CFG.preview === "1") throw new Error(`BENCH_PREVIEW=1 but: ${preview.reason}`);
        }
        if (preview.noop_preview_ratio === null) log(`!!! noop_preview_ratio is null: ${preview.reason}`);

        // ------------------------------------------------ results
        const headline = (k: "ratio_vs_flux_push" | "ratio_vs_oras_push") => (cold.length ? Math.max(...cold.map((c) => c[k])) : null);
        const ours = repushResult[0];
        const rss5000 = sc4.points.find((p) => p.files === 5000)?.max_peak_rss_mb ?? null;
        const growthWorst = g.length ? Math.max(...g.map((x) => x.per_10x)) : null;
        const rssPoints = sc4.points.map((p) => p.max_peak_rss_mb);
        const goals = [
            { goal: "cold build+push <= 0.8x flux push (worst tree, medians)", target: 0.8, actual: headline("ratio_vs_flux_push") },
            { goal: "cold build+push <= 0.8x tar czf + oras push (worst tree, medians)", target: 0.8, actual: headline("ratio_vs_oras_push") },
            { goal: "unchanged re-push: 0 blob uploads", target: 0, actual: ours?.blob_uploads ?? null },
            { goal: "unchanged re-push: <= 1 registry request", target: 1, actual: ours?.requests ?? null },
            { goal: "no-op preview <= 3x one-resource program", target: 3, actual: preview.noop_preview_ratio },
            { goal: "peak RSS at 5,000 files <= 150 MB", target: 150, actual: rss5000 },
            { goal: "10x files <= 11x time (worst decade)", target: 11, actual: growthWorst },
        ].map((x) => ({ ...x, met: x.actual === null ? null : x.actual <= x.target }));

        const results = {
            date: new Date().toISOString(),
            machine: { ...machine, loadAverageEnd: os.loadavg().map((x) => round(x, 2)) },
            config: { ...CFG, out: path.relative(repoRoot, CFG.out) },
            ratio_vs_flux_push: headline("ratio_vs_flux_push"),
            ratio_vs_oras_push: headline("ratio_vs_oras_push"),
            repush_blob_uploads: ours?.blob_uploads ?? null,
            repush_requests: ours?.requests ?? null,
            noop_preview_ratio: preview.noop_preview_ratio,
            noop_preview_reason: preview.reason ?? null,
            rss_mb_5000: rss5000,
            growth_per_10x: growthWorst,
            goals,
            startup: { how: "each command alone, interleaved; spawn-to-exit wall ms", commands: startupTimes },
            cold_push: {
                how: "fresh repository per push, tools interleaved with rotating order; ours = `node build/cli/artifact.js push` (a new process), flux = `flux push artifact`, oras = `tar czf` (GNU tar+gzip, sorted, owner 0, mtime 0) + `oras push` with Flux media types; times are spawn-to-exit wall ms",
                trees: cold,
            },
            repush: { tree: coldTrees[coldTrees.length - 1]!.name, how: "counted by a reverse proxy in front of the registry; blob uploads = upload sessions started (POST …/blobs/uploads/)", variants: repushResult },
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
            total_runtime_s: Math.round((Date.now() - t0) / 1000),
        };
        fs.mkdirSync(path.dirname(CFG.out), { recursive: true });
        fs.writeFileSync(CFG.out, scrub(JSON.stringify(results, null, 2)) + "\n");

        // ------------------------------------------------ table
        const out: string[] = [];
        out.push(`\n## Benchmarks — ${results.date.slice(0, 16).replace("T", " ")} UTC, ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.go ?? "go ?"}, load avg ${machine.loadAverageStart[0]} → ${results.machine.loadAverageEnd[0]}`);
        out.push(`flux: ${machine.flux ?? "n/a"}; oras: ${(machine.oras ?? "n/a").replace(/\s+/g, " ")}; registry: ${machine.registry ?? "n/a"}\n`);
        out.push(`### 0. Process start-up, no work (ms, interleaved)\n`);
        out.push(table(["command", "min", "median"], Object.entries(startupTimes).map(([k, v]) => [k, fmt(v.min), fmt(v.median)])));
        out.push("");
        if (cold.length) {
            out.push(`### 1. Cold build+push (ms, ${CFG.rounds} interleaved rounds, fresh repository each)\n`);
            out.push(
                table(
                    ["tree", "files", "ours min/med", "flux push min/med", "tar+oras min/med", "ours/flux", "ours/oras"],
                    cold.map((c) => [c.tree, c.files, `${fmt(c.tools.ours.min)} / ${fmt(c.tools.ours.median)}`, `${fmt(c.tools.flux.min)} / ${fmt(c.tools.flux.median)}`, `${fmt(c.tools.oras.min)} / ${fmt(c.tools.oras.median)}`, fmt(c.ratio_vs_flux_push, 2), fmt(c.ratio_vs_oras_push, 2)]),
                ),
            );
        }
        if (repushResult.length) {
            out.push(`\n### 2. Unchanged re-push of ${results.repush.tree} (${CFG.repushRounds} rounds, counting proxy)\n`);
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
        out.push(`\n### 4. Scale: \`artifact build\` (${CFG.scaleRounds} rounds; process start-up alone: ${fmt(startup)} ms)\n`);
        out.push(
            table(
                ["files", "KiB", "min ms", "median ms", "peak RSS MB (max)", "per 10x from previous", "same, start-up excluded"],
                sc4.points.map((p, i) => [p.files, fmt(p.bytes / 1024), fmt(p.min_ms), fmt(p.median_ms), fmt(p.max_peak_rss_mb, 1), i ? fmt(g[i - 1]!.per_10x, 2) : "", i ? fmt(gNet[i - 1]!.per_10x, 2) : ""]),
            ),
        );
        if (prof) {
            out.push(`\n### 5. Profile: our cold push of ${profTree.name} (${fmt(prof.push_ms)} ms wall, ${prof.summary.totalMs} ms profiled; ${prof.file})\n`);
            out.push(table(["area", "self ms", "%"], prof.summary.areas.map((a) => [a.name, fmt(a.selfMs), fmt(a.pct, 1)])));
            out.push("");
            out.push(table(["top self time", "self ms", "%"], prof.summary.top.map((a) => [a.name, fmt(a.selfMs), fmt(a.pct, 1)])));
        }
        out.push(`\n### Goals\n`);
        out.push(table(["goal", "actual", "met"], goals.map((x) => [x.goal, x.actual === null ? "null" : String(x.actual), x.met === null ? "not measured" : x.met ? "yes" : "NO"])));
        for (const n of notes) out.push(`\nnote: ${n}`);
        out.push(`\nresults: ${CFG.out} (total ${results.total_runtime_s} s)\n`);
        const text = scrub(out.join("\n")) + "\n";
        process.stdout.write(text);
        // The committed figures: bench/README.md carries the table of the run that wrote latest.json.
        const readme = path.join(repoRoot, "bench", "README.md");
        const marker = "<!-- latest-table -->";
        if (!QUICK && !env.BENCH_OUT && fs.existsSync(readme)) {
            const cur = fs.readFileSync(readme, "utf8");
            const at = cur.indexOf(marker);
            if (at >= 0) fs.writeFileSync(readme, `${cur.slice(0, at + marker.length)}\n${text.replace(/^\n+/, "").replace(/^## Benchmarks — /, "Run of ")}`);
        }
    } finally {
        await registry?.stop();
        fs.rmSync(work, { recursive: true, force: true });
    }
}

main().then(
    () => process.exit(0),
    (e) => {
        process.stderr.write(`bench failed: ${scrub((e as Error).stack ?? String(e))}\n`);
        process.exit(1);
    },
);
