/**
 * What the benchmarks need besides Node: the real `flux` and `oras` CLIs (built from the Go module
 * proxy by scripts/build-tools.sh, as the end-to-end tests do), the registry tools (Debian's
 * docker-registry, via scripts/ensure-registry-tools.sh) and GNU time; plus a description of the
 * machine for the results. Nothing here records a local path.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { repoRoot } from "../../test/support/paths";
import { ensureRegistryTools } from "../../test/support/registry";
import { ensureGnuTime } from "./proc";

export interface BenchTools {
    /** Bin dir printed by scripts/build-tools.sh (symlinks for the current pins). */
    binDir?: string;
    flux?: string;
    oras?: string;
    /** Why flux/oras are missing, when they are. */
    problem?: string;
}

/**
 * Builds (or finds, when already built) flux and oras with scripts/build-tools.sh. A cold build
 * takes minutes; progress goes to our stderr. POLICY_STACK_TOOLS_BIN short-cuts the script.
 */
export function ensureBenchTools(log: (s: string) => void): BenchTools {
    ensureGnuTime();
    log("registry tools: scripts/ensure-registry-tools.sh");
    ensureRegistryTools();
    let binDir = process.env.POLICY_STACK_TOOLS_BIN ? path.resolve(process.env.POLICY_STACK_TOOLS_BIN) : undefined;
    if (!binDir) {
        log("flux, oras: scripts/build-tools.sh flux oras (minutes when cold, seconds when built)");
        const r = spawnSync("bash", [path.join(repoRoot, "scripts", "build-tools.sh"), "flux", "oras"], {
            cwd: repoRoot,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"],
            timeout: 60 * 60_000,
        });
        const lines = (r.stdout ?? "").trim().split("\n");
        binDir = lines[lines.length - 1];
        if (r.status !== 0 || !binDir || !fs.existsSync(binDir)) {
            return { problem: `scripts/build-tools.sh flux oras failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ""}); see its output above` };
        }
    }
    const flux = path.join(binDir, "flux");
    const oras = path.join(binDir, "oras");
    const missing = [flux, oras].filter((p) => !fs.existsSync(p)).map((p) => path.basename(p));
    return { binDir, flux: fs.existsSync(flux) ? flux : undefined, oras: fs.existsSync(oras) ? oras : undefined, problem: missing.length ? `not built: ${missing.join(", ")}` : undefined };
}

function firstLine(cmd: string, args: string[]): string | undefined {
    try {
        const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 20_000 });
        if (r.status !== 0) return undefined;
        return `${r.stdout}${r.stderr}`.trim().split("\n")[0]?.trim();
    } catch {
        return undefined;
    }
}

export interface MachineInfo {
    cpuModel: string;
    cores: number;
    memoryGiB: number;
    os: string;
    node: string;
    go?: string;
    flux?: string;
    oras?: string;
    registry?: string;
    loadAverageStart: number[];
}

export function machineInfo(tools: BenchTools): MachineInfo {
    let cpuModel = os.cpus()[0]?.model ?? "unknown";
    try {
        const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync("/proc/cpuinfo", "utf8"));
        if (m) cpuModel = m[1]!.trim();
    } catch {
        /* not Linux */
    }
    let osName = `${os.type()} ${os.release()}`;
    try {
        const m = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(fs.readFileSync("/etc/os-release", "utf8"));
        if (m) osName = `${m[1]} (kernel ${os.release()})`;
    } catch {
        /* no os-release */
    }
    return {
        cpuModel,
        cores: os.cpus().length,
        memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
        os: osName,
        node: process.version,
        go: firstLine("go", ["version"]),
        flux: tools.flux ? firstLine(tools.flux, ["--version"]) : undefined,
        oras: tools.oras ? firstLine(tools.oras, ["version"]) : undefined,
        registry: firstLine("docker-registry", ["--version"]),
        loadAverageStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    };
}
