/**
 * Flux's install manifest and the Kyverno chart for the end-to-end run and the preview benchmark,
 * from one resolver. For each, in this order:
 *
 *   1. an explicit environment variable, used as given: POLICY_STACK_FLUX_INSTALL (a file),
 *      POLICY_STACK_KYVERNO_CHART (a chart directory);
 *   2. `../shared/fixtures` beside the checkout (for offline machines), only when it matches the
 *      pin: an install.yaml whose sha256 is FLUX_INSTALL_SHA256, a chart whose Chart.yaml version
 *      is KYVERNO_CHART_VERSION;
 *   3. the pinned upstream release, cached by version under
 *      `${XDG_CACHE_HOME:-~/.cache}/policy-stack/fixtures/<name>/<version>/`: Flux's release
 *      install.yaml (FLUX_VERSION), downloaded and checked against FLUX_INSTALL_SHA256; the
 *      Kyverno chart from the kyverno module's zip on the Go module proxy (`go mod download`,
 *      KYVERNO_VERSION), made installable offline.
 *
 * When none works the resolver throws at once with one message: what is needed, each way tried
 * and why it failed, and how to provide it. Pins come from scripts/tools.env. Unit and integration
 * tests do not use this module: they need nothing outside the repository.
 *
 * Pure logic (dependency planning, Helm condition defaults, go.mod reading, messages) is exported
 * separately from the I/O, which goes through a `ResolverIo` that tests replace.
 */
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";

import { copyTree } from "../fixtures/tree";
import { repoRoot } from "./paths";
import { run } from "./processes";
import { readToolsEnv } from "./tools";

export const FLUX_INSTALL_ENV = "POLICY_STACK_FLUX_INSTALL";
export const KYVERNO_CHART_ENV = "POLICY_STACK_KYVERNO_CHART";
export const KYVERNO_MODULE = "github.com/kyverno/kyverno";
const FETCH_TIMEOUT_MS = 60_000;
const GO_TIMEOUT_MS = 15 * 60_000;

/** The pins in scripts/tools.env this module reads. */
export interface FixturePins {
    /** FLUX_VERSION, e.g. `v2.9.4`. */
    fluxVersion: string;
    /** FLUX_INSTALL_SHA256: hex sha256 of the install.yaml the e2e accepts. */
    fluxInstallSha256: string;
    /** KYVERNO_VERSION: the kyverno Go module version that carries the chart, e.g. `v1.19.1`. */
    kyvernoVersion: string;
    /** KYVERNO_CHART_VERSION: the chart's own version, e.g. `3.9.1`. */
    kyvernoChartVersion: string;
}

export interface ResolvedFluxInstall {
    /** Absolute path of the install.yaml. */
    path: string;
    version: string;
    sha256: string;
    /** Where it came from, for logs: the environment variable, `../shared/fixtures`, the cache or the URL. */
    source: string;
}

export interface ResolvedKyvernoChart {
    /** Absolute path of the chart directory (Chart.yaml at its root). */
    dir: string;
    /** The chart's version (Chart.yaml `version`). */
    version: string;
    /** Kyverno's version (Chart.yaml `appVersion`). */
    appVersion: string;
    source: string;
}

/** What `go` printed and how it ended; `error` when it could not run at all (not on PATH, timeout). */
export interface GoResult {
    code: number | null;
    stdout: string;
    stderr: string;
    error?: string;
}

/** Everything the resolver touches outside itself; tests pass temp directories and fakes. */
export interface ResolverIo {
    env: Record<string, string | undefined>;
    /** The checkout; `../shared/fixtures` is looked up beside it. */
    repoRoot: string;
    /** `<cache>/policy-stack/fixtures`. */
    cacheDir: string;
    pins: FixturePins;
    /** GET `url`; rejects on a network error, a timeout or a non-2xx status. */
    fetch(url: string, timeoutMs: number): Promise<Buffer>;
    /** Runs `go` with `args`. */
    go(args: string[], timeoutMs: number): Promise<GoResult>;
    /** One line on a choice made (a source skipped and why, the source used). */
    debug(line: string): void;
}

