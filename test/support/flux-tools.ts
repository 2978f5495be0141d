/**
 * Finds the binaries that scripts/build-tools.sh builds (Flux controllers, flux, oras, kwok,
 * the control plane) for the Flux tests, and builds the missing ones through that script.
 *
 * Resolution order for a binary:
 *   1. `binDir` / POLICY_STACK_TOOLS_BIN (a directory, or several separated by ':');
 *   2. the version-keyed tool cache, at the version pinned in scripts/tools.env
 *      (`${POLICY_STACK_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/policy-stack/tools}/<tool>/<version>/bin`);
 *   3. PATH.
 * The pinned cache wins over PATH so that, say, a distribution kubectl never stands in for the
 * pinned one.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { repoRoot } from "./paths";

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

/** The tool cache root, as scripts/build-tools.sh computes it. */
export function toolsCacheDir(): string {
    return process.env.POLICY_STACK_TOOLS_DIR
        ?? path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "policy-stack", "tools");
}

/** scripts/tools.env as a map (plain KEY=value lines). */
export function readToolsEnv(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of fs.readFileSync(path.join(repoRoot, "scripts", "tools.env"), "utf8").split("\n")) {
        const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
        if (m) out[m[1]] = m[2];
    }
    return out;
}

function isExecutable(file: string): boolean {
    try {
        fs.accessSync(file, fs.constants.X_OK);
        return fs.statSync(file).isFile();
    } catch {
        return false;
    }
}

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
            const script = path.join(repoRoot, "scripts", "build-tools.sh");
            const res = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
                execFile("bash", [script, ...tools], { timeout: opts.buildTimeoutMs ?? 60 * 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
                    done({ code: err ? 1 : 0, stdout: String(stdout), stderr: String(stderr) }));
            });
            const binDir = res.stdout.trim().split("\n").pop();
            found = Object.fromEntries(bins.map((b) => [b, findTool(b, opts.binDir) ?? (binDir ? findTool(b, binDir) : undefined)]));
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
