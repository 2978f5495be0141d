/**
 * Process helpers for the benchmarks: run a command the way a user does (a fresh process), time it
 * from spawn to exit, optionally under `/usr/bin/time -f %M` for the peak RSS.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface Timed {
    code: number;
    ms: number;
    stdout: string;
    stderr: string;
    /** Peak resident set size in MiB (with `rss: true`). */
    peakRssMb?: number;
}

export interface TimedOptions {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    /** Measure the peak RSS with /usr/bin/time -f %M (GNU time). */
    rss?: boolean;
    timeoutMs?: number;
}

const GNU_TIME = "/usr/bin/time";

/** Makes sure GNU time is installed (apt-get install time when missing). */
export function ensureGnuTime(): void {
    if (fs.existsSync(GNU_TIME)) return;
    const r = spawnSync("bash", ["-c", "export DEBIAN_FRONTEND=noninteractive; (apt-get install -y -q time || (apt-get update -q && apt-get install -y -q time))"], {
        stdio: ["ignore", "inherit", "inherit"],
    });
    if (r.status !== 0 || !fs.existsSync(GNU_TIME)) throw new Error("GNU time (/usr/bin/time) is missing and could not be installed: apt-get install time");
}

/** Runs `cmd args` to completion and returns its output, exit code and wall time. Never throws on exit codes. */
export function timed(cmd: string, args: string[], o: TimedOptions = {}): Promise<Timed> {
    let rssFile: string | undefined;
    let argv0 = cmd;
    let argv = args;
    if (o.rss) {
        rssFile = path.join(os.tmpdir(), `bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
        argv0 = GNU_TIME;
        argv = ["-f", "%M", "-o", rssFile, cmd, ...args];
    }
    return new Promise((resolve) => {
        const started = process.hrtime.bigint();
        const child = spawn(argv0, argv, { env: o.env ?? process.env, cwd: o.cwd, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? 10 * 60_000);
        child.on("error", (e) => (stderr += `\nspawn error: ${e.message}`));
        child.on("close", (code, signal) => {
            const ms = Number(process.hrtime.bigint() - started) / 1e6;
            clearTimeout(timer);
            let peakRssMb: number | undefined;
            if (rssFile) {
                try {
                    const kb = Number(fs.readFileSync(rssFile, "utf8").trim().split("\n").pop());
                    if (Number.isFinite(kb)) peakRssMb = kb / 1024;
                } catch {
                    /* no file: the command did not run */
                }
                fs.rmSync(rssFile, { force: true });
            }
            resolve({ code: code ?? (signal ? 128 : 1), ms, stdout, stderr, peakRssMb });
        });
    });
}

/** Like `timed`, but throws with the output when the exit code is not 0. */
export async function timedOk(cmd: string, args: string[], o: TimedOptions = {}): Promise<Timed> {
    const r = await timed(cmd, args, o);
    if (r.code !== 0) {
        throw new Error(`${path.basename(cmd)} ${args.join(" ")} exited ${r.code}:\n${(r.stdout + "\n" + r.stderr).slice(-3000)}`);
    }
    return r;
}

export function min(xs: number[]): number {
    return Math.min(...xs);
}

export function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function round(x: number, digits = 3): number {
    const f = 10 ** digits;
    return Math.round(x * f) / f;
}