/** One way tried, and why it did not give the fixture. */
export interface Attempt {
    way: string;
    result: string;
}

/** Thrown when no way gives the fixture; the message says what is needed and how to provide it. */
export class FixtureUnavailableError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "FixtureUnavailableError";
    }
}

// ---------------------------------------------------------------- pure logic

/** The pins from a parsed scripts/tools.env; throws naming every missing key. */
export function pinsFrom(toolsEnv: Record<string, string>): FixturePins {
    const keys = ["FLUX_VERSION", "FLUX_INSTALL_SHA256", "KYVERNO_VERSION", "KYVERNO_CHART_VERSION"] as const;
    const missing = keys.filter((k) => !toolsEnv[k]);
    if (missing.length > 0) throw new Error(`scripts/tools.env lacks ${missing.join(", ")} (needed to resolve the e2e fixtures)`);
    if (!/^[0-9a-f]{64}$/.test(toolsEnv.FLUX_INSTALL_SHA256)) {
        throw new Error(`scripts/tools.env: FLUX_INSTALL_SHA256=${toolsEnv.FLUX_INSTALL_SHA256} is not a hex sha256`);
    }
    return {
        fluxVersion: toolsEnv.FLUX_VERSION,
        fluxInstallSha256: toolsEnv.FLUX_INSTALL_SHA256,
        kyvernoVersion: toolsEnv.KYVERNO_VERSION,
        kyvernoChartVersion: toolsEnv.KYVERNO_CHART_VERSION,
    };
}

export function sha256Hex(data: Buffer | string): string {
    return createHash("sha256").update(data).digest("hex");
}

/** The release asset Flux publishes for `version`. */
export function fluxInstallUrl(version: string): string {
    return `https://github.com/fluxcd/flux2/releases/download/${version}/install.yaml`;
}

/** The one message thrown when nothing worked. */
export function unavailableMessage(need: string, attempts: readonly Attempt[], provide: readonly string[]): string {
    return [
        `The end-to-end tests need ${need}, and no way to get it worked:`,
        ...attempts.map((a) => `  - ${a.way}: ${a.result}`),
        "Provide it in one of these ways:",
        ...provide.map((p) => `  - ${p}`),
    ].join("\n");
}

/** A chart dependency as Chart.yaml lists it. */
export interface ChartDependency {
    name: string;
    version?: string;
    repository?: string;
    condition?: string;
    tags?: string[];
    alias?: string;
    [key: string]: unknown;
}

function lookup(values: unknown, dotted: string): unknown {
    let v: unknown = values;
    for (const part of dotted.split(".")) {
        if (v === null || typeof v !== "object" || !(part in v)) return undefined;
        v = (v as Record<string, unknown>)[part];
    }
    return v;
}

/**
 * Whether Helm enables a dependency with the chart's own values.yaml, as Helm decides it: the
 * first path of `condition` (comma-separated) that holds a boolean wins; failing that, tags (any
 * tag true enables, otherwise any false disables); failing that, enabled.
 */
