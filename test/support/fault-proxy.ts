/**
 * A fault-injecting reverse proxy for registry tests (plain HTTP on 127.0.0.1, any upstream).
 *
 * Unlike the counting proxy (registry-proxy.ts), which can only answer *instead of* the registry,
 * this one can also let the registry do the work and then lie about it: the registry stores a
 * manifest but the client sees a 500, a reset or a stall. Requests are matched against rules, each
 * firing a bounded number of times, and every request is recorded (method, endpoint kind, status,
 * User-Agent, fault applied) so a test can prove "zero writes" or count retries. Each record also
 * carries when the request started and when its exchange ended, on one counter shared by all
 * requests, and manifest PUTs keep their body: enough to prove that a client sent no manifest
 * before the registry had confirmed every blob it names (fault-integrity.ts `manifestOrderViolations`).
 */
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";

export type RouteKind = "ping" | "manifest" | "blob" | "upload" | "tags" | "other";

/** What the proxy knows about a request when matching rules. */
export interface FaultRequest {
    /** 0-based index since start or the last reset(). */
    index: number;
    method: string;
    path: string;
    kind: RouteKind;
    userAgent: string;
    headers: http.IncomingHttpHeaders;
}

/** What to do with one request. */
export type Fault =
    /** Pass through (after `delayMs`). */
    | { kind: "forward"; delayMs?: number }
    /** Pass through once `until` resolves (deterministic interleavings). */
    | { kind: "hold"; until: Promise<unknown> }
    /** Answer without asking the registry. */
    | { kind: "respond"; status: number; headers?: Record<string, string>; body?: string }
    /** Forward while streaming the body; after `afterBytes` request bytes, cut both connections (TCP reset mid-upload). */
    | { kind: "reset"; afterBytes: number }
    /** Read the request, never forward, send nothing; close after `ms`. */
    | { kind: "stall"; ms: number }
    /** The registry handles the request, then the client gets another answer instead. */
    | { kind: "forward-then-respond"; status: number; headers?: Record<string, string>; body?: string }
    /** The registry handles the request, then the client's connection is destroyed before any answer. */
    | { kind: "forward-then-reset" }
    /** The registry handles the request, then the client gets no byte for `ms` (then the socket closes). */
    | { kind: "forward-then-stall"; ms: number };

/** One rule: which requests, how many times, which fault. */
export interface FaultRule {
    /** Label for the recorded entries. */
    name?: string;
    method?: string;
    kind?: RouteKind;
    /** Substring or pattern of the User-Agent (pushImage's `userAgent` option tells concurrent clients apart). */
    userAgent?: string | RegExp;
    /** Only requests whose Content-Length is above this (e.g. the upload PUT that carries the body). */
    minContentLength?: number;
    /** Extra predicate. */
    when?: (r: FaultRequest) => boolean;
    /** Let this many matching requests through first. Default 0. */
    skip?: number;
    /** Fire this many times, then stop matching. Default: always. */
    times?: number;
    fault: Fault | ((r: FaultRequest) => Fault);
}

/** A recorded request. */
export interface FaultEntry {
    index: number;
    method: string;
    path: string;
    kind: RouteKind;
    userAgent: string;
    /** Status the client saw (undefined: none, e.g. reset or stall). */
    status?: number;
    /** Status the registry answered, when forwarded. */
    upstreamStatus?: number;
    fault: Fault["kind"];
    /** A rule fired for this request (even one that only delays it). */
    injected: boolean;
    rule?: string;
    bytesIn: number;
    /** Position of the request's arrival in the proxy's event order (one counter for starts and ends). */
    started: number;
    /** Position of the end of the exchange in the same order: answer sent in full, or connection closed. */
    completed?: number;
    /** The client got the whole answer (`status`); false when the exchange ended without one. */
    answered?: boolean;
    /** Request body of a manifest PUT (what the client asked the registry to store). */
    body?: Buffer;
}

export interface FaultProxy {
    /** `127.0.0.1:port` */
    host: string;
    port: number;
    /** `oci://127.0.0.1:port/<repo>` */
    url(repo: string): string;
    /** Replaces the rules (and their counters). */
    setRules(rules: FaultRule[]): void;
    /** Forgets recorded entries (rules keep their counters). */
    reset(): void;
    readonly entries: FaultEntry[];
    /** Requests that can change registry state: PUT, POST, PATCH, DELETE. */
    writes(): FaultEntry[];
    /** `METHOD kind` → count. */
    routes(): Record<string, number>;
    stop(): Promise<void>;
}

/** Largest manifest body kept for the order check. */
const MAX_RECORDED_BODY = 4 << 20;

export function classifyRoute(p: string): RouteKind {
    const path = p.split("?")[0]!;
    if (path === "/v2/" || path === "/v2") return "ping";
    if (/\/manifests\/[^/]+$/.test(path)) return "manifest";
    if (/\/blobs\/uploads\/?/.test(path)) return "upload";
    if (/\/blobs\/[^/]+$/.test(path)) return "blob";
    if (/\/tags\/list$/.test(path)) return "tags";
    return "other";
}

const WRITE_METHODS = new Set(["PUT", "POST", "PATCH", "DELETE"]);

