/**
 * The registry API for one repository (distribution spec v1.0/1.1): tags, manifests and blobs,
 * each answer checked (digests, sizes) and each refusal turned into an OciError. How requests
 * travel (scheme, auth, retries, timeouts) is the transport's business (`transport/`).
 */
import * as fs from "node:fs";
import { pipeline } from "node:stream/promises";

import { sha256Digest, sha256Hasher } from "./digest";
import type { OciError } from "./errors";
import { parseOciUrl, type OciReference } from "./reference";
import { responseError } from "./responses";
import type { OciStats } from "./stats";
import type { HttpResponse } from "./transport/http";
import type { Redactor } from "./transport/redact";
import { repositoryScope } from "./transport/tokens";
import { Transport, type TransportOptions } from "./transport/transport";
import { uploadBlob, type UploadBlob } from "./upload";

/** Media types the client accepts for manifests: OCI first, Docker v2 for older registries/tools. */
export const MANIFEST_ACCEPT = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

/** Options shared by every operation of the client: how to reach the registry, and how to upload. */
export interface ClientOptions extends TransportOptions {
    /** Blob upload strategy. "auto" (default): monolithic PUT, chunked PATCH if the registry refuses it. */
    uploadMode?: "auto" | "monolithic" | "chunked";
    /** Chunk size for chunked uploads. Defaults to 8 MiB (raised to the registry's OCI-Chunk-Min-Length). */
    chunkSize?: number;
}

/** A manifest as fetched: its exact bytes, their digest and the media type. */
export interface FetchedManifest {
    body: Buffer;
    digest: string;
    mediaType?: string;
}

/** A client for one repository of an OCI registry. It owns keep-alive agents: call `close()` when done. */
export class RegistryClient {
    readonly ref: OciReference;
    readonly stats: OciStats;
    readonly redactor: Redactor;
    private readonly transport: Transport;

    constructor(
        ref: OciReference | string,
        private readonly opts: ClientOptions = {},
    ) {
        this.ref = typeof ref === "string" ? parseOciUrl(ref) : ref;
        this.transport = new Transport({ host: this.ref.host, repository: this.ref.repository, loopback: this.ref.loopback }, opts);
        this.stats = this.transport.stats;
        this.redactor = this.transport.redactor;
    }

    /** Releases keep-alive sockets so the process can exit. */
    close(): void {
        this.transport.close();
    }

    /** `<scheme>://host/v2/<repository>/<suffix>` */
    url(suffix: string): URL {
        return this.transport.url(`/v2/${this.ref.repository}/${suffix}`);
    }

    private scope(forPush: boolean): string {
        return repositoryScope(this.ref.repository, forPush);
    }

    private refused(res: HttpResponse, action: string): OciError {
        return responseError(this.transport, res, action);
    }

    /**
     * Every tag of the repository (`/v2/<repo>/tags/list`, following `Link` pagination). An absent
     * repository has no tags.
     */
    async listTags(): Promise<string[]> {
        const tags: string[] = [];
        let url: URL | undefined = this.url("tags/list?n=1000");
        while (url) {
            const res = await this.transport.send({ method: "GET", url, headers: { Accept: "application/json" }, scope: this.scope(false) });
            if (res.status === 404) return tags;
            if (res.status !== 200) throw this.refused(res, "list tags");
            const body = JSON.parse(res.body.toString("utf8")) as { tags?: string[] | null };
            tags.push(...(body.tags ?? []));
            const next = /<([^>]+)>;\s*rel="?next"?/.exec(String(res.headers.link ?? ""));
            url = next ? new URL(next[1], res.url) : undefined;
        }
        return tags;
    }

    /**
     * HEAD a manifest by tag or digest. Returns its digest, media type and size, or undefined on 404.
     * Falls back to a GET (hashing the body) only when the registry omits Docker-Content-Digest.
     */
    async headManifest(reference: string, forPush = false): Promise<{ digest: string; mediaType?: string; size?: number } | undefined> {
        const res = await this.transport.send({ method: "HEAD", url: this.url(`manifests/${reference}`), headers: { Accept: MANIFEST_ACCEPT }, scope: this.scope(forPush) });
        if (res.status === 404) return undefined;
        if (res.status !== 200) throw this.refused(res, `look up manifest ${reference}`);
        const digest = res.headers["docker-content-digest"] as string | undefined;
        const mediaType = (res.headers["content-type"] as string | undefined)?.split(";")[0];
        const size = res.headers["content-length"] ? Number(res.headers["content-length"]) : undefined;
        if (digest) return { digest, mediaType, size };
        const got = await this.getManifest(reference, forPush);
        return { digest: got.digest, mediaType: got.mediaType, size: got.body.length };
    }

    /** GET a manifest; verifies the body against the requested digest and Docker-Content-Digest. */
    async getManifest(reference: string, forPush = false): Promise<FetchedManifest> {
        const res = await this.transport.send({ method: "GET", url: this.url(`manifests/${reference}`), headers: { Accept: MANIFEST_ACCEPT }, scope: this.scope(forPush) });
        if (res.status !== 200) throw this.refused(res, `get manifest ${reference}`);
        const digest = sha256Digest(res.body);
        const header = res.headers["docker-content-digest"] as string | undefined;
        if (reference.startsWith("sha256:") && reference !== digest) {
            throw this.transport.fail("digest-mismatch", `manifest ${reference} from ${this.ref.host}/${this.ref.repository} has digest ${digest}`);
        }
        if (header && header.startsWith("sha256:") && header !== digest) {
            throw this.transport.fail("digest-mismatch", `manifest ${reference}: registry says ${header} but the body hashes to ${digest}`);
        }
        return { body: res.body, digest, mediaType: (res.headers["content-type"] as string | undefined)?.split(";")[0] };
    }

