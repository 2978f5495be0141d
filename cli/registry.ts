/** Registry connection flags → client options, and the `--stats` line: for push, pull and diff. */
import * as fs from "node:fs";

import type { ClientOptions } from "../lib/oci/client";
import { loadDockerCredentials, parseCreds, type Credential } from "../lib/oci/credentials";
import { OciError } from "../lib/oci/errors";
import { parseOciUrl } from "../lib/oci/reference";
import { newStats, type OciStats } from "../lib/oci/stats";
import { redactor, str, UsageError, type Flags, type Io } from "./common";

/** `--creds USER:PASSWORD`; the error never echoes the value, which is a secret. */
function credsFlag(value: string): Credential {
    try {
        return parseCreds(value);
    } catch (e) {
        if (e instanceof OciError) throw new OciError("credentials", "invalid --creds: expected USER:PASSWORD (value not shown)");
        throw e;
    }
}

/** Client options from the connection flags: creds from --creds, else the docker config. */
export function connection(f: Flags, url: string, io: Io): ClientOptions & { stats: OciStats } {
    const ref = parseOciUrl(url);
    const creds = str(f, "creds");
    const credentials = creds !== undefined ? credsFlag(creds) : loadDockerCredentials(ref.host);
    redactor.addCredentials(credentials);
    const caFile = str(f, "ca-file");
    if (caFile !== undefined && !fs.existsSync(caFile)) throw new UsageError(`--ca-file ${caFile}: no such file`);
    return {
        credentials,
        insecure: f.insecure === true ? true : undefined,
        caFile,
        stats: newStats(),
        redactor,
        onRequest: f.verbose
            ? (e) => io.err(`${e.token ? "token " : ""}${e.method} ${e.url} -> ${e.status ?? e.error} (${e.durationMs} ms${e.attempt > 1 ? `, attempt ${e.attempt}` : ""})\n`)
            : undefined,
    };
}

export function printStats(f: Flags, stats: OciStats, io: Io): void {
    if (!f.stats) return;
    io.err(
        `stats: requests=${stats.requests} (${Object.entries(stats.byMethod)
            .map(([m, n]) => `${m}=${n}`)
            .join(" ")}) token_requests=${stats.tokenRequests} retries=${stats.retries} blobs_uploaded=${stats.blobsUploaded} blobs_skipped=${stats.blobsSkipped} bytes_uploaded=${stats.bytesUploaded} bytes_downloaded=${stats.bytesDownloaded}\n`,
    );
}
