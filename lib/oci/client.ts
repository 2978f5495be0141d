import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import * as tls from "node:tls";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

import { AuthCache, basicHeader, parseWwwAuthenticate, repositoryScope, type Challenge } from "./auth";
import type { Credentials } from "./credentials";
import { OciError } from "./errors";
import { Redactor } from "./redact";
import { parseOciUrl, type OciReference } from "./reference";
import { newStats, type OciStats, type RequestEvent } from "./stats";

/** Media types the client accepts for manifests: OCI first, Docker v2 for older registries/tools. */
export const MANIFEST_ACCEPT = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

/** Timeouts in milliseconds. */
export interface TimeoutOptions {
    /** TCP (+TLS) connect. Defaults to 10 000. */
    connectMs?: number;
    /** Socket inactivity while waiting for or reading an answer, or sending a body. Defaults to 30 000. */
    idleMs?: number;
}

/** Retry policy for network errors, 5xx, 408 and 429. */
export interface RetryOptions {
    /** Total attempts per request, first included. Defaults to 4. */
    attempts?: number;
    /** First backoff delay; doubles each attempt, with jitter. Defaults to 250. */
    baseDelayMs?: number;
    /** Backoff ceiling. Defaults to 5 000. */
    maxDelayMs?: number;
    /** Longest Retry-After honoured; longer ones fail instead of hanging. Defaults to 30 000. */
    maxRetryAfterMs?: number;
}

/** Options shared by every operation of the client. */
export interface ClientOptions {
    /** Username/password for Basic auth or the token flow. Anonymous when absent. */
    credentials?: Credentials;
    /**
     * true: plain HTTP. false: HTTPS only. Undefined: HTTPS, falling back to plain HTTP for loopback
     * hosts (localhost, 127.0.0.0/8, ::1) when the server does not speak TLS, like docker does.
     */
    insecure?: boolean;
    /** PEM file with extra CA certificates, trusted in addition to the system CAs. */
    caFile?: string;
    timeouts?: TimeoutOptions;
    retry?: RetryOptions;
    /** Blob upload strategy. "auto" (default): monolithic PUT, chunked PATCH if the registry refuses it. */
    uploadMode?: "auto" | "monolithic" | "chunked";
    /** Chunk size for chunked uploads. Defaults to 8 MiB (raised to the registry's OCI-Chunk-Min-Length). */
    chunkSize?: number;
    /** Counters to add to; a fresh object when absent (read it back from `client.stats`). */
    stats?: OciStats;
    /** Called after every HTTP attempt (registry and token service). */
    onRequest?: (event: RequestEvent) => void;
    /** Redactor to extend with the credentials; shared with the caller so its messages are clean too. */
    redactor?: Redactor;
    userAgent?: string;
}

/** A body to send: bytes in memory, or a stream factory so retries can re-open the file. */
export type RequestBody = Buffer | { size: number; open: () => Readable };

/** What `send` returns. */
export interface HttpResponse {
    status: number;
    headers: http.IncomingHttpHeaders;
    /** Buffered body (empty when a sink consumed it). */
    body: Buffer;
    /** Final URL after redirects. */
    url: URL;
}

interface SendOptions {
    method: string;
    url: URL;
    headers?: Record<string, string>;
    body?: RequestBody;
    /** Token scope for this request; the push scope for everything during a push. */
    scope?: string;
    /** Consumes a 2xx body as a stream (blob downloads). Called once per attempt. */
    sink?: (res: http.IncomingMessage) => Promise<void>;
    /** false for non-idempotent requests whose retry is handled a level up (blob upload PUT/PATCH). */
    retry?: boolean;
    /** Token-service request: no auth handling, counted apart. */
    token?: boolean;
    /** Extra Authorization value (token service Basic). */
    authorization?: string;
}

interface AuthAttempt {
    tries: number;
    /** The Authorization used in the last attempt came from a token fetched during this request. */
    fresh: boolean;
    used?: string;
    extraScopes: string[];
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const RETRY_NET = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNABORTED", "EAI_AGAIN", "ERR_STREAM_PREMATURE_CLOSE", "OCI_IDLE_TIMEOUT", "OCI_CONNECT_TIMEOUT", "UND_ERR_SOCKET"]);
const TLS_CODES = /^(ERR_SSL|ERR_TLS|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED|EPROTO$)/;

/** True when `have` (type:name:actions) grants every action `want` asks for on the same resource. */
function scopeCovers(have: string | undefined, want: string): boolean {
    if (!have) return false;
    const split = (s: string) => {
        const i = s.lastIndexOf(":");
        return { resource: s.slice(0, i), actions: new Set(s.slice(i + 1).split(",")) };
    };
    const h = split(have);
    const w = split(want);
    return h.resource === w.resource && [...w.actions].every((x) => h.actions.has(x) || h.actions.has("*"));
}

function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}

