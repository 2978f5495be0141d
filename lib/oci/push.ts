/**
 * Writing to a registry: `pushImage` (a whole artifact, checked: blobs first, manifest last, the
 * tag never moved silently), `resolveTag`, and the single steps `pushBlob` and `pushManifest` for
 * callers that assemble other manifests (signatures, attestations).
 */
import * as fs from "node:fs";

import { withClient, type ClientOptions } from "./client";
import { sha256Digest } from "./digest";
import { OciError } from "./errors";
import { isValidReference, isValidTag, parseOciUrl } from "./reference";
import type { OciStats } from "./stats";

/** A layer blob to push, stored in a file. */
export interface LayerBlob {
    digest: string;
    size: number;
    mediaType: string;
    /** File holding exactly the blob bytes (streamed, never loaded whole). */
    path: string;
}

/** Options of `pushImage`. Connection options (credentials, TLS, retries, stats) come from ClientOptions. */
export interface PushImageOptions extends ClientOptions {
    /** `oci://host[:port]/repository` (a `:tag` suffix is accepted if it equals `tag`). */
    url: string;
    tag: string;
    /** Manifest bytes exactly as they will be stored (their sha256 is the artifact digest). */
    manifest: Buffer;
    /** Config blob bytes. */
    config: Buffer;
    /** Config descriptor as the builder produced it; checked against `config` when given. */
    configDescriptor?: { mediaType: string; digest: string; size: number };
    layers: LayerBlob[];
    /** Move the tag even when it points at a different digest. */
    force?: boolean;
}

/** What `pushImage` did. */
export interface PushResult {
    /** `oci://host/repository` */
    url: string;
    host: string;
    repository: string;
    tag: string;
    /** Manifest digest now tagged. */
    digest: string;
    /** The tag already pointed at this digest: nothing was uploaded. */
    unchanged: boolean;
    /** Digest the tag pointed at before, if any. */
    previousDigest?: string;
    /** Blob digests uploaded. */
    uploaded: string[];
    /** Blob digests the registry already had. */
    skipped: string[];
    stats: OciStats;
}

interface ManifestShape {
    mediaType?: string;
    config?: { digest?: string; size?: number };
    layers?: { digest?: string; size?: number; mediaType?: string }[];
}

/**
 * Checks that manifest, config and layer files agree before talking to the registry, so a caller's
 * mistake fails here with a precise message instead of as a registry MANIFEST_BLOB_UNKNOWN.
 */
function validateInput(o: PushImageOptions): { mediaType: string } {
    let m: ManifestShape;
    try {
        m = JSON.parse(o.manifest.toString("utf8")) as ManifestShape;
    } catch {
        throw new OciError("invalid-input", "manifest is not valid JSON");
    }
    const configDigest = sha256Digest(o.config);
    if (m.config?.digest !== configDigest || m.config?.size !== o.config.length) {
        throw new OciError("invalid-input", `manifest config descriptor (${m.config?.digest}, ${m.config?.size} bytes) does not match the config given (${configDigest}, ${o.config.length} bytes)`);
    }
    if (o.configDescriptor && (o.configDescriptor.digest !== configDigest || o.configDescriptor.size !== o.config.length)) {
        throw new OciError("invalid-input", `config descriptor (${o.configDescriptor.digest}) does not match the config bytes (${configDigest})`);
    }
    for (const l of m.layers ?? []) {
        const given = o.layers.find((x) => x.digest === l.digest);
        if (!given) throw new OciError("invalid-input", `manifest references layer ${l.digest} but no file was given for it`);
        if (given.size !== l.size) throw new OciError("invalid-input", `layer ${l.digest}: manifest says ${l.size} bytes, given ${given.size}`);
        let st: fs.Stats;
        try {
            st = fs.statSync(given.path);
        } catch {
            throw new OciError("invalid-input", `layer file ${given.path} for ${l.digest} does not exist`);
        }
        if (st.size !== given.size) throw new OciError("invalid-input", `layer file ${given.path} has ${st.size} bytes, descriptor says ${given.size}`);
    }
    return { mediaType: m.mediaType ?? "application/vnd.oci.image.manifest.v1+json" };
}

/**
 * Pushes an artifact: manifest + config + layers, to `url:tag`.
 *
 * Order matters for readers: 1) HEAD the tag: same digest → done (one request, zero uploads);
 * other digest → refuse unless `force`. 2) HEAD each blob and upload only what is missing.
 * 3) Without `force`, HEAD the tag again (a concurrent push may have set it meanwhile: refuse).
 * 4) PUT the manifest last, so the tag never points at blobs that are not there yet.
 */
