/**
 * Real-registry harness: starts Debian's `docker-registry` (Distribution 2.8) on 127.0.0.1 with a
 * config written here, in one of three set-ups, and always stops it (a process exit kills it and
 * removes its directory regardless).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { atExit, freePort, httpStatus, launch, runOk, stopProc } from "./processes";
import { makeSigningCert, makeTestCerts } from "./registry-certs";
import { TokenIssuer } from "./registry-token";
import { ensureRegistryTools } from "./tools";

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
    /** Upload requests (blob uploads, manifest PUTs) in its access log so far. */
    writes(): string[];
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

/**
 * Starts a registry and waits until `/v2/` answers. The caller must `await handle.stop()` (in an
 * `after` hook); a process exit kills it regardless.
 */
export async function startRegistry(o: StartRegistryOptions): Promise<RegistryHandle> {
    await ensureRegistryTools();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `registry-${o.mode}-`));
    const forgetDir = atExit(() => fs.rmSync(dir, { recursive: true, force: true }));
    const removeDir = () => {
        fs.rmSync(dir, { recursive: true, force: true });
        forgetDir();
    };
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
        const certs = await makeTestCerts(path.join(dir, "certs"));
        caFile = certs.caCert;
        certDir = certs.certDir;
        (config.http as Record<string, unknown>).tls = { certificate: certs.serverCert, key: certs.serverKey };
        const htpasswd = path.join(dir, "htpasswd");
        // Distribution only accepts bcrypt entries.
        fs.writeFileSync(htpasswd, (await runOk("htpasswd", ["-Bbn", username!, password!])).stdout);
        config.auth = { htpasswd: { realm: "policy-stack-test", path: htpasswd } };
    } else if (o.mode === "token") {
        const signing = await makeSigningCert(path.join(dir, "token"));
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
        const registry = launch("docker-registry", "docker-registry", ["serve", configFile], env);
        const baseUrl = `${scheme}://127.0.0.1:${port}`;
        const deadline = Date.now() + 20_000;
        let ready = false;
        while (!registry.hasExited() && Date.now() < deadline) {
            try {
                const status = await httpStatus(`${baseUrl}/v2/`, ca);
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
            await stopProc(registry, 0);
            lastError = registry.output();
            if (/address already in use/i.test(lastError)) continue;
            await issuer?.stop();
            removeDir();
            throw new Error(`docker-registry (${o.mode}) did not become ready on ${baseUrl}:\n${lastError.slice(-4000)}`);
        }
        const host = `127.0.0.1:${port}`;
        return {
            mode: o.mode,
            host,
            port,
            baseUrl,
            url: (repo) => `oci://${host}/${repo}`,
            logs: () => registry.output(),
            writes: () => registry.output().split("\n").filter((l) => /"(PUT|POST|PATCH) \/v2\//.test(l)),
            stop: async () => {
                await stopProc(registry, 3000);
                await issuer?.stop();
                removeDir();
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
    removeDir();
    throw new Error(`docker-registry (${o.mode}) could not get a free port:\n${lastError.slice(-2000)}`);
}
