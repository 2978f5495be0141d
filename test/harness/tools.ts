/**
 * The one tools reader: the pins in scripts/tools.env, the binaries scripts/build-tools.sh builds
 * (run through it when missing), the registry tools from scripts/ensure-registry-tools.sh, and the
 * end-to-end tool chain the Pulumi workspace puts on PATH.
 *
 * Two ways to find a binary, on purpose:
 * - `findTool`/`ensureTools` (the Flux controller test, the benchmarks' flux and oras): `binDir` /
 *   POLICY_STACK_TOOLS_BIN (directories separated by ':'), then the version-keyed tool cache at the
 *   version pinned in scripts/tools.env
 *   (`${POLICY_STACK_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/policy-stack/tools}/<tool>/<version>/bin`),
 *   then PATH. The pinned cache wins over PATH so that, say, a distribution kubectl never stands in
 *   for the pinned one.
 * - `locateToolChain` (the end-to-end workspace): only the build's bin directory,
 *   POLICY_STACK_EXTRA_BIN and the stand-ins here; never PATH, so nothing ambient shadows them.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { repoRoot } from "./paths";
import { run } from "./processes";

// ---------------------------------------------------------------- pins and builds

/** scripts/tools.env as a map (plain KEY=value lines). */
export function readToolsEnv(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of fs.readFileSync(path.join(repoRoot, "scripts", "tools.env"), "utf8").split("\n")) {
        const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
        if (m) out[m[1]] = m[2];
    }
    return out;
}

/** The tool cache root, as scripts/build-tools.sh computes it. */
export function toolsCacheDir(): string {
    return process.env.POLICY_STACK_TOOLS_DIR
        ?? path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "policy-stack", "tools");
}

function isExecutable(file: string): boolean {
    try {
        fs.accessSync(file, fs.constants.X_OK);
        return fs.statSync(file).isFile();
    } catch {
        return false;
    }
}

export interface BuildToolsResult {
    code: number;
    /** The bin directory of symlinks for the current pins (the script's last stdout line), when it exists. */
    binDir?: string;
    stdout: string;
    stderr: string;
}

/**
 * `scripts/build-tools.sh [tool …]` (every tool when none is named): builds what is missing,
 * minutes to an hour cold, seconds warm; `["--bin-dir"]` builds nothing. With `echoStderr` its
 * progress shows as it goes.
 */
export async function buildTools(args: readonly string[], o: { timeoutMs: number; echoStderr?: boolean }): Promise<BuildToolsResult> {
    const r = await run("bash", [path.join(repoRoot, "scripts", "build-tools.sh"), ...args], { cwd: repoRoot, timeoutMs: o.timeoutMs, echoStderr: o.echoStderr });
    const last = r.stdout.trim().split("\n").pop();
    return { code: r.code, binDir: last && fs.existsSync(last) ? last : undefined, stdout: r.stdout, stderr: r.stderr };
}

// ---------------------------------------------------------------- single binaries

/** Which build-tools.sh tool produces each binary, and the tools.env key of its version. */
export const TOOL_OF_BINARY: Readonly<Record<string, { tool: string; versionKey: string }>> = {
    "source-controller": { tool: "source-controller", versionKey: "SOURCE_CONTROLLER_VERSION" },
    "kustomize-controller": { tool: "kustomize-controller", versionKey: "KUSTOMIZE_CONTROLLER_VERSION" },
    flux: { tool: "flux", versionKey: "FLUX_VERSION" },
    oras: { tool: "oras", versionKey: "ORAS_VERSION" },
    kwok: { tool: "kwok", versionKey: "KWOK_VERSION" },
    kwokctl: { tool: "kwok", versionKey: "KWOK_VERSION" },
    etcd: { tool: "etcd", versionKey: "ETCD_VERSION" },
    "kube-apiserver": { tool: "kubernetes", versionKey: "KUBERNETES_VERSION" },
    "kube-controller-manager": { tool: "kubernetes", versionKey: "KUBERNETES_VERSION" },
    "kube-scheduler": { tool: "kubernetes", versionKey: "KUBERNETES_VERSION" },
    kubectl: { tool: "kubernetes", versionKey: "KUBERNETES_VERSION" },
    cosign: { tool: "cosign", versionKey: "COSIGN_VERSION" },
};

