/**
 * "What will this change?": the local policies compared, policy by policy, with a published
 * artifact: one tag (`compareWithTag`, the CLI's `diff`) or the artifact Flux serves now, i.e. the
 * highest tag in the registry that the OCIRepository's semver range selects
 * (`compareWithPublished`, previews). Read-only: lists tags and pulls, never pushes. No Pulumi here.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pullArtifact } from "../artifact/pull";
import { withClient, type ClientOptions } from "../oci/client";
import type { Credential } from "../oci/credentials";
import { loadPolicyDir } from "../policies/loader";
import { parseFluxRange, parseFluxVersion, satisfiesFluxRange } from "../semver";
import { diffPolicySets, formatDiff, summarise, type PolicyDiff, type PolicySummary } from "./diff";

/** The policies in `url:tag`, summarised, with the manifest digest they came from. */
export async function readPublishedPolicies(o: ClientOptions & { url: string; tag: string }): Promise<{ url: string; digest: string; policies: PolicySummary[] }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "published-policies-"));
    try {
        const pulled = await pullArtifact({ ...o, into: dir });
        return { url: pulled.url, digest: pulled.manifestDigest, policies: (await loadPolicyDir(dir)).policies.map(summarise) };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** The local policies against one tag. */
export interface TagComparison {
    /** `oci://host/repository`. */
    url: string;
    tag: string;
    /** Manifest digest of the tag. */
    digest: string;
    diff: PolicyDiff;
    /** `policies: +1 ~2 -0`. */
    summary: string;
    /** The summary line, then one line per changed policy (and rule). */
    text: string;
}

/**
 * Compares the local policies with `url:tag`. The published side is "before" and the local one
 * "after", so the report reads as what a push would change.
 */
export async function compareWithTag(o: ClientOptions & { url: string; tag: string; local: PolicySummary[] }): Promise<TagComparison> {
    const { local, ...pull } = o;
    const published = await readPublishedPolicies(pull);
    const diff = diffPolicySets(published.policies, local);
    return { url: published.url, tag: o.tag, digest: published.digest, diff, ...formatDiff(diff) };
}

export interface CompareOptions {
    /** oci://host/repository (the push address). */
    url: string;
    /** The tag this stack publishes: its current digest is reported as `tagDigest`. */
    tag: string;
    semverRange: string;
    /** The local policies, summarised. */
    local: PolicySummary[];
    /** The local artifact's manifest digest: when the published one has it, nothing is pulled. */
    localDigest?: string;
    credentials?: Credential;
    insecure?: boolean;
    caFile?: string;
    /** Connect/idle timeout; previews should not hang on an unreachable registry. Defaults to 5000. */
    timeoutMs?: number;
}

export interface Comparison {
    /** The tag Flux selects today, if any tag in the range exists. */
    publishedTag?: string;
    /** What the stack's own tag points at now, if it exists. */
    tagDigest?: string;
    diff: PolicyDiff;
    /** `policies: +1 ~2 -0 vs oci://…:1.0.0`. */
    summary: string;
    /** One line per changed policy (and rule). */
    text: string;
}

/** The highest tag that the range selects, with Flux's parsing; tags that are not versions are ignored. */
export function selectTag(tags: string[], semverRange: string): string | undefined {
    const range = parseFluxRange(semverRange);
    let best: { tag: string; version: ReturnType<typeof parseFluxVersion> } | undefined;
    for (const tag of tags) {
        let version;
        try {
            version = parseFluxVersion(tag);
        } catch {
            continue;
        }
        if (satisfiesFluxRange(version, range) && (!best || version.compare(best.version) > 0)) best = { tag, version };
    }
    return best?.tag;
}

/** Compares the local policies with the published artifact Flux would pull now. */
export async function compareWithPublished(o: CompareOptions): Promise<Comparison> {
    const timeouts = { connectMs: o.timeoutMs ?? 5000, idleMs: o.timeoutMs ?? 5000 };
    const connection: ClientOptions = { credentials: o.credentials, insecure: o.insecure, caFile: o.caFile, timeouts, retry: { attempts: 1 } };
    const { tagDigest, publishedTag, publishedDigest } = await withClient(o.url, connection, async (client) => {
        const tags = await client.listTags();
        const tagDigest = tags.includes(o.tag) ? (await client.headManifest(o.tag))?.digest : undefined;
        const publishedTag = selectTag(tags, o.semverRange);
        const publishedDigest =
            publishedTag === undefined ? undefined : publishedTag === o.tag ? tagDigest : (await client.headManifest(publishedTag))?.digest;
        return { tagDigest, publishedTag, publishedDigest };
    });
    let published: PolicySummary[] = [];
    if (publishedTag !== undefined && o.localDigest !== undefined && publishedDigest === o.localDigest) {
        // Same manifest digest, same files: the no-op preview costs two or three HEADs, no pull.
        published = o.local;
    } else if (publishedTag !== undefined) {
        published = (await readPublishedPolicies({ ...connection, url: o.url, tag: publishedTag })).policies;
    }
    const diff = diffPolicySets(published, o.local);
    const { text, summary } = formatDiff(diff);
    const against = publishedTag === undefined ? `nothing published in range "${o.semverRange}" at ${o.url}` : `${o.url}:${publishedTag}`;
    return { publishedTag, tagDigest, diff, summary: `${summary} vs ${against}`, text };
}