    /** PUT a manifest under a tag (or digest); returns the digest the registry acknowledged. */
    async putManifest(reference: string, body: Buffer, mediaType: string): Promise<string> {
        const res = await this.transport.send({
            method: "PUT",
            url: this.url(`manifests/${reference}`),
            headers: { "Content-Type": mediaType },
            body,
            scope: this.scope(true),
        });
        if (res.status !== 201 && res.status !== 200) throw this.refused(res, `push manifest ${reference}`);
        const digest = sha256Digest(body);
        const header = res.headers["docker-content-digest"] as string | undefined;
        if (header && header !== digest) {
            throw this.transport.fail("digest-mismatch", `registry stored manifest ${reference} as ${header}, expected ${digest}`);
        }
        return digest;
    }

    /** HEAD a blob: true when the repository already has it. */
    async blobExists(digest: string, forPush = true): Promise<boolean> {
        const res = await this.transport.send({ method: "HEAD", url: this.url(`blobs/${digest}`), scope: this.scope(forPush) });
        if (res.status === 200) return true;
        if (res.status === 404) return false;
        throw this.refused(res, `check blob ${digest}`);
    }

    /**
     * Uploads one blob (`upload.ts`): one monolithic PUT per blob, or chunks when the registry
     * refuses that; a failed upload restarts from a fresh session.
     */
    async uploadBlob(blob: UploadBlob): Promise<void> {
        await uploadBlob(
            {
                transport: this.transport,
                uploadsUrl: () => this.url("blobs/uploads/"),
                scope: this.scope(true),
                mode: this.opts.uploadMode,
                chunkSize: this.opts.chunkSize,
            },
            blob,
        );
    }

    /**
     * Asks the registry to mount `digest` from another of its repositories (distribution spec
     * "mounting a blob from another repository"): true when it did (201), so nothing travels.
     * False when it declined: it opened an upload session instead (202; closed again here), or the
     * credentials may not read the other repository. The caller then copies the bytes.
     */
    async mountBlob(digest: string, fromRepository: string): Promise<boolean> {
        const url = this.url("blobs/uploads/");
        url.searchParams.set("mount", digest);
        url.searchParams.set("from", fromRepository);
        const res = await this.transport.send({ method: "POST", url, scope: this.scope(true), retry: false });
        if (res.status === 201) {
            this.stats.blobsMounted++;
            return true;
        }
        if (res.status === 202 && res.headers.location) {
            // Best effort: an abandoned session is only garbage for the registry to collect.
            await this.transport.send({ method: "DELETE", url: new URL(res.headers.location, res.url), scope: this.scope(true), retry: false }).catch(() => undefined);
        }
        return false;
    }

    /** GET a small blob into memory, verifying its digest (and size when given). */
    async getBlob(digest: string, size?: number): Promise<Buffer> {
        const res = await this.transport.send({ method: "GET", url: this.url(`blobs/${digest}`), scope: this.scope(false) });
        if (res.status !== 200) throw this.refused(res, `get blob ${digest}`);
        const got = sha256Digest(res.body);
        if (got !== digest || (size !== undefined && res.body.length !== size)) {
            throw this.transport.fail("digest-mismatch", `blob ${digest} from ${this.ref.host}/${this.ref.repository} hashes to ${got} (${res.body.length} bytes)`);
        }
        this.stats.blobsDownloaded++;
        return res.body;
    }

    /** Streams a blob to `file`, hashing as it goes; deletes the file and throws on a digest or size mismatch. */
    async downloadBlob(digest: string, file: string, size?: number): Promise<void> {
        let hash = "";
        let written = 0;
        const res = await this.transport.send({
            method: "GET",
            url: this.url(`blobs/${digest}`),
            scope: this.scope(false),
            sink: async (stream) => {
                const h = sha256Hasher();
                written = 0;
                stream.on("data", (c: Buffer) => {
                    h.update(c);
                    written += c.length;
                    this.stats.bytesDownloaded += c.length;
                });
                await pipeline(stream, fs.createWriteStream(file));
                hash = h.digest();
            },
        });
        if (res.status !== 200) throw this.refused(res, `get blob ${digest}`);
        if (hash !== digest || (size !== undefined && written !== size)) {
            fs.rmSync(file, { force: true });
            throw this.transport.fail("digest-mismatch", `blob ${digest} from ${this.ref.host}/${this.ref.repository} hashes to ${hash} (${written} bytes)`);
        }
        this.stats.blobsDownloaded++;
    }
}

/**
 * Runs `use` with a client for `ref`, then closes it; whatever it throws goes through the client's
 * redactor first (a Node error can quote a header).
 */
export async function withClient<T>(ref: OciReference | string, opts: ClientOptions, use: (client: RegistryClient) => Promise<T>): Promise<T> {
    const client = new RegistryClient(ref, opts);
    try {
        return await use(client);
    } catch (e) {
        throw client.redactor.redactError(e);
    } finally {
        client.close();
    }
}