/** Where `bin` is, or undefined. See the module comment for the order. */
export function findTool(bin: string, binDir?: string): string | undefined {
    const dirs = [binDir, process.env.POLICY_STACK_TOOLS_BIN].filter((d): d is string => !!d).flatMap((d) => d.split(path.delimiter));
    for (const d of dirs) {
        const p = path.join(d, bin);
        if (isExecutable(p)) return p;
    }
    const known = TOOL_OF_BINARY[bin];
    if (known) {
        const version = readToolsEnv()[known.versionKey];
        const dir = path.join(toolsCacheDir(), known.tool, version ?? "", "bin");
        if (version && fs.existsSync(path.join(dir, "..", "stamp")) && isExecutable(path.join(dir, bin))) return path.join(dir, bin);
    }
    for (const d of (process.env.PATH ?? "").split(path.delimiter)) {
        if (!d) continue;
        const p = path.join(d, bin);
        if (isExecutable(p)) return p;
    }
    return undefined;
}

/**
 * Paths of all `bins`. Missing ones are built with `scripts/build-tools.sh <tool>…` (idempotent;
 * seconds when the cache is warm) unless POLICY_STACK_BUILD_TOOLS=0; throws naming what is missing.
 */
export async function ensureTools(bins: readonly string[], opts: { binDir?: string; buildTimeoutMs?: number } = {}): Promise<Record<string, string>> {
    const resolve = () => Object.fromEntries(bins.map((b) => [b, findTool(b, opts.binDir)])) as Record<string, string | undefined>;
    let found = resolve();
    let missing = bins.filter((b) => !found[b]);
    if (missing.length > 0 && process.env.POLICY_STACK_BUILD_TOOLS !== "0") {
        const tools = [...new Set(missing.map((b) => TOOL_OF_BINARY[b]?.tool).filter((t): t is string => !!t))];
        if (tools.length > 0) {
            const res = await buildTools(tools, { timeoutMs: opts.buildTimeoutMs ?? 60 * 60_000 });
            found = Object.fromEntries(bins.map((b) => [b, findTool(b, opts.binDir) ?? (res.binDir ? findTool(b, res.binDir) : undefined)]));
            missing = bins.filter((b) => !found[b]);
            if (missing.length > 0) {
                throw new Error(`scripts/build-tools.sh ${tools.join(" ")} did not produce ${missing.join(", ")} (exit ${res.code}):\n${res.stderr.split("\n").filter((l) => !l.startsWith("go: downloading")).slice(-40).join("\n")}`);
            }
        }
    }
    if (missing.length > 0) {
        throw new Error(`missing tools: ${missing.join(", ")}; build them with scripts/build-tools.sh, or point POLICY_STACK_TOOLS_BIN at a directory that has them`);
    }
    return found as Record<string, string>;
}

let registryTools: Promise<void> | undefined;

/**
 * Makes sure docker-registry, skopeo, openssl and htpasswd are installed (runs
 * scripts/ensure-registry-tools.sh once per process; it is a no-op when all are present).
 */
