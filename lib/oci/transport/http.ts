/**
 * One HTTP attempt over Node's http/https, with connect and idle timeouts, keep-alive agents,
 * extra CA trust and bodies streamed from files. No auth, retries or redirects: the transport
 * composes those around it.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import * as tls from "node:tls";
import type { Readable } from "node:stream";

import { OciError } from "../errors";
import type { OciStats } from "../stats";

/** Timeouts in milliseconds. */
export interface TimeoutOptions {
    /** TCP (+TLS) connect. Defaults to 10 000. */
    connectMs?: number;
    /** Socket inactivity while waiting for or reading an answer, or sending a body. Defaults to 30 000. */
    idleMs?: number;
}

/** A body to send: bytes in memory, or a stream factory so retries can re-open the file. */
export type RequestBody = Buffer | { size: number; open: () => Readable };

/** One request. */
export interface HttpRequest {
    method: string;
    url: URL;
    headers?: Record<string, string>;
    body?: RequestBody;
    /** Consumes a 2xx body as a stream (blob downloads). Called once per attempt. */
    sink?: (res: http.IncomingMessage) => Promise<void>;
}

/** An answer. */
export interface HttpResponse {
    status: number;
    headers: http.IncomingHttpHeaders;
    /** Buffered body (empty when a sink consumed it). */
    body: Buffer;
    /** Final URL after redirects. */
    url: URL;
}

export interface HttpClientOptions {
    /** PEM file with extra CA certificates, trusted in addition to the system CAs. */
    caFile?: string;
    timeouts?: TimeoutOptions;
    userAgent?: string;
    /** Where uploaded and downloaded bytes are counted. */
    stats: OciStats;
}

function timeoutError(kind: "connect" | "idle", ms: number): NodeJS.ErrnoException {
    const e = new Error(kind === "connect" ? `connect timeout after ${ms} ms` : `no data for ${ms} ms (stalled connection)`) as NodeJS.ErrnoException;
    e.code = kind === "connect" ? "OCI_CONNECT_TIMEOUT" : "OCI_IDLE_TIMEOUT";
    return e;
}

/** Sends single requests. Owns keep-alive agents: call `close()` when done. */
export class HttpClient {
    readonly connectMs: number;
    readonly idleMs: number;
    private readonly httpAgent: http.Agent;
    private readonly httpsAgent: https.Agent;

    constructor(private readonly o: HttpClientOptions) {
        this.connectMs = o.timeouts?.connectMs ?? 10_000;
        this.idleMs = o.timeouts?.idleMs ?? 30_000;
        let ca: (string | Buffer)[] | undefined;
        if (o.caFile) {
            let extra: Buffer;
            try {
                extra = fs.readFileSync(o.caFile);
            } catch (e) {
                throw new OciError("tls", `cannot read CA file ${o.caFile}: ${(e as Error).message}`);
            }
            // `ca` replaces Node's bundle, so add the system roots back: the CA file is extra trust.
            ca = [...tls.rootCertificates, extra];
        }
        this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
        this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 4, ca });
    }

    /** Releases keep-alive sockets so the process can exit. */
    close(): void {
        this.httpAgent.destroy();
        this.httpsAgent.destroy();
    }

    /** One attempt. Rejects with the Node error (or a timeout error) when no answer came. */
    send(r: HttpRequest, authorization: string | undefined): Promise<HttpResponse> {
        const stats = this.o.stats;
        const url = r.url;
        return new Promise<HttpResponse>((resolve, reject) => {
            const isTls = url.protocol === "https:";
            const headers: Record<string, string> = {
                "User-Agent": this.o.userAgent ?? "policy-stack-oci/0.1",
                ...(r.headers ?? {}),
            };
            if (authorization) headers.Authorization = authorization;
            const body = r.body;
            const size = body === undefined ? 0 : Buffer.isBuffer(body) ? body.length : body.size;
            if (body !== undefined || ["PUT", "POST", "PATCH"].includes(r.method)) headers["Content-Length"] = String(size);

            const hostname = url.hostname.replace(/^\[|\]$/g, "");
            const reqOpts: https.RequestOptions = {
                protocol: url.protocol,
                hostname,
                port: url.port || (isTls ? 443 : 80),
                path: url.pathname + url.search,
                method: r.method,
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
            req.on("socket", (s) => {
                if (s.connecting) {
                    connectTimer = setTimeout(() => req.destroy(timeoutError("connect", this.connectMs)), this.connectMs);
                    s.once(isTls ? "secureConnect" : "connect", () => connectTimer && clearTimeout(connectTimer));
                }
            });
            req.setTimeout(this.idleMs, () => req.destroy(timeoutError("idle", this.idleMs)));
            req.on("error", (e) => done(e));
            req.on("response", (res) => {
                const status = res.statusCode ?? 0;
                res.on("error", (e) => done(e));
                res.on("aborted", () => {
                    const e = new Error("response aborted") as NodeJS.ErrnoException;
                    e.code = "ECONNRESET";
                    done(e);
                });
                if (status >= 200 && status < 300 && r.sink && r.method !== "HEAD") {
                    r.sink(res).then(
                        () => done(undefined, { status, headers: res.headers, body: Buffer.alloc(0), url }),
                        (e: Error) => done(e),
                    );
                    return;
                }
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => {
                    chunks.push(c);
                    stats.bytesDownloaded += c.length;
                });
                res.on("end", () => done(undefined, { status, headers: res.headers, body: Buffer.concat(chunks), url }));
            });
            if (body === undefined) {
                req.end();
            } else if (Buffer.isBuffer(body)) {
                stats.bytesUploaded += body.length;
                req.end(body);
            } else {
                const stream = body.open();
                stream.on("data", (c: Buffer | string) => {
                    stats.bytesUploaded += typeof c === "string" ? Buffer.byteLength(c) : c.length;
                });
                stream.on("error", (e) => done(e));
                stream.pipe(req);
            }
        });
    }
}
