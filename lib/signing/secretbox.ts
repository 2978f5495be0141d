/**
 * NaCl secretbox (XSalsa20-Poly1305) decryption, which cosign uses for its password-protected
 * private keys. Node's crypto has no XSalsa20, and a cipher of our own is the kind of code not to
 * write: `tweetnacl` (small, audited, the NaCl port cosign's format names) does it.
 */
import nacl from "tweetnacl";

/** Sizes fixed by the construction (the caller checks its inputs against them). */
export const SECRETBOX_KEY_BYTES = nacl.secretbox.keyLength;
export const SECRETBOX_NONCE_BYTES = nacl.secretbox.nonceLength;

/** Opens a box: the plaintext, or undefined when `key` does not authenticate it. */
export function secretboxOpen(box: Buffer, nonce: Buffer, key: Buffer): Buffer | undefined {
    const plain = nacl.secretbox.open(box, nonce, key);
    return plain ? Buffer.from(plain) : undefined;
}
