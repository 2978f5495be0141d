/**
 * Signing and verification keys: ECDSA P-256, the kind `cosign generate-key-pair` makes and
 * Flux's cosign verification reads from `*.pub` Secret entries.
 *
 * Private keys come as PEM: cosign's password-protected `ENCRYPTED SIGSTORE PRIVATE KEY` (or the
 * older `ENCRYPTED COSIGN PRIVATE KEY`), PKCS#8 `PRIVATE KEY` (openssl genpkey), PKCS#8
 * `ENCRYPTED PRIVATE KEY` (openssl with a passphrase) and SEC1 `EC PRIVATE KEY`. Public keys are
 * SPKI `PUBLIC KEY` PEM, cosign's `cosign.pub` format.
 *
 * Keys are held as Node `KeyObject`s, which print and serialise as `{}`: a SigningKey that ends
 * up in a log line or in JSON does not carry its material with it.
 */
import * as crypto from "node:crypto";

import { sha256Digest } from "../oci/digest";
import { COSIGN_PRIVATE_KEY_TYPES, decryptCosignKey, decryptCosignKeySync } from "./cosignKey";
import { SigningError } from "./errors";
import { parsePemBlocks, type PemBlock } from "./pem";

/** How a private key was stored. */
export type PrivateKeyKind = "cosign" | "pkcs8" | "pkcs8-encrypted" | "sec1";

/** A public key to verify with. */
export interface PublicKey {
    key: crypto.KeyObject;
    /** SPKI PEM as cosign writes `cosign.pub` (what Flux's `*.pub` Secret entries hold). */
    pem: string;
    /** `sha256:<hex>` of the SPKI DER: names the key in reports without showing it. */
    fingerprint: string;
}

/** A private key ready to sign with, and its public half. */
export interface SigningKey {
    privateKey: crypto.KeyObject;
    publicKey: PublicKey;
    kind: PrivateKeyKind;
}

const CURVE = "prime256v1";
const PRIVATE_TYPES: Record<string, PrivateKeyKind> = {
    [COSIGN_PRIVATE_KEY_TYPES[0]]: "cosign",
    [COSIGN_PRIVATE_KEY_TYPES[1]]: "cosign",
    "PRIVATE KEY": "pkcs8",
    "ENCRYPTED PRIVATE KEY": "pkcs8-encrypted",
    "EC PRIVATE KEY": "sec1",
};
/** Blocks that may sit beside a private key and are not one (`openssl ecparam -genkey` writes the first). */
const IGNORED_TYPES = new Set(["EC PARAMETERS", "PUBLIC KEY"]);

/** The short form of a fingerprint used in messages: `sha256:` and 16 hex digits. */
export function shortFingerprint(fingerprint: string): string {
    return fingerprint.slice(0, "sha256:".length + 16);
}

function checkCurve(key: crypto.KeyObject, what: string): void {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (key.asymmetricKeyType !== "ec" || curve !== CURVE) {
        const kind = key.asymmetricKeyType === "ec" ? `EC on curve ${curve ?? "unknown"}` : (key.asymmetricKeyType ?? "unknown");
        throw new SigningError("key-unsupported", `${what} is ${kind}; only ECDSA P-256 keys are supported (cosign generate-key-pair, or openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256)`);
    }
}

function toPublicKey(key: crypto.KeyObject): PublicKey {
    const der = key.export({ type: "spki", format: "der" });
    return {
        key,
        pem: key.export({ type: "spki", format: "pem" }).toString(),
        fingerprint: sha256Digest(der),
    };
}

/** The public half of a private key. */
export function publicKeyOf(privateKey: crypto.KeyObject): PublicKey {
    checkCurve(privateKey, "the private key");
    return toPublicKey(crypto.createPublicKey(privateKey));
}

function asText(input: string | Buffer): string {
    return typeof input === "string" ? input : input.toString("utf8");
}

/** Reads a PEM key with Node; its error text is dropped (it can quote OpenSSL internals, never useful here). */
function nodePrivateKey(block: PemBlock, kind: PrivateKeyKind, password: Buffer | undefined): crypto.KeyObject {
    if (kind === "pkcs8-encrypted" || block.headers.some((h) => /ENCRYPTED/.test(h))) {
        if (password === undefined) throw new SigningError("key-password", `the ${block.type} is encrypted and no password was given`);
        try {
            return crypto.createPrivateKey({ key: block.text, format: "pem", passphrase: password });
        } catch {
            throw new SigningError("key-password", `the password does not decrypt the ${block.type} (or the key is malformed)`);
        }
    }
    try {
        return crypto.createPrivateKey({ key: block.text, format: "pem" });
    } catch {
        throw new SigningError("key-format", `the ${block.type} PEM block is not a readable key`);
    }
}

