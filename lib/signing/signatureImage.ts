/**
 * The classic cosign signature artifact: for a manifest `sha256:<hex>`, the tag `sha256-<hex>.sig`
 * in the same repository holds an OCI image manifest with one layer per signature. Each layer's
 * blob is a simple-signing payload (media type `application/vnd.dev.cosign.simplesigning.v1+json`)
 * and its `dev.cosignproject.cosign/signature` annotation is the base64 signature. The config is
 * an OCI image config listing the layers as its diff_ids, as cosign (go-containerregistry) writes
 * it, so that `cosign sign` can later append to a manifest written here.
 *
 * Pure: builds and reads bytes; lib/signing/registry.ts moves them.
 */

import { isValidDigest, sha256Digest } from "../oci";
import { SigningError } from "./errors";

export const SIMPLE_SIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json";
export const SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
export const OCI_MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";
export const OCI_CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json";
/** cosign refuses signature manifests with more layers than this; so does reading here. */
export const MAX_SIGNATURE_LAYERS = 1000;

/** One signature as stored in a layer. */
export interface SignatureLayer {
    /** Layer media type (SIMPLE_SIGNING_MEDIA_TYPE for cosign signatures). */
    mediaType: string;
    /** The blob: the signed payload. Undefined when it was too large to read. */
    payload?: Buffer;
    /** Layer annotations, the signature among them (others, e.g. a certificate, are kept as found). */
    annotations: Record<string, string>;
}

/** A blob to upload with its descriptor fields. */
export interface SignatureBlob {
    mediaType: string;
    digest: string;
    size: number;
    data: Buffer;
}

/** What `buildSignatureImage` returns: manifest and config bytes, and the layer blobs. */
export interface SignatureImage {
    manifest: Buffer;
    config: Buffer;
    /** Distinct blobs to upload. */
    layers: SignatureBlob[];
    /** Signatures (manifest layers) in the artifact. */
    signatures: number;
}

const sha256 = sha256Digest;

/** `sha256:<hex>` → `sha256-<hex>.sig`, cosign's signature tag for that manifest. */
export function signatureTag(digest: string): string {
    if (!isValidDigest(digest)) throw new SigningError("signature", `invalid manifest digest "${digest}"`);
    return `${digest.replace(":", "-")}.sig`;
}

/** A new signature layer: the payload with its base64 signature. */
export function signatureLayer(payload: Buffer, signature: string): SignatureLayer {
    return { mediaType: SIMPLE_SIGNING_MEDIA_TYPE, payload, annotations: { [SIGNATURE_ANNOTATION]: signature } };
}

/**
 * Manifest, config and blobs of a signature artifact holding `layers` in order (a layer repeated
 * byte for byte is kept once, as cosign's append does). Every layer needs its payload.
 */
export function buildSignatureImage(layers: SignatureLayer[]): SignatureImage {
    if (layers.length === 0) throw new SigningError("signature", "a signature artifact needs at least one signature");
    if (layers.length > MAX_SIGNATURE_LAYERS) throw new SigningError("signature", `${layers.length} signatures exceed cosign's limit of ${MAX_SIGNATURE_LAYERS}`);
    const blobs: SignatureBlob[] = [];
    const descriptors: Record<string, unknown>[] = [];
    const seen = new Set<string>();
    for (const l of layers) {
        if (!l.payload) throw new SigningError("signature", "a signature layer without its payload cannot be written");
        const digest = sha256(l.payload);
        const key = `${digest} ${JSON.stringify(l.annotations)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        if (!blobs.some((b) => b.digest === digest)) blobs.push({ mediaType: l.mediaType, digest, size: l.payload.length, data: l.payload });
        descriptors.push({ mediaType: l.mediaType, size: l.payload.length, digest, annotations: l.annotations });
    }
    // go-containerregistry's empty image with the layers appended: a zero creation time, one
    // history entry per layer, the (uncompressed = stored) digests as diff_ids.
    const zero = "0001-01-01T00:00:00Z";
    const config = Buffer.from(
        JSON.stringify({
            architecture: "",
            created: zero,
            history: descriptors.map(() => ({ created: zero })),
            os: "",
            rootfs: { type: "layers", diff_ids: descriptors.map((d) => d.digest) },
            config: {},
        }),
    );
    const manifest = Buffer.from(
        JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_MANIFEST_MEDIA_TYPE,
            config: { mediaType: OCI_CONFIG_MEDIA_TYPE, size: config.length, digest: sha256(config) },
            layers: descriptors,
        }),
    );
    return { manifest, config, layers: blobs, signatures: descriptors.length };
}
