/**
 * Error type for everything the OCI client reports. It says what failed, in facts (kind, status,
 * registry, repository, what was attempted); it never says which flag or setting to change, since
 * the client serves front ends with different settings (the CLI's flags, the stack's config keys).
 * Each front end turns `reason` into its own hint with `withHint`.
 */
export type OciErrorCode =
    | "reference" // the oci:// URL, tag or digest is malformed
    | "credentials" // a USER:PASSWORD value or the docker config could not be read
    | "auth" // 401: missing or wrong credentials, or the token service refused them
    | "forbidden" // 403: authenticated but not allowed
    | "not-found" // 404 on a manifest, tag or blob
    | "tag-conflict" // the tag points at other content and force was not given
    | "digest-mismatch" // downloaded or acknowledged content does not match its digest
    | "tls" // certificate verification or handshake failure
    | "network" // connection refused, reset, DNS
    | "timeout" // connect or idle timeout
    | "registry" // any other unexpected registry answer
    | "invalid-input"; // the manifest/config/layers handed to push are inconsistent

/**
 * Why a failure happened, when the cause is a setting the caller controls; the front end names
 * its own setting for it.
 */
export const OCI_ERROR_REASONS = [
    "credentials-rejected", // credentials were sent (to the registry or its token service) and refused
    "credentials-required", // none were sent and the registry wants some
    "tls-failed", // TLS verification or handshake failed: an extra CA is needed, or the registry is plain HTTP
    "server-not-tls", // the server answered a TLS handshake in plain HTTP
    "server-requires-tls", // plain HTTP was sent to a server that only speaks TLS
    "plaintext-token-service", // the token service is plain HTTP, so credentials would travel in clear
    "tag-exists", // the tag already points at other content
    "credentials-in-url", // the URL carries user:password@
] as const;
export type OciErrorReason = (typeof OCI_ERROR_REASONS)[number];

/** The facts an OciError carries besides its message. */
export interface OciErrorDetails {
    status?: number;
    host?: string;
    repository?: string;
    reason?: OciErrorReason;
    action?: string;
    username?: string;
    errno?: string;
    retryAfterMs?: number;
    cause?: unknown;
}

/** An error from the OCI client. Messages are redacted before construction (see `Redactor`). */
export class OciError extends Error {
    /** The kind of failure. */
    readonly code: OciErrorCode;
    /** What the caller could change, when it is one of its settings. */
    readonly reason?: OciErrorReason;
    /** HTTP status of the registry answer that caused it, when there was one. */
    readonly status?: number;
    /** Registry host (`host[:port]`) involved, when known. */
    readonly host?: string;
    /** Repository involved, when known. */
    readonly repository?: string;
    /** What was attempted, e.g. `push manifest 1.0.0`, `start a blob upload`. */
    readonly action?: string;
    /** The user whose credentials were sent, when there were any (never the password). */
    readonly username?: string;
    /** System error code when the request failed without an answer (ECONNRESET, OCI_IDLE_TIMEOUT…). */
    readonly errno?: string;
    /** The answer's Retry-After, in milliseconds, when it had one. */
    readonly retryAfterMs?: number;

    constructor(code: OciErrorCode, message: string, details: OciErrorDetails = {}) {
        super(message, details.cause === undefined ? undefined : { cause: details.cause });
        this.name = "OciError";
        this.code = code;
        this.reason = details.reason;
        this.status = details.status;
        this.host = details.host;
        this.repository = details.repository;
        this.action = details.action;
        this.username = details.username;
        this.errno = details.errno;
        this.retryAfterMs = details.retryAfterMs;
    }
}

/** A front end's wording for what to change: a flag for the CLI, a config key for the stack. */
export type HintFor = (e: OciError) => string | undefined;

/**
 * Appends the front end's hint to an OciError's message (`<what failed>; <what to change>`) and
 * returns the same error; anything else passes through untouched.
 */
export function withHint<E>(e: E, hintFor: HintFor): E {
    if (e instanceof OciError) {
        const hint = hintFor(e);
        if (hint) e.message = `${e.message}; ${hint}`;
    }
    return e;
}
