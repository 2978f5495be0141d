/**
 * Reading from a registry: `pullImage` (a whole single-manifest artifact, every blob verified),
 * and the single steps `fetchManifest` and `fetchBlob`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { withClient, type ClientOptions, type FetchedManifest } from "./client";
import { OciError } from "./errors";
import { isValidDigest, isValidReference, parseOciUrl } from "./reference";
import type { OciStats } from "./stats";

/** Options of `pullImage`: a tag or a digest (or either inside `url`). */
export interface PullImageOptions extends ClientOptions {
    url: string;
    tag?: string;
    digest?: string;
    /** Where blobs are written. A fresh temp dir when absent (remove it with `cleanup()`). */
    outputDir?: string;
}

/** A descriptor from the manifest. */
export interface Descriptor {
    mediaType: string;
    digest: string;
    size: number;
    annotations?: Record<string, string>;
}

/** A downloaded, verified layer. */
export interface PulledLayer extends Descriptor {
    /** File holding the layer bytes. */
    path: string;
}

/** What `pullImage` returns. */
export interface PulledImage {
    url: string;
    repository: string;
    /** Tag or digest that was asked for. */
    reference: string;
    manifest: Buffer;
    manifestDigest: string;
    /** Manifest media type (from the body, else the Content-Type). */
    mediaType: string;
    config: Buffer;
    configDescriptor: Descriptor;
    layers: PulledLayer[];
    /** Manifest annotations (Flux: org.opencontainers.image.source / revision / created). */
    annotations: Record<string, string>;
    /** Directory holding the layer files. */
    dir: string;
    /** Removes `dir` if pullImage created it. */
    cleanup: () => void;
    stats: OciStats;
}

/**
 * Pulls a single-manifest artifact: manifest (digest-checked), config (in memory) and layers
 * (streamed to files, each digest- and size-checked). Image indexes are refused: Flux artifacts are
 * single manifests, and guessing a platform would be wrong.
 */
export async function pullImage(o: PullImageOptions): Promise<PulledImage> {
    const ref = parseOciUrl(o.url);
    const reference = o.digest ?? ref.digest ?? o.tag ?? ref.tag;
    if (!reference) throw new OciError("reference", `pull needs a tag or a digest for ${ref.url}`);
    if (!isValidReference(reference)) throw new OciError("reference", `invalid tag or digest "${reference}"`);
    return withClient(ref, o, async (client) => {
        const created = !o.outputDir;
        const dir = o.outputDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "oci-pull-"));
        const cleanup = () => {
            if (created) fs.rmSync(dir, { recursive: true, force: true });
        };
        try {
            fs.mkdirSync(dir, { recursive: true });
            const m = await client.getManifest(reference);
            let parsed: { mediaType?: string; config?: Descriptor; layers?: Descriptor[]; annotations?: Record<string, string>; manifests?: unknown };
            try {
                parsed = JSON.parse(m.body.toString("utf8"));
            } catch {
                throw new OciError("registry", `manifest ${reference} in ${ref.url} is not JSON`);
            }
            const mediaType = parsed.mediaType ?? m.mediaType ?? "application/vnd.oci.image.manifest.v1+json";
            if (parsed.manifests || /index|list/.test(mediaType)) {
                throw new OciError("registry", `${ref.url}:${reference} is an image index (${mediaType}), not an artifact manifest`);
            }
            if (!parsed.config?.digest || !isValidDigest(parsed.config.digest)) {
                throw new OciError("registry", `manifest ${reference} in ${ref.url} has no valid config descriptor`);
            }
            const config = await client.getBlob(parsed.config.digest, parsed.config.size);
            const layers: PulledLayer[] = [];
            for (const l of parsed.layers ?? []) {
                if (!isValidDigest(l.digest)) throw new OciError("registry", `manifest layer has an invalid digest "${l.digest}"`);
                // The digest is validated above, so it is safe as a file name (no separators).
                const file = path.join(dir, l.digest.replace(":", "-"));
                await client.downloadBlob(l.digest, file, l.size);
                layers.push({ ...l, path: file });
            }
            return {
                url: ref.url,
                repository: ref.repository,
                reference,
                manifest: m.body,
                manifestDigest: m.digest,
                mediaType,
                config,
                configDescriptor: parsed.config,
                layers,
                annotations: parsed.annotations ?? {},
                dir,
                cleanup,
                stats: client.stats,
            };
        } catch (e) {
            cleanup();
            throw e;
        }
    });
}

/** Options of `fetchManifest`. */
export interface FetchManifestOptions extends ClientOptions {
    /** `oci://host[:port]/repository`. */
    url: string;
    /** Tag or digest. */
    reference: string;
}

/** GETs one manifest (digest-checked), or undefined when the tag or digest does not exist. */
export async function fetchManifest(o: FetchManifestOptions): Promise<FetchedManifest | undefined> {
    const ref = parseOciUrl(o.url);
    if (!isValidReference(o.reference)) throw new OciError("reference", `invalid tag or digest "${o.reference}"`);
    return withClient(ref, o, async (client) => {
        try {
            return await client.getManifest(o.reference);
        } catch (e) {
            if (e instanceof OciError && e.code === "not-found") return undefined;
            throw e;
        }
    });
}

/** Options of `fetchBlob`. */
export interface FetchBlobOptions extends ClientOptions {
    /** `oci://host[:port]/repository`. */
    url: string;
    digest: string;
    /** Expected size in bytes, checked when given. */
    size?: number;
}

/** GETs one small blob into memory, verifying its digest (and size when given). */
export async function fetchBlob(o: FetchBlobOptions): Promise<Buffer> {
    const ref = parseOciUrl(o.url);
    if (!isValidDigest(o.digest)) throw new OciError("reference", `invalid digest "${o.digest}"`);
    return withClient(ref, o, (client) => client.getBlob(o.digest, o.size));
}