export function enabledByDefault(dep: Pick<ChartDependency, "condition" | "tags">, values: unknown): boolean {
    for (const p of (dep.condition ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
        const v = lookup(values, p);
        if (typeof v === "boolean") return v;
    }
    const tags = (dep.tags ?? []).map((t) => lookup(values, `tags.${t}`)).filter((v): v is boolean => typeof v === "boolean");
    if (tags.includes(true)) return true;
    if (tags.includes(false)) return false;
    return true;
}

export interface DependencyPlan {
    /** Present under charts/: Helm's dependency check passes for them. */
    present: ChartDependency[];
    /** Absent, and off by default: their entries can go, so Helm does not look for them. */
    drop: ChartDependency[];
    /** Absent and on by default: they must be supplied, or the chart cannot be installed offline. */
    supply: ChartDependency[];
}

/**
 * Sorts a chart's dependencies by what an offline install needs. Helm's dependency check (which
 * pulumi-kubernetes' helm.v3.Release runs for a local chart directory) wants every listed
 * dependency under charts/, matched by name, whatever its condition says.
 */
export function planOfflineDependencies(deps: readonly ChartDependency[], values: unknown, presentNames: ReadonlySet<string>): DependencyPlan {
    const plan: DependencyPlan = { present: [], drop: [], supply: [] };
    for (const d of deps) {
        if (presentNames.has(d.name)) plan.present.push(d);
        else if (!enabledByDefault(d, values)) plan.drop.push(d);
        else plan.supply.push(d);
    }
    return plan;
}

/** The version a go.mod requires of `modulePath` (a `require` line or block entry), or undefined. */
export function requiredModuleVersion(goMod: string, modulePath: string): string | undefined {
    const escaped = modulePath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const m = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, "m").exec(goMod);
    return m?.[1];
}

/**
 * A CRD as a chart ships it under templates/ (Kyverno's crds subchart), as a plain object: lines
 * that hold nothing but a template action (`{{- if … }}`, `{{- include … | nindent 4 }}`, `{{- end }}`)
 * are dropped and empty metadata maps removed. Throws when any other templating remains, so a
 * chart that templates the schema itself is not silently mangled.
 */
export function crdFromChartTemplate(text: string, file: string): Record<string, any> {
    const lines = text.split("\n").filter((l) => !/^\s*\{\{-?.*-?\}\}\s*$/.test(l));
    const left = lines.findIndex((l) => l.includes("{{"));
    if (left >= 0) throw new Error(`${file}: templating left in line "${lines[left].trim()}"; it cannot be read as a plain CRD`);
    const docs = yaml.loadAll(lines.join("\n")).filter((d): d is Record<string, any> => d !== null && typeof d === "object");
    if (docs.length !== 1 || docs[0].kind !== "CustomResourceDefinition") throw new Error(`${file}: expected one CustomResourceDefinition, found ${docs.map((d) => d.kind).join(", ") || "nothing"}`);
    const crd = docs[0];
    for (const k of ["labels", "annotations"]) if (crd.metadata?.[k] === null) delete crd.metadata[k];
    return crd;
}

// ---------------------------------------------------------------- I/O helpers

/** How logs and messages name the offline fixtures directory beside the checkout. */
export const OFFLINE_FIXTURES = "../shared/fixtures";

/** `../shared/fixtures` beside the checkout. */
export function sharedFixturesDir(root: string): string {
    return path.resolve(root, "..", "shared", "fixtures");
}

/** `${XDG_CACHE_HOME:-~/.cache}/policy-stack/fixtures`. */
export function fixturesCacheDir(env: Record<string, string | undefined> = process.env): string {
    return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "policy-stack", "fixtures");
}

function errorText(e: unknown): string {
    const err = e as { message?: string; cause?: { message?: string; code?: string } };
    const cause = err.cause ? `: ${err.cause.code ?? err.cause.message}` : "";
    return `${err.message ?? String(e)}${cause}`;
}

async function defaultFetch(url: string, timeoutMs: number): Promise<Buffer> {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    return Buffer.from(await res.arrayBuffer());
}

