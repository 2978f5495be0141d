/**
 * The `signing` section: the key `pulumi up` signs the artifact with, and how Flux verifies it.
 *
 * Key material is read here, while the config is validated (so a wrong password or a key on
 * another curve fails before anything is created), and only what the stack needs goes on: the
 * private key's PEM and password (which the components keep in `pulumi.secret`), its public
 * half and fingerprints. Messages name the key and the fix, never the material: the signing
 * module's errors are written to be safe to show.
 */
import { SigningError } from "../signing/errors";
import { loadPublicKeys, loadSigningKeySync, type PublicKey } from "../signing/keys";
import { DEFAULTS } from "./defaults";
import type { ConfigReader } from "./reader";

export const VERIFICATIONS = ["none", "cosign"] as const;
/** `none`: Flux applies whatever the tag holds. `cosign`: Flux applies only artifacts a trusted key (or identity) signed. */
export type Verification = (typeof VERIFICATIONS)[number];

/** A keyless signer Flux trusts (`spec.verify.matchOIDCIdentity`): regular expressions, as Flux matches them. */
export interface OidcIdentity {
    issuer: string;
    subject: string;
}

/** A public key Flux verifies with: its PEM (a `*.pub` Secret entry) and its fingerprint. */
export interface TrustedKey {
    pem: string;
    /** `sha256:<hex>` of the key's SPKI DER. */
    fingerprint: string;
}

export interface SigningConfig {
    /** The private key `pulumi up` signs with (a secret): PEM as given; undefined when the stack does not sign. */
    key?: string;
    /** Its password (a secret), for cosign's and other encrypted keys. */
    keyPassword?: string;
    /** Fingerprint of the signing key's public half: a new key re-signs. */
    keyFingerprint?: string;
    verification: Verification;
    /**
     * What Flux verifies with, when `verification` is `cosign` and `identities` is empty:
     * `verificationPublicKeys`, else the signing key's public half. Empty otherwise.
     */
    publicKeys: TrustedKey[];
    /** Keyless signers (`verificationIdentities`); empty when Flux verifies with keys. */
    identities: OidcIdentity[];
}

const SET_KEY = "pulumi config set --secret signingKey < cosign.key";

function trusted(k: PublicKey): TrustedKey {
    return { pem: k.pem, fingerprint: k.fingerprint };
}

function reason(e: unknown): string {
    // A SigningError's message is safe to show; anything else is not quoted (it could hold key text).
    return e instanceof SigningError ? e.message : "it could not be read";
}

/** signingKey and signingKeyPassword, loaded: its public half, or undefined with the problem recorded. */
function parseSigningKey(reader: ConfigReader): { key?: string; keyPassword?: string; publicKey?: PublicKey } {
    const key = reader.str("signingKey");
    const keyPassword = reader.str("signingKeyPassword");
    if (key === undefined) {
        if (keyPassword !== undefined) reader.problem(`${reader.prefix}signingKeyPassword: set, but signingKey is not; set the key (${SET_KEY}) or remove the password`);
        return {};
    }
    try {
        return { key, keyPassword, publicKey: loadSigningKeySync(key, keyPassword).publicKey };
    } catch (e) {
        if (e instanceof SigningError && e.code === "key-password") {
            const fix = keyPassword === undefined
                ? "set it with 'pulumi config set --secret signingKeyPassword <password>'"
                : "set the key's own password with 'pulumi config set --secret signingKeyPassword <password>'";
            reader.problem(`${reader.prefix}signingKeyPassword: ${reason(e)}; ${fix}`);
        } else {
            reader.bad("signingKey", key, `${reason(e)}; give an ECDSA P-256 private key in PEM (cosign generate-key-pair, or openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256), e.g. ${SET_KEY}`);
        }
        return { key, keyPassword };
    }
}

/** verificationPublicKeys, loaded; undefined when unset or unreadable (the problem recorded). */
function parsePublicKeys(reader: ConfigReader): PublicKey[] | undefined {
    const text = reader.str("verificationPublicKeys");
    if (text === undefined) return undefined;
    try {
        return loadPublicKeys(text);
    } catch (e) {
        // Public keys are no secret, but a PEM quoted in full buries the message.
        reader.problem(`${reader.prefix}verificationPublicKeys: ${reason(e)}; give one or more PEM public keys (cosign.pub; openssl pkey -pubout), e.g. 'pulumi config set verificationPublicKeys -- "$(cat cosign.pub)"'`);
        return undefined;
    }
}

