/**
 * Copies an image between repositories, on one registry or across two, without changing a byte:
 * the manifest is put exactly as fetched, so its digest is the same everywhere, and each blob is
 * mounted (same registry: nothing travels), found already present, or streamed through a
 * temporary file (digest-checked on the way in, never decompressed or rebuilt). What promotion
 * between environments needs, and what makes a signature stay valid (it names the digest).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { withClient, type ClientOptions } from "./client";
import { OciError } from "./errors";
import { isValidDigest } from "./digest";
import { isValidTag, parseOciUrl } from "./reference";
import type { OciStats } from "./stats";

/** One end of a copy: where, and how to reach it (each end has its own credentials and TLS). */
export interface CopyEndpoint extends ClientOptions {
    /** `oci://host[:port]/repository`. */
    url: string;
}

export interface CopyImageOptions {
    from: CopyEndpoint & {
        /** The manifest digest to copy (`sha256:…`). The source tag is not trusted: promotion copies what was tested. */
        digest: string;
    };
    to: CopyEndpoint & {
        /** The tag to point at the copy. */
        tag: string;
        /** Move the tag when it points at other content (as a push would); without it, such a copy is refused before any write. */
        force?: boolean;
    };
}

export interface CopyImageResult {
    digest: string;
    /** The tag already pointed at this digest: nothing was written. */
    unchanged: boolean;
    /** Blobs by digest, by what happened to each. */
    mounted: string[];
    copied: string[];
    present: string[];
    stats: { from: OciStats; to: OciStats };
}

interface Descriptor {
    digest: string;
    size: number;
}

/** The blobs an image manifest references (config, layers); an index is refused: artifacts are single manifests. */
function blobsOf(body: Buffer, where: string): Descriptor[] {
    let parsed: { config?: Descriptor; layers?: Descriptor[]; manifests?: unknown };
    try {
        parsed = JSON.parse(body.toString("utf8"));
    } catch {
        throw new OciError("registry", `manifest ${where} is not JSON`);
    }
    if (parsed.manifests !== undefined) throw new OciError("registry", `${where} is an image index; only a single manifest (a Flux artifact) can be copied`);
    const blobs = [parsed.config, ...(parsed.layers ?? [])];
    for (const b of blobs) {
        if (!b || !isValidDigest(b.digest) || !Number.isSafeInteger(b.size) || b.size < 0) throw new OciError("registry", `manifest ${where} has a malformed config or layer descriptor`);
    }
    return blobs as Descriptor[];
}

/** Copies `from.digest` to `to` and tags it `to.tag`; the copy's digest is `from.digest` or this throws. */
export async function copyImage(o: CopyImageOptions): Promise<CopyImageResult> {
    const from = parseOciUrl(o.from.url);
    const to = parseOciUrl(o.to.url);
    if (!isValidDigest(o.from.digest)) throw new OciError("reference", `invalid digest "${o.from.digest}"`);
    if (!isValidTag(o.to.tag)) throw new OciError("reference", `invalid tag "${o.to.tag}"`);
    const sameRegistry = from.host === to.host;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "oci-copy-"));
    try {
        return await withClient(from, o.from, (source) =>
            withClient(to, o.to, async (target) => {
                const manifest = await source.getManifest(o.from.digest);
                if (manifest.digest !== o.from.digest) {
                    throw new OciError("digest-mismatch", `${from.url}@${o.from.digest} came back as ${manifest.digest}`);
                }
                const result: CopyImageResult = { digest: manifest.digest, unchanged: false, mounted: [], copied: [], present: [], stats: { from: source.stats, to: target.stats } };
                const current = await target.headManifest(o.to.tag, true);
                if (current?.digest === manifest.digest) return { ...result, unchanged: true };
                if (current && !o.to.force) {
                    throw new OciError("tag-conflict", `tag "${o.to.tag}" in ${to.url} already points at ${current.digest}, not at the copied ${manifest.digest}`, {
                        host: to.host, repository: to.repository, action: `copy to tag ${o.to.tag}`, reason: "tag-exists",
                    });
                }
                for (const blob of blobsOf(manifest.body, `${from.url}@${o.from.digest}`)) {
                    if (await target.blobExists(blob.digest)) {
                        result.present.push(blob.digest);
                    } else if (sameRegistry && from.repository !== to.repository && (await target.mountBlob(blob.digest, from.repository))) {
                        result.mounted.push(blob.digest);
                    } else {
                        const file = path.join(tmp, blob.digest.replace(":", "-"));
                        await source.downloadBlob(blob.digest, file, blob.size);
                        await target.uploadBlob({ digest: blob.digest, size: blob.size, path: file });
                        fs.rmSync(file, { force: true });
                        result.copied.push(blob.digest);
                    }
                }
                const mediaType = manifest.mediaType ?? "application/vnd.oci.image.manifest.v1+json";
                const put = await target.putManifest(o.to.tag, manifest.body, mediaType);
                if (put !== manifest.digest) throw new OciError("digest-mismatch", `${to.url}:${o.to.tag} stored the manifest as ${put}, expected ${manifest.digest}`);
                return result;
            }),
        );
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}
