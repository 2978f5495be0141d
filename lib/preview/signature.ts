/**
 * The preview's word on signatures: whether the artifact Flux would select now (the one the
 * preview compares the policies with) is signed by a key Flux trusts, read the way `cosign verify
 * --key` reads it (lib/signing). Best effort like the rest of the preview: an unreachable registry
 * costs the line, not the preview. Pure: the caller logs the line.
 */
import type { Credentials } from "../oci";
import type { SigningConfig } from "../config";
import { loadPublicKeys, shortFingerprint, verifyArtifact } from "../signing";

export interface PublishedSignatureOptions {
    /** Push address, oci://host/repository. */
    url: string;
    /** The tag Flux selects now; undefined when nothing is published in range. */
    tag?: string;
    signing: SigningConfig;
    credentials?: Credentials;
    insecure?: boolean;
    caFile?: string;
    /** Connect and idle timeout. Defaults to 5 s, as the comparison's. */
    timeoutMs?: number;
}

/**
 * One line for the preview, or undefined when the stack does not verify or nothing is published.
 * Never throws: a failed check is the line's own content.
 */
export async function publishedSignatureLine(o: PublishedSignatureOptions): Promise<string | undefined> {
    const { signing } = o;
    if (signing.verification === "none" || o.tag === undefined) return undefined;
    const at = `${o.url}:${o.tag}`;
    if (signing.publicKeys.length === 0) {
        return `signature: ${at} is verified keylessly by Flux (verificationIdentities); the preview does not check keyless signatures`;
    }
    try {
        const timeouts = { connectMs: o.timeoutMs ?? 5000, idleMs: o.timeoutMs ?? 5000 };
        const verdict = await verifyArtifact({
            url: o.url,
            tag: o.tag,
            publicKeys: signing.publicKeys.flatMap((k) => loadPublicKeys(k.pem)),
            credentials: o.credentials,
            insecure: o.insecure,
            caFile: o.caFile,
            timeouts,
            retry: { attempts: 1 },
        });
        if (verdict.status === "verified") return `signature: ${at} is signed by a trusted key (${shortFingerprint(verdict.verifiedBy!)})`;
        if (verdict.status === "digest-mismatch") {
            // A signature copied from another manifest: cosign refuses it, source-controller (which
            // checks no claim) accepts it, so this line may be the only warning before Flux applies it.
            return `signature: ${at} is NOT signed by a trusted key, a signature of another manifest was copied beside it ` +
                `(source-controller accepts such a copy, cosign does not): ${verdict.message}`;
        }
        return `signature: ${at} is NOT signed by a trusted key, so Flux refuses it: ${verdict.message}`;
    } catch (e) {
        return `signature: could not check ${at} (${(e as Error).message})`;
    }
}
