/**
 * What a stack's user changes when the registry refuses: the config key, in the program's words.
 * lib/oci states what failed and why (`OciError.reason`); this is the program's half, as
 * `cli/hints.ts` is the CLI's (which names its flags instead).
 */
import { OciError, type OciErrorReason } from "../oci/errors";
import { parseOciUrl } from "../oci/reference";

/** The stack's hint for each reason; `p` is the project, the prefix of every config key. */
const STACK_HINTS: Record<OciErrorReason, (p: string) => string> = {
    "credentials-rejected": (p) => `check ${p}:registryUsername and ${p}:registryPassword`,
    "credentials-required": (p) => `set ${p}:registryUsername and ${p}:registryPassword (pulumi config set --secret registryPassword <token>)`,
    "tls-failed": (p) => `set ${p}:registryCaFile to the CA that signed the registry certificate, or ${p}:registryInsecure true for a plain-HTTP registry`,
    "server-not-tls": (p) => `set ${p}:registryInsecure true for plain HTTP`,
    "server-requires-tls": (p) => `set ${p}:registryInsecure false`,
    "plaintext-token-service": (p) => `set ${p}:registryInsecure true to allow it`,
    "tag-exists": (p) => `bump ${p}:artifactTag (the semver range picks the new tag) or set ${p}:forcePush true`,
    "credentials-in-url": (p) => `set ${p}:registryUsername and ${p}:registryPassword instead`,
};

/** The same for the registry of the stack being promoted from (artifactSource promote): its own keys. */
const PROMOTION_SOURCE_HINTS: Partial<Record<OciErrorReason, (p: string) => string>> = {
    "credentials-in-url": (p) => `set ${p}:promoteFromUsername and ${p}:promoteFromPassword instead`,
    "credentials-rejected": (p) => `check ${p}:promoteFromUsername and ${p}:promoteFromPassword (the source stack's registry)`,
    "credentials-required": (p) => `set ${p}:promoteFromUsername and ${p}:promoteFromPassword for the source stack's registry (pulumi config set --secret promoteFromPassword <token>)`,
    "tls-failed": (p) => `set ${p}:promoteFromCaFile to the CA that signed the source registry's certificate, or ${p}:promoteFromInsecure true for plain HTTP`,
    "server-not-tls": (p) => `set ${p}:promoteFromInsecure true for plain HTTP`,
    "server-requires-tls": (p) => `set ${p}:promoteFromInsecure false`,
    "plaintext-token-service": (p) => `set ${p}:promoteFromInsecure true to allow it`,
};

/** The project name this program's config keys start with. */
export const STACK_PROJECT = "policy-stack";

/** The config key(s) to change for a registry failure, or undefined when no setting of the stack is at fault. */
export function stackHint(reason: OciErrorReason | undefined, project = STACK_PROJECT): string | undefined {
    return reason === undefined ? undefined : STACK_HINTS[reason](project);
}

/** `stackHint` for an error: the shape `withHint` takes. */
export function stackHintFor(project = STACK_PROJECT): (e: OciError) => string | undefined {
    return (e) => stackHint(e.reason, project);
}

/** An error's message as the stack reports it: the registry's facts, then the config key to change. */
export function stackErrorMessage(e: unknown, project = STACK_PROJECT): string {
    const message = e instanceof Error ? e.message : String(e);
    const hint = e instanceof OciError ? stackHint(e.reason, project) : undefined;
    return hint ? `${message}; ${hint}` : message;
}

/**
 * `stackHintFor`, except that failures on the source registry of a promotion (another host than
 * this stack's registry) name the promoteFrom* keys. On one host both ends share this stack's
 * registry* keys unless promoteFrom* are set; the hint then names the registry* keys. (A copy only
 * writes to the target, so `tag-exists` always means this stack's tag.)
 */
export function promotionHintFor(sourceUrl: string, targetUrl: string, project = STACK_PROJECT): (e: OciError) => string | undefined {
    const sourceHost = parseOciUrl(sourceUrl).host;
    const targetHost = parseOciUrl(targetUrl).host;
    return (e) => {
        if (e.reason === undefined) return undefined;
        const source = sourceHost !== targetHost && e.host === sourceHost ? PROMOTION_SOURCE_HINTS[e.reason] : undefined;
        return source ? source(project) : stackHint(e.reason, project);
    };
}
