/**
 * Error type of the signing modules. Messages never hold key material or passwords: every message
 * is written here from fixed text and non-secret facts (PEM block types, sizes, curve names), and
 * errors thrown by Node's crypto or JSON parser are never passed through (a JSON `SyntaxError`
 * quotes the text it failed on).
 */
export type SigningErrorCode =
    | "key-format" // not a PEM private/public key this module reads, or a malformed cosign envelope
    | "key-password" // the password does not open the encrypted key
    | "key-unsupported" // a well-formed key of a kind cosign/Flux verification here does not cover
    | "payload" // a signature payload that is not a cosign simple-signing document
    | "signature"; // the signature artifact could not be built or read

/** An error from lib/signing. Safe to log: see the module comment. */
export class SigningError extends Error {
    /** Machine-readable category. */
    readonly code: SigningErrorCode;

    constructor(code: SigningErrorCode, message: string) {
        super(message);
        this.name = "SigningError";
        this.code = code;
    }
}
