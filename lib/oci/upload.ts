/**
 * Blob uploads (distribution spec "pushing blobs"): POST a session, then one monolithic PUT, or
 * PATCH chunks and a closing PUT. A session's requests cannot be resent on their own, so the
 * retry policy runs whole sessions: a failed upload starts over from a fresh POST.
 */
import * as fs from "node:fs";

import { OciError } from "./errors";
import { responseError } from "./responses";
import type { HttpResponse, RequestBody } from "./transport/http";
import type { Transport } from "./transport/transport";

/** A blob to upload: bytes in memory, or a file streamed (never loaded whole). */
export interface UploadBlob {
    digest: string;
    size: number;
    path?: string;
    data?: Buffer;
}

/** Where and how to upload. */
export interface UploadTarget {
    transport: Transport;
    /** `/v2/<repository>/blobs/uploads/` on the registry. */
    uploadsUrl: () => URL;
    /** Token scope of the push. */
    scope: string;
    /** "auto" (default): monolithic PUT, chunked PATCH if the registry refuses it. */
    mode?: "auto" | "monolithic" | "chunked";
    /** Chunk size for chunked uploads. Defaults to 8 MiB (raised to the registry's OCI-Chunk-Min-Length). */
    chunkSize?: number;
}

/** Answers to a monolithic PUT that mean "this registry wants chunks". */
const MONOLITHIC_REFUSED = [405, 411, 413, 415, 501];

function withDigest(location: URL, digest: string): URL {
    const u = new URL(location.toString());
    u.searchParams.set("digest", digest);
    return u;
}

/** Uploads one blob. Throws the last session's error, saying how many sessions were tried. */
export async function uploadBlob(t: UploadTarget, blob: UploadBlob): Promise<void> {
    const tr = t.transport;
    const open = (start = 0, end = blob.size): RequestBody => {
        if (blob.data) return blob.data.subarray(start, end);
        const p = blob.path!;
        return { size: end - start, open: () => fs.createReadStream(p, { start, end: Math.max(start, end - 1) }) };
    };
    const fail = (res: HttpResponse, action: string) => responseError(tr, res, action);
    const send = (method: string, url: URL, body?: RequestBody, headers?: Record<string, string>) =>
        tr.send({ method, url, body, headers, scope: t.scope, retry: false });

    const start = async (): Promise<{ location: URL; minChunk: number }> => {
        const res = await send("POST", t.uploadsUrl());
        if (res.status !== 202) throw fail(res, "start a blob upload");
        const loc = res.headers.location;
        if (!loc) throw tr.fail("registry", `registry ${tr.target.host} started an upload without a Location header`);
        const min = Number(res.headers["oci-chunk-min-length"] ?? 0);
        return { location: new URL(loc, res.url), minChunk: Number.isFinite(min) ? min : 0 };
    };

    const chunked = async (first: URL, minChunk: number): Promise<void> => {
        const chunk = Math.max(t.chunkSize ?? 8 << 20, minChunk);
        let location = first;
        for (let offset = 0; offset < blob.size; offset += chunk) {
            const end = Math.min(blob.size, offset + chunk);
            const res = await send("PATCH", location, open(offset, end), {
                "Content-Type": "application/octet-stream",
                "Content-Range": `${offset}-${end - 1}`,
            });
            if (res.status !== 202) throw fail(res, `upload chunk ${offset}-${end - 1} of blob ${blob.digest}`);
            if (res.headers.location) location = new URL(res.headers.location, res.url);
        }
        const res = await send("PUT", withDigest(location, blob.digest));
        if (res.status !== 201 && res.status !== 204) throw fail(res, `finish upload of blob ${blob.digest}`);
    };

    let mode = t.mode ?? "auto";
    let sessions = 0;
    try {
        await tr.retry.run(async (attempt) => {
            sessions = attempt;
            let session = await start();
            if (mode !== "chunked") {
                const res = await send("PUT", withDigest(session.location, blob.digest), open(), { "Content-Type": "application/octet-stream" });
                if (res.status === 201 || res.status === 204) return;
                if (mode !== "auto" || !MONOLITHIC_REFUSED.includes(res.status)) throw fail(res, `upload blob ${blob.digest}`);
                // Not a failure: this registry takes chunks only. Switch for good, in a new session.
                mode = "chunked";
                session = await start();
            }
            await chunked(session.location, session.minChunk);
        });
    } catch (e) {
        // The message's own attempt count is per request; say how many sessions were tried.
        if (sessions > 1 && e instanceof OciError) e.message = `${e.message}; gave up after ${sessions} upload attempts`;
        throw e;
    }
    tr.stats.blobsUploaded++;
}
