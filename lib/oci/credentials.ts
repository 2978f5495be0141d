import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { OciError } from "./errors";

/**
 * What the client authenticates with: a username and password, sent as Basic auth or to the
 * registry's token service, whichever scheme the registry's challenge asks for
 * (`transport/auth.ts`). The one credential type of lib/oci; a new kind of secret (an identity
 * token, say) is a new field here and a case in the authenticator.
 */
export interface Credential {
    username: string;
    password: string;
}

/** The same type under its earlier name. */
export type Credentials = Credential;

/**
 * Parses `USER:PASSWORD` the way the Flux CLI's `--creds` does: split at the first colon, so
 * passwords may contain colons. The error never echoes the value, which is a secret.
 */
export function parseCreds(value: string): Credential {
    const i = value.indexOf(":");
    if (i <= 0 || i === value.length - 1) {
        throw new OciError("credentials", "invalid credentials: expected USER:PASSWORD (value not shown)");
    }
    return { username: value.slice(0, i), password: value.slice(i + 1) };
}

/** Directory holding docker's config.json: `$DOCKER_CONFIG`, else `~/.docker`. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
    return env.DOCKER_CONFIG && env.DOCKER_CONFIG.length > 0
        ? env.DOCKER_CONFIG
        : path.join(env.HOME ?? os.homedir(), ".docker");
}

interface DockerAuthEntry {
    auth?: string;
    username?: string;
    password?: string;
    identitytoken?: string;
}
interface DockerConfig {
    auths?: Record<string, DockerAuthEntry>;
    credsStore?: string;
    credHelpers?: Record<string, string>;
}

/** Reduces a docker config key (`https://host:5000/v1/`, `host:5000`) to `host[:port]`. */
function normalizeKey(key: string): string {
    let k = key.trim().replace(/^[a-z]+:\/\//i, "");
    const slash = k.indexOf("/");
    if (slash >= 0) k = k.slice(0, slash);
    k = k.toLowerCase();
    // Docker Hub is stored under its legacy v1 index address.
    if (k === "index.docker.io" || k === "registry-1.docker.io") k = "docker.io";
    return k;
}

function runHelper(helper: string, host: string): Credential | undefined {
    try {
        const out = execFileSync(`docker-credential-${helper}`, ["get"], {
            input: host,
            timeout: 10_000,
            stdio: ["pipe", "pipe", "ignore"],
        });
        const parsed = JSON.parse(out.toString("utf8")) as { Username?: string; Secret?: string };
        // "<token>" means an OAuth refresh token, which needs a flow we do not implement.
        if (!parsed.Username || !parsed.Secret || parsed.Username === "<token>") return undefined;
        return { username: parsed.Username, password: parsed.Secret };
    } catch {
        // A helper that is missing or has nothing for this host is not an error for anonymous pulls.
        return undefined;
    }
}

/**
 * Looks up credentials for `host` (`host[:port]`) in docker's config.json, like `docker login` /
 * the Flux CLI: `credHelpers[host]`, then `auths[host]` (`auth` = base64 `user:pass`, or
 * `username`/`password`), then `credsStore`. Returns undefined when nothing matches.
 */
export function loadDockerCredentials(
    host: string,
    opts: { env?: NodeJS.ProcessEnv; configFile?: string } = {},
): Credential | undefined {
    const file = opts.configFile ?? path.join(dockerConfigDir(opts.env), "config.json");
    let raw: string;
    try {
        raw = fs.readFileSync(file, "utf8");
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw new OciError("credentials", `cannot read docker config ${file}: ${(e as Error).message}`);
    }
    let cfg: DockerConfig;
    try {
        cfg = JSON.parse(raw) as DockerConfig;
    } catch {
        // Do not include the parse error: it can quote file content, which holds secrets.
        throw new OciError("credentials", `docker config ${file} is not valid JSON`);
    }
    const want = normalizeKey(host);
    for (const [k, helper] of Object.entries(cfg.credHelpers ?? {})) {
        if (normalizeKey(k) === want) {
            const c = runHelper(helper, host);
            if (c) return c;
        }
    }
    for (const [k, entry] of Object.entries(cfg.auths ?? {})) {
        if (normalizeKey(k) !== want || !entry) continue;
        if (entry.username && entry.password) return { username: entry.username, password: entry.password };
        if (entry.auth) {
            const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
            const i = decoded.indexOf(":");
            if (i > 0) return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
            throw new OciError("credentials", `docker config ${file}: auths["${k}"].auth is not base64 of user:password`);
        }
    }
    if (cfg.credsStore) return runHelper(cfg.credsStore, host);
    return undefined;
}

/** A credential from a username and password kept apart (config keys, resource inputs): both, or none. */
export function credentialOf(username: string | undefined, password: string | undefined): Credential | undefined {
    return username !== undefined && password !== undefined ? { username, password } : undefined;
}
