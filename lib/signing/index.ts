/**
 * Cosign-compatible signing and verification of pushed artifacts (classic `sha256-<hex>.sig`
 * signatures with ECDSA P-256 keys), in plain TypeScript on Node's crypto. Keys: `keys`; the
 * payload and the signature artifact: `payload`, `signatureImage`; the verdict: `verify`; the
 * registry side (through lib/oci): `registry`.
 */
export { SigningError, type SigningErrorCode } from "./errors";
export { loadSigningKey, loadSigningKeySync, loadPublicKeys, publicKeyOf, shortFingerprint, type PublicKey, type SigningKey, type PrivateKeyKind } from "./keys";
export { COSIGN_PRIVATE_KEY_TYPES } from "./cosignKey";
export { simpleSigningPayload, parseSimpleSigningPayload, SIMPLE_SIGNING_TYPE, MAX_PAYLOAD_BYTES, type SimpleSigningClaims } from "./payload";
export { signPayload, verifyPayload, decodeSignature } from "./signature";
export {
    signatureTag,
    signatureLayer,
    buildSignatureImage,
    SIMPLE_SIGNING_MEDIA_TYPE,
    SIGNATURE_ANNOTATION,
    MAX_SIGNATURE_LAYERS,
    type SignatureLayer,
    type SignatureImage,
    type SignatureBlob,
} from "./signatureImage";
export { verifySignatureLayers, type Verification, type VerificationStatus, type SignatureFinding } from "./verify";
export {
    signArtifact,
    verifyArtifact,
    readSignatures,
    type SignArtifactOptions,
    type SignResult,
    type VerifyArtifactOptions,
    type ArtifactVerification,
    type ReadSignaturesOptions,
    type FoundSignatures,
} from "./registry";