export async function pushImage(o: PushImageOptions): Promise<PushResult> {
    const ref = parseOciUrl(o.url);
    if (ref.digest) throw new OciError("reference", `push needs a tag, not a digest URL (${o.url})`);
    if (ref.tag && ref.tag !== o.tag) throw new OciError("reference", `URL tag "${ref.tag}" differs from tag "${o.tag}"`);
    if (!isValidTag(o.tag)) throw new OciError("reference", `invalid tag "${o.tag}"`);
    const { mediaType } = validateInput(o);
    const digest = sha256Digest(o.manifest);

    return withClient(ref, o, async (client) => {
        const current = await client.headManifest(o.tag, true);
        const base = { url: ref.url, host: ref.host, repository: ref.repository, tag: o.tag, digest, stats: client.stats };
        if (current?.digest === digest) {
            return { ...base, unchanged: true, previousDigest: current.digest, uploaded: [], skipped: [] };
        }
        if (current && !o.force) {
            throw new OciError(
                "tag-conflict",
                `tag "${o.tag}" in ${ref.url} already points at ${current.digest}, not at the pushed ${digest}`,
                { host: ref.host, repository: ref.repository, action: `push tag ${o.tag}`, reason: "tag-exists" },
            );
        }
        const blobs = [
            { digest: sha256Digest(o.config), size: o.config.length, data: o.config },
            ...o.layers.map((l) => ({ digest: l.digest, size: l.size, path: l.path })),
        ];
        const uploaded: string[] = [];
        const skipped: string[] = [];
        const seen = new Set<string>();
        for (const b of blobs) {
            if (seen.has(b.digest)) continue;
            seen.add(b.digest);
            if (await client.blobExists(b.digest)) {
                skipped.push(b.digest);
                client.stats.blobsSkipped++;
                continue;
            }
            await client.uploadBlob(b);
            uploaded.push(b.digest);
        }
        if (!o.force) {
            // Another push may have tagged while we uploaded. Registries offer no compare-and-swap on
            // tags, so look again right before the PUT: this shrinks the race from the whole upload to
            // one round trip, and the loser of a slower race is refused instead of silently moving
            // the tag.
            const now = await client.headManifest(o.tag, true);
            if (now?.digest === digest) {
                return { ...base, unchanged: false, previousDigest: current?.digest, uploaded, skipped };
            }
            if (now && now.digest !== current?.digest) {
                throw new OciError(
                    "tag-conflict",
                    `tag "${o.tag}" in ${ref.url} was set to ${now.digest} by another push while this one uploaded ${digest}; ` +
                        "nothing was moved (the blobs stay, untagged)",
                    { host: ref.host, repository: ref.repository, action: `push tag ${o.tag}`, reason: "tag-exists" },
                );
            }
        }
        await client.putManifest(o.tag, o.manifest, mediaType);
        return { ...base, unchanged: false, previousDigest: current?.digest, uploaded, skipped };
    });
}

/** Options of `resolveTag`. */
export interface ResolveTagOptions extends ClientOptions {
    url: string;
    tag: string;
}

/** HEADs `url:tag` and returns the manifest digest, or undefined when the tag does not exist. */
export async function resolveTag(o: ResolveTagOptions): Promise<string | undefined> {
    const ref = parseOciUrl(o.url);
    if (!isValidTag(o.tag)) throw new OciError("reference", `invalid tag "${o.tag}"`);
    return withClient(ref, o, async (client) => (await client.headManifest(o.tag))?.digest);
}

/** Options of `pushBlob`. */
export interface PushBlobOptions extends ClientOptions {
    /** `oci://host[:port]/repository`. */
    url: string;
    /** The blob: bytes in memory, or a file (streamed) with its digest and size. */
    blob: { data: Buffer } | { path: string; digest: string; size: number };
}

/** What `pushBlob` did. */
export interface PushBlobResult {
    digest: string;
    size: number;
    /** False when the repository already had the blob. */
    uploaded: boolean;
    stats: OciStats;
}

/** Uploads one blob unless the repository already has it. */
export async function pushBlob(o: PushBlobOptions): Promise<PushBlobResult> {
    const ref = parseOciUrl(o.url);
    const blob = "data" in o.blob ? { digest: sha256Digest(o.blob.data), size: o.blob.data.length, data: o.blob.data } : o.blob;
    return withClient(ref, o, async (client) => {
        const present = await client.blobExists(blob.digest);
        if (present) client.stats.blobsSkipped++;
        else await client.uploadBlob(blob);
        return { digest: blob.digest, size: blob.size, uploaded: !present, stats: client.stats };
    });
}

/** Options of `pushManifest`. */
export interface PushManifestOptions extends ClientOptions {
    /** `oci://host[:port]/repository`. */
    url: string;
    /** Tag or digest to store the manifest under. */
    reference: string;
    /** Manifest bytes exactly as they will be stored (their sha256 is the digest). */
    manifest: Buffer;
    /** Defaults to the manifest's own `mediaType`, else the OCI image manifest type. */
    mediaType?: string;
}

/**
 * PUTs one manifest under a tag or digest, whatever the tag pointed at before; the blobs it
 * references must be pushed first. (`pushImage` is the checked push of a whole artifact.)
 * Returns the manifest digest.
 */
export async function pushManifest(o: PushManifestOptions): Promise<{ digest: string; stats: OciStats }> {
    const ref = parseOciUrl(o.url);
    if (!isValidReference(o.reference)) throw new OciError("reference", `invalid tag or digest "${o.reference}"`);
    let mediaType = o.mediaType;
    if (mediaType === undefined) {
        try {
            mediaType = (JSON.parse(o.manifest.toString("utf8")) as { mediaType?: string }).mediaType;
        } catch {
            throw new OciError("invalid-input", "manifest is not valid JSON");
        }
    }
    const type = mediaType ?? "application/vnd.oci.image.manifest.v1+json";
    return withClient(ref, o, async (client) => ({ digest: await client.putManifest(o.reference, o.manifest, type), stats: client.stats }));
}
