/**
 * The one process runner of the tests and the benchmarks.
 *
 * - `run`: a command to completion (no shell), with its output, exit code and wall time from spawn
 *   to exit; optionally logged to a file, timed out (its whole process group when asked), fed on
 *   stdin, or measured under GNU time for the peak RSS. It never throws on an exit code; `checkOk`
 *   and `runOk` do.
 * - `launch`/`stopProc`: long-running processes (registry, controllers) with their output kept in
 *   memory and optionally teed to a log file, stopped with SIGTERM then SIGKILL.
 * - `atExit`: one backstop for a test process that dies without its after() hooks (exit, SIGINT,
 *   SIGTERM): every launched process is killed and every registered clean-up runs.
 * - ports and HTTP probes for processes that listen on 127.0.0.1.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

// ---------------------------------------------------------------- backstop

const cleanups = new Set<() => void>();
let backstopInstalled = false;

/** Runs `fn` if the process ends before the caller undoes it (with the returned function). */
export function atExit(fn: () => void): () => void {
    if (!backstopInstalled) {
        backstopInstalled = true;
        const runAll = () => {
            for (const f of cleanups) {
                try {
                    f();
                } catch {
                    /* keep cleaning up */
                }
            }
            cleanups.clear();
        };
        process.once("exit", runAll);
        // A signal ends the process without an "exit" event unless handled: clean up, then die as signalled.
        for (const sig of ["SIGINT", "SIGTERM"] as const) {
            process.once(sig, () => {
                runAll();
                process.kill(process.pid, sig);
            });
        }
    }
    cleanups.add(fn);
    return () => cleanups.delete(fn);
}

// ---------------------------------------------------------------- run to completion

/** What `run` returns; it never throws on a non-zero exit. */
export interface RunResult {
    /** Exit code; 128 when killed by a signal, 127 when it could not start. */
    code: number;
    stdout: string;
    stderr: string;
    /** Wall time from spawn to exit, in milliseconds. */
    ms: number;
    /** The runner killed it at its timeout (it did not exit on its own). */
    timedOut: boolean;
    /** Why it could not start (ENOENT, EACCES, …), when it could not. */
    spawnError?: NodeJS.ErrnoException;
    /** The log file holding the command line and both streams (with `log`). */
    log?: string;
    /** Peak resident set size in MiB (with `rss`). */
    peakRssMb?: number;
}

export interface RunOptions {
    cwd?: string;
    /** The whole environment. Defaults to process.env. */
    env?: NodeJS.ProcessEnv;
    /** Written to stdin, which is then closed. Without it stdin is /dev/null. */
    input?: string;
    /** Killed (SIGTERM, then SIGKILL after 10 s) after this long. Defaults to 120 s. */
    timeoutMs?: number;
    /** Start it in its own process group and kill the whole group at the timeout (pulumi and its plugins). */
    processGroup?: boolean;
    /** Write the command line, both streams and the exit line to this file. */
    log?: string;
    /** Copy its stderr to ours as it comes (progress of long builds). */
    echoStderr?: boolean;
    /** Measure the peak RSS with GNU time (`/usr/bin/time -f %M`). */
    rss?: boolean;
}

export const GNU_TIME = "/usr/bin/time";
const KILL_GRACE_MS = 10_000;