/** Starts the proxy in front of `upstream` (`http://127.0.0.1:port` or `https://…` with `ca`). */
export async function startFaultProxy(o: { upstream: string; ca?: Buffer | string; rules?: FaultRule[] }): Promise<FaultProxy> {
    const upstream = new URL(o.upstream);
    const isTls = upstream.protocol === "https:";
    const agent = isTls ? new https.Agent({ keepAlive: true, ca: o.ca }) : new http.Agent({ keepAlive: true });
    let rules: { rule: FaultRule; seen: number; fired: number }[] = [];
    let entries: FaultEntry[] = [];
    let index = 0;
    /** Shared by arrivals and completions, so "ended before that one started" is one comparison. */
    let order = 0;
    const timers = new Set<NodeJS.Timeout>();
    const later = (ms: number, fn: () => void) => {
        const t = setTimeout(() => {
            timers.delete(t);
            fn();
        }, ms);
        timers.add(t);
        return t;
    };

    const setRules = (r: FaultRule[]) => {
        rules = r.map((rule) => ({ rule, seen: 0, fired: 0 }));
    };
    setRules(o.rules ?? []);

    const choose = (r: FaultRequest): { fault: Fault; rule?: string; injected: boolean } => {
        for (const s of rules) {
            const x = s.rule;
            if (x.method && x.method !== r.method) continue;
            if (x.kind && x.kind !== r.kind) continue;
            if (x.userAgent && !(typeof x.userAgent === "string" ? r.userAgent.includes(x.userAgent) : x.userAgent.test(r.userAgent))) continue;
            if (x.minContentLength !== undefined && !(Number(r.headers["content-length"] ?? 0) > x.minContentLength)) continue;
            if (x.when && !x.when(r)) continue;
            s.seen++;
            if (s.seen <= (x.skip ?? 0)) continue;
            if (x.times !== undefined && s.fired >= x.times) continue;
            s.fired++;
            return { fault: typeof x.fault === "function" ? x.fault(r) : x.fault, rule: x.name, injected: true };
        }
        return { fault: { kind: "forward" }, injected: false };
    };

    const server = http.createServer((req, res) => {
        const path = req.url ?? "/";
        const info: FaultRequest = {
            index: index++,
            method: req.method ?? "GET",
            path,
            kind: classifyRoute(path),
            userAgent: String(req.headers["user-agent"] ?? ""),
            headers: req.headers,
        };
        const { fault, rule, injected } = choose(info);
        const entry: FaultEntry = {
            index: info.index,
            method: info.method,
            path,
            kind: info.kind,
            userAgent: info.userAgent,
            fault: fault.kind,
            injected,
            rule,
            bytesIn: 0,
            started: order++,
        };
        entries.push(entry);
        const keepBody = info.method === "PUT" && info.kind === "manifest";
        const bodyParts: Buffer[] = [];
        req.on("data", (c: Buffer) => {
            entry.bytesIn += c.length;
            if (keepBody && entry.bytesIn <= MAX_RECORDED_BODY) bodyParts.push(c);
        });
        if (keepBody) req.on("end", () => (entry.body = Buffer.concat(bodyParts)));
        const end = (answered: boolean) => {
            if (entry.completed !== undefined) return;
            entry.completed = order++;
            entry.answered = answered;
        };
        res.on("finish", () => end(true));
        res.on("close", () => end(false));
        const reply = (status: number, headers: Record<string, string> = {}, body = "") => {
            entry.status = status;
            res.writeHead(status, { "Content-Length": String(Buffer.byteLength(body)), ...headers });
            res.end(body);
        };

        if (fault.kind === "respond") {
            req.resume();
            req.on("end", () => reply(fault.status, fault.headers, fault.body));
            return;
        }
        if (fault.kind === "stall") {
            req.resume();
            later(fault.ms, () => req.socket.destroy());
            return;
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
                entry.upstreamStatus = ur.statusCode;
                if (fault.kind === "forward-then-respond") {
                    ur.resume();
                    ur.on("end", () => reply(fault.status, fault.headers, fault.body));
                    return;
                }
                if (fault.kind === "forward-then-reset") {
                    ur.resume();
                    ur.on("end", () => req.socket.destroy());
                    return;
                }
                if (fault.kind === "forward-then-stall") {
                    ur.resume();
                    later(fault.ms, () => req.socket.destroy());
                    return;
                }
                entry.status = ur.statusCode;
                res.writeHead(ur.statusCode ?? 502, ur.headers);
                ur.pipe(res);
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
    return {
        host,
        port,
        url: (repo) => `oci://${host}/${repo}`,
        setRules,
        reset: () => {
            entries = [];
        },
        get entries() {
            return entries;
        },
        writes: () => entries.filter((e) => WRITE_METHODS.has(e.method)),
        routes: () => {
            const out: Record<string, number> = {};
            for (const e of entries) out[`${e.method} ${e.kind}`] = (out[`${e.method} ${e.kind}`] ?? 0) + 1;
            return out;
        },
        stop: async () => {
            for (const t of timers) clearTimeout(t);
            timers.clear();
            server.closeAllConnections();
            agent.destroy();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}