async function defaultGo(args: string[], timeoutMs: number): Promise<GoResult> {
    // Outside any module: `go mod download module@version` needs no go.mod.
    const r = await run("go", args, { cwd: os.tmpdir(), timeoutMs });
    if (r.spawnError) return { code: null, stdout: r.stdout, stderr: r.stderr, error: r.spawnError.code === "ENOENT" ? "go is not on PATH" : r.spawnError.message };
    if (r.timedOut) return { code: null, stdout: r.stdout, stderr: r.stderr, error: `timed out after ${timeoutMs / 1000}s` };
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

/** The real machine: process.env, this checkout, the user's cache, the network, `go` on PATH. */
export function defaultIo(): ResolverIo {
    return {
        env: process.env,
        repoRoot,
        cacheDir: fixturesCacheDir(),
        pins: pinsFrom(readToolsEnv()),
        fetch: defaultFetch,
        go: defaultGo,
        debug: (line) => process.stderr.write(`fixtures: ${line}\n`),
    };
}

function isFile(p: string): boolean {
    try {
        return fs.statSync(p).isFile();
    } catch {
        return false;
    }
}

/**
 * Builds `<cacheDir>/<name>/<version>` in a temporary sibling and renames it into place, so a
 * reader sees all of it or nothing. A stale entry is moved aside first; when another process wins
 * the rename, its copy is kept and ours discarded.
 */
async function publish(cacheDir: string, name: string, version: string, fill: (dir: string) => Promise<void> | void): Promise<string> {
    const parent = path.join(cacheDir, name);
    const final = path.join(parent, version);
    fs.mkdirSync(parent, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(parent, `.${version}.tmp-`));
    try {
        await fill(tmp);
        try {
            fs.renameSync(tmp, final);
        } catch (e) {
            if (!["EEXIST", "ENOTEMPTY"].includes((e as NodeJS.ErrnoException).code ?? "")) throw e;
            fs.rmSync(tmp, { recursive: true, force: true });
        }
        return final;
    } catch (e) {
        fs.rmSync(tmp, { recursive: true, force: true });
        throw e;
    }
}

/** Moves a cache entry that failed its check out of the way (then removes it). */
function discard(dir: string): void {
    if (!fs.existsSync(dir)) return;
    const aside = `${dir}.stale-${randomBytes(4).toString("hex")}`;
    try {
        fs.renameSync(dir, aside);
    } catch {
        return; // another process moved or replaced it
    }
    fs.rmSync(aside, { recursive: true, force: true });
}

function withDefaults(io: Partial<ResolverIo>): ResolverIo {
    const complete = ["env", "repoRoot", "cacheDir", "pins", "fetch", "go", "debug"].every((k) => k in io);
    return complete ? (io as ResolverIo) : { ...defaultIo(), ...io };
}

// ---------------------------------------------------------------- Flux

/** Why `file` is not the pinned install.yaml, or undefined when it is. */
function fluxFileProblem(file: string, pin: string): string | undefined {
    if (!fs.existsSync(file)) return "not present";
    if (!isFile(file)) return "not a file";
    const sha = sha256Hex(fs.readFileSync(file));
    return sha === pin ? undefined : `sha256 ${sha}, not the pinned ${pin} (FLUX_INSTALL_SHA256)`;
}

/** Flux's install.yaml at FLUX_VERSION. See the module comment for the order. */
export async function resolveFluxInstall(options: Partial<ResolverIo> = {}): Promise<ResolvedFluxInstall> {
    const io = withDefaults(options);
    const { fluxVersion: version, fluxInstallSha256: pin } = io.pins;
    const attempts: Attempt[] = [];

    const explicit = io.env[FLUX_INSTALL_ENV];
    if (explicit) {
        const file = path.resolve(explicit);
        if (!isFile(file)) {
            throw new FixtureUnavailableError(`${FLUX_INSTALL_ENV}=${explicit}: no such file. Point it at Flux's install.yaml (${version}), or unset it to use ../shared/fixtures or the pinned download.`);
        }
        const sha = sha256Hex(fs.readFileSync(file));
        if (sha !== pin) io.debug(`${FLUX_INSTALL_ENV}: ${file} has sha256 ${sha}, not the pinned ${pin}; used as given`);
        io.debug(`Flux install.yaml from ${FLUX_INSTALL_ENV}: ${file}`);
        return { path: file, version, sha256: sha, source: FLUX_INSTALL_ENV };
    }
    attempts.push({ way: FLUX_INSTALL_ENV, result: "not set" });

    const shared = path.join(sharedFixturesDir(io.repoRoot), "flux", "install.yaml");
    const sharedProblem = fluxFileProblem(shared, pin);
    if (sharedProblem === undefined) {
        io.debug(`Flux install.yaml from ../shared/fixtures: ${shared}`);
        return { path: shared, version, sha256: pin, source: "../shared/fixtures" };
    }
    attempts.push({ way: `../shared/fixtures/flux/install.yaml (${shared})`, result: sharedProblem });
    if (sharedProblem !== "not present") io.debug(`skipping ${shared}: ${sharedProblem}`);

    const entry = path.join(io.cacheDir, "flux-install", version);
    const cached = path.join(entry, "install.yaml");
    const cachedProblem = fluxFileProblem(cached, pin);
    if (cachedProblem === undefined) {
        io.debug(`Flux install.yaml from the cache: ${cached}`);
        return { path: cached, version, sha256: pin, source: `cache (${cached})` };
    }
    if (cachedProblem !== "not present") {
        io.debug(`discarding the cached ${cached}: ${cachedProblem}`);
        discard(entry);
    }

    const url = fluxInstallUrl(version);
    try {
        const body = await io.fetch(url, FETCH_TIMEOUT_MS);
        const sha = sha256Hex(body);
        if (sha !== pin) {
            attempts.push({ way: `download ${url}`, result: `got sha256 ${sha}, but FLUX_INSTALL_SHA256 in scripts/tools.env pins ${pin}; not used` });
        } else {
            const dir = await publish(io.cacheDir, "flux-install", version, (tmp) => fs.writeFileSync(path.join(tmp, "install.yaml"), body));
            const file = path.join(dir, "install.yaml");
            io.debug(`Flux install.yaml downloaded from ${url}, cached as ${file}`);
            return { path: file, version, sha256: pin, source: url };
        }
    } catch (e) {
        attempts.push({ way: `download ${url} (${FETCH_TIMEOUT_MS / 1000}s timeout)`, result: errorText(e) });
    }

    throw new FixtureUnavailableError(unavailableMessage(`Flux's install manifest ${version} (install.yaml with sha256 ${pin})`, attempts, [
        `set ${FLUX_INSTALL_ENV} to the path of that install.yaml;`,
        `or put it at ../shared/fixtures/flux/install.yaml beside the checkout (${shared});`,
        `or let this machine reach ${url} once (the file is then cached in ${entry}).`,
    ]));
}

// ---------------------------------------------------------------- Kyverno

interface ChartYaml {
    name?: string;
    version?: unknown;
    appVersion?: unknown;
    dependencies?: ChartDependency[];
    [key: string]: unknown;
}

function readChartYaml(dir: string): ChartYaml {
    return (yaml.load(fs.readFileSync(path.join(dir, "Chart.yaml"), "utf8")) ?? {}) as ChartYaml;
}

/** Names of the subcharts under `<chart>/charts/` (directories by their Chart.yaml name, archives by file name). */
function subchartNames(chartDir: string): Set<string> {
    const names = new Set<string>();
    const dir = path.join(chartDir, "charts");
    if (!fs.existsSync(dir)) return names;
    for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
        if (ent.isDirectory() && isFile(path.join(dir, ent.name, "Chart.yaml"))) {
            const name = readChartYaml(path.join(dir, ent.name)).name;
            if (typeof name === "string") names.add(name);
        } else if (ent.isFile() && ent.name.endsWith(".tgz")) {
            names.add(ent.name.replace(/-v?\d+\.\d+\.\d+[^/]*\.tgz$/, ""));
        }
    }
    return names;
}

