/**
 * Real-registry harness: starts Debian's `docker-registry` (Distribution 2.8) on 127.0.0.1 with a
 * config written here, in one of three set-ups, and always stops it. Also a few helpers to check
 * what was pushed with an independent client (skopeo).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

import { repoRoot } from "./paths";
import { makeSigningCert, makeTestCerts } from "./registry-certs";
import { TokenIssuer } from "./registry-token";

export { startCountingProxy, type CountingProxy, type ProxyAction, type ProxyRequestInfo, type ProxyStats } from "./registry-proxy";
export { TokenIssuer } from "./registry-token";

/** anonymous: plain HTTP, no auth. basic-tls: htpasswd over TLS with a test CA. token: Bearer tokens from a test issuer. */
export type RegistryMode = "anonymous" | "basic-tls" | "token";

/** A running registry. */
export interface RegistryHandle {
    mode: RegistryMode;
    /** `127.0.0.1:port` */
    host: string;
    port: number;
    /** `http://127.0.0.1:port` or `https://…` */
    baseUrl: string;
    /** `oci://127.0.0.1:port/<repo>` */
    url(repo: string): string;
    /** Everything the registry wrote to stdout/stderr so far (for failure messages). */
    logs(): string;
    stop(): Promise<void>;
    /** PEM of the CA that signed the server certificate (basic-tls). */
    caFile?: string;
    /** Directory with only ca.crt, for skopeo --cert-dir (basic-tls). */
    certDir?: string;
    username?: string;
    password?: string;
    /** The token service (token mode). */
    issuer?: TokenIssuer;
    /** Registry storage root. */
    dataDir: string;
}

/** Options of `startRegistry`. */
export interface StartRegistryOptions {
    mode: RegistryMode;
    username?: string;
    password?: string;
    /** Token lifetime for token mode. Defaults to 300 s. */
    tokenTtlSeconds?: number;
}

let toolsChecked = false;

/**
 * Makes sure docker-registry, skopeo, openssl and htpasswd are installed (runs
 * scripts/ensure-registry-tools.sh once per process; it is a no-op when all are present).
 */
export function ensureRegistryTools(): void {
    if (toolsChecked) return;
    const out = execFileSync("bash", [path.join(repoRoot, "scripts", "ensure-registry-tools.sh")], {
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 9 * 60_000,
    });
    if (process.env.DEBUG_REGISTRY) process.stderr.write(out);
    toolsChecked = true;
}

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

const live = new Set<ChildProcess>();
const liveDirs = new Set<string>();
// Backstop for a test process that dies without running its after() hooks: never leave a registry.
function killAll(): void {
    for (const c of live) c.kill("SIGKILL");
    for (const d of liveDirs) fs.rmSync(d, { recursive: true, force: true });
}
process.once("exit", killAll);
// A signal ends the process without an "exit" event unless handled: kill, then die as signalled.
for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
        killAll();
        process.kill(process.pid, sig);
    });
}

function probe(baseUrl: string, ca?: Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
        const u = new URL("/v2/", baseUrl);
        const mod = u.protocol === "https:" ? https : http;
        const req = mod.get(u, { ca, timeout: 1000, agent: false }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
        });
        req.on("timeout", () => req.destroy(new Error("probe timeout")));
        req.on("error", reject);
    });
}

/**
 * Starts a registry and waits until `/v2/` answers. The caller must `await handle.stop()` (in an
 * `after` hook); a process exit kills it regardless.
 */
