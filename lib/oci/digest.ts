/**
 * Content digests as OCI writes them (`sha256:<hex>`): the one place that hashes content for the
 * artifact builder, the registry client and the policy loader. A leaf module (only node:crypto),
 * so anything may import it without loading the registry client.
 */
import { createHash } from "node:crypto";

const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** Validates an `algorithm:hex` digest (sha256 or sha512). */
export function isValidDigest(digest: string): boolean {
    return DIGEST.test(digest);
}

/** `sha256:<hex>` of bytes or a string (UTF-8). */
export function sha256Digest(data: string | Uint8Array): string {
    return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** An incremental `sha256:<hex>` digest, for content that streams past in chunks. */
export interface DigestHasher {
    update(chunk: string | Uint8Array): DigestHasher;
    /** The digest of everything given so far; call once, at the end. */
    digest(): string;
}

/** A fresh incremental sha256 digest. */
export function sha256Hasher(): DigestHasher {
    const hash = createHash("sha256");
    const hasher: DigestHasher = {
        update(chunk) {
            hash.update(chunk);
            return hasher;
        },
        digest: () => `sha256:${hash.digest("hex")}`,
    };
    return hasher;
}