/** Why `dir` is not the pinned, offline-installable chart (undefined: it is). `pin` undefined: any version. */
function chartProblem(dir: string, pin: string | undefined): string | undefined {
    if (!fs.existsSync(dir)) return "not present";
    if (!isFile(path.join(dir, "Chart.yaml"))) return "no Chart.yaml in it";
    const chart = readChartYaml(dir);
    if (pin !== undefined && String(chart.version) !== pin) return `chart version ${String(chart.version)}, not the pinned ${pin} (KYVERNO_CHART_VERSION)`;
    const present = subchartNames(dir);
    const missing = (chart.dependencies ?? []).filter((d) => !present.has(d.name)).map((d) => d.name);
    if (missing.length > 0) return `Chart.yaml lists dependencies missing under charts/ (${missing.join(", ")}), so Helm refuses to install it offline`;
    return undefined;
}

function resolvedChart(dir: string, source: string): ResolvedKyvernoChart {
    const chart = readChartYaml(dir);
    return { dir, version: String(chart.version), appVersion: String(chart.appVersion), source };
}

/** `go mod download -json module@version`: the module's extracted directory and its go.mod file. */
export async function goModDownload(io: Pick<ResolverIo, "go">, module: string, version: string): Promise<{ dir: string; goMod: string }> {
    const r = await io.go(["mod", "download", "-json", `${module}@${version}`], GO_TIMEOUT_MS);
    if (r.error) throw new Error(r.error);
    let info: { Dir?: string; GoMod?: string; Error?: string } | undefined;
    try {
        info = JSON.parse(r.stdout);
    } catch {
        info = undefined;
    }
    if (info?.Error) throw new Error(info.Error);
    if (r.code !== 0 || !info?.Dir) throw new Error(`go exited ${r.code}: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" ")}`);
    return { dir: info.Dir, goMod: info.GoMod ?? path.join(info.Dir, "go.mod") };
}

