/**
 * What pushing costs. Part 0: the start-up floor of each tool. Part 1: the cold build+push of a
 * tree by our CLI, by `flux push artifact` and by `tar czf` + `oras push`. Part 2: the unchanged
 * re-push through the counting proxy. Part 5: a CPU profile of our cold push.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { repoRoot } from "../test/harness/paths";
import { checkOk, type RunResult } from "../test/harness/processes";
import type { RegistryHandle } from "../test/harness/registry";
import { startCountingProxy, type CountingProxy } from "../test/harness/registry-proxy";
import { artifactScriptFlags, cliArgs, type BenchContext } from "./config";
import { timed, type BenchTools } from "./support/env";
import { summariseProfile, type ProfileSummary } from "./support/profile";
import { median, min, round } from "./support/stats";

const TAG = "1.0.0";
const SOURCE = "https://github.com/example/policies";
const REVISION = "main@sha1:0123456789abcdef0123456789abcdef01234567";
const FLUX_CONFIG_MT = "application/vnd.cncf.flux.config.v1+json";
const FLUX_CONTENT_MT = "application/vnd.cncf.flux.content.v1.tar+gzip";

type Tool = "ours" | "flux" | "oras";
const TOOLS: Tool[] = ["ours", "flux", "oras"];

/** A policy tree on disk. */
export interface Tree {
    name: string;
    dir: string;
    files: number;
    bytes: number;
}

export interface OursPushOptions {
    /**
     * The validation cache directory (POLICY_STACK_CACHE_DIR): a new empty one for a cold push,
     * one kept across pushes for a warm one. Never the user's own cache.
     */
    cacheDir: string;
    /** Defaults to TAG. */
    tag?: string;
    nodeFlags?: string[];
}

/** Our CLI's push, a new process as users run it. */
export function oursPush(tree: Tree, url: string, o: OursPushOptions): Promise<RunResult> {
    return timed(
        process.execPath,
        [...(o.nodeFlags ?? []), ...cliArgs("push", "--path", tree.dir, "--url", url, "--tag", o.tag ?? TAG, "--source", SOURCE, "--revision", REVISION, "--insecure", "--output", "json")],
        { env: { ...process.env, POLICY_STACK_CACHE_DIR: o.cacheDir } },
    );
}

/** A new, empty validation cache directory under `work`: what a first push on a machine has. */
export function emptyCache(work: string): string {
    return fs.mkdtempSync(path.join(work, "cache-cold-"));
}

