/**
 * What the benchmarks need besides Node: the real `flux` and `oras` CLIs (built from the Go module
 * proxy by scripts/build-tools.sh, as the end-to-end tests do), the registry tools (Debian's
 * docker-registry, via scripts/ensure-registry-tools.sh) and GNU time; how they time a command;
 * and a description of the machine for the results. Nothing here records a local path.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { GNU_TIME, run, type RunOptions, type RunResult } from "../../test/harness/processes";
import { buildTools, ensureRegistryTools } from "../../test/harness/tools";

/** A command the way a user runs it (a fresh process), timed from spawn to exit; never throws on exit codes. */
export function timed(cmd: string, args: string[], o: Omit<RunOptions, "timeoutMs" | "log"> = {}): Promise<RunResult> {
    return run(cmd, args, { ...o, timeoutMs: 10 * 60_000 });
}

/** Makes sure GNU time is installed (apt-get install time when missing). */
async function ensureGnuTime(): Promise<void> {
    if (fs.existsSync(GNU_TIME)) return;
    await run("bash", ["-c", "export DEBIAN_FRONTEND=noninteractive; (apt-get install -y -q time || (apt-get update -q && apt-get install -y -q time))"], {
        timeoutMs: 10 * 60_000,
        echoStderr: true,
    });
    if (!fs.existsSync(GNU_TIME)) throw new Error("GNU time (/usr/bin/time) is missing and could not be installed: apt-get install time");
}

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
export async function ensureBenchTools(log: (s: string) => void): Promise<BenchTools> {
    await ensureGnuTime();
    log("registry tools: scripts/ensure-registry-tools.sh");
    await ensureRegistryTools();
    let binDir = process.env.POLICY_STACK_TOOLS_BIN ? path.resolve(process.env.POLICY_STACK_TOOLS_BIN) : undefined;
    if (!binDir) {
        log("flux, oras: scripts/build-tools.sh flux oras (minutes when cold, seconds when built)");
        const r = await buildTools(["flux", "oras"], { timeoutMs: 60 * 60_000, echoStderr: true });
        if (r.code !== 0 || !r.binDir) {
            return { problem: `scripts/build-tools.sh flux oras failed (exit ${r.code}); see its output above` };
        }
        binDir = r.binDir;
    }
    const flux = path.join(binDir, "flux");
    const oras = path.join(binDir, "oras");
    const missing = [flux, oras].filter((p) => !fs.existsSync(p)).map((p) => path.basename(p));
    return { binDir, flux: fs.existsSync(flux) ? flux : undefined, oras: fs.existsSync(oras) ? oras : undefined, problem: missing.length ? `not built: ${missing.join(", ")}` : undefined };
}

async function firstLine(cmd: string, args: string[]): Promise<string | undefined> {
    const r = await run(cmd, args, { timeoutMs: 20_000 });
    if (r.code !== 0) return undefined;
    return `${r.stdout}${r.stderr}`.trim().split("\n")[0]?.trim();
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

export async function machineInfo(tools: BenchTools): Promise<MachineInfo> {
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
        go: await firstLine("go", ["version"]),
        flux: tools.flux ? await firstLine(tools.flux, ["--version"]) : undefined,
        oras: tools.oras ? await firstLine(tools.oras, ["version"]) : undefined,
        registry: await firstLine("docker-registry", ["--version"]),
        loadAverageStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    };
}