export async function startRegistry(o: StartRegistryOptions): Promise<RegistryHandle> {
    ensureRegistryTools();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `registry-${o.mode}-`));
    liveDirs.add(dir);
    const dataDir = path.join(dir, "data");
    fs.mkdirSync(dataDir);
    const username = o.mode === "anonymous" ? undefined : (o.username ?? "policy-bot");
    const password = o.mode === "anonymous" ? undefined : (o.password ?? `pw-${crypto.randomBytes(9).toString("base64url")}`);

    const config: Record<string, unknown> = {
        version: "0.1",
        log: { level: "info", formatter: "text", accesslog: { disabled: false } },
        storage: {
            filesystem: { rootdirectory: dataDir },
            delete: { enabled: true },
            maintenance: { uploadpurging: { enabled: false } },
        },
        http: { addr: "", secret: crypto.randomBytes(16).toString("hex"), headers: { "X-Content-Type-Options": ["nosniff"] } },
        health: { storagedriver: { enabled: false } },
    };
    let caFile: string | undefined;
    let certDir: string | undefined;
    let issuer: TokenIssuer | undefined;
    if (o.mode === "basic-tls") {
        const certs = makeTestCerts(path.join(dir, "certs"));
        caFile = certs.caCert;
        certDir = certs.certDir;
        (config.http as Record<string, unknown>).tls = { certificate: certs.serverCert, key: certs.serverKey };
        const htpasswd = path.join(dir, "htpasswd");
        // Distribution only accepts bcrypt entries.
        fs.writeFileSync(htpasswd, execFileSync("htpasswd", ["-Bbn", username!, password!]));
        config.auth = { htpasswd: { realm: "policy-stack-test", path: htpasswd } };
    } else if (o.mode === "token") {
        const signing = makeSigningCert(path.join(dir, "token"));
        issuer = new TokenIssuer({
            keyFile: signing.key,
            certFile: signing.cert,
            username: username!,
            password: password!,
            issuer: "policy-stack-test-issuer",
            service: "policy-stack-test-registry",
            ttlSeconds: o.tokenTtlSeconds,
        });
        await issuer.start();
        config.auth = {
            token: {
                realm: issuer.realm,
                service: "policy-stack-test-registry",
                issuer: "policy-stack-test-issuer",
                rootcertbundle: signing.cert,
            },
        };
    }

    const scheme = o.mode === "basic-tls" ? "https" : "http";
    const ca = caFile ? fs.readFileSync(caFile) : undefined;
    // REGISTRY_* variables override the config file; start from a clean environment for the registry.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("REGISTRY_")));

    let lastError = "";
    for (let tryNo = 0; tryNo < 3; tryNo++) {
        const port = await freePort();
        (config.http as Record<string, unknown>).addr = `127.0.0.1:${port}`;
        const configFile = path.join(dir, "config.yml");
        // JSON is YAML; Distribution's yaml.v2 parser reads it as is.
        fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
        const child = spawn("docker-registry", ["serve", configFile], { env, stdio: ["ignore", "pipe", "pipe"] });
        live.add(child);
        let logs = "";
        child.stdout!.on("data", (c: Buffer) => (logs += c.toString()));
        child.stderr!.on("data", (c: Buffer) => (logs += c.toString()));
        let exited = false;
        const exitPromise = new Promise<void>((resolve) =>
            child.once("exit", () => {
                exited = true;
                live.delete(child);
                resolve();
            }),
        );
        const baseUrl = `${scheme}://127.0.0.1:${port}`;
        const deadline = Date.now() + 20_000;
        let ready = false;
        while (!exited && Date.now() < deadline) {
            try {
                const status = await probe(baseUrl, ca);
                if (status === 200 || status === 401) {
                    ready = true;
                    break;
                }
            } catch {
                /* not listening yet */
            }
            await new Promise((r) => setTimeout(r, 100));
        }
        if (!ready) {
            child.kill("SIGKILL");
            await exitPromise;
            lastError = logs;
            if (/address already in use/i.test(logs)) continue;
            await issuer?.stop();
            fs.rmSync(dir, { recursive: true, force: true });
            throw new Error(`docker-registry (${o.mode}) did not become ready on ${baseUrl}:\n${logs.slice(-4000)}`);
        }
        const host = `127.0.0.1:${port}`;
        return {
            mode: o.mode,
            host,
            port,
            baseUrl,
            url: (repo) => `oci://${host}/${repo}`,
            logs: () => logs,
            stop: async () => {
                if (!exited) {
                    child.kill("SIGTERM");
                    const t = setTimeout(() => child.kill("SIGKILL"), 3000);
                    await exitPromise;
                    clearTimeout(t);
                }
                await issuer?.stop();
                fs.rmSync(dir, { recursive: true, force: true });
                liveDirs.delete(dir);
            },
            caFile,
            certDir,
            username,
            password,
            issuer,
            dataDir,
        };
    }
    await issuer?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`docker-registry (${o.mode}) could not get a free port:\n${lastError.slice(-2000)}`);
}

/** Result of running an external command. */
export interface ExecResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs a command without a shell, capturing output; never throws on a non-zero exit. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<ExecResult> {
    return new Promise((resolve) => {
        execFile(
            cmd,
            args,
            { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20, cwd: opts.cwd },
            (err, stdout, stderr) => {
                const code = err ? (typeof (err as NodeJS.ErrnoException).code === "number" ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
                resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
            },
        );
    });
}

/**
 * skopeo flags to reach this registry as a *source* (`inspect`) or a copy source (`copy`, which
 * spells them --src-…): TLS verification off for plain HTTP, the test CA dir for TLS, creds when set.
 */
export function skopeoFlags(reg: RegistryHandle, role: "inspect" | "copy-src"): string[] {
    const p = role === "copy-src" ? "--src-" : "--";
    const out: string[] = [];
    if (reg.mode === "anonymous" || reg.mode === "token") out.push(`${p}tls-verify=false`);
    else out.push(`${p}cert-dir`, reg.certDir!);
    if (reg.username) out.push(`${p}creds`, `${reg.username}:${reg.password}`);
    return out;
}

/** `skopeo inspect --raw docker://host/repo:tag`, parsed. Throws with skopeo's stderr on failure. */
export async function skopeoInspectRaw(reg: RegistryHandle, repo: string, tag: string): Promise<{ raw: string; json: Record<string, any> }> {
    const r = await run("skopeo", ["inspect", "--raw", ...skopeoFlags(reg, "inspect"), `docker://${reg.host}/${repo}:${tag}`]);
    if (r.code !== 0) throw new Error(`skopeo inspect failed (${r.code}): ${r.stderr}`);
    return { raw: r.stdout, json: JSON.parse(r.stdout) };
}

/** `skopeo copy docker://… oci:<dir>:<tag>`; returns the OCI layout dir. */
export async function skopeoCopyToOciLayout(reg: RegistryHandle, repo: string, tag: string, dir: string): Promise<string> {
    const r = await run("skopeo", ["copy", "--quiet", ...skopeoFlags(reg, "copy-src"), `docker://${reg.host}/${repo}:${tag}`, `oci:${dir}:${tag}`]);
    if (r.code !== 0) throw new Error(`skopeo copy failed (${r.code}): ${r.stderr}`);
    return dir;
}