/**
 * Remote dependencies of the Kyverno chart that are on by default and that a Go module carries.
 * kyverno-api (the policies.kyverno.io CRDs: ValidatingPolicy and its kin) installs whenever
 * `crds.install` does, which is the default; its chart is charts/kyverno-api of
 * github.com/kyverno/api, taken at the version the kyverno module's go.mod requires: the API the
 * controllers of that release are built against.
 */
const GO_MODULE_SUBCHARTS: Readonly<Record<string, { module: string; path: string }>> = {
    "kyverno-api": { module: "github.com/kyverno/api", path: "charts/kyverno-api" },
};

/**
 * Copies the chart of the kyverno module to `dst`, writable, and makes it installable by Helm
 * without a network: a remote dependency that is off by default (openreports, reports-server in
 * 3.9.1) loses its Chart.yaml entry, since Helm's dependency check would otherwise want it under
 * charts/ although it would never render; a remote dependency that is on by default is supplied
 * from its Go module (GO_MODULE_SUBCHARTS), its entry pointing at the local copy. Chart.lock goes:
 * it describes the upstream dependency list, not this one. Anything else fails, naming it.
 */
async function assembleOfflineChart(io: ResolverIo, kyverno: { dir: string; goMod: string }, dst: string): Promise<string[]> {
    const src = path.join(kyverno.dir, "charts", "kyverno");
    copyTree(src, dst);
    const chart = readChartYaml(dst);
    const values = yaml.load(fs.readFileSync(path.join(dst, "values.yaml"), "utf8"));
    const plan = planOfflineDependencies(chart.dependencies ?? [], values, subchartNames(dst));
    const notes: string[] = [];
    for (const dep of plan.supply) {
        const from = GO_MODULE_SUBCHARTS[dep.name];
        if (!from) {
            throw new Error(`charts/kyverno depends on ${dep.name} ${dep.version ?? ""} from ${dep.repository ?? "charts/"}, enabled by default (condition ${dep.condition ?? "none"}), and no offline source for it is known`);
        }
        const goMod = fs.readFileSync(kyverno.goMod, "utf8");
        const version = requiredModuleVersion(goMod, from.module);
        if (!version) throw new Error(`${KYVERNO_MODULE}'s go.mod does not require ${from.module}, which carries the ${dep.name} chart`);
        const mod = await goModDownload(io, from.module, version);
        const sub = path.join(dst, "charts", dep.name);
        copyTree(path.join(mod.dir, from.path), sub);
        // The module's chart carries a placeholder version; name the module version instead, and
        // point the dependency at it (Helm drops a subchart whose version is outside the range).
        const chartVersion = version.replace(/^v/, "");
        const subChart = readChartYaml(sub);
        fs.writeFileSync(path.join(sub, "Chart.yaml"), yaml.dump({ ...subChart, version: chartVersion }, { lineWidth: -1 }));
        notes.push(`${dep.name}: ${dep.repository ?? ""} ${dep.version ?? ""} replaced by ${from.path} of ${from.module}@${version} (required by ${KYVERNO_MODULE}'s go.mod)`);
        dep.version = chartVersion;
        delete dep.repository;
    }
    for (const dep of plan.drop) notes.push(`${dep.name}: ${dep.repository ?? ""} ${dep.version ?? ""} removed from the dependencies (condition ${dep.condition ?? "tags"} is off by default)`);
    const dropped = new Set(plan.drop);
    chart.dependencies = (chart.dependencies ?? []).filter((d) => !dropped.has(d));
    const header = [
        "# Copied from charts/kyverno of the kyverno Go module by the policy-stack e2e fixture resolver",
        "# (test/harness/fixtures-resolver.ts) and made installable offline:",
        ...notes.map((n) => `#   ${n}`),
        "",
    ].join("\n");
    fs.writeFileSync(path.join(dst, "Chart.yaml"), header + yaml.dump(chart, { lineWidth: -1 }));
    fs.rmSync(path.join(dst, "Chart.lock"), { force: true });
    return notes;
}