/** The one private key block of `pem`, and how it is stored. */
function privateKeyBlock(pem: string | Buffer): { block: PemBlock; kind: PrivateKeyKind } {
    const blocks = parsePemBlocks(asText(pem));
    const keys = blocks.filter((b) => !IGNORED_TYPES.has(b.type));
    if (keys.length === 0) {
        const what = blocks.length === 0 ? "no PEM block" : `only ${blocks.map((b) => b.type).join(", ")}`;
        throw new SigningError("key-format", `the signing key holds ${what}; expected a private key (cosign generate-key-pair, or PKCS#8 PEM)`);
    }
    if (keys.length > 1) throw new SigningError("key-format", `the signing key holds ${keys.length} key blocks (${keys.map((b) => b.type).join(", ")}); expected exactly one`);
    const block = keys[0];
    const kind = PRIVATE_TYPES[block.type];
    if (!kind) throw new SigningError("key-unsupported", `the signing key is a ${block.type} PEM block; expected ${Object.keys(PRIVATE_TYPES).join(", ")}`);
    return { block, kind };
}

function cosignPassword(password: Buffer | undefined): Buffer {
    if (password === undefined) throw new SigningError("key-password", "the cosign private key is encrypted and no password was given");
    return password;
}

/** The key a decrypted cosign envelope holds (PKCS#8 DER, wiped once read). */
function cosignPrivateKey(der: Buffer): crypto.KeyObject {
    try {
        return crypto.createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    } catch {
        throw new SigningError("key-format", "the cosign private key decrypts to something that is not a PKCS#8 key");
    } finally {
        der.fill(0);
    }
}

function signingKey(privateKey: crypto.KeyObject, kind: PrivateKeyKind): SigningKey {
    return { privateKey, publicKey: publicKeyOf(privateKey), kind };
}

/**
 * Loads the one private key in `pem` (a text with exactly one private key block; an `EC PARAMETERS`
 * or `PUBLIC KEY` block beside it is ignored). `password` opens cosign keys (cosign's
 * `COSIGN_PASSWORD`; may be empty, as cosign allows) and encrypted PKCS#8; it is ignored for
 * unencrypted keys. Every failure is a SigningError whose message holds neither key nor password.
 */
export async function loadSigningKey(pem: string | Buffer, password?: string | Buffer): Promise<SigningKey> {
    const { block, kind } = privateKeyBlock(pem);
    const pw = password === undefined ? undefined : Buffer.from(password);
    if (kind !== "cosign") return signingKey(nodePrivateKey(block, kind, pw), kind);
    return signingKey(cosignPrivateKey(await decryptCosignKey(block.body, cosignPassword(pw))), kind);
}

/** `loadSigningKey`, blocking: for validation that must stay synchronous (the stack's config). */
export function loadSigningKeySync(pem: string | Buffer, password?: string | Buffer): SigningKey {
    const { block, kind } = privateKeyBlock(pem);
    const pw = password === undefined ? undefined : Buffer.from(password);
    if (kind !== "cosign") return signingKey(nodePrivateKey(block, kind, pw), kind);
    return signingKey(cosignPrivateKey(decryptCosignKeySync(block.body, cosignPassword(pw))), kind);
}

/**
 * Every public key in `pem` (one or more `PUBLIC KEY` blocks; a text without any is an error).
 * Each must be ECDSA P-256.
 */
export function loadPublicKeys(pem: string | Buffer): PublicKey[] {
    const blocks = parsePemBlocks(asText(pem));
    if (blocks.length === 0) throw new SigningError("key-format", "no PEM block found; expected one or more PUBLIC KEY blocks (cosign.pub)");
    return blocks.map((b, i) => {
        const where = `PEM block ${i + 1} (${b.type})`;
        if (b.type !== "PUBLIC KEY") {
            const hint = PRIVATE_TYPES[b.type] ? ": this is a private key, give its public half (cosign public-key, openssl pkey -pubout)" : "";
            throw new SigningError("key-format", `${where} is not a PUBLIC KEY${hint}`);
        }
        let key: crypto.KeyObject;
        try {
            key = crypto.createPublicKey({ key: b.body, format: "der", type: "spki" });
        } catch {
            throw new SigningError("key-format", `${where} is not a readable SPKI public key`);
        }
        checkCurve(key, where);
        return toPublicKey(key);
    });
}
