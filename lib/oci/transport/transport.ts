/**
 * The transport under the registry API, composed from one piece per concern: `http` (one attempt,
 * timeouts), `auth` (challenges, Basic, Bearer tokens), `retry` (the one retry policy), the
 * scheme choice (HTTPS, or plain HTTP for a loopback registry that does not speak TLS), redirects,
 * `redact` (every message it builds) and the request counters. It knows nothing of manifests or
 * blobs: it sends requests and returns every final answer, 4xx included, for the API to map.
 */
import type { Credential } from "../credentials";
import { OciError, type OciErrorCode, type OciErrorDetails } from "../errors";
import { newStats, type OciStats, type RequestEvent } from "../stats";
import { Authenticator, type AuthAttempt } from "./auth";
import { describeNoAnswer, isTlsPlaintextMismatch } from "./failures";
import { HttpClient, type HttpRequest, type HttpResponse, type TimeoutOptions } from "./http";
import { Redactor } from "./redact";
import { parseRetryAfter, RetryPolicy, type RetryOptions } from "./retry";

/** How to reach a registry: credential, TLS, timeouts, retries, and what to report. */
export interface TransportOptions {
    /** Username/password for Basic auth or the token flow. Anonymous when absent. */
    credentials?: Credential;
    /**
     * true: plain HTTP. false: HTTPS only. Undefined: HTTPS, falling back to plain HTTP for loopback
     * hosts (localhost, 127.0.0.0/8, ::1) when the server does not speak TLS, like docker does.
     */
    insecure?: boolean;
    /** PEM file with extra CA certificates, trusted in addition to the system CAs. */
    caFile?: string;
    timeouts?: TimeoutOptions;
    retry?: RetryOptions;
    /** Counters to add to; a fresh object when absent. */
    stats?: OciStats;
    /** Called after every HTTP attempt (registry and token service). */
    onRequest?: (event: RequestEvent) => void;
    /** Redactor to extend with the credentials; shared with the caller so its messages are clean too. */
    redactor?: Redactor;
    userAgent?: string;
}

/** Where the transport talks to: one repository of one registry. */
export interface TransportTarget {
    /** `host[:port]`, lower case. */
    host: string;
    repository: string;
    /** localhost, 127.0.0.0/8 or ::1: plain HTTP may be used when TLS is not offered. */
    loopback: boolean;
}

/** A request as the registry API hands it over. */
export interface TransportRequest extends HttpRequest {
    /** Token scope for this request; the push scope for everything during a push. */
    scope?: string;
    /**
     * false for a request that must not be resent as it is (a blob upload's PUT or PATCH belongs to
     * one upload session): the caller retries at its own level, with the same policy (`retry`).
     */
    retry?: boolean;
}

/** What one logical request carries from exchange to exchange (challenges, redirects, scheme switch). */
interface Exchange {
    url: URL;
    redirects: number;
    auth: AuthAttempt;
}

export class Transport {
    readonly stats: OciStats;
    readonly redactor: Redactor;
    /** The retry policy every request goes through; the upload reuses it for whole sessions. */
    readonly retry: RetryPolicy;
    readonly credential?: Credential;
    private scheme: "http" | "https";
    private readonly mayFallBackToHttp: boolean;
    private readonly http: HttpClient;
    private readonly auth: Authenticator;

    constructor(
        /** The registry and repository every request and error is about. */
        readonly target: TransportTarget,
        private readonly o: TransportOptions = {},
    ) {
        this.stats = o.stats ?? newStats();
        this.redactor = o.redactor ?? new Redactor();
        this.redactor.addCredentials(o.credentials);
        this.credential = o.credentials;
        this.retry = new RetryPolicy(o.retry, this.stats);
        this.http = new HttpClient({ caFile: o.caFile, timeouts: o.timeouts, userAgent: o.userAgent, stats: this.stats });
        this.scheme = o.insecure === true ? "http" : "https";
        this.mayFallBackToHttp = o.insecure === undefined && target.loopback && !o.caFile;
        this.auth = new Authenticator({
            host: target.host,
            repository: target.repository,
            credential: o.credentials,
            insecure: o.insecure,
            redactor: this.redactor,
            fetch: (url, authorization) => this.sendToTokenService(url, authorization),
            fail: (code, message, details) => this.fail(code, message, details),
        });
    }

    /** Releases keep-alive sockets so the process can exit. */
    close(): void {
        this.http.close();
    }

