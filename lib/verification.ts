/**
 * What Flux verifies the artifact with, from the stack's signing config: the OCIRepository's
 * `spec.verify`, and the `*.pub` entries of the Secret it names. Pure: components/policyStack.ts
 * and components/verificationKeys.ts turn it into objects.
 */
import type { OidcIdentity, SigningConfig, TrustedKey } from "./config";

/** `spec.verify` as plain values (source-controller's `provider: cosign`). */
export interface FluxVerification {
    provider: "cosign";
    /** The Secret of `*.pub` keys; absent for keyless verification. */
    secretRef?: { name: string };
    /** Keyless: the signers' OIDC issuer and subject patterns. */
    matchOIDCIdentity?: OidcIdentity[];
}

/** The name of the Secret of trusted keys, beside the OCIRepository that reads it. */
export function verificationSecretName(sourceName: string): string {
    return `${sourceName}-cosign-keys`;
}

/**
 * The Secret's entries: source-controller reads every entry whose name ends in `.pub`, and any one
 * key that verifies suffices. Named by fingerprint, so the same keys give the same Secret in any
 * order.
 */
export function verificationKeyEntries(keys: readonly TrustedKey[]): Record<string, string> {
    const entries: Record<string, string> = {};
    for (const k of keys) entries[`cosign-${k.fingerprint.replace(/^sha256:/, "").slice(0, 16)}.pub`] = k.pem;
    return entries;
}

/**
 * `spec.verify` for the stack: undefined without verification; the Secret of keys when the stack
 * trusts keys (`secretName` must then be given), else the OIDC identities.
 */
export function fluxVerification(signing: SigningConfig, secretName?: string): FluxVerification | undefined {
    if (signing.verification === "none") return undefined;
    if (signing.identities.length > 0) return { provider: "cosign", matchOIDCIdentity: signing.identities };
    if (secretName === undefined) throw new Error("fluxVerification: key-based verification needs the Secret's name");
    return { provider: "cosign", secretRef: { name: secretName } };
}

/** Whether Flux verifies with a Secret of keys (which the stack then creates). */
export function trustsKeys(signing: SigningConfig): boolean {
    return signing.verification === "cosign" && signing.identities.length === 0 && signing.publicKeys.length > 0;
}
