/**
 * Error type for everything the OCI client reports. The `code` lets callers (the CLI, the Pulumi
 * component) pick an exit code or a retry policy without parsing the message.
 */
export type OciErrorCode =
    | "reference" // the oci:// URL, tag or digest is malformed
    | "credentials" // --creds / docker config could not be read
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

/** An error from the OCI client. Messages are redacted before construction (see `Redactor`). */
export class OciError extends Error {
    /** Machine-readable category. */
    readonly code: OciErrorCode;
    /** HTTP status of the registry answer that caused it, when there was one. */
    readonly status?: number;
    /** Registry host (`host[:port]`) involved, when known. */
    readonly host?: string;
    /** Repository involved, when known. */
    readonly repository?: string;

    constructor(
        code: OciErrorCode,
        message: string,
        details: { status?: number; host?: string; repository?: string; cause?: unknown } = {},
    ) {
        super(message, details.cause === undefined ? undefined : { cause: details.cause });
        this.name = "OciError";
        this.code = code;
        this.status = details.status;
        this.host = details.host;
        this.repository = details.repository;
    }
}
