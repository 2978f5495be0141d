/**
 * Verdict on the signatures found for a manifest, as `cosign verify --key` reaches it: a
 * signature counts when it verifies with one of the trusted keys and its payload names exactly
 * this manifest digest. Pure: the layers come from lib/signing/registry.ts (or a test).
 */
import { shortFingerprint, type PublicKey } from "./keys";
import { parseSimpleSigningPayload } from "./payload";
import { decodeSignature, verifyPayload } from "./signature";
import { SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, type SignatureLayer } from "./signatureImage";

/**
 * - verified: a trusted key signed a payload naming this digest.
 * - unsigned: no signature artifact, or one without signatures.
 * - other-key: signatures that none of the trusted keys made (another key, or a payload or
 *   signature altered after signing: the two cannot be told apart without the other key).
 * - digest-mismatch: a trusted key signed a payload naming another manifest (a signature copied
 *   from an earlier artifact, e.g. after the tag was moved to other content).
 * - bad-signature: layers that are not readable cosign signatures.
 */
export type VerificationStatus = "verified" | "unsigned" | "other-key" | "digest-mismatch" | "bad-signature";

/** What was found for one signature layer. */
export interface SignatureFinding {
    /** Position of the layer in the signature manifest (0-based). */
    index: number;
    status: Exclude<VerificationStatus, "unsigned">;
    /** One line saying why. */
    reason: string;
    /** Fingerprint of the trusted key that verified it (verified, digest-mismatch). */
    keyFingerprint?: string;
    /** Digest the signed payload names (verified, digest-mismatch). */
    claimedDigest?: string;
}

/** The overall verdict. */
export interface Verification {
    status: VerificationStatus;
    /** The manifest digest that was checked. */
    digest: string;
    /** Fingerprint of the key behind the first verified signature. */
    verifiedBy?: string;
    findings: SignatureFinding[];
    /** One line for a person: the verdict and its main reason. */
    message: string;
}

// Which finding speaks for the whole when nothing verified: the most specific one.
const RANK: Record<SignatureFinding["status"], number> = { verified: 0, "digest-mismatch": 1, "other-key": 2, "bad-signature": 3 };

function checkLayer(index: number, layer: SignatureLayer, digest: string, keys: PublicKey[]): SignatureFinding {
    const bad = (reason: string): SignatureFinding => ({ index, status: "bad-signature", reason });
    if (layer.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) return bad(`layer media type ${layer.mediaType} is not a cosign simple-signing payload`);
    const b64 = layer.annotations[SIGNATURE_ANNOTATION];
    if (b64 === undefined) return bad(`no ${SIGNATURE_ANNOTATION} annotation`);
    const signature = decodeSignature(b64);
    if (!signature) return bad("the signature annotation is not base64");
    if (!layer.payload) return bad("the payload is too large to be a cosign signature payload");
    const key = keys.find((k) => verifyPayload(k, layer.payload!, signature));
    if (!key) {
        const n = keys.length === 1 ? "the trusted key" : `any of the ${keys.length} trusted keys`;
        return { index, status: "other-key", reason: `not signed by ${n} (another key, or altered after signing)` };
    }
    let claimedDigest: string;
    try {
        claimedDigest = parseSimpleSigningPayload(layer.payload).manifestDigest;
    } catch (e) {
        return bad((e as Error).message);
    }
    const keyFingerprint = key.fingerprint;
    if (claimedDigest !== digest) {
        return { index, status: "digest-mismatch", reason: `signed by ${shortFingerprint(keyFingerprint)} for another manifest, ${claimedDigest}`, keyFingerprint, claimedDigest };
    }
    return { index, status: "verified", reason: `signed by ${shortFingerprint(keyFingerprint)}`, keyFingerprint, claimedDigest };
}

/** Checks every signature layer found for `digest` against `keys` (at least one). */
export function verifySignatureLayers(digest: string, layers: SignatureLayer[], keys: PublicKey[]): Verification {
    if (keys.length === 0) throw new Error("verifySignatureLayers needs at least one public key");
    const findings = layers.map((l, i) => checkLayer(i, l, digest, keys));
    if (findings.length === 0) return { status: "unsigned", digest, findings, message: `${digest} has no cosign signature` };
    const best = [...findings].sort((a, b) => RANK[a.status] - RANK[b.status])[0];
    const count = findings.length === 1 ? "its signature" : `${findings.length} signatures; best`;
    const verdict: Record<SignatureFinding["status"], string> = {
        verified: `${digest} is signed by a trusted key`,
        "digest-mismatch": `${digest} is not signed: a trusted key's signature names another manifest`,
        "other-key": `${digest} is not signed by a trusted key`,
        "bad-signature": `${digest} has no readable cosign signature`,
    };
    return {
        status: best.status,
        digest,
        verifiedBy: best.status === "verified" ? best.keyFingerprint : undefined,
        findings,
        message: `${verdict[best.status]} (${count}: ${best.reason})`,
    };
}