function sha256(buf: Buffer): string {
    return `sha256:${crypto.createHash("sha256").update(buf).digest("hex")}`;
}

/** Parses Retry-After (delta seconds or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
    if (!value) return undefined;
    const v = value.trim();
    if (/^\d+$/.test(v)) return Number(v) * 1000;
    const t = Date.parse(v);
    if (Number.isNaN(t)) return undefined;
    return Math.max(0, t - now);
}

function isTlsPlaintextMismatch(err: NodeJS.ErrnoException): boolean {
    // What OpenSSL says when the peer answers a ClientHello with plain HTTP.
    return /wrong version number|packet length too long|http request|unknown protocol/i.test(err.message ?? "");
}

/**
 * A client for one repository of an OCI distribution registry (distribution spec v1.0/1.1), using
 * only Node's http/https. It owns keep-alive agents: call `close()` when done.
 */
export class RegistryClient {
    readonly ref: OciReference;
    readonly stats: OciStats;
    readonly redactor: Redactor;
    private readonly opts: ClientOptions;
    private readonly auth = new AuthCache();
    private readonly httpAgent: http.Agent;
    private readonly httpsAgent: https.Agent;
    private scheme: "http" | "https";
    private readonly mayFallBackToHttp: boolean;
    private readonly connectMs: number;
    private readonly idleMs: number;
    private readonly retry: Required<RetryOptions>;

