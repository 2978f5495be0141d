import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";

/** What the proxy knows about a request when it decides what to do with it. */
export interface ProxyRequestInfo {
    /** 0-based index among all requests this proxy has seen since the last `reset()`. */
    index: number;
    method: string;
    /** Path with query string. */
    path: string;
    /** Coarse class of the registry endpoint. */
    kind: "ping" | "manifest" | "blob" | "upload" | "other";
    headers: http.IncomingHttpHeaders;
}

/**
 * What to do with a request. The counting proxy only forwards; the other actions are the hooks a
 * fault-injecting test uses (connection reset mid-upload, 500 on manifest PUT, 429 + Retry-After,
 * stalls, forged 401s).
 */
export type ProxyAction =
    | { kind: "forward"; delayMs?: number }
    | { kind: "respond"; status: number; headers?: Record<string, string>; body?: string }
    /** Destroys the client socket after reading `afterBytes` of the request body (0: at once). */
    | { kind: "reset"; afterBytes?: number }
    /** Reads the request and then sends nothing for `ms` (then destroys the socket). */
    | { kind: "stall"; ms: number }
    /** Forwards, but sends only the response headers and `afterBytes` of the body, then stalls `ms`. */
    | { kind: "stall-response"; afterBytes: number; ms: number };

/** One forwarded or handled request. */
export interface ProxyEntry {
    method: string;
    path: string;
    kind: ProxyRequestInfo["kind"];
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
    /** Upstream base URL, e.g. `http://127.0.0.1:5000` or `https://127.0.0.1:5443`. */
    upstream: string;
    /** CA bundle (PEM) to verify an HTTPS upstream. */
    ca?: Buffer | string;
    /** Decides per request; forward when it returns undefined. Can be replaced later (`proxy.intercept = …`). */
    intercept?: (info: ProxyRequestInfo) => ProxyAction | undefined;
}

/** A running proxy. */
export interface CountingProxy {
    /** `127.0.0.1:port` */
    host: string;
    port: number;
    /** `oci://127.0.0.1:port/<repo>` */
    url(repo: string): string;
    stats: ProxyStats;
    intercept?: (info: ProxyRequestInfo) => ProxyAction | undefined;
    /** Zeroes the counters (between the first and second push of an idempotence test). */
    reset(): void;
    stop(): Promise<void>;
}

function classify(path: string): ProxyRequestInfo["kind"] {
    const p = path.split("?")[0]!;
    if (p === "/v2/" || p === "/v2") return "ping";
    if (/\/blobs\/uploads\//.test(p)) return "upload";
    if (/\/manifests\/[^/]+$/.test(p)) return "manifest";
    if (/\/blobs\/[^/]+$/.test(p)) return "blob";
    return "other";
}

function emptyStats(): ProxyStats {
    return { requests: 0, byMethod: {}, byRoute: {}, bytesIn: 0, bytesOut: 0, entries: [] };
}

/**
 * A plain-HTTP reverse proxy in front of a registry that counts requests by method and endpoint and
 * bytes in each direction. It keeps the client's Host header (so the registry's upload Location
 * URLs point back at the proxy) and sets X-Forwarded-Proto: http (so Distribution does not write
 * https:// Locations when the upstream is TLS).
 */
export async function startCountingProxy(o: ProxyOptions): Promise<CountingProxy> {
    const upstream = new URL(o.upstream);
    const isTls = upstream.protocol === "https:";
    const agent = isTls ? new https.Agent({ keepAlive: true, ca: o.ca }) : new http.Agent({ keepAlive: true });
    const state: { stats: ProxyStats } = { stats: emptyStats() };

    const proxy: CountingProxy = {
        host: "",
        port: 0,
        url: (repo) => `oci://${proxy.host}/${repo}`,
        get stats() {
            return state.stats;
        },
        intercept: o.intercept,
        reset: () => {
            state.stats = emptyStats();
        },
        stop: async () => {
            server.closeAllConnections();
            agent.destroy();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };

    const server = http.createServer((req, res) => {
        const stats = state.stats;
        const path = req.url ?? "/";
        const info: ProxyRequestInfo = { index: stats.requests, method: req.method ?? "GET", path, kind: classify(path), headers: req.headers };
        stats.requests++;
        stats.byMethod[info.method] = (stats.byMethod[info.method] ?? 0) + 1;
        const route = `${info.method} ${info.kind}`;
        stats.byRoute[route] = (stats.byRoute[route] ?? 0) + 1;
        const action: ProxyAction = proxy.intercept?.(info) ?? { kind: "forward" };
        const entry: ProxyEntry = { method: info.method, path, kind: info.kind, action: action.kind, bytesIn: 0, bytesOut: 0 };
        stats.entries.push(entry);
        req.on("data", (c: Buffer) => {
            entry.bytesIn += c.length;
            stats.bytesIn += c.length;
        });

        switch (action.kind) {
            case "respond": {
                req.resume();
                req.on("end", () => {
                    entry.status = action.status;
                    const body = action.body ?? "";
                    res.writeHead(action.status, { "Content-Length": String(Buffer.byteLength(body)), ...(action.headers ?? {}) });
                    res.end(body);
                });
                return;
            }
            case "reset": {
                const limit = action.afterBytes ?? 0;
                const kill = () => req.socket.destroy();
                if (limit === 0) {
                    kill();
                    return;
                }
                req.on("data", () => {
                    if (entry.bytesIn >= limit) kill();
                });
                req.on("end", kill);
                return;
            }
            case "stall": {
                req.resume();
                const t = setTimeout(() => req.socket.destroy(), action.ms);
                req.socket.once("close", () => clearTimeout(t));
                return;
            }
            default:
                break;
        }

        const forward = () => {
            const headers = { ...req.headers, "x-forwarded-proto": "http" };
            const up = (isTls ? https : http).request({
                protocol: upstream.protocol,
                hostname: upstream.hostname,
                port: upstream.port,
                method: info.method,
                path,
                headers,
                agent,
            });
            up.on("error", () => {
                if (!res.headersSent) {
                    res.writeHead(502);
                    res.end();
                } else res.destroy();
            });
            up.on("response", (ur) => {
                entry.status = ur.statusCode;
                res.writeHead(ur.statusCode ?? 502, ur.headers);
                if (action.kind === "stall-response") {
                    let sent = 0;
                    ur.on("data", (c: Buffer) => {
                        if (sent >= action.afterBytes) return;
                        const part = c.subarray(0, action.afterBytes - sent);
                        sent += part.length;
                        entry.bytesOut += part.length;
                        stats.bytesOut += part.length;
                        res.write(part);
                    });
                    const t = setTimeout(() => res.destroy(), action.ms);
                    res.once("close", () => clearTimeout(t));
                    return;
                }
                ur.on("data", (c: Buffer) => {
                    entry.bytesOut += c.length;
                    stats.bytesOut += c.length;
                });
                ur.pipe(res);
            });
            req.pipe(up);
        };
        if (action.kind === "forward" && action.delayMs) {
            req.pause();
            setTimeout(forward, action.delayMs);
        } else forward();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy.port = (server.address() as AddressInfo).port;
    proxy.host = `127.0.0.1:${proxy.port}`;
    return proxy;
}
