/**
 * cosign's password-protected private keys (`cosign generate-key-pair`): a PEM block of type
 * `ENCRYPTED SIGSTORE PRIVATE KEY` (older releases: `ENCRYPTED COSIGN PRIVATE KEY`) whose body is a
 * JSON envelope, `{"kdf":{"name":"scrypt","params":{"N","r","p"},"salt"},"cipher":{"name":
 * "nacl/secretbox","nonce"},"ciphertext"}` (byte fields base64), holding the PKCS#8 DER of the key.
 * The format is go-securesystemslib's `encrypted` package, which cosign calls.
 */
import * as crypto from "node:crypto";

import { SigningError } from "./errors";
import { SECRETBOX_KEY_BYTES, SECRETBOX_NONCE_BYTES, secretboxOpen } from "./secretbox";

/** The PEM labels cosign writes, newest first. */
export const COSIGN_PRIVATE_KEY_TYPES = ["ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY"] as const;

/**
 * The scrypt cost parameters cosign writes (legacy, standard, OWASP). Anything else is refused, as
 * upstream does: the parameters come from the key file, and an unbounded N would let a crafted file
 * claim gigabytes of memory.
 */
const SCRYPT_PARAMS = [
    { N: 32768, r: 8, p: 1 },
    { N: 65536, r: 8, p: 1 },
    { N: 131072, r: 8, p: 1 },
];
/** Enough for the largest allowed parameters (128 * N * r bytes, plus headroom). */
const SCRYPT_MAXMEM = 256 * 1024 * 1024;
/** A P-256 PKCS#8 key is under 200 bytes; the envelope of any sane key is far below this. */
const MAX_ENVELOPE_BYTES = 64 * 1024;

interface Envelope {
    salt: Buffer;
    params: { N: number; r: number; p: number };
    nonce: Buffer;
    ciphertext: Buffer;
}

function strictBase64(v: unknown): Buffer | undefined {
    if (typeof v !== "string" || v.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) return undefined;
    return Buffer.from(v, "base64");
}

/** Reads the envelope; every failure is a fixed message (never the parser's, which quotes input). */
function parseEnvelope(body: Buffer): Envelope {
    const bad = (what: string) => new SigningError("key-format", `the cosign private key envelope ${what}`);
    if (body.length > MAX_ENVELOPE_BYTES) throw bad(`is too large (${body.length} bytes)`);
    let j: unknown;
    try {
        j = JSON.parse(body.toString("utf8"));
    } catch {
        throw bad("is not JSON");
    }
    const o = (j ?? {}) as { kdf?: { name?: unknown; params?: Record<string, unknown>; salt?: unknown }; cipher?: { name?: unknown; nonce?: unknown }; ciphertext?: unknown };
    if (o.kdf?.name !== "scrypt") throw bad("does not use the scrypt KDF");
    if (o.cipher?.name !== "nacl/secretbox") throw bad("does not use the nacl/secretbox cipher");
    const params = { N: Number(o.kdf.params?.N), r: Number(o.kdf.params?.r), p: Number(o.kdf.params?.p) };
    if (!SCRYPT_PARAMS.some((s) => s.N === params.N && s.r === params.r && s.p === params.p)) {
        throw bad(`has unsupported scrypt parameters (N=${params.N}, r=${params.r}, p=${params.p})`);
    }
    const salt = strictBase64(o.kdf.salt);
    const nonce = strictBase64(o.cipher.nonce);
    const ciphertext = strictBase64(o.ciphertext);
    if (!salt || salt.length === 0) throw bad("has no valid salt");
    if (!nonce || nonce.length !== SECRETBOX_NONCE_BYTES) throw bad(`has no valid ${SECRETBOX_NONCE_BYTES}-byte nonce`);
    if (!ciphertext || ciphertext.length === 0) throw bad("has no valid ciphertext");
    return { salt, params, nonce, ciphertext };
}

function scrypt(password: Buffer, e: Envelope): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        crypto.scrypt(password, e.salt, SECRETBOX_KEY_BYTES, { ...e.params, maxmem: SCRYPT_MAXMEM }, (err, key) => {
            // Node's scrypt errors name parameters, never the password; still, say it in our words.
            if (err) reject(new SigningError("key-format", "scrypt key derivation failed for the cosign private key"));
            else resolve(key);
        });
    });
}

function scryptSync(password: Buffer, e: Envelope): Buffer {
    try {
        return crypto.scryptSync(password, e.salt, SECRETBOX_KEY_BYTES, { ...e.params, maxmem: SCRYPT_MAXMEM });
    } catch {
        throw new SigningError("key-format", "scrypt key derivation failed for the cosign private key");
    }
}

function open(envelope: Envelope, key: Buffer): Buffer {
    const plain = secretboxOpen(envelope.ciphertext, envelope.nonce, key);
    key.fill(0);
    if (!plain) throw new SigningError("key-password", "the password does not decrypt the cosign private key");
    return plain;
}

/**
 * Decrypts the body of a cosign private key PEM block with `password` and returns the PKCS#8 DER
 * it holds. A wrong password is a `key-password` SigningError.
 */
export async function decryptCosignKey(body: Buffer, password: Buffer): Promise<Buffer> {
    const envelope = parseEnvelope(body);
    return open(envelope, await scrypt(password, envelope));
}

/**
 * `decryptCosignKey`, blocking (scrypt takes a tenth of a second or so): for validation that
 * must stay synchronous, such as the stack's config.
 */
export function decryptCosignKeySync(body: Buffer, password: Buffer): Buffer {
    const envelope = parseEnvelope(body);
    return open(envelope, scryptSync(password, envelope));
}
