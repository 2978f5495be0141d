/**
 * The client's one retry policy: which failures are transient, how many attempts, how long to
 * wait (exponential backoff with jitter, or the registry's Retry-After up to a limit). The
 * transport runs every idempotent request through it; a blob upload, whose PUT cannot be resent
 * to the same session, runs whole upload sessions through it instead.
 */
import { OciError } from "../errors";

/** Retry policy for network errors, 5xx, 408 and 429. */
export interface RetryOptions {
    /** Total attempts per request, first included. Defaults to 4. */
    attempts?: number;
    /** First backoff delay; doubles each attempt, with jitter. Defaults to 250. */
    baseDelayMs?: number;
    /** Backoff ceiling. Defaults to 5 000. */
    maxDelayMs?: number;
    /** Longest Retry-After honoured; longer ones fail instead of hanging. Defaults to 30 000. */
    maxRetryAfterMs?: number;
}

/** What went wrong with one attempt, as far as retrying is concerned. */
export interface Failure {
    /** HTTP status of the answer, if there was one. */
    status?: number;
    /** System error code when there was no answer (ECONNRESET, OCI_IDLE_TIMEOUT…). */
    errno?: string;
    /** The answer's Retry-After, in milliseconds. */
    retryAfterMs?: number;
}

const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const TRANSIENT_ERRNO = new Set([
    "ECONNRESET",
    "EPIPE",
    "ETIMEDOUT",
    "ECONNABORTED",
    "EAI_AGAIN",
    "ERR_STREAM_PREMATURE_CLOSE",
    "OCI_IDLE_TIMEOUT",
    "OCI_CONNECT_TIMEOUT",
    "UND_ERR_SOCKET",
]);

/** True for failures that may go away by themselves: a dropped or stalled connection, 5xx, 408, 429. */
export function isTransient(f: Failure): boolean {
    return (f.status !== undefined && TRANSIENT_STATUS.has(f.status)) || (f.errno !== undefined && TRANSIENT_ERRNO.has(f.errno));
}

/** Parses Retry-After (delta seconds or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
    if (!value) return undefined;
    const v = value.trim();
    if (/^\d+$/.test(v)) return Number(v) * 1000;
    const t = Date.parse(v);
    if (Number.isNaN(t)) return undefined;
    return Math.max(0, t - now);
}

function failureOfError(e: unknown): Failure {
    return e instanceof OciError ? { status: e.status, errno: e.errno, retryAfterMs: e.retryAfterMs } : {};
}

function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}

export class RetryPolicy {
    readonly attempts: number;
    private readonly baseDelayMs: number;
    private readonly maxDelayMs: number;
    private readonly maxRetryAfterMs: number;

    /** @param counters where each retry is counted (the client's stats) */
    constructor(o: RetryOptions = {}, private readonly counters: { retries: number } = { retries: 0 }) {
        this.attempts = Math.max(1, o.attempts ?? 4);
        this.baseDelayMs = o.baseDelayMs ?? 250;
        this.maxDelayMs = o.maxDelayMs ?? 5_000;
        this.maxRetryAfterMs = o.maxRetryAfterMs ?? 30_000;
    }

    /**
     * How long to wait before the attempt after `attempt` failed with `f`, or undefined to give up:
     * the failure is not transient, the attempts are spent, or the registry asks for a longer
     * pause than the policy allows.
     */
    delayAfter(f: Failure, attempt: number): number | undefined {
        if (!isTransient(f) || attempt >= this.attempts) return undefined;
        if (f.retryAfterMs !== undefined) return f.retryAfterMs > this.maxRetryAfterMs ? undefined : f.retryAfterMs;
        const exp = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
        // Jitter between half and the full delay, so parallel clients do not retry in lock step.
        return Math.round(exp / 2 + Math.random() * (exp / 2));
    }

    /**
     * Runs `op` until it succeeds or the policy gives up. A thrown OciError is judged by its status,
     * errno and Retry-After; a returned value by `failureOf` (an answer the caller maps itself,
     * such as a 503). When the policy gives up, the last error is thrown or the last value returned.
     */
    async run<T>(op: (attempt: number) => Promise<T>, failureOf: (result: T) => Failure | undefined = () => undefined): Promise<T> {
        for (let attempt = 1; ; attempt++) {
            let delay: number | undefined;
            try {
                const result = await op(attempt);
                const f = failureOf(result);
                delay = f === undefined ? undefined : this.delayAfter(f, attempt);
                if (delay === undefined) return result;
            } catch (e) {
                delay = this.delayAfter(failureOfError(e), attempt);
                if (delay === undefined) throw e;
            }
            this.counters.retries++;
            await sleep(delay);
        }
    }
}
