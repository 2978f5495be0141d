/**
 * cosign's "simple signing" payload: the JSON document a classic cosign signature signs, naming
 * the manifest digest (what is vouched for) and the repository (informational):
 *
 *   {"critical":{"identity":{"docker-reference":"HOST/REPO"},
 *                "image":{"docker-manifest-digest":"sha256:…"},
 *                "type":"cosign container image signature"},
 *    "optional":{…annotations…} | null}
 *
 * `cosign verify` checks the digest (its claim check) and, when asked with `-a`, the annotations;
 * it does not check the docker-reference.
 */
import { isValidDigest } from "../oci";
import { SigningError } from "./errors";

/** `critical.type` of an image signature. */
export const SIMPLE_SIGNING_TYPE = "cosign container image signature";
/** Larger payloads are refused unread (a real one is a few hundred bytes). */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

/** What a payload says. */
export interface SimpleSigningClaims {
    /** `host[:port]/repository` (cosign's `ref.Context().Name()`). */
    dockerReference: string;
    /** `sha256:<hex>` of the signed manifest. */
    manifestDigest: string;
    /** `optional`: free annotations (cosign `-a key=value`), absent when null. */
    annotations?: Record<string, string>;
}

/** The payload bytes for `claims`, keys in cosign's order. */
export function simpleSigningPayload(claims: SimpleSigningClaims): Buffer {
    if (!isValidDigest(claims.manifestDigest)) throw new SigningError("payload", `invalid manifest digest "${claims.manifestDigest}"`);
    const doc = {
        critical: {
            identity: { "docker-reference": claims.dockerReference },
            image: { "docker-manifest-digest": claims.manifestDigest },
            type: SIMPLE_SIGNING_TYPE,
        },
        optional: claims.annotations && Object.keys(claims.annotations).length > 0 ? claims.annotations : null,
    };
    return Buffer.from(JSON.stringify(doc), "utf8");
}

/**
 * Reads a payload. Throws a `payload` SigningError when it is not a simple-signing image
 * signature (another `type`, e.g. an in-toto attestation, counts as not one).
 */
export function parseSimpleSigningPayload(payload: Buffer): SimpleSigningClaims {
    const bad = (what: string) => new SigningError("payload", `the signature payload ${what}`);
    if (payload.length > MAX_PAYLOAD_BYTES) throw bad(`is too large (${payload.length} bytes)`);
    let doc: unknown;
    try {
        doc = JSON.parse(payload.toString("utf8"));
    } catch {
        throw bad("is not JSON");
    }
    const d = (doc ?? {}) as { critical?: { identity?: Record<string, unknown>; image?: Record<string, unknown>; type?: unknown }; optional?: unknown };
    if (typeof d.critical !== "object" || d.critical === null) throw bad("has no critical section");
    if (d.critical.type !== SIMPLE_SIGNING_TYPE) throw bad(`is not a cosign image signature (type ${JSON.stringify(d.critical.type ?? null)})`);
    const digest = d.critical.image?.["docker-manifest-digest"];
    if (typeof digest !== "string" || !isValidDigest(digest)) throw bad("names no valid manifest digest");
    const reference = d.critical.identity?.["docker-reference"];
    const claims: SimpleSigningClaims = { dockerReference: typeof reference === "string" ? reference : "", manifestDigest: digest };
    if (d.optional !== null && d.optional !== undefined) {
        if (typeof d.optional !== "object" || Array.isArray(d.optional)) throw bad("has an optional section that is not an object");
        claims.annotations = Object.fromEntries(Object.entries(d.optional).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    }
    return claims;
}