    /** `<scheme>://<host><path>`, with the scheme in use (it may have switched to plain HTTP). */
    url(path: string): URL {
        return new URL(`${this.scheme}://${this.target.host}${path}`);
    }

    /**
     * A redacted OciError naming this registry and repository. The cause is deliberately not
     * attached: Node errors can carry request options (headers) that would print with the error;
     * everything useful is already in the message.
     */
    fail(code: OciErrorCode, message: string, details: Omit<OciErrorDetails, "cause" | "host" | "repository"> = {}): OciError {
        return new OciError(code, this.redactor.redact(message), { ...details, host: this.target.host, repository: this.target.repository });
    }

    /**
     * Sends a request with auth challenges, redirects and retries handled. Returns any final answer
     * (including 4xx) for the caller to map; throws OciError when no answer came.
     */
    send(r: TransportRequest): Promise<HttpResponse> {
        const x: Exchange = { url: r.url, redirects: 0, auth: this.auth.newAttempt() };
        if (r.retry === false) return this.exchange(r, x, 1, false);
        return this.retry.run(
            (attempt) => this.exchange(r, x, attempt, false),
            (res) => ({ status: res.status, retryAfterMs: parseRetryAfter(res.headers["retry-after"] as string | undefined) }),
        );
    }

    private sendToTokenService(url: URL, authorization: string | undefined): Promise<HttpResponse> {
        const r: TransportRequest = { method: "GET", url, headers: { Accept: "application/json" } };
        const x: Exchange = { url, redirects: 0, auth: this.auth.newAttempt() };
        return this.retry.run(
            (attempt) => this.exchange(r, x, attempt, true, authorization),
            (res) => ({ status: res.status, retryAfterMs: parseRetryAfter(res.headers["retry-after"] as string | undefined) }),
        );
    }

    /** One attempt: as many HTTP exchanges as challenges, redirects and a scheme switch need. */
    private async exchange(r: TransportRequest, x: Exchange, attempt: number, token: boolean, tokenAuthorization?: string): Promise<HttpResponse> {
        for (;;) {
            const url = x.url;
            let authorization = tokenAuthorization;
            if (!token && url.host.toLowerCase() === this.target.host) authorization = await this.auth.authorization(r.scope, x.auth);
            x.auth.used = authorization;
            const started = Date.now();
            let res: HttpResponse;
            try {
                res = await this.http.send({ ...r, url }, authorization);
            } catch (err) {
                const e = err as NodeJS.ErrnoException;
                const fallBack = url.protocol === "https:" && this.mayFallBackToHttp && isTlsPlaintextMismatch(e);
                // A TLS ClientHello answered in plain text never became an HTTP request: report it to the
                // hook, but do not count it as a registry request.
                this.count(r.method, url, attempt, started, token, { error: e.code ?? "ERROR", isRequest: !fallBack });
                if (fallBack) {
                    // Loopback registry without TLS (the docker/flux default for localhost).
                    this.scheme = "http";
                    x.url = new URL(url.toString().replace(/^https:/, "http:"));
                    continue;
                }
                const d = describeNoAnswer(e, this.target.host, r.method, url, attempt);
                throw this.fail(d.code, d.message, { reason: d.reason, errno: e.code });
            }
            this.count(r.method, url, attempt, started, token, { status: res.status });
            if (res.status === 401 && !token && this.auth.onChallenge(res, r.scope, x.auth)) continue;
            if ([301, 302, 303, 307, 308].includes(res.status) && (r.method === "GET" || r.method === "HEAD")) {
                const loc = res.headers.location;
                if (loc && x.redirects < 5) {
                    x.redirects++;
                    x.url = new URL(loc, url);
                    continue;
                }
            }
            return res;
        }
    }

    private count(method: string, url: URL, attempt: number, started: number, token: boolean, o: { status?: number; error?: string; isRequest?: boolean }): void {
        if (o.isRequest === false) {
            /* not counted */
        } else if (token) this.stats.tokenRequests++;
        else {
            this.stats.requests++;
            this.stats.byMethod[method] = (this.stats.byMethod[method] ?? 0) + 1;
        }
        this.o.onRequest?.({
            method,
            url: `${url.protocol}//${url.host}${url.pathname}`,
            status: o.status,
            attempt,
            token,
            error: o.error,
            durationMs: Date.now() - started,
        });
    }
}
