/**
 * NaCl secretbox (XSalsa20-Poly1305) decryption, which cosign uses for its password-protected
 * private keys. Node's crypto has no XSalsa20, so this needs the small audited `tweetnacl`
 * package. It is loaded only when such a key is read: everything else in lib/signing works
 * without it, and its absence is a clear error naming the package, not a crash at start-up.
 */
import { SigningError } from "./errors";

/** The part of tweetnacl's API used here. */
interface NaclSecretbox {
    open(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null;
}

/** Sizes fixed by the construction (the caller checks its inputs against them). */
export const SECRETBOX_KEY_BYTES = 32;
export const SECRETBOX_NONCE_BYTES = 24;

/** The npm package that provides secretbox. */
export const SECRETBOX_PACKAGE = "tweetnacl";

/** Opens a box: the plaintext, or undefined when `key` does not authenticate it. */
export type SecretboxOpen = (box: Buffer, nonce: Buffer, key: Buffer) => Buffer | undefined;

let cached: NaclSecretbox | null | undefined;

function load(): NaclSecretbox | null {
    if (cached === undefined) {
        try {
            cached = (require(SECRETBOX_PACKAGE) as { secretbox: NaclSecretbox }).secretbox;
        } catch {
            cached = null;
        }
    }
    return cached;
}

/** True when secretbox decryption is available (the package is installed). */
export function secretboxAvailable(): boolean {
    return load() !== null;
}

/**
 * The secretbox opener (`key` and `nonce` must have the sizes above). Throws a `dependency`
 * SigningError when the package is missing, so callers can fail before any expensive work.
 */
export function secretboxOpener(): SecretboxOpen {
    const nacl = load();
    if (!nacl) {
        throw new SigningError(
            "dependency",
            `reading a password-protected cosign key needs the npm package "${SECRETBOX_PACKAGE}" (XSalsa20-Poly1305, which Node's crypto lacks); ` +
                "install it, or use a PKCS#8 ECDSA P-256 key",
        );
    }
    return (box, nonce, key) => {
        const plain = nacl.open(box, nonce, key);
        return plain ? Buffer.from(plain) : undefined;
    };
}
