/**
 * What a CLI user changes when the registry refuses: the flag. lib/oci states what failed and why
 * (`OciError.reason`); this is the CLI's half, as `lib/config/registryHints.ts` is the program's.
 * Loaded only when a command failed that way.
 */
import type { OciError, OciErrorReason } from "../lib/oci/errors";

const CLI_HINTS: Record<OciErrorReason, string> = {
    "credentials-rejected": "check --creds or the docker config",
    "credentials-required": "pass --creds USER:PASSWORD or log in with docker login",
    "tls-failed": "pass --ca-file with the CA that signed the registry certificate, or --insecure for a plain-HTTP registry",
    "server-not-tls": "pass --insecure for plain HTTP",
    "server-requires-tls": "do not pass --insecure",
    "plaintext-token-service": "pass --insecure to allow it",
    "tag-exists": "pass --force to move the tag",
    "credentials-in-url": "use --creds",
};

/** The flag to change for a registry failure, or undefined when no flag is at fault. */
export function cliHint(e: OciError): string | undefined {
    return e.reason === undefined ? undefined : CLI_HINTS[e.reason];
}