/** Runs `cmd args` to completion. See the module comment. */
export function run(cmd: string, args: string[], o: RunOptions = {}): Promise<RunResult> {
    let rssFile: string | undefined;
    let argv0 = cmd;
    let argv = args;
    if (o.rss) {
        rssFile = path.join(os.tmpdir(), `rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
        argv0 = GNU_TIME;
        argv = ["-f", "%M", "-o", rssFile, cmd, ...args];
    }
    const log = o.log ? fs.createWriteStream(o.log) : undefined;
    // An unwritable log loses the log, not the command's result (end's callback still fires).
    log?.on("error", () => undefined);
    log?.write(`$ ${[cmd, ...args].join(" ")}\n  (cwd ${o.cwd ?? process.cwd()})\n`);
    return new Promise((resolve) => {
        const started = process.hrtime.bigint();
        const child = spawn(argv0, argv, {
            cwd: o.cwd,
            env: o.env ?? process.env,
            stdio: [o.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
            detached: o.processGroup ?? false,
        });
        let stdout = "";
        let stderr = "";
        let spawnError: NodeJS.ErrnoException | undefined;
        child.stdout!.on("data", (c: Buffer) => {
            stdout += c.toString();
            log?.write(c);
        });
        child.stderr!.on("data", (c: Buffer) => {
            stderr += c.toString();
            log?.write(c);
            if (o.echoStderr) process.stderr.write(c);
        });
        const kill = (signal: NodeJS.Signals) => {
            try {
                if (o.processGroup) process.kill(-child.pid!, signal);
                else child.kill(signal);
            } catch {
                /* gone */
            }
        };
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            kill("SIGTERM");
            setTimeout(() => kill("SIGKILL"), KILL_GRACE_MS).unref();
        }, o.timeoutMs ?? 120_000);
        child.on("error", (e) => {
            spawnError = e;
            stderr += `\nspawn error: ${e.message}`;
        });
        child.on("close", (exitCode, signal) => {
            const ms = Number(process.hrtime.bigint() - started) / 1e6;
            clearTimeout(timer);
            const code = spawnError ? 127 : (exitCode ?? (signal ? 128 : 1));
            const result: RunResult = {
                code,
                stdout,
                stderr: timedOut ? `${stderr}\n[timed out after ${Math.round(ms)} ms]` : stderr,
                ms,
                timedOut,
                spawnError,
                log: o.log,
                peakRssMb: rssFile ? readPeakRss(rssFile) : undefined,
            };
            if (!log) return resolve(result);
            // Resolved once the log is on disk, so a caller can read it at once.
            log.end(`\n[exit ${code}${signal ? ` signal ${signal}` : ""}${timedOut ? " TIMEOUT" : ""} after ${Math.round(ms)} ms]\n`, () => resolve(result));
        });
        if (o.input !== undefined) {
            // A command may exit without reading its input (a stand-in tool, a usage error): the
            // broken pipe is its business, and its exit code says what happened.
            child.stdin!.on("error", () => undefined);
            child.stdin!.end(o.input);
        }
    });
}

/** GNU time's `%M` (KiB) in MiB; undefined when the command did not run. */
function readPeakRss(file: string): number | undefined {
    try {
        const kb = Number(fs.readFileSync(file, "utf8").trim().split("\n").pop());
        return Number.isFinite(kb) ? kb / 1024 : undefined;
    } catch {
        return undefined;
    } finally {
        fs.rmSync(file, { force: true });
    }
}

/** The last `n` characters of `s`, marked when cut. */
export function tail(s: string, n: number): string {
    return s.length <= n ? s : `…${s.slice(-n)}`;
}

/** Returns `r`, or throws naming `what`, the exit code, the log file and the output's tail. */
export function checkOk<R extends RunResult>(r: R, what: string): R {
    if (r.code !== 0) {
        throw new Error(`${what} failed (exit ${r.code}${r.log ? `, log ${r.log}` : ""}):\n${tail(`${r.stdout}\n${r.stderr}`, 6000)}`);
    }
    return r;
}

/** `run`, throwing on a non-zero exit. */
export async function runOk(cmd: string, args: string[], o: RunOptions = {}): Promise<RunResult> {
    return checkOk(await run(cmd, args, o), `${path.basename(cmd)} ${args.join(" ")}`);
}

// ---------------------------------------------------------------- long-running processes

/** Most log text kept in memory per process (the full log is in its log file). */
const MAX_LOG_CHARS = 4 << 20;

export interface Proc {
    name: string;
    child: ChildProcess;
    exited: Promise<void>;
    hasExited: () => boolean;
    output: () => string;
}

/** Starts a long-running process; its output is kept in memory and, with `logFile`, appended there. */
export function launch(name: string, bin: string, args: string[], env: NodeJS.ProcessEnv, logFile?: string): Proc {
    const child = spawn(bin, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const forget = atExit(() => child.kill("SIGKILL"));
    const file = logFile ? fs.createWriteStream(logFile, { flags: "a" }) : undefined;
    let text = "";
    const onData = (c: Buffer) => {
        file?.write(c);
        text += c.toString();
        if (text.length > MAX_LOG_CHARS) text = text.slice(-MAX_LOG_CHARS);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    let exited = false;
    const exitedP = new Promise<void>((resolve) => {
        const done = (note: string) => {
            if (exited) return;
            exited = true;
            forget();
            text += `\n(${name} ${note})\n`;
            file?.end();
            resolve();
        };
        child.once("exit", (code, signal) => done(`exited: ${signal ?? `code ${code}`}`));
        // spawn failure (ENOENT, EACCES): no exit event follows.
        child.once("error", (err) => done(`could not start: ${err.message}`));
    });
    return { name, child, exited: exitedP, hasExited: () => exited, output: () => text };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProc(p: Proc, graceMs = 10_000): Promise<void> {
    if (p.hasExited()) return;
    p.child.kill("SIGTERM");
    const t = setTimeout(() => p.child.kill("SIGKILL"), graceMs);
    await p.exited;
    clearTimeout(t);
}

/** The process's output so far, every line prefixed with its name. */
export function prefixed(p: Proc): string {
    return p.output().split("\n").filter((l) => l.length > 0).map((l) => `[${p.name}] ${l}`).join("\n");
}

// ---------------------------------------------------------------- ports and probes

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        });
    });
}

export async function distinctFreePorts(n: number): Promise<number[]> {
    const ports = new Set<number>();
    while (ports.size < n) ports.add(await freePort());
    return [...ports];
}

/**
 * Status code of a GET. HTTPS is verified against `ca` when given, else not at all (self-signed
 * local endpoints).
 */
export function httpStatus(url: string, ca?: Buffer): Promise<number> {
    const get = url.startsWith("https:") ? https.get : http.get;
    return new Promise((resolve, reject) => {
        const req = get(url, { timeout: 1000, agent: false, ...(ca ? { ca } : { rejectUnauthorized: false }) }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
    });
}
