/**
 * The one registry proxy: a plain-HTTP reverse proxy on 127.0.0.1 in front of a registry (HTTP,
 * or HTTPS verified with a CA), that records every exchange and lets a caller decide, request by
 * request, to forward it or to inject a fault: answer instead of the registry, cut or stall the
 * connection, or let the registry do the work and then lie to the client about it.
 *
 * It keeps the client's Host header (so the registry's upload Location URLs point back at the
 * proxy) and sets X-Forwarded-Proto: http (so Distribution does not write https:// Locations when
 * the upstream is TLS).
 *
 * Two faces: `startCountingProxy` here (counters by method and endpoint, bytes each way; the
 * benchmarks and the OCI tests), and the rule-based fault proxy of the hardening tests
 * (test/support/fault-proxy.ts), both over `startRegistryProxy`.
 */
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";

export type RouteKind = "ping" | "manifest" | "blob" | "upload" | "tags" | "other";

/** The registry endpoint a request path addresses. */
export function classifyRoute(p: string): RouteKind {
    const path = p.split("?")[0]!;
    if (path === "/v2/" || path === "/v2") return "ping";
    if (/\/manifests\/[^/]+$/.test(path)) return "manifest";
    if (/\/blobs\/uploads\/?/.test(path)) return "upload";
    if (/\/blobs\/[^/]+$/.test(path)) return "blob";
    if (/\/tags\/list$/.test(path)) return "tags";
    return "other";
}

/** What the proxy knows about a request when it decides what to do with it. */
export interface ProxiedRequest {
    /** 0-based index among the requests since start or the last `clear()`. */
    index: number;
    method: string;
    /** Path with query string. */
    path: string;
    kind: RouteKind;
    userAgent: string;
    headers: http.IncomingHttpHeaders;
}

/** What to do with one request. */
export type ProxyFault =
    /** Pass through (after `delayMs`). */
    | { kind: "forward"; delayMs?: number }
    /** Pass through once `until` resolves (deterministic interleavings). */
    | { kind: "hold"; until: Promise<unknown> }
    /** Answer without asking the registry. */
    | { kind: "respond"; status: number; headers?: Record<string, string>; body?: string }
    /** Never forward; destroy the client socket after reading `afterBytes` of the body (0: at once). */
    | { kind: "drop"; afterBytes?: number }
    /** Forward while streaming the body; after `afterBytes` request bytes, cut both connections (TCP reset mid-upload). */
    | { kind: "reset"; afterBytes: number }
    /** Read the request, never forward, send nothing; close after `ms`. */
    | { kind: "stall"; ms: number }
    /** Forward, but send only the response headers and `afterBytes` of the body, then stall `ms` (then close). */
    | { kind: "stall-response"; afterBytes: number; ms: number }
    /** The registry handles the request, then the client gets another answer instead. */
    | { kind: "forward-then-respond"; status: number; headers?: Record<string, string>; body?: string }
    /** The registry handles the request, then the client's connection is destroyed before any answer. */
    | { kind: "forward-then-reset" }
    /** The registry handles the request, then the client gets no byte for `ms` (then the socket closes). */
    | { kind: "forward-then-stall"; ms: number };

/** A fault chosen for one request, and the name of the rule that chose it (for the record). */
export interface ProxyDecision {
    fault: ProxyFault;
    rule?: string;
}

/** One recorded exchange. */
export interface ProxiedExchange {
    index: number;
    method: string;
    path: string;
    kind: RouteKind;
    userAgent: string;
    fault: ProxyFault["kind"];
    /** A decision was made for this request (even one that only delays it). */
    injected: boolean;
    rule?: string;
    /** Status the client saw (undefined: none, e.g. reset or stall). */
    status?: number;
    /** Status the registry answered, when forwarded. */
    upstreamStatus?: number;
    /** Request body bytes read from the client. */
    bytesIn: number;
    /** Response body bytes passed on to the client. */
    bytesOut: number;
    /** Position of the request's arrival in the proxy's event order (one counter for starts and ends). */
    started: number;
    /** Position of the end of the exchange in the same order: answer sent in full, or connection closed. */
    completed?: number;
    /** The client got the whole answer (`status`); false when the exchange ended without one. */
    answered?: boolean;
    /** Request body of a manifest PUT (what the client asked the registry to store). */
    body?: Buffer;
}

export interface RegistryProxyOptions {
    /** Upstream base URL, e.g. `http://127.0.0.1:5000` or `https://127.0.0.1:5443`. */
    upstream: string;
    /** CA bundle (PEM) to verify an HTTPS upstream. */
    ca?: Buffer | string;
    /** Decides per request; forward when it returns undefined. */
    decide?: (r: ProxiedRequest) => ProxyDecision | undefined;
}

export interface RegistryProxy {
    /** `127.0.0.1:port` */
    host: string;
    port: number;
    /** `oci://127.0.0.1:port/<repo>` */
    url(repo: string): string;
    /** Can be replaced at any time. */
    decide?: (r: ProxiedRequest) => ProxyDecision | undefined;
    /** Exchanges since start or the last `clear()`, in arrival order. */
    readonly exchanges: ProxiedExchange[];
    /** Forgets the recorded exchanges and restarts the request index. */
    clear(): void;
    stop(): Promise<void>;
}