function fluxPush(tools: BenchTools, tree: Tree, url: string, tag = TAG): Promise<RunResult> {
    return timed(tools.flux!, ["push", "artifact", `${url}:${tag}`, "--path", tree.dir, "--source", SOURCE, "--revision", REVISION, "--insecure-registry", "--output", "json"], { env: fluxEnv() });
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
async function orasPush(tools: BenchTools, tree: Tree, ref: string, work: string): Promise<RunResult> {
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

export interface ToolTimes {
    ms: number[];
    min: number;
    median: number;
}
export interface ColdTree {
    tree: string;
    files: number;
    bytes: number;
    tools: Record<Tool, ToolTimes>;
    ratio_vs_flux_push: number;
    ratio_vs_oras_push: number;
    ratio_vs_flux_push_min: number;
    ratio_vs_oras_push_min: number;
}

/**
 * Part 1: every tree pushed by each tool to a fresh repository, interleaved round by round. Ours
 * starts with an empty validation cache each time: every file is parsed and validated.
 */
export async function coldPush({ cfg, log }: BenchContext, tools: BenchTools, registry: RegistryHandle, trees: Tree[], work: string): Promise<ColdTree[]> {
    const out: ColdTree[] = [];
    for (const tree of trees) {
        const ms: Record<Tool, number[]> = { ours: [], flux: [], oras: [] };
        for (let r = 0; r < cfg.rounds; r++) {
            // Interleaved, and the order rotates so no tool always runs first (or after the same one).
            const order = TOOLS.map((_, i) => TOOLS[(i + r) % TOOLS.length]!);
            for (const tool of order) {
                const repo = `cold/${tree.name}/${tool}-r${r}`;
                const res =
                    tool === "ours"
                        ? await oursPush(tree, registry.url(repo), { cacheDir: emptyCache(work) })
                        : tool === "flux"
                          ? await fluxPush(tools, tree, registry.url(repo))
                          : await orasPush(tools, tree, `${registry.host}/${repo}:${TAG}`, work);
                checkOk(res, `${tool} push of ${tree.name} (round ${r + 1})`);
                ms[tool].push(round(res.ms, 1));
            }
            log(`cold push ${tree.name} round ${r + 1}/${cfg.rounds}: ${TOOLS.map((t) => `${t} ${ms[t][r]!.toFixed(0)} ms`).join(", ")}`);
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

export interface RepushRound {
    ms: number;
    requests: number;
    byRoute: Record<string, number>;
    blobUploads: number;
    bytesUploaded: number;
    bytesDownloaded: number;
    /** flux diff && skip: whether the diff said "unchanged" (and the push was skipped). */
    skipped?: boolean;
}
export interface RepushVariant {
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

/**
 * Part 2: unchanged re-pushes of `tree`, counted by a proxy in front of the registry. Ours keeps
 * its validation cache between pushes (`cacheDir`), as a user's machine does.
 */
export async function repush({ cfg, log }: BenchContext, tools: BenchTools, registry: RegistryHandle, tree: Tree, cacheDir: string): Promise<RepushVariant[]> {
    const proxy = await startCountingProxy({ upstream: registry.baseUrl });
    try {
        const urls = { ours: proxy.url("repush/ours"), diff: proxy.url("repush/flux-diff"), flux: proxy.url("repush/flux-push") };
        checkOk(await oursPush(tree, urls.ours, { cacheDir }), "initial push (ours)");
        checkOk(await fluxPush(tools, tree, urls.diff), "initial flux push (diff variant)");
        checkOk(await fluxPush(tools, tree, urls.flux), "initial flux push");
        const rounds: Record<string, RepushRound[]> = { ours: [], diff: [], flux: [] };
        const variants = ["ours", "diff", "flux"] as const;
        for (let r = 0; r < cfg.repushRounds; r++) {
            const order = variants.map((_, i) => variants[(i + r) % variants.length]!);
            for (const v of order) {
                proxy.reset();
                let ms: number;
                let skipped: boolean | undefined;
                if (v === "ours") {
                    ms = checkOk(await oursPush(tree, urls.ours, { cacheDir }), "unchanged re-push (ours)").ms;
                } else if (v === "diff") {
                    // flux-local-dev's idiom: `flux diff artifact … || flux push artifact …`.
                    const d = await timed(tools.flux!, ["diff", "artifact", `${urls.diff}:${TAG}`, "--path", tree.dir, "--insecure-registry"], { env: fluxEnv() });
                    ms = d.ms;
                    skipped = d.code === 0;
                    if (!skipped) ms += checkOk(await fluxPush(tools, tree, urls.diff), "flux push after diff").ms;
                } else {
                    ms = checkOk(await fluxPush(tools, tree, urls.flux), "unchanged re-push (flux)").ms;
                }
                rounds[v]!.push({ ms: round(ms, 1), ...proxySnapshot(proxy), ...(skipped === undefined ? {} : { skipped }) });
            }
            log(`re-push round ${r + 1}/${cfg.repushRounds}: ${variants.map((v) => `${v} ${rounds[v]![r]!.ms.toFixed(0)} ms/${rounds[v]![r]!.requests} req`).join(", ")}`);
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

/** Part 0: what starting each tool costs before any work: the floor under every cold push. */
export async function startupFloor({ cfg }: BenchContext, tools: BenchTools): Promise<Record<string, ToolTimes>> {
    const cmds: [string, string, string[]][] = [
        ["node -e 0", process.execPath, ["-e", "0"]],
        [["node", ...artifactScriptFlags(), "build/cli/artifact.js --help"].join(" "), process.execPath, cliArgs("--help")],
        ...(tools.flux ? ([["flux --version", tools.flux, ["--version"]]] as [string, string, string[]][]) : []),
        ...(tools.oras ? ([["oras version", tools.oras, ["version"]]] as [string, string, string[]][]) : []),
    ];
    const ms = new Map<string, number[]>(cmds.map(([k]) => [k, []]));
    for (let r = 0; r < Math.max(5, cfg.rounds * 2); r++) {
        for (const [k, cmd, args] of cmds) ms.get(k)!.push(round(checkOk(await timed(cmd, args), k).ms, 1));
    }
    return Object.fromEntries([...ms].map(([k, xs]) => [k, { ms: xs, min: round(min(xs), 1), median: round(median(xs), 1) }]));
}

/** Part 5: `node --cpu-prof` of our cold push (empty validation cache) of `tree`, summarised. */
export async function profile(registry: RegistryHandle, tree: Tree, work: string): Promise<{ file: string; push_ms: number; summary: ProfileSummary }> {
    const dir = path.join(repoRoot, "bench", "results");
    const name = `push-${tree.name}.cpuprofile`;
    fs.rmSync(path.join(dir, name), { force: true });
    const res = checkOk(
        await oursPush(tree, registry.url(`profile/${tree.name}-${Date.now()}`), { cacheDir: emptyCache(work), nodeFlags: ["--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-name", name] }),
        "profiled push",
    );
    return { file: path.relative(repoRoot, path.join(dir, name)), push_ms: round(res.ms, 1), summary: summariseProfile(path.join(dir, name), 15) };
}

export interface EditOnePush {
    tree: string;
    files: number;
    how: string;
    /** The file edited before each round (relative to the tree). */
    edited: string;
    ours: ToolTimes;
    flux: ToolTimes;
    /** Medians, ours / flux. */
    ratio_vs_flux_push: number;
    ratio_vs_flux_push_min: number;
}

/**
 * Part 2b: edit one file of `tree` and push, round after round: ours with the validation cache of
 * the previous pushes (only the edited file is parsed and validated again), flux with the same
 * tree (it uploads the whole layer again). Each round edits the file (a comment line with the
 * round number, so the content and the artifact change and the policy stays the same) and pushes a
 * new tag, as a release does; the order alternates. The tree is a copy: the other parts never see
 * the edits.
 */
export async function editOnePush({ cfg, log }: BenchContext, tools: BenchTools, registry: RegistryHandle, source: Tree, work: string): Promise<EditOnePush> {
    const dir = path.join(work, `edit-${source.name}`);
    fs.cpSync(source.dir, dir, { recursive: true });
    const tree: Tree = { ...source, dir };
    const edited = (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => /\.ya?ml$/.test(f)).sort()[0]!;
    const original = fs.readFileSync(path.join(dir, edited), "utf8");
    const cacheDir = fs.mkdtempSync(path.join(work, "cache-warm-"));
    const urls = { ours: registry.url(`edit-one/${source.name}/ours`), flux: registry.url(`edit-one/${source.name}/flux`) };
    // The state before the first edit: the tree pushed once by each (this fills our cache).
    checkOk(await oursPush(tree, urls.ours, { cacheDir, tag: "0.0.0" }), "edit-one: first push (ours)");
    checkOk(await fluxPush(tools, tree, urls.flux, "0.0.0"), "edit-one: first push (flux)");
    const ms: Record<"ours" | "flux", number[]> = { ours: [], flux: [] };
    for (let r = 0; r < cfg.rounds; r++) {
        fs.writeFileSync(path.join(dir, edited), `${original}# edit ${r + 1}\n`);
        const tag = `0.0.${r + 1}`;
        const order: ("ours" | "flux")[] = r % 2 === 0 ? ["ours", "flux"] : ["flux", "ours"];
        for (const t of order) {
            const res = t === "ours" ? await oursPush(tree, urls.ours, { cacheDir, tag }) : await fluxPush(tools, tree, urls.flux, tag);
            ms[t].push(round(checkOk(res, `edit-one push (${t}, round ${r + 1})`).ms, 1));
        }
        log(`edit-one push ${source.name} round ${r + 1}/${cfg.rounds}: ours ${ms.ours[r]!.toFixed(0)} ms, flux ${ms.flux[r]!.toFixed(0)} ms`);
    }
    const stat = (xs: number[]): ToolTimes => ({ ms: xs, min: round(min(xs), 1), median: round(median(xs), 1) });
    const ours = stat(ms.ours);
    const flux = stat(ms.flux);
    return {
        tree: source.name,
        files: source.files,
        how: "one file edited before each round, then `node build/cli/artifact.js push` with the validation cache of the earlier pushes vs `flux push artifact`, a new tag each round, order alternating",
        edited,
        ours,
        flux,
        ratio_vs_flux_push: round(ours.median / flux.median, 2),
        ratio_vs_flux_push_min: round(ours.min / flux.min, 2),
    };
}
