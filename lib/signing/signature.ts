/**
 * ECDSA P-256 with SHA-256 over the payload bytes, the signature ASN.1 DER and base64-encoded:
 * what cosign stores in the `dev.cosignproject.cosign/signature` annotation and what its verifier
 * (Go's ecdsa.VerifyASN1) accepts.
 */
import * as crypto from "node:crypto";

import type { PublicKey, SigningKey } from "./keys";

/** Signs `payload`; returns the base64 DER signature. (ECDSA is randomised: each call differs.) */
export function signPayload(key: SigningKey, payload: Buffer): string {
    return crypto.sign("sha256", payload, { key: key.privateKey, dsaEncoding: "der" }).toString("base64");
}

/**
 * The signature bytes of a base64 annotation value, or undefined when it is not strict, padded
 * base64 (what cosign's decoder requires) or empty.
 */
export function decodeSignature(base64: string): Buffer | undefined {
    if (base64.length === 0 || base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) return undefined;
    return Buffer.from(base64, "base64");
}

/** True when `signature` (raw DER) over `payload` verifies with `key`. Malformed DER is false. */
export function verifyPayload(key: PublicKey, payload: Buffer, signature: Buffer): boolean {
    try {
        return crypto.verify("sha256", payload, { key: key.key, dsaEncoding: "der" }, signature);
    } catch {
        return false;
    }
}
