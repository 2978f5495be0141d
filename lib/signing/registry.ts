/**
 * Signatures in the registry: write the classic cosign signature artifact for a pushed manifest,
 * read it back, and verify a tag or digest. Registry traffic goes through lib/oci's public API
 * only (pushImage, pullImage, resolveTag), with the caller's connection options.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { OciError, parseOciUrl, pullImage, pushImage, resolveTag, type ClientOptions, type PushResult } from "../oci";
import { SigningError } from "./errors";
import type { PublicKey, SigningKey } from "./keys";
import { MAX_PAYLOAD_BYTES, parseSimpleSigningPayload, simpleSigningPayload } from "./payload";
import { signPayload } from "./signature";
import { MAX_SIGNATURE_LAYERS, buildSignatureImage, signatureLayer, signatureTag, type SignatureLayer } from "./signatureImage";
import { verifySignatureLayers, type Verification } from "./verify";

/** The signature artifact found for a manifest. */
export interface FoundSignatures {
    /** `sha256-<hex>.sig` */
    tag: string;
    /** Digest of the signature manifest; undefined when the tag does not exist. */
    manifestDigest?: string;
    layers: SignatureLayer[];
}

/** Options of `readSignatures`. */
export interface ReadSignaturesOptions extends ClientOptions {
    /** `oci://host[:port]/repository` of the signed artifact. */
    url: string;
    /** Manifest digest whose signatures to read. */
    digest: string;
}

/** The signatures stored for `digest` (none when its signature tag does not exist). */
export async function readSignatures(o: ReadSignaturesOptions): Promise<FoundSignatures> {
    const { url, digest, ...client } = o;
    const ref = parseOciUrl(url);
    const tag = signatureTag(digest);
    const manifestDigest = await resolveTag({ ...client, url: ref.url, tag });
    if (!manifestDigest) return { tag, layers: [] };
    // Pinned by digest: what is read is what was resolved, even if the tag moves meanwhile.
    const pulled = await pullImage({ ...client, url: ref.url, digest: manifestDigest });
    try {
        if (pulled.layers.length > MAX_SIGNATURE_LAYERS) {
            throw new SigningError("signature", `${ref.url}:${tag} has ${pulled.layers.length} layers, more than cosign's limit of ${MAX_SIGNATURE_LAYERS}`);
        }
        const layers = pulled.layers.map((l) => ({
            mediaType: l.mediaType,
            payload: l.size <= MAX_PAYLOAD_BYTES ? fs.readFileSync(l.path) : undefined,
            annotations: l.annotations ?? {},
        }));
        return { tag, manifestDigest, layers };
    } finally {
        pulled.cleanup();
    }
}

/** Options of `verifyArtifact`: a tag (resolved now) or a digest. */
export interface VerifyArtifactOptions extends ClientOptions {
    url: string;
    tag?: string;
    digest?: string;
    /** Trusted keys: a signature by any of them counts. */
    publicKeys: PublicKey[];
}

/** What `verifyArtifact` returns: the verdict, plus where it looked. */
export interface ArtifactVerification extends Verification {
    /** `oci://host/repository` */
    url: string;
    /** The signature tag that was read. */
    signatureTag: string;
}

/**
 * Verifies the artifact at `url` (`tag` or `digest`, or either in the URL) the way `cosign verify
 * --key` does for classic signatures. A missing artifact is an OciError `not-found`.
 */
export async function verifyArtifact(o: VerifyArtifactOptions): Promise<ArtifactVerification> {
    const { url, tag: givenTag, digest: givenDigest, publicKeys, ...client } = o;
    const ref = parseOciUrl(url);
    const tag = givenTag ?? ref.tag;
    let digest = givenDigest ?? ref.digest;
    if (!digest) {
        if (!tag) throw new OciError("reference", `verify needs a tag or a digest for ${ref.url}`);
        digest = await resolveTag({ ...client, url: ref.url, tag });
        if (!digest) throw new OciError("not-found", `tag "${tag}" not found in ${ref.url}`, { host: ref.host, repository: ref.repository });
    }
    const found = await readSignatures({ ...client, url: ref.url, digest });
    const verdict = verifySignatureLayers(digest, found.layers, publicKeys);
    if (verdict.status === "unsigned") verdict.message += ` (no ${found.tag} in ${ref.url})`;
    return { ...verdict, url: ref.url, signatureTag: found.tag };
}