export function ensureRegistryTools(): Promise<void> {
    registryTools ??= run("bash", [path.join(repoRoot, "scripts", "ensure-registry-tools.sh")], { timeoutMs: 9 * 60_000 }).then((r) => {
        if (process.env.DEBUG_REGISTRY) process.stderr.write(r.stdout);
        if (r.code !== 0) {
            registryTools = undefined;
            throw new Error(`scripts/ensure-registry-tools.sh failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
        }
    });
    return registryTools;
}

// ---------------------------------------------------------------- the end-to-end tool chain

/** Binaries the e2e scenario runs, and who provides them. */
export const E2E_TOOLS = [
    // Pulumi engine, language host and the providers the program loads from $PATH.
    "pulumi",
    "pulumi-language-nodejs",
    "pulumi-resource-pulumi-nodejs",
    "pulumi-resource-kubernetes",
    "pulumi-resource-command",
    // The cluster behind the kind shim.
    "kwokctl",
    "kwok",
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    // Reading the cluster back (the one built with the control plane, not whatever is on PATH).
    "kubectl",
    // Flux, run as local processes against the same API server.
    "source-controller",
    "kustomize-controller",
    // Kyverno's admission and reports controllers, run as local processes against the same API server.
    "kyverno",
    "reports-controller",
] as const;

/** The directory holding the kind shim (put first on the workspace's PATH). */
export const shimBinDir = path.join(repoRoot, "test", "harness", "bin");

/**
 * Stand-ins for tools that cannot be built here. Only pulumi-resource-command: the Go module proxy
 * does not serve github.com/pulumi/pulumi-command/provider, so test/harness/command-provider.ts
 * implements `command:local:Command`. A real binary in the tool dir or POLICY_STACK_EXTRA_BIN wins.
 */
export const standInDir = path.join(repoRoot, "test", "harness", "plugins");

/** Where each tool is found: the tool bin dir first, then POLICY_STACK_EXTRA_BIN (colon-separated), then the stand-ins. */
export interface ToolChain {
    /** Directories to put on PATH, in order (shim first). */
    pathDirs: string[];
    /** Absolute path of every tool in E2E_TOOLS. */
    tools: Record<(typeof E2E_TOOLS)[number], string>;
}

/**
 * The bin directory of the tool chain. POLICY_STACK_TOOLS_BIN wins (a prepared directory);
 * otherwise scripts/build-tools.sh builds every tool that is missing, its progress on our stderr,
 * or with POLICY_STACK_BUILD_TOOLS=0 only links the tools already built.
 */
export async function resolveToolBinDir(): Promise<string> {
    const preset = process.env.POLICY_STACK_TOOLS_BIN;
    if (preset) return path.resolve(preset);
    const noBuild = process.env.POLICY_STACK_BUILD_TOOLS === "0";
    const r = await buildTools(noBuild ? ["--bin-dir"] : [], { timeoutMs: 80 * 60_000, echoStderr: true });
    if (!r.binDir) throw new Error(`scripts/build-tools.sh did not print a bin directory (exit ${r.code}): ${r.stdout}`);
    // A failed tool build is reported by locateToolChain as what is missing, with the other tools still usable.
    return r.binDir;
}

const HINTS: Partial<Record<(typeof E2E_TOOLS)[number], string>> = {
    "pulumi-resource-command": `neither a built binary nor the stand-in in ${standInDir} was found`,
};

/** Finds every tool of the chain in `binDir` (see `resolveToolBinDir`), or throws one error naming all that are missing. */
export function locateToolChain(binDir: string): ToolChain {
    const extra = (process.env.POLICY_STACK_EXTRA_BIN ?? "").split(path.delimiter).filter(Boolean).map((d) => path.resolve(d));
    const dirs = [binDir, ...extra, standInDir];
    const tools: Partial<Record<string, string>> = {};
    const missing: string[] = [];
    for (const tool of E2E_TOOLS) {
        const found = dirs.map((d) => path.join(d, tool)).find(isExecutable);
        if (found) tools[tool] = found;
        else missing.push(`  - ${tool}${HINTS[tool] ? `: ${HINTS[tool]}` : ""}`);
    }
    if (missing.length > 0) {
        throw new Error(`the e2e tool chain is incomplete (looked in ${dirs.join(", ")}):\n${missing.join("\n")}`);
    }
    // Directories of the tools, deduplicated, after the shim: nothing ambient shadows them.
    const pathDirs = [shimBinDir];
    for (const tool of E2E_TOOLS) {
        const d = path.dirname(tools[tool]!);
        if (!pathDirs.includes(d)) pathDirs.push(d);
    }
    return { pathDirs, tools: tools as ToolChain["tools"] };
}
