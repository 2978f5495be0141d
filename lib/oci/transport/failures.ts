/** What a request that got no answer failed on: timeout, TLS, DNS, refusal, or a dropped connection. */
import type { OciErrorCode, OciErrorReason } from "../errors";

const TLS_CODES = /^(ERR_SSL|ERR_TLS|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED|EPROTO$)/;

/** True when a TLS ClientHello was answered in plain HTTP (what OpenSSL says then). */
export function isTlsPlaintextMismatch(err: NodeJS.ErrnoException): boolean {
    return /wrong version number|packet length too long|http request|unknown protocol/i.test(err.message ?? "");
}

/** The parts of an OciError for a request that failed without an answer. */
export interface NoAnswer {
    code: OciErrorCode;
    message: string;
    reason?: OciErrorReason;
}

/**
 * Describes a failed attempt in the registry's terms.
 * @param host the registry (`host[:port]`)
 * @param attempts how many attempts the request made, this one included
 */
export function describeNoAnswer(e: NodeJS.ErrnoException, host: string, method: string, url: URL, attempts: number): NoAnswer {
    const where = `registry ${host} (${method} ${url.pathname})`;
    const code = e.code ?? "";
    if (code === "OCI_CONNECT_TIMEOUT" || code === "OCI_IDLE_TIMEOUT") {
        return { code: "timeout", message: `${where}: ${e.message}, after ${attempts} attempt(s)` };
    }
    if (TLS_CODES.test(code) || /certificate|ssl|tls/i.test(e.message)) {
        return isTlsPlaintextMismatch(e)
            ? { code: "tls", message: `TLS error talking to ${where}: ${e.message} (${code}); the registry does not speak TLS`, reason: "server-not-tls" }
            : { code: "tls", message: `TLS error talking to ${where}: ${e.message} (${code})`, reason: "tls-failed" };
    }
    if (code.startsWith("HPE_") && url.protocol === "http:") {
        // What a TLS server's plain-text "400 Client sent an HTTP request to an HTTPS server" looks
        // like to a HEAD request.
        return { code: "tls", message: `${where} did not answer plain HTTP properly (${code}); it probably requires TLS`, reason: "server-requires-tls" };
    }
    if (code === "ECONNREFUSED") return { code: "network", message: `cannot connect to ${where}: connection refused; is the registry running at ${url.host}?` };
    if (code === "ENOTFOUND") return { code: "network", message: `cannot resolve registry host ${url.hostname}` };
    return { code: "network", message: `${where} failed after ${attempts} attempt(s): ${e.message}${code ? ` (${code})` : ""}` };
}
