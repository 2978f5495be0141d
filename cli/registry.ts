/** Registry connection flags → client options, and the `--stats` line: for push, pull and diff. */
import * as fs from "node:fs";

import type { ClientOptions } from "../lib/oci/client";
import { loadDockerCredentials, parseCreds, type Credentials } from "../lib/oci/credentials";
import { parseOciUrl } from "../lib/oci/reference";
import { newStats, type OciStats } from "../lib/oci/stats";
import { redactor, str, UsageError, type Flags, type Io } from "./common";

/** Client options from the connection flags: creds from --creds, else the docker config. */
export function connection(f: Flags, url: string, io: Io): ClientOptions & { stats: OciStats } {
    const ref = parseOciUrl(url);
    let credentials: Credentials | undefined;
    const creds = str(f, "creds");
    if (creds !== undefined) credentials = parseCreds(creds);
    else credentials = loadDockerCredentials(ref.host);
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
