/**
 * What a preview tells the user about the published artifact: the per-policy report and the
 * early warning that `pulumi up` would refuse to move the tag. Pure: the program logs them.
 */
import { stackErrorMessage, stackHint, STACK_PROJECT } from "../config/registryHints";
import type { Comparison } from "./published";

/** What `compareWithPublished` gave: a comparison, the error that stopped it, or nothing (not a preview). */
export type PublishedResult = Comparison | Error | undefined;

export interface TagConflictFacts {
    /** Push address, `oci://host/repository`. */
    url: string;
    /** The tag the stack publishes (`artifactTag`). */
    tag: string;
    /** Manifest digest this stack ships: the local build, or the promoted source's. */
    localDigest: string;
    /** `forcePush`: the push may move the tag. */
    force: boolean;
    published: PublishedResult;
    /** Prefix of the config keys. Defaults to `policy-stack`. */
    project?: string;
}

/**
 * The warning for a tag that already holds other content while forcePush is off: the push would
 * refuse it. A warning rather than an error, so the per-policy report can still be read before
 * bumping the tag. Undefined when there is no conflict (or nothing could be read).
 */
export function tagConflictWarning(f: TagConflictFacts): string | undefined {
    const p = f.published;
    if (p === undefined || p instanceof Error || p.tagDigest === undefined || p.tagDigest === f.localDigest || f.force) return undefined;
    const project = f.project ?? STACK_PROJECT;
    return (
        `${project}:artifactTag = "${f.tag}": ${f.url}:${f.tag} already holds ${p.tagDigest}, and this stack now ships ${f.localDigest}; ` +
        `pulumi up will refuse to move the tag: ${stackHint("tag-exists", project)}`
    );
}

/**
 * The preview's report on the published artifact: the summary against what Flux serves, then one
 * line per changed policy; or, when the registry could not be read, the policy count and why
 * (with the config key to fix, when a setting is at fault). Undefined when there was no comparison.
 */
export function previewReport(published: PublishedResult, policyCount: number, project = STACK_PROJECT): string | undefined {
    if (published === undefined) return undefined;
    if (published instanceof Error) {
        return `policies: ${policyCount} in the artifact; could not read the published one (${stackErrorMessage(published, project)})`;
    }
    return [published.summary, ...published.text.split("\n").slice(1)].join("\n");
}

/** Where a promoting stack's artifact comes from: the preview's first line about it. */
export function promotionLine(source: { stack: string; url: string; digest: string }, targetUrl: string, tag: string): string {
    return `promoting ${source.url}@${source.digest} (stack ${source.stack}) to ${targetUrl}:${tag}, byte for byte; nothing is built`;
}
