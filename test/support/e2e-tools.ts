/**
 * The end-to-end tool chain: where the binaries built by scripts/build-tools.sh are, and a check
 * that everything the scenario runs is there before anything starts.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { repoRoot } from "./paths";

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

/** The directory holding the kind shim (put first on the test's PATH). */
export const shimBinDir = path.join(repoRoot, "test", "support", "bin");

/** Pinned versions from scripts/tools.env. */
export function toolVersions(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of fs.readFileSync(path.join(repoRoot, "scripts", "tools.env"), "utf8").split("\n")) {
        const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
        if (m) out[m[1]] = m[2];
    }
    return out;
}

/**
 * The bin directory of the tool chain. POLICY_STACK_TOOLS_BIN wins (a prepared directory);
 * otherwise scripts/build-tools.sh is run, which builds what is missing (minutes to an hour cold,
 * seconds warm) and prints the directory on its last stdout line. Its progress goes to stderr.
 */
export function resolveToolBinDir(): string {
    const preset = process.env.POLICY_STACK_TOOLS_BIN;
    if (preset) return path.resolve(preset);
    const r = spawnSync("bash", [path.join(repoRoot, "scripts", "build-tools.sh")], {
        cwd: repoRoot,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        timeout: 80 * 60_000,
    });
    const lines = (r.stdout ?? "").trim().split("\n");
    const bin = lines[lines.length - 1];
    if (!bin || !fs.existsSync(bin)) {
        throw new Error(`scripts/build-tools.sh did not print a bin directory (exit ${r.status}): ${r.stdout}`);
    }
    // A failed tool build is reported below by what is missing, with the other tools still usable.
    return bin;
}

function isExecutable(p: string): boolean {
    try {
        fs.accessSync(p, fs.constants.X_OK);
        return fs.statSync(p).isFile();
    } catch {
        return false;
    }
}

/** Where each tool is found: the tool bin dir first, then POLICY_STACK_EXTRA_BIN (colon-separated), then the stand-ins. */
export interface ToolChain {
    /** Directories to put on PATH, in order (shim first). */
    pathDirs: string[];
    /** Absolute path of every tool in E2E_TOOLS. */
    tools: Record<(typeof E2E_TOOLS)[number], string>;
}

/**
 * Stand-ins for tools that cannot be built here. Only pulumi-resource-command: the Go module proxy
 * does not serve github.com/pulumi/pulumi-command/provider, so test/support/command-provider.ts
 * implements `command:local:Command`. A real binary in the tool dir or POLICY_STACK_EXTRA_BIN wins.
 */
export const standInDir = path.join(repoRoot, "test", "support", "plugins");

const HINTS: Partial<Record<(typeof E2E_TOOLS)[number], string>> = {
    "pulumi-resource-command": `neither a built binary nor the stand-in in ${standInDir} was found`,
};

/** Finds every tool, or throws one error naming all that are missing. */
export function locateToolChain(binDir: string = resolveToolBinDir()): ToolChain {
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
