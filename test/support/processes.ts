/**
 * Long-running local processes for the end-to-end harness (the Flux and Kyverno controllers):
 * start with output teed to a log file and kept in memory, stop with SIGTERM then SIGKILL, probe
 * HTTP(S) endpoints, pick free ports. Every process started here is killed if the test process
 * exits without its after() hooks.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";

import { freePort } from "./registry";

/** Most log text kept in memory per process (the full log is in its log file). */
const MAX_LOG_CHARS = 4 << 20;

const live = new Set<ChildProcess>();
// Backstop for a test process that dies without running its after() hooks.
process.once("exit", () => {
    for (const c of live) c.kill("SIGKILL");
});

export interface Proc {
    name: string;
    child: ChildProcess;
    exited: Promise<void>;
    hasExited: () => boolean;
    output: () => string;
}

export function launch(name: string, bin: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): Proc {
    const child = spawn(bin, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    live.add(child);
    const file = fs.createWriteStream(logFile, { flags: "a" });
    let text = "";
    const onData = (c: Buffer) => {
        file.write(c);
        text += c.toString();
        if (text.length > MAX_LOG_CHARS) text = text.slice(-MAX_LOG_CHARS);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    let exited = false;
    const exitedP = new Promise<void>((resolve) => {
        child.once("exit", (code, signal) => {
            exited = true;
            live.delete(child);
            text += `\n(${name} exited: ${signal ?? `code ${code}`})\n`;
            file.end();
            resolve();
        });
        child.once("error", (err) => {
            // spawn failure (ENOENT, EACCES): no exit event follows.
            if (exited) return;
            exited = true;
            live.delete(child);
            text += `\n(${name} could not start: ${err.message})\n`;
            file.end();
            resolve();
        });
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

/** Status code of a GET (HTTPS without verifying the certificate: these are self-signed local endpoints). */
export function httpStatus(url: string): Promise<number> {
    const get = url.startsWith("https:") ? https.get : http.get;
    return new Promise((resolve, reject) => {
        const req = get(url, { timeout: 1000, agent: false, rejectUnauthorized: false }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
    });
}

export async function distinctFreePorts(n: number): Promise<number[]> {
    const ports = new Set<number>();
    while (ports.size < n) ports.add(await freePort());
    return [...ports];
}
