/**
 * "What will this change?" for previews: the local policies compared, policy by policy, with the
 * artifact Flux currently serves, i.e. the highest tag in the registry that the OCIRepository's
 * semver range selects. Read-only: it lists tags and pulls, never pushes. No Pulumi here.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { diffPolicySets, formatDiff, PolicyDiff, PolicySummary, summarise } from "./diff";
import { extractLayer } from "./artifact";
import { loadPolicyDir } from "./policies";
import { pullImage, RegistryClient, type Credentials } from "./oci";
import { parseFluxRange, parseFluxVersion, satisfiesFluxRange } from "./semver";

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
    credentials?: Credentials;
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
    const connection = { credentials: o.credentials, insecure: o.insecure, caFile: o.caFile, timeouts, retry: { attempts: 1 } };
    const client = new RegistryClient(o.url, connection);
    let tags: string[];
    let tagDigest: string | undefined;
    let publishedDigest: string | undefined;
    let publishedTag: string | undefined;
    try {
        tags = await client.listTags();
        if (tags.includes(o.tag)) tagDigest = (await client.headManifest(o.tag))?.digest;
        publishedTag = selectTag(tags, o.semverRange);
        if (publishedTag !== undefined) {
            publishedDigest = publishedTag === o.tag ? tagDigest : (await client.headManifest(publishedTag))?.digest;
        }
    } finally {
        client.close();
    }
    let published: PolicySummary[] = [];
    if (publishedTag !== undefined && o.localDigest !== undefined && publishedDigest === o.localDigest) {
        // Same manifest digest, same files: the no-op preview costs two or three HEADs, no pull.
        published = o.local;
    } else if (publishedTag !== undefined) {
        const image = await pullImage({ url: o.url, tag: publishedTag, ...connection });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "published-policies-"));
        try {
            for (const layer of image.layers) await extractLayer(layer.path, dir);
            published = (await loadPolicyDir(dir)).policies.map(summarise);
        } finally {
            image.cleanup();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }
    const diff = diffPolicySets(published, o.local);
    const { text, summary } = formatDiff(diff);
    const against = publishedTag === undefined ? `nothing published in range "${o.semverRange}" at ${o.url}` : `${o.url}:${publishedTag}`;
    return { publishedTag, tagDigest, diff, summary: `${summary} vs ${against}`, text };
}