/** verificationIdentities: a list of {issuer, subject} regular expressions (set with `pulumi config set --path`). */
function parseIdentities(reader: ConfigReader): OidcIdentity[] {
    const text = reader.str("verificationIdentities");
    if (text === undefined) return [];
    const example = "pulumi config set --path 'verificationIdentities[0].issuer' '^https://token.actions.githubusercontent.com$' (and …[0].subject)";
    let list: unknown;
    try {
        list = JSON.parse(text);
    } catch {
        list = undefined;
    }
    if (!Array.isArray(list) || list.length === 0) {
        reader.bad("verificationIdentities", text, `must be a non-empty list of {issuer, subject} regular expressions: ${example}`);
        return [];
    }
    const identities: OidcIdentity[] = [];
    list.forEach((entry: unknown, i: number) => {
        const e = (entry ?? {}) as Record<string, unknown>;
        for (const field of ["issuer", "subject"] as const) {
            const v = e[field];
            if (typeof v !== "string" || v === "") {
                reader.problem(`${reader.prefix}verificationIdentities[${i}].${field}: required, a regular expression: ${example}`);
                continue;
            }
            try {
                new RegExp(v);
            } catch {
                reader.problem(`${reader.prefix}verificationIdentities[${i}].${field} = ${JSON.stringify(v)}: not a valid regular expression`);
            }
        }
        if (typeof e.issuer === "string" && typeof e.subject === "string") identities.push({ issuer: e.issuer, subject: e.subject });
    });
    return identities;
}

/**
 * signingKey, signingKeyPassword, verification (by default `cosign` as soon as any key or identity
 * is set), verificationPublicKeys (by default the signing key's public half) and
 * verificationIdentities. Keys and identities are alternatives: Flux verifies with a Secret of keys
 * or keylessly, not both.
 */
export function parseSigning(reader: ConfigReader): SigningConfig {
    const { key, keyPassword, publicKey } = parseSigningKey(reader);
    const givenKeys = parsePublicKeys(reader);
    const identities = parseIdentities(reader);
    const anyTrust = key !== undefined || reader.str("verificationPublicKeys") !== undefined || identities.length > 0;
    const verification = reader.oneOf("verification", VERIFICATIONS, anyTrust ? "cosign" : DEFAULTS.verification);
    const signing: SigningConfig = { key, keyPassword, keyFingerprint: publicKey?.fingerprint, verification, publicKeys: [], identities: [] };
    if (verification === "none") {
        reader.refuse(["verificationPublicKeys", "verificationIdentities"], "only applies with verification cosign (remove it, or set verification cosign)");
        return signing;
    }
    if (identities.length > 0) {
        const also = key !== undefined ? "signingKey" : reader.str("verificationPublicKeys") !== undefined ? "verificationPublicKeys" : undefined;
        if (also !== undefined) {
            reader.problem(`${reader.prefix}verificationIdentities: Flux verifies keylessly or with keys, not both, and ${also} is set; ` +
                "keep verificationIdentities for artifacts signed elsewhere (keyless), or remove it to verify with keys");
        }
        return { ...signing, identities };
    }
    if (reader.str("verificationPublicKeys") === undefined && key === undefined) {
        reader.problem(`${reader.prefix}verification: cosign needs something to trust: set signingKey (this stack signs), ` +
            "verificationPublicKeys (keys that sign elsewhere) or verificationIdentities (keyless), or set verification none");
        return signing;
    }
    const keys = givenKeys ?? (publicKey ? [publicKey] : []);
    if (givenKeys && publicKey && !givenKeys.some((k) => k.fingerprint === publicKey.fingerprint)) {
        reader.problem(`${reader.prefix}verificationPublicKeys: does not hold the public half of signingKey, so Flux would refuse what this stack signs; ` +
            "add it (cosign public-key --key cosign.key, or openssl pkey -pubout) beside the other keys");
    }
    return { ...signing, publicKeys: keys.map(trusted) };
}