/** The Kyverno chart at KYVERNO_CHART_VERSION. See the module comment for the order. */
export async function resolveKyvernoChart(options: Partial<ResolverIo> = {}): Promise<ResolvedKyvernoChart> {
    const io = withDefaults(options);
    const { kyvernoVersion, kyvernoChartVersion: pin } = io.pins;
    const attempts: Attempt[] = [];

    const explicit = io.env[KYVERNO_CHART_ENV];
    if (explicit) {
        const dir = path.resolve(explicit);
        const problem = chartProblem(dir, undefined);
        if (problem !== undefined) {
            throw new FixtureUnavailableError(`${KYVERNO_CHART_ENV}=${explicit}: ${problem}. Point it at a Kyverno chart directory that Helm can install offline, or unset it to use ../shared/fixtures or the Go module proxy.`);
        }
        const chart = resolvedChart(dir, KYVERNO_CHART_ENV);
        if (chart.version !== pin) io.debug(`${KYVERNO_CHART_ENV}: chart version ${chart.version}, not the pinned ${pin}; used as given`);
        io.debug(`Kyverno chart ${chart.version} from ${KYVERNO_CHART_ENV}: ${dir}`);
        return chart;
    }
    attempts.push({ way: KYVERNO_CHART_ENV, result: "not set" });

    const shared = path.join(sharedFixturesDir(io.repoRoot), "kyverno", "chart");
    const sharedProblem = chartProblem(shared, pin);
    if (sharedProblem === undefined) {
        io.debug(`Kyverno chart ${pin} from ../shared/fixtures: ${shared}`);
        return resolvedChart(shared, "../shared/fixtures");
    }
    attempts.push({ way: `../shared/fixtures/kyverno/chart (${shared})`, result: sharedProblem });
    if (sharedProblem !== "not present") io.debug(`skipping ${shared}: ${sharedProblem}`);

    const entry = path.join(io.cacheDir, "kyverno-chart", pin);
    const cached = path.join(entry, "kyverno");
    const cachedProblem = chartProblem(cached, pin);
    if (cachedProblem === undefined) {
        io.debug(`Kyverno chart ${pin} from the cache: ${cached}`);
        return resolvedChart(cached, `cache (${cached})`);
    }
    if (cachedProblem !== "not present") {
        io.debug(`discarding the cached ${cached}: ${cachedProblem}`);
        discard(entry);
    }

    const way = `Go module proxy (go mod download -json ${KYVERNO_MODULE}@${kyvernoVersion})`;
    try {
        const mod = await goModDownload(io, KYVERNO_MODULE, kyvernoVersion);
        const inModule = path.join(mod.dir, "charts", "kyverno");
        if (!isFile(path.join(inModule, "Chart.yaml"))) throw new Error(`${KYVERNO_MODULE}@${kyvernoVersion} has no charts/kyverno/Chart.yaml`);
        const moduleChartVersion = String(readChartYaml(inModule).version);
        if (moduleChartVersion !== pin) {
            throw new Error(`${KYVERNO_MODULE}@${kyvernoVersion} carries chart ${moduleChartVersion}, not the pinned ${pin}: KYVERNO_VERSION and KYVERNO_CHART_VERSION in scripts/tools.env disagree`);
        }
        let notes: string[] = [];
        const dir = await publish(io.cacheDir, "kyverno-chart", pin, async (tmp) => {
            notes = await assembleOfflineChart(io, mod, path.join(tmp, "kyverno"));
        });
        const problem = chartProblem(path.join(dir, "kyverno"), pin);
        if (problem !== undefined) throw new Error(`the assembled chart is still not installable: ${problem}`);
        for (const n of notes) io.debug(`Kyverno chart: ${n}`);
        io.debug(`Kyverno chart ${pin} from ${KYVERNO_MODULE}@${kyvernoVersion}, cached as ${path.join(dir, "kyverno")}`);
        return resolvedChart(path.join(dir, "kyverno"), `${KYVERNO_MODULE}@${kyvernoVersion}`);
    } catch (e) {
        attempts.push({ way, result: errorText(e) });
    }

    throw new FixtureUnavailableError(unavailableMessage(`the Kyverno Helm chart ${pin} (Kyverno ${kyvernoVersion})`, attempts, [
        `set ${KYVERNO_CHART_ENV} to a directory holding that chart (charts/kyverno of ${KYVERNO_MODULE} at ${kyvernoVersion}, with every dependency it enables present under charts/);`,
        `or put it at ../shared/fixtures/kyverno/chart beside the checkout (${shared});`,
        `or give this machine Go and the Go module proxy (GOPROXY) once (the chart is then cached in ${entry}).`,
    ]));
}