/** Largest manifest body kept for order checks. */
const MAX_RECORDED_BODY = 4 << 20;

/** Starts the proxy. See the module comment. */
export async function startRegistryProxy(o: RegistryProxyOptions): Promise<RegistryProxy> {
    const upstream = new URL(o.upstream);
    const isTls = upstream.protocol === "https:";
    const agent = isTls ? new https.Agent({ keepAlive: true, ca: o.ca }) : new http.Agent({ keepAlive: true });
    let exchanges: ProxiedExchange[] = [];
    /** Shared by arrivals and completions, so "ended before that one started" is one comparison. */
    let order = 0;
    const timers = new Set<NodeJS.Timeout>();
    const later = (ms: number, fn: () => void) => {
        const t = setTimeout(() => {
            timers.delete(t);
            fn();
        }, ms);
        timers.add(t);
    };

    const server = http.createServer((req, res) => {
        const path = req.url ?? "/";
        const info: ProxiedRequest = {
            index: exchanges.length,
            method: req.method ?? "GET",
            path,
            kind: classifyRoute(path),
            userAgent: String(req.headers["user-agent"] ?? ""),
            headers: req.headers,
        };
        const decision = proxy.decide?.(info);
        const fault: ProxyFault = decision?.fault ?? { kind: "forward" };
        const x: ProxiedExchange = {
            index: info.index,
            method: info.method,
            path,
            kind: info.kind,
            userAgent: info.userAgent,
            fault: fault.kind,
            injected: decision !== undefined,
            rule: decision?.rule,
            bytesIn: 0,
            bytesOut: 0,
            started: order++,
        };
        exchanges.push(x);
        const keepBody = info.method === "PUT" && info.kind === "manifest";
        const bodyParts: Buffer[] = [];
        req.on("data", (c: Buffer) => {
            x.bytesIn += c.length;
            if (keepBody && x.bytesIn <= MAX_RECORDED_BODY) bodyParts.push(c);
        });
        if (keepBody) req.on("end", () => (x.body = Buffer.concat(bodyParts)));
        const end = (answered: boolean) => {
            if (x.completed !== undefined) return;
            x.completed = order++;
            x.answered = answered;
        };
        res.on("finish", () => end(true));
        res.on("close", () => end(false));
        const reply = (status: number, headers: Record<string, string> = {}, body = "") => {
            x.status = status;
            res.writeHead(status, { "Content-Length": String(Buffer.byteLength(body)), ...headers });
            res.end(body);
        };
        /** Passes on at most `limit` bytes of the registry's answer. */
        const relay = (ur: http.IncomingMessage, limit = Infinity) => {
            ur.on("data", (c: Buffer) => {
                if (x.bytesOut >= limit) return;
                const part = c.subarray(0, limit - x.bytesOut);
                x.bytesOut += part.length;
                if (limit !== Infinity) res.write(part);
            });
            if (limit === Infinity) ur.pipe(res);
        };

        switch (fault.kind) {
            case "respond":
                req.resume();
                req.on("end", () => reply(fault.status, fault.headers, fault.body));
                return;
            case "stall":
                req.resume();
                later(fault.ms, () => req.socket.destroy());
                return;
            case "drop": {
                const limit = fault.afterBytes ?? 0;
                const kill = () => req.socket.destroy();
                if (limit === 0) {
                    kill();
                    return;
                }
                req.on("data", () => {
                    if (x.bytesIn >= limit) kill();
                });
                req.on("end", kill);
                return;
            }
            default:
                break;
        }

        const forward = () => {
            const up = (isTls ? https : http).request({
                protocol: upstream.protocol,
                hostname: upstream.hostname,
                port: upstream.port,
                method: info.method,
                path,
                headers: { ...req.headers, "x-forwarded-proto": "http" },
                agent,
            });
            up.on("error", () => {
                if (!res.headersSent && !res.destroyed) reply(502);
                else res.destroy();
            });
            up.on("response", (ur) => {
                x.upstreamStatus = ur.statusCode;
                switch (fault.kind) {
                    case "forward-then-respond":
                        ur.resume();
                        ur.on("end", () => reply(fault.status, fault.headers, fault.body));
                        return;
                    case "forward-then-reset":
                        ur.resume();
                        ur.on("end", () => req.socket.destroy());
                        return;
                    case "forward-then-stall":
                        ur.resume();
                        later(fault.ms, () => req.socket.destroy());
                        return;
                    default:
                        break;
                }
                x.status = ur.statusCode;
                res.writeHead(ur.statusCode ?? 502, ur.headers);
                if (fault.kind === "stall-response") {
                    relay(ur, fault.afterBytes);
                    later(fault.ms, () => res.destroy());
                    return;
                }
                relay(ur);
            });
            if (fault.kind === "reset") {
                let sent = 0;
                req.on("data", (c: Buffer) => {
                    if (sent >= fault.afterBytes) return;
                    const part = c.subarray(0, fault.afterBytes - sent);
                    sent += part.length;
                    up.write(part);
                    if (sent >= fault.afterBytes) {
                        // The registry sees a truncated body and a dead connection, the client a reset.
                        up.destroy();
                        req.socket.destroy();
                    }
                });
                req.on("end", () => {
                    up.destroy();
                    req.socket.destroy();
                });
                return;
            }
            req.pipe(up);
        };
        if (fault.kind === "forward" && fault.delayMs) {
            req.pause();
            later(fault.delayMs, forward);
        } else if (fault.kind === "hold") {
            req.pause();
            void fault.until.then(forward, forward);
        } else forward();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const host = `127.0.0.1:${port}`;
    const proxy: RegistryProxy = {
        host,
        port,
        url: (repo) => `oci://${host}/${repo}`,
        decide: o.decide,
        get exchanges() {
            return exchanges;
        },
        clear: () => {
            exchanges = [];
        },
        stop: async () => {
            for (const t of timers) clearTimeout(t);
            timers.clear();
            server.closeAllConnections();
            agent.destroy();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
    return proxy;
}

// ---------------------------------------------------------------- the counting face

/** What the counting proxy tells its `intercept` about a request. */
export type ProxyRequestInfo = ProxiedRequest;

/**
 * What to do with a request. The counting proxy only forwards unless told otherwise; the other
 * actions are the hooks a fault-injecting test uses (connection reset mid-upload, 500 on manifest
 * PUT, 429 + Retry-After, stalls, forged 401s).
 */
export type ProxyAction =
    | { kind: "forward"; delayMs?: number }
    | { kind: "respond"; status: number; headers?: Record<string, string>; body?: string }
    /** Destroys the client socket after reading `afterBytes` of the request body (0: at once); nothing is forwarded. */
    | { kind: "reset"; afterBytes?: number }
    /** Reads the request and then sends nothing for `ms` (then destroys the socket). */
    | { kind: "stall"; ms: number }
    /** Forwards, but sends only the response headers and `afterBytes` of the body, then stalls `ms`. */
    | { kind: "stall-response"; afterBytes: number; ms: number };

/** One forwarded or handled request. */
export interface ProxyEntry {
    method: string;
    path: string;
    kind: RouteKind;
    status?: number;
    action: ProxyAction["kind"];
    bytesIn: number;
    bytesOut: number;
}

/** Counters kept by the proxy. */
export interface ProxyStats {
    requests: number;
    byMethod: Record<string, number>;
    /** `METHOD kind`, e.g. `PUT manifest`, `HEAD blob`, `POST upload`. */
    byRoute: Record<string, number>;
    bytesIn: number;
    bytesOut: number;
    entries: ProxyEntry[];
}

/** Options of `startCountingProxy`. */
export interface ProxyOptions {
    upstream: string;
    ca?: Buffer | string;
    /** Decides per request; forward when it returns undefined. Can be replaced later (`proxy.intercept = …`). */
    intercept?: (info: ProxyRequestInfo) => ProxyAction | undefined;
}

/** A running counting proxy. */
export interface CountingProxy {
    /** `127.0.0.1:port` */
    host: string;
    port: number;
    /** `oci://127.0.0.1:port/<repo>` */
    url(repo: string): string;
    /** The counters since start or the last `reset()`. */
    readonly stats: ProxyStats;
    intercept?: (info: ProxyRequestInfo) => ProxyAction | undefined;
    /** Zeroes the counters (between the first and second push of an idempotence test). */
    reset(): void;
    stop(): Promise<void>;
}

/** The registry proxy with counters by method and endpoint and bytes in each direction. */
export async function startCountingProxy(o: ProxyOptions): Promise<CountingProxy> {
    const core = await startRegistryProxy({ upstream: o.upstream, ca: o.ca });
    const counting: CountingProxy = {
        host: core.host,
        port: core.port,
        url: core.url,
        intercept: o.intercept,
        get stats() {
            const stats: ProxyStats = { requests: 0, byMethod: {}, byRoute: {}, bytesIn: 0, bytesOut: 0, entries: [] };
            for (const x of core.exchanges) {
                stats.requests++;
                stats.byMethod[x.method] = (stats.byMethod[x.method] ?? 0) + 1;
                const route = `${x.method} ${x.kind}`;
                stats.byRoute[route] = (stats.byRoute[route] ?? 0) + 1;
                stats.bytesIn += x.bytesIn;
                stats.bytesOut += x.bytesOut;
                const action = x.fault === "drop" ? "reset" : (x.fault as ProxyAction["kind"]);
                stats.entries.push({ method: x.method, path: x.path, kind: x.kind, status: x.status, action, bytesIn: x.bytesIn, bytesOut: x.bytesOut });
            }
            return stats;
        },
        reset: () => core.clear(),
        stop: () => core.stop(),
    };
    core.decide = (r) => {
        const a = counting.intercept?.(r);
        // The counting proxy's `reset` never reaches the registry: the core's `drop`.
        return a && { fault: a.kind === "reset" ? { kind: "drop", afterBytes: a.afterBytes } : a };
    };
    return counting;
}