/** Options of `signArtifact`. */
export interface SignArtifactOptions extends ClientOptions {
    /** `oci://host[:port]/repository` of the pushed artifact. */
    url: string;
    /** Manifest digest to sign (what the push returned). */
    digest: string;
    key: SigningKey;
    /** Written into the payload's `optional` section (cosign `-a`). */
    annotations?: Record<string, string>;
    /**
     * Drop the signatures already stored for this digest instead of keeping them beside the new
     * one (cosign keeps them: `cosign sign` appends). Defaults to false.
     */
    replace?: boolean;
}

/** What `signArtifact` did. */
export interface SignResult {
    url: string;
    signatureTag: string;
    /** Digest of the signature manifest now tagged. */
    signatureDigest: string;
    /** A signature by this key for this digest was already there: nothing was written. */
    unchanged: boolean;
    /** Signatures in the artifact now. */
    signatures: number;
    /** The push, when there was one. */
    push?: PushResult;
}

/**
 * Signs `digest` with `key` and stores the signature at cosign's `sha256-<hex>.sig` tag. When a
 * signature by the same key for the same digest is there already, nothing is written (ECDSA
 * signatures differ on each run, so re-signing would move the tag for nothing). Other signatures
 * for this digest are kept unless `replace`; layers naming another digest or unreadable ones are
 * dropped either way. With `replace`, a signature artifact that cannot be read is overwritten.
 *
 * Two signers racing on one digest can lose one signature (the last manifest written wins);
 * registries offer no compare-and-swap on tags.
 */
export async function signArtifact(o: SignArtifactOptions): Promise<SignResult> {
    // Only connection options travel on to lib/oci: the key stays here.
    const { url, digest, key, annotations, replace, ...client } = o;
    const ref = parseOciUrl(url);
    // An unreadable signature artifact (an index, too many layers) would block signing for good;
    // when its contents are to be dropped anyway, it is overwritten instead.
    const unreadable = (e: unknown) => e instanceof SigningError || (e instanceof OciError && e.code === "registry");
    const found: FoundSignatures = await readSignatures({ ...client, url: ref.url, digest }).catch((e: unknown) => {
        if (replace && unreadable(e)) return { tag: signatureTag(digest), layers: [] };
        throw e;
    });
    const mine = verifySignatureLayers(digest, found.layers, [key.publicKey]);
    const tag = found.tag;
    if (mine.status === "verified" && found.manifestDigest) {
        return { url: ref.url, signatureTag: tag, signatureDigest: found.manifestDigest, unchanged: true, signatures: found.layers.length };
    }
    const keep = replace
        ? []
        : found.layers.filter((l, i) => {
              const f = mine.findings[i];
              // Other keys' signatures cannot be checked here; keep those that at least read as
              // signatures of this digest (other-key), drop the rest.
              return f?.status === "other-key" && l.payload !== undefined && payloadNames(l.payload, digest);
          });
    const payload = simpleSigningPayload({ dockerReference: `${ref.host}/${ref.repository}`, manifestDigest: digest, annotations });
    const image = buildSignatureImage([...keep, signatureLayer(payload, signPayload(key, payload))]);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cosign-sig-"));
    try {
        const layers = image.layers.map((b) => {
            const file = path.join(dir, b.digest.replace(":", "-"));
            fs.writeFileSync(file, b.data);
            return { digest: b.digest, size: b.size, mediaType: b.mediaType, path: file };
        });
        const push = await pushImage({ ...client, url: ref.url, tag, manifest: image.manifest, config: image.config, layers, force: true });
        return { url: ref.url, signatureTag: tag, signatureDigest: push.digest, unchanged: false, signatures: image.signatures, push };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

function payloadNames(payload: Buffer, digest: string): boolean {
    try {
        return parseSimpleSigningPayload(payload).manifestDigest === digest;
    } catch {
        return false;
    }
}