// ---------------------------------------------------------------- for the suites

/**
 * Both fixtures, resolved once at the start of a suite: when either is missing this throws before
 * anything starts, with the message of each that failed.
 */
export async function resolveE2eFixtures(options: Partial<ResolverIo> = {}): Promise<{ flux: ResolvedFluxInstall; kyverno: ResolvedKyvernoChart }> {
    const io = withDefaults(options);
    const [flux, kyverno] = await Promise.allSettled([resolveFluxInstall(io), resolveKyvernoChart(io)]);
    const failed = [flux, kyverno].filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed.length > 0) throw new FixtureUnavailableError(failed.map((r) => errorText(r.reason)).join("\n\n"));
    return { flux: (flux as PromiseFulfilledResult<ResolvedFluxInstall>).value, kyverno: (kyverno as PromiseFulfilledResult<ResolvedKyvernoChart>).value };
}

/**
 * A CRD of the chart's crds subchart as a plain object (see crdFromChartTemplate), e.g.
 * `chartCrd(chart.dir, "kyverno.io", "kyverno.io_clusterpolicies.yaml")`: the Flux controller
 * test installs Kyverno's CRDs without Kyverno.
 */
export function chartCrd(chartDir: string, group: string, file: string): Record<string, any> {
    const template = path.join(chartDir, "charts", "crds", "templates", group, file);
    return crdFromChartTemplate(fs.readFileSync(template, "utf8"), template);
}
