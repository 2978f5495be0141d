/**
 * The hardening tests' face of the registry proxy (test/harness/registry-proxy.ts): faults chosen
 * by rules, each firing a bounded number of times, on top of the proxy's record of every request
 * (method, endpoint kind, status, User-Agent, fault applied), so a test can prove "zero writes" or
 * count retries. Besides answering *instead of* the registry, a rule can let the registry do the
 * work and then lie about it: the registry stores a manifest but the client sees a 500, a reset or
 * a stall. Each record carries when the request started and when its exchange ended, on one
 * counter shared by all requests, and manifest PUTs keep their body: enough to prove that a client
 * sent no manifest before the registry had confirmed every blob it names (fault-integrity.ts
 * `manifestOrderViolations`).
 */
import { startRegistryProxy, type ProxiedExchange, type ProxiedRequest, type ProxyFault, type RouteKind } from "../harness/registry-proxy";

export type { RouteKind };

/** What the proxy knows about a request when matching rules. */
export type FaultRequest = ProxiedRequest;

/** What to do with one request. */
export type Fault = ProxyFault;

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
export type FaultEntry = ProxiedExchange;

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

const WRITE_METHODS = new Set(["PUT", "POST", "PATCH", "DELETE"]);

/** Starts the proxy in front of `upstream` (`http://127.0.0.1:port` or `https://…` with `ca`). */
export async function startFaultProxy(o: { upstream: string; ca?: Buffer | string; rules?: FaultRule[] }): Promise<FaultProxy> {
    const core = await startRegistryProxy({ upstream: o.upstream, ca: o.ca });
    let rules: { rule: FaultRule; seen: number; fired: number }[] = [];
    const setRules = (r: FaultRule[]) => {
        rules = r.map((rule) => ({ rule, seen: 0, fired: 0 }));
    };
    setRules(o.rules ?? []);

    core.decide = (r) => {
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
            return { fault: typeof x.fault === "function" ? x.fault(r) : x.fault, rule: x.name };
        }
        return undefined;
    };

    return {
        host: core.host,
        port: core.port,
        url: core.url,
        setRules,
        reset: () => core.clear(),
        get entries() {
            return core.exchanges;
        },
        writes: () => core.exchanges.filter((e) => WRITE_METHODS.has(e.method)),
        routes: () => {
            const out: Record<string, number> = {};
            for (const e of core.exchanges) out[`${e.method} ${e.kind}`] = (out[`${e.method} ${e.kind}`] ?? 0) + 1;
            return out;
        },
        stop: () => core.stop(),
    };
}