    constructor(ref: OciReference | string, opts: ClientOptions = {}) {
        this.ref = typeof ref === "string" ? parseOciUrl(ref) : ref;
        this.opts = opts;
        this.stats = opts.stats ?? newStats();
        this.redactor = opts.redactor ?? new Redactor();
        this.redactor.addCredentials(opts.credentials);
        this.connectMs = opts.timeouts?.connectMs ?? 10_000;
        this.idleMs = opts.timeouts?.idleMs ?? 30_000;
        this.retry = {
            attempts: Math.max(1, opts.retry?.attempts ?? 4),
            baseDelayMs: opts.retry?.baseDelayMs ?? 250,
            maxDelayMs: opts.retry?.maxDelayMs ?? 5_000,
            maxRetryAfterMs: opts.retry?.maxRetryAfterMs ?? 30_000,
        };
        let ca: (string | Buffer)[] | undefined;
        if (opts.caFile) {
            let extra: Buffer;
            try {
                extra = fs.readFileSync(opts.caFile);
            } catch (e) {
                throw new OciError("tls", `cannot read CA file ${opts.caFile}: ${(e as Error).message}`);
            }
            // `ca` replaces Node's bundle, so add the system roots back: the CA file is extra trust.
            ca = [...tls.rootCertificates, extra];
        }
        this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
        this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 4, ca });
        this.scheme = opts.insecure === true ? "http" : "https";
        this.mayFallBackToHttp = opts.insecure === undefined && this.ref.loopback && !opts.caFile;
    }

    /** Releases keep-alive sockets so the process can exit. */
    close(): void {
        this.httpAgent.destroy();
        this.httpsAgent.destroy();
    }

    /** `<scheme>://host/v2/<repository>/<suffix>` */
    url(suffix: string): URL {
        return new URL(`${this.scheme}://${this.ref.host}/v2/${this.ref.repository}/${suffix}`);
    }

    private backoff(attempt: number): number {
        const exp = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
        // Jitter between half and the full delay, so parallel clients do not retry in lock step.
        return Math.round(exp / 2 + Math.random() * (exp / 2));
    }

    // The cause is deliberately not attached: Node errors can carry request options (headers) that
    // would print with the error; everything useful is already in the redacted message.
    private fail(code: ConstructorParameters<typeof OciError>[0], message: string, extra: { status?: number; cause?: unknown } = {}): OciError {
        return new OciError(code, this.redactor.redact(message), {
            status: extra.status,
            host: this.ref.host,
            repository: this.ref.repository,
        });
    }

    /** One HTTP attempt, with connect and idle timeouts. */
    private attemptOnce(o: SendOptions, url: URL, authorization: string | undefined): Promise<HttpResponse> {
        return new Promise<HttpResponse>((resolve, reject) => {
            const isTls = url.protocol === "https:";
            const headers: Record<string, string> = {
                "User-Agent": this.opts.userAgent ?? "policy-stack-oci/0.1",
                ...(o.headers ?? {}),
            };
            if (authorization) headers.Authorization = authorization;
            const body = o.body;
            const size = body === undefined ? 0 : Buffer.isBuffer(body) ? body.length : body.size;
            if (body !== undefined || ["PUT", "POST", "PATCH"].includes(o.method)) headers["Content-Length"] = String(size);

            const hostname = url.hostname.replace(/^\[|\]$/g, "");
            const reqOpts: https.RequestOptions = {
                protocol: url.protocol,
                hostname,
                port: url.port || (isTls ? 443 : 80),
                path: url.pathname + url.search,
                method: o.method,
                headers,
                agent: isTls ? this.httpsAgent : this.httpAgent,
            };
            if (isTls && !net.isIP(hostname)) reqOpts.servername = hostname;
            const req = (isTls ? https : http).request(reqOpts);
            let settled = false;
            let connectTimer: NodeJS.Timeout | undefined;
            const done = (err: Error | undefined, res?: HttpResponse) => {
                if (settled) return;
                settled = true;
                if (connectTimer) clearTimeout(connectTimer);
                if (err) {
                    req.destroy();
                    reject(err);
                } else resolve(res!);
            };
            const timeoutError = (kind: "connect" | "idle") => {
                const e = new Error(
                    kind === "connect"
                        ? `connect timeout after ${this.connectMs} ms`
                        : `no data for ${this.idleMs} ms (stalled connection)`,
                ) as NodeJS.ErrnoException;
                e.code = kind === "connect" ? "OCI_CONNECT_TIMEOUT" : "OCI_IDLE_TIMEOUT";
                return e;
            };
            req.on("socket", (s) => {
                if (s.connecting) {
                    connectTimer = setTimeout(() => req.destroy(timeoutError("connect")), this.connectMs);
                    s.once(isTls ? "secureConnect" : "connect", () => connectTimer && clearTimeout(connectTimer));
                }
            });
            req.setTimeout(this.idleMs, () => req.destroy(timeoutError("idle")));
            req.on("error", (e) => done(e));
            req.on("response", (res) => {
                const status = res.statusCode ?? 0;
                res.on("error", (e) => done(e));
                res.on("aborted", () => {
                    const e = new Error("response aborted") as NodeJS.ErrnoException;
                    e.code = "ECONNRESET";
                    done(e);
                });
                if (status >= 200 && status < 300 && o.sink && o.method !== "HEAD") {
                    o.sink(res).then(
                        () => done(undefined, { status, headers: res.headers, body: Buffer.alloc(0), url }),
                        (e: Error) => done(e),
                    );
                    return;
                }
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => {
                    chunks.push(c);
                    this.stats.bytesDownloaded += c.length;
                });
                res.on("end", () => done(undefined, { status, headers: res.headers, body: Buffer.concat(chunks), url }));
            });
            if (body === undefined) {
                req.end();
            } else if (Buffer.isBuffer(body)) {
                this.stats.bytesUploaded += body.length;
                req.end(body);
            } else {
                const stream = body.open();
                stream.on("data", (c: Buffer | string) => {
                    this.stats.bytesUploaded += typeof c === "string" ? Buffer.byteLength(c) : c.length;
                });
                stream.on("error", (e) => done(e));
                stream.pipe(req);
            }
        });
    }

    /**
     * Sends a request with auth challenges, redirects and retries handled. Returns any final answer
     * (including 4xx) for the caller to map; throws OciError on network/TLS failures.
     */
    async send(o: SendOptions): Promise<HttpResponse> {
        let url = o.url;
        let attempt = 0;
        let redirects = 0;
        const auth: AuthAttempt = { tries: 0, fresh: false, extraScopes: [] };
        for (;;) {
            attempt++;
            let authorization = o.authorization;
            if (!o.token && url.host.toLowerCase() === this.ref.host) {
                authorization = await this.authorizationFor(o.scope, auth);
            }
            auth.used = authorization;
            const started = Date.now();
            let res: HttpResponse;
            try {
                res = await this.attemptOnce(o, url, authorization);
            } catch (err) {
                const e = err as NodeJS.ErrnoException;
                const fallBack = url.protocol === "https:" && this.mayFallBackToHttp && isTlsPlaintextMismatch(e);
                // A TLS ClientHello answered in plain text never became an HTTP request: report it to the
                // hook, but do not count it as a registry request.
                this.count(o, url, attempt, started, undefined, e.code ?? "ERROR", !fallBack);
                if (fallBack) {
                    // Loopback registry without TLS (the docker/flux default for localhost).
                    this.scheme = "http";
                    url = new URL(url.toString().replace(/^https:/, "http:"));
                    attempt--;
                    continue;
                }
                const retryable = RETRY_NET.has(e.code ?? "") || /socket hang up/i.test(e.message);
                if (retryable && o.retry !== false && attempt < this.retry.attempts) {
                    this.stats.retries++;
                    await sleep(this.backoff(attempt));
                    continue;
                }
                throw this.networkError(e, o.method, url, attempt);
            }
            this.count(o, url, attempt, started, res.status);

            if (res.status === 401 && !o.token && (await this.onChallenge(res, o.scope, auth))) {
                attempt--;
                continue;
            }
            if ([301, 302, 303, 307, 308].includes(res.status) && (o.method === "GET" || o.method === "HEAD")) {
                const loc = res.headers.location;
                if (loc && redirects < 5) {
                    redirects++;
                    url = new URL(loc, url);
                    attempt--;
                    continue;
                }
            }
            if (RETRY_STATUS.has(res.status) && o.retry !== false && attempt < this.retry.attempts) {
                const after = parseRetryAfter(res.headers["retry-after"] as string | undefined);
                if (after !== undefined && after > this.retry.maxRetryAfterMs) return res;
                this.stats.retries++;
                await sleep(after ?? this.backoff(attempt));
                continue;
            }
            return res;
        }
    }

    private count(o: SendOptions, url: URL, attempt: number, started: number, status?: number, error?: string, isRequest = true): void {
        if (!isRequest) {
            /* not counted */
        } else if (o.token) this.stats.tokenRequests++;
        else {
            this.stats.requests++;
            this.stats.byMethod[o.method] = (this.stats.byMethod[o.method] ?? 0) + 1;
        }
        this.opts.onRequest?.({
            method: o.method,
            url: `${url.protocol}//${url.host}${url.pathname}`,
            status,
            attempt,
            token: !!o.token,
            error,
            durationMs: Date.now() - started,
        });
    }

    private networkError(e: NodeJS.ErrnoException, method: string, url: URL, attempts: number): OciError {
        const where = `registry ${this.ref.host} (${method} ${url.pathname})`;
        const code = e.code ?? "";
        if (code === "OCI_CONNECT_TIMEOUT" || code === "OCI_IDLE_TIMEOUT") {
            return this.fail("timeout", `${where}: ${e.message}, after ${attempts} attempt(s)`, { cause: e });
        }
        if (TLS_CODES.test(code) || /certificate|ssl|tls/i.test(e.message)) {
            const hint = isTlsPlaintextMismatch(e)
                ? "the registry does not speak TLS; pass --insecure for plain HTTP"
                : "pass --ca-file with the CA that signed the registry certificate, or --insecure for a plain-HTTP registry";
            return this.fail("tls", `TLS error talking to ${where}: ${e.message} (${code}); ${hint}`, { cause: e });
        }
        if (code.startsWith("HPE_") && url.protocol === "http:") {
            // What a TLS server's plain-text "400 Client sent an HTTP request to an HTTPS server" looks
            // like to a HEAD request.
            return this.fail("tls", `${where} did not answer plain HTTP properly (${code}); it probably requires TLS: do not pass --insecure`, { cause: e });
        }
        if (code === "ECONNREFUSED") return this.fail("network", `cannot connect to ${where}: connection refused; is the registry running at ${url.host}?`, { cause: e });
        if (code === "ENOTFOUND") return this.fail("network", `cannot resolve registry host ${url.hostname}`, { cause: e });
        return this.fail("network", `${where} failed after ${attempts} attempt(s): ${e.message}${code ? ` (${code})` : ""}`, { cause: e });
    }

    /** Authorization header for a registry request, fetching a token up front when the realm is known. */
    private async authorizationFor(scope: string | undefined, a: AuthAttempt): Promise<string | undefined> {
        const host = this.ref.host;
        const creds = this.opts.credentials;
        if (this.auth.basicHosts.has(host) && creds) {
            return basicHeader(creds);
        }
        const bearer = this.auth.bearer.get(host);
        if (!bearer) return undefined;
        const scopes = [...new Set([...(scope ? [scope] : []), ...a.extraScopes])];
        const cached = this.auth.getToken(host, scopes);
        if (cached) {
            a.fresh = false;
            return `Bearer ${cached}`;
        }
        const token = await this.fetchToken(bearer, scopes);
        a.fresh = true;
        return `Bearer ${token}`;
    }

    /** Reacts to a 401: learn the scheme, drop a stale token. Returns true when a retry makes sense. */
    private async onChallenge(res: HttpResponse, scope: string | undefined, a: AuthAttempt): Promise<boolean> {
        if (a.tries >= 2) return false;
        const challenges = parseWwwAuthenticate(res.headers["www-authenticate"]);
        const bearer = challenges.find((c: Challenge) => c.scheme === "bearer");
        const basic = challenges.find((c: Challenge) => c.scheme === "basic");
        const host = this.ref.host;
        if (bearer && bearer.params.realm) {
            // A token fetched during this very request was refused: wrong rights, not staleness.
            if (a.used?.startsWith("Bearer ") && a.fresh) return false;
            const scopes = [...new Set([...(scope ? [scope] : []), ...a.extraScopes])];
            if (a.used?.startsWith("Bearer ")) this.auth.dropToken(host, scopes);
            // The challenge may name a scope our operation scope does not cover (another repository
            // for a mount, a registry:catalog); ask for both in one token.
            const challengeScope = bearer.params.scope;
            if (challengeScope && !scopeCovers(scope, challengeScope) && !a.extraScopes.includes(challengeScope)) {
                a.extraScopes.push(challengeScope);
            }
            this.auth.bearer.set(host, { realm: bearer.params.realm, service: bearer.params.service });
            a.tries++;
            return true;
        }
        if (basic) {
            if (!this.opts.credentials || a.used?.startsWith("Basic ")) return false;
            this.auth.basicHosts.add(host);
            a.tries++;
            return true;
        }
        return false;
    }

    /** GET the Bearer realm with the basic credentials and cache the token per scope. */
    private async fetchToken(b: { realm: string; service?: string }, scopes: string[]): Promise<string> {
        let realm: URL;
        try {
            realm = new URL(b.realm);
        } catch {
            throw this.fail("auth", `registry ${this.ref.host} sent an invalid token realm "${b.realm}"`);
        }
        const creds = this.opts.credentials;
        const realmLoopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i.test(realm.hostname);
        if (creds && realm.protocol !== "https:" && !realmLoopback && this.opts.insecure !== true) {
            throw this.fail("auth", `refusing to send credentials for ${this.ref.host} to plain-HTTP token service ${realm.host}; pass --insecure to allow it`);
        }
        if (b.service) realm.searchParams.set("service", b.service);
        for (const s of scopes) realm.searchParams.append("scope", s);
        if (creds) realm.searchParams.set("account", creds.username);
        const res = await this.send({
            method: "GET",
            url: realm,
            token: true,
            authorization: creds ? basicHeader(creds) : undefined,
            headers: { Accept: "application/json" },
        });
        const what = `token service ${realm.host} for registry ${this.ref.host}, repository ${this.ref.repository}`;
        if (res.status === 401 || res.status === 403) {
            throw this.fail(
                "auth",
                creds
                    ? `authentication failed: ${what} rejected the credentials for user "${creds.username}" (HTTP ${res.status}); check --creds or the docker config`
                    : `authentication required by ${what}; pass --creds USER:PASSWORD or log in with docker login`,
                { status: res.status },
            );
        }
        if (res.status < 200 || res.status >= 300) {
            // Redact before cutting: a secret cut in half by the limit would no longer be recognised.
            throw this.fail("auth", `${what} answered HTTP ${res.status}: ${this.redactor.redact(res.body.toString("utf8")).slice(0, 200)}`, { status: res.status });
        }
        let parsed: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
        try {
            parsed = JSON.parse(res.body.toString("utf8"));
        } catch {
            throw this.fail("auth", `${what} returned a body that is not JSON`);
        }
        const token = parsed.token ?? parsed.access_token;
        if (!token) throw this.fail("auth", `${what} returned no token`);
        this.redactor.add(token);
        const issued = parsed.issued_at ? Date.parse(parsed.issued_at) : NaN;
        // The spec's default lifetime is 60 s when expires_in is absent.
        const expiresAt = (Number.isNaN(issued) ? Date.now() : Math.min(issued, Date.now())) + (parsed.expires_in ?? 60) * 1000;
        this.auth.setToken(this.ref.host, scopes, token, expiresAt);
        return token;
    }

    /** Turns a non-success registry answer into a clear, redacted OciError. */
    httpError(res: HttpResponse, action: string): OciError {
        const host = this.ref.host;
        const repo = this.ref.repository;
        let detail = "";
        try {
            const parsed = JSON.parse(res.body.toString("utf8")) as { errors?: { code?: string; message?: string }[] };
            detail = (parsed.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ");
        } catch {
            // Redact before cutting: a secret cut in half by the limit would no longer be recognised.
            detail = this.redactor.redact(res.body.toString("utf8")).trim().slice(0, 200);
        }
        const suffix = detail ? ` (${detail})` : "";
        if (res.status === 400 && res.url.protocol === "http:" && /HTTP request to an HTTPS server/i.test(detail)) {
            return this.fail("tls", `registry ${host} requires TLS but was spoken to in plain HTTP; do not pass --insecure`, { status: 400 });
        }
        const creds = this.opts.credentials;
        // Distribution answers 401 (not 403) when a valid token lacks the action; say so plainly
        // instead of blaming the password.
        const scopeDenied = parseWwwAuthenticate(res.headers["www-authenticate"]).some((c) => c.params.error === "insufficient_scope");
        switch (res.status) {
            case 401:
                if (scopeDenied) {
                    return this.fail(
                        "forbidden",
                        `access denied by registry ${host} to repository ${repo} while trying to ${action}: the token does not grant the needed action${creds ? ` to user "${creds.username}"` : ""}${suffix}`,
                        { status: 401 },
                    );
                }
                return this.fail(
                    "auth",
                    creds
                        ? `authentication failed for registry ${host}, repository ${repo} while trying to ${action}: the registry rejected the credentials of user "${creds.username}"${suffix}; check --creds or the docker config`
                        : `authentication required by registry ${host}, repository ${repo} to ${action}${suffix}; pass --creds USER:PASSWORD or log in with docker login`,
                    { status: 401 },
                );
            case 403:
                return this.fail(
                    "forbidden",
                    `access denied by registry ${host} to repository ${repo} while trying to ${action}${suffix}; the account${creds ? ` "${creds.username}"` : ""} lacks permission`,
                    { status: 403 },
                );
            case 404:
                return this.fail("not-found", `not found: ${action} in repository ${repo} on registry ${host}${suffix}`, { status: 404 });
            default:
                return this.fail("registry", `registry ${host} answered HTTP ${res.status} while trying to ${action} in repository ${repo}${suffix}`, {
                    status: res.status,
                });
        }
    }

    private pushScope(): string {
        return repositoryScope(this.ref.repository, true);
    }
    private pullScope(): string {
        return repositoryScope(this.ref.repository, false);
    }

    /**
     * Every tag of the repository (`/v2/<repo>/tags/list`, following `Link` pagination). An absent
     * repository has no tags.
     */
    async listTags(): Promise<string[]> {
        const tags: string[] = [];
        let url: URL | undefined = this.url("tags/list?n=1000");
        while (url) {
            const res = await this.send({ method: "GET", url, headers: { Accept: "application/json" }, scope: this.pullScope() });
            if (res.status === 404) return tags;
            if (res.status !== 200) throw this.httpError(res, "list tags");
            const body = JSON.parse(res.body.toString("utf8")) as { tags?: string[] | null };
            tags.push(...(body.tags ?? []));
            const next = /<([^>]+)>;\s*rel="?next"?/.exec(String(res.headers.link ?? ""));
            url = next ? new URL(next[1], res.url) : undefined;
        }
        return tags;
    }

    /**
     * HEAD a manifest by tag or digest. Returns its digest, media type and size, or undefined on 404.
     * Falls back to a GET (hashing the body) only when the registry omits Docker-Content-Digest.
     */
    async headManifest(reference: string, forPush = false): Promise<{ digest: string; mediaType?: string; size?: number } | undefined> {
        const scope = forPush ? this.pushScope() : this.pullScope();
        const res = await this.send({ method: "HEAD", url: this.url(`manifests/${reference}`), headers: { Accept: MANIFEST_ACCEPT }, scope });
        if (res.status === 404) return undefined;
        if (res.status !== 200) throw this.httpError(res, `look up manifest ${reference}`);
        const digest = res.headers["docker-content-digest"] as string | undefined;
        const mediaType = (res.headers["content-type"] as string | undefined)?.split(";")[0];
        const size = res.headers["content-length"] ? Number(res.headers["content-length"]) : undefined;
        if (digest) return { digest, mediaType, size };
        const got = await this.getManifest(reference, forPush);
        return { digest: got.digest, mediaType: got.mediaType, size: got.body.length };
    }

    /** GET a manifest; verifies the body against the requested digest and Docker-Content-Digest. */
    async getManifest(reference: string, forPush = false): Promise<{ body: Buffer; digest: string; mediaType?: string }> {
        const scope = forPush ? this.pushScope() : this.pullScope();
        const res = await this.send({ method: "GET", url: this.url(`manifests/${reference}`), headers: { Accept: MANIFEST_ACCEPT }, scope });
        if (res.status !== 200) throw this.httpError(res, `get manifest ${reference}`);
        const digest = sha256(res.body);
        const header = res.headers["docker-content-digest"] as string | undefined;
        if (reference.startsWith("sha256:") && reference !== digest) {
            throw this.fail("digest-mismatch", `manifest ${reference} from ${this.ref.host}/${this.ref.repository} has digest ${digest}`);
        }
        if (header && header.startsWith("sha256:") && header !== digest) {
            throw this.fail("digest-mismatch", `manifest ${reference}: registry says ${header} but the body hashes to ${digest}`);
        }
        return { body: res.body, digest, mediaType: (res.headers["content-type"] as string | undefined)?.split(";")[0] };
    }

    /** PUT a manifest under a tag (or digest); returns the digest the registry acknowledged. */
    async putManifest(reference: string, body: Buffer, mediaType: string): Promise<string> {
        const res = await this.send({
            method: "PUT",
            url: this.url(`manifests/${reference}`),
            headers: { "Content-Type": mediaType },
            body,
            scope: this.pushScope(),
        });
        if (res.status !== 201 && res.status !== 200) throw this.httpError(res, `push manifest ${reference}`);
        const digest = sha256(body);
        const header = res.headers["docker-content-digest"] as string | undefined;
        if (header && header !== digest) {
            throw this.fail("digest-mismatch", `registry stored manifest ${reference} as ${header}, expected ${digest}`);
        }
        return digest;
    }

    /** HEAD a blob: true when the repository already has it. */
    async blobExists(digest: string, forPush = true): Promise<boolean> {
        const res = await this.send({ method: "HEAD", url: this.url(`blobs/${digest}`), scope: forPush ? this.pushScope() : this.pullScope() });
        if (res.status === 200) return true;
        if (res.status === 404) return false;
        throw this.httpError(res, `check blob ${digest}`);
    }

    private async startUpload(): Promise<{ location: URL; minChunk: number }> {
        const res = await this.send({ method: "POST", url: this.url("blobs/uploads/"), scope: this.pushScope() });
        if (res.status !== 202) throw this.httpError(res, "start a blob upload");
        const loc = res.headers.location;
        if (!loc) throw this.fail("registry", `registry ${this.ref.host} started an upload without a Location header`);
        const min = Number(res.headers["oci-chunk-min-length"] ?? 0);
        return { location: new URL(loc, res.url), minChunk: Number.isFinite(min) ? min : 0 };
    }

    private withDigest(location: URL, digest: string): URL {
        const u = new URL(location.toString());
        u.searchParams.set("digest", digest);
        return u;
    }

    /**
     * Uploads one blob. "auto": POST then one PUT streaming the whole file (one round trip per blob);
     * if the registry refuses monolithic uploads (405/411/413/415/501), starts over with chunked
     * PATCHes. A failed upload restarts from a fresh session, since a half-written session cannot be
     * resumed safely.
     */
    async uploadBlob(blob: { digest: string; size: number; path?: string; data?: Buffer }): Promise<void> {
        const open = (start = 0, end = blob.size): RequestBody => {
            if (blob.data) return blob.data.subarray(start, end);
            const p = blob.path!;
            return { size: end - start, open: () => fs.createReadStream(p, { start, end: Math.max(start, end - 1) }) };
        };
        let mode = this.opts.uploadMode ?? "auto";
        for (let attempt = 1; ; attempt++) {
            // The POST already went through send()'s retries (network errors, 5xx, 429 with
            // Retry-After): retrying it again here would multiply attempts (attempts², ignoring a
            // long Retry-After). Only the PUT/PATCH, which send() does not retry, restart from here.
            let location: URL;
            let minChunk: number;
            try {
                ({ location, minChunk } = await this.startUpload());
            } catch (e) {
                throw this.gaveUp(e, attempt);
            }
            try {
                if (mode !== "chunked") {
                    const res = await this.send({
                        method: "PUT",
                        url: this.withDigest(location, blob.digest),
                        headers: { "Content-Type": "application/octet-stream" },
                        body: open(),
                        scope: this.pushScope(),
                        retry: false,
                    });
                    if (res.status === 201 || res.status === 204) break;
                    if (mode === "auto" && [405, 411, 413, 415, 501].includes(res.status)) {
                        mode = "chunked";
                        attempt--;
                        continue;
                    }
                    throw this.uploadError(res, `upload blob ${blob.digest}`);
                }
                await this.chunkedUpload(location, blob.digest, blob.size, Math.max(this.opts.chunkSize ?? 8 << 20, minChunk), open);
                break;
            } catch (e) {
                const err = e as OciError;
                const transient =
                    err instanceof OciError &&
                    (err.code === "network" || err.code === "timeout" || (err.status !== undefined && RETRY_STATUS.has(err.status)));
                if (!transient || attempt >= this.retry.attempts) throw this.gaveUp(e, attempt);
                const after = this.retryAfterOf.get(err);
                if (after !== undefined && after > this.retry.maxRetryAfterMs) throw this.gaveUp(e, attempt);
                this.stats.retries++;
                await sleep(after ?? this.backoff(attempt));
            }
        }
        this.stats.blobsUploaded++;
    }

    /** Retry-After (ms) of a failed upload PUT/PATCH answer, which send() hands back without retrying. */
    private readonly retryAfterOf = new WeakMap<object, number>();

    private uploadError(res: HttpResponse, action: string): OciError {
        const err = this.httpError(res, action);
        const after = parseRetryAfter(res.headers["retry-after"] as string | undefined);
        if (after !== undefined) this.retryAfterOf.set(err, after);
        return err;
    }

    /** Says how many upload sessions were tried when more than one was (the message's own count is per request). */
    private gaveUp(e: unknown, attempts: number): unknown {
        if (attempts > 1 && e instanceof OciError) e.message = `${e.message}; gave up after ${attempts} upload attempts`;
        return e;
    }

    private async chunkedUpload(
        start: URL,
        digest: string,
        size: number,
        chunk: number,
        open: (s?: number, e?: number) => RequestBody,
    ): Promise<void> {
        let location = start;
        for (let offset = 0; offset < size; offset += chunk) {
            const end = Math.min(size, offset + chunk);
            const res = await this.send({
                method: "PATCH",
                url: location,
                headers: { "Content-Type": "application/octet-stream", "Content-Range": `${offset}-${end - 1}` },
                body: open(offset, end),
                scope: this.pushScope(),
                retry: false,
            });
            if (res.status !== 202) throw this.uploadError(res, `upload chunk ${offset}-${end - 1} of blob ${digest}`);
            if (res.headers.location) location = new URL(res.headers.location, res.url);
        }
        const res = await this.send({ method: "PUT", url: this.withDigest(location, digest), scope: this.pushScope(), retry: false });
        if (res.status !== 201 && res.status !== 204) throw this.uploadError(res, `finish upload of blob ${digest}`);
    }

    /** GET a small blob into memory, verifying its digest (and size when given). */
    async getBlob(digest: string, size?: number): Promise<Buffer> {
        const res = await this.send({ method: "GET", url: this.url(`blobs/${digest}`), scope: this.pullScope() });
        if (res.status !== 200) throw this.httpError(res, `get blob ${digest}`);
        const got = sha256(res.body);
        if (got !== digest || (size !== undefined && res.body.length !== size)) {
            throw this.fail("digest-mismatch", `blob ${digest} from ${this.ref.host}/${this.ref.repository} hashes to ${got} (${res.body.length} bytes)`);
        }
        this.stats.blobsDownloaded++;
        return res.body;
    }

    /** Streams a blob to `file`, hashing as it goes; deletes the file and throws on a digest or size mismatch. */
    async downloadBlob(digest: string, file: string, size?: number): Promise<void> {
        let hash = "";
        let written = 0;
        const res = await this.send({
            method: "GET",
            url: this.url(`blobs/${digest}`),
            scope: this.pullScope(),
            sink: async (stream) => {
                const h = crypto.createHash("sha256");
                written = 0;
                stream.on("data", (c: Buffer) => {
                    h.update(c);
                    written += c.length;
                    this.stats.bytesDownloaded += c.length;
                });
                await pipeline(stream, fs.createWriteStream(file));
                hash = `sha256:${h.digest("hex")}`;
            },
        });
        if (res.status !== 200) throw this.httpError(res, `get blob ${digest}`);
        if (hash !== digest || (size !== undefined && written !== size)) {
            fs.rmSync(file, { force: true });
            throw this.fail("digest-mismatch", `blob ${digest} from ${this.ref.host}/${this.ref.repository} hashes to ${hash} (${written} bytes)`);
        }
        this.stats.blobsDownloaded++;
    }
}
