/**
 * Counters the client keeps while it talks to a registry. The CLI prints them with `--stats`, the
 * idempotence tests assert on them and the benchmarks record them.
 */
export interface OciStats {
    /** HTTP requests sent to the registry (every attempt, including 401 challenges and retries). */
    requests: number;
    /** Same, split by HTTP method. */
    byMethod: Record<string, number>;
    /** Requests sent to the token service (Bearer realm). */
    tokenRequests: number;
    /** Attempts repeated after a network error, 5xx or 429. */
    retries: number;
    /** Request body bytes sent to the registry (blob and manifest uploads). */
    bytesUploaded: number;
    /** Response body bytes received from the registry. */
    bytesDownloaded: number;
    /** Blobs uploaded (completed uploads). */
    blobsUploaded: number;
    /** Blobs found already present (HEAD 200) and so not uploaded. */
    blobsSkipped: number;
    /** Blobs the registry mounted from another of its repositories, so not uploaded. */
    blobsMounted: number;
    /** Blobs downloaded and verified. */
    blobsDownloaded: number;
}

/** A fresh, zeroed stats object. */
export function newStats(): OciStats {
    return {
        requests: 0,
        byMethod: {},
        tokenRequests: 0,
        retries: 0,
        bytesUploaded: 0,
        bytesDownloaded: 0,
        blobsUploaded: 0,
        blobsSkipped: 0,
        blobsMounted: 0,
        blobsDownloaded: 0,
    };
}

/** One event per HTTP attempt, for logging and tests (`onRequest` hook). Never carries headers. */
export interface RequestEvent {
    method: string;
    /** Full URL without query string (upload state and digests live there; nothing secret, but long). */
    url: string;
    /** HTTP status, or undefined when the attempt failed before an answer. */
    status?: number;
    /** 1-based attempt number for this logical request. */
    attempt: number;
    /** True for requests to the token service. */
    token: boolean;
    /** Error code when the attempt failed without an answer (ECONNRESET, ETIMEDOUT…). */
    error?: string;
    durationMs: number;
}
