/**
 * The artifact as the Pulumi program sees it: prepared (loaded, validated, built) locally before
 * any resource exists, and published by the dynamic provider at `pulumi up`. No Pulumi here.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { loadPolicyDir } from "./policies";
import { buildArtifact } from "./artifact";
import { pushImage } from "./oci";
import { policyKey, summarise, type PolicySummary } from "./diff";

/** A policy as the program and its outputs describe it. */
export interface PreparedPolicy {
    /** `Kind/name` or `Kind/namespace/name`. */
    key: string;
    kind: string;
    apiVersion: string;
    name: string;
    namespace?: string;
    file: string;
    digest: string;
    enforcement: string;
    document: Record<string, unknown>;
}

export interface PreparedArtifact {
    /** Absolute policy directory. */
    path: string;
    /** Manifest digest. */
    digest: string;
    layerDigest: string;
    source?: string;
    /** `org.opencontainers.image.revision`, e.g. main@sha1:…, when the directory is in git. */
    sourceRevision?: string;
    created?: string;
    policies: PreparedPolicy[];
    /** Per-policy and per-rule digests, for comparing with the published artifact. */
    summaries: PolicySummary[];
}

export interface PrepareOptions {
    source?: string;
    sourceRevision?: string;
    created?: string;
}

/**
 * Loads and builds the artifact locally. Throws the loader's error (every bad file with its line)
 * before the program creates anything.
 */
export async function prepareArtifact(dir: string, options: PrepareOptions = {}): Promise<PreparedArtifact> {
    // The directory a user edits: unchanged files are not validated again (lib/policies/cache.ts).
    const set = await loadPolicyDir(dir, { cache: true });
    const built = await buildArtifact(set, {
        source: options.source,
        revision: options.sourceRevision,
        created: options.created,
    });
    await fs.promises.rm(built.layer.path, { force: true });
    return {
        path: path.resolve(dir),
        digest: built.manifestDigest,
        layerDigest: built.layer.digest,
        source: built.annotations["org.opencontainers.image.source"],
        sourceRevision: built.annotations["org.opencontainers.image.revision"],
        created: built.annotations["org.opencontainers.image.created"],
        summaries: set.policies.map(summarise),
        policies: set.policies.map((p) => ({
            key: policyKey(p),
            kind: p.kind,
            apiVersion: p.apiVersion,
            name: p.name,
            namespace: p.namespace,
            file: p.file,
            digest: p.digest,
            enforcement: p.enforcement,
            document: p.document,
        })),
    };
}

/** What the dynamic provider receives. */
export interface PublishInputs {
    path: string;
    url: string;
    tag: string;
    /** The manifest digest preview showed; the push refuses to ship anything else. */
    digest: string;
    layerDigest: string;
    source?: string;
    sourceRevision?: string;
    created?: string;
    insecure: boolean;
    caFile?: string;
    username?: string;
    password?: string;
    force: boolean;
}

export interface PublishResult {
    digest: string;
    blobsUploaded: number;
}

/**
 * Rebuilds the artifact from the directory, checks it is what preview showed, and pushes it
 * (blobs first, manifest last).
 */
export async function publishArtifact(inputs: PublishInputs): Promise<PublishResult> {
    const set = await loadPolicyDir(inputs.path, { cache: true });
    const built = await buildArtifact(set, {
        source: inputs.source,
        revision: inputs.sourceRevision,
        created: inputs.created,
    });
    try {
        if (built.manifestDigest !== inputs.digest) {
            throw new Error(
                `the policies in ${inputs.path} changed after the preview (built ${built.manifestDigest}, preview showed ${inputs.digest}); ` +
                    "run pulumi up again to publish what is there now",
            );
        }
        const result = await pushImage({
            url: inputs.url,
            tag: inputs.tag,
            manifest: built.manifest,
            config: built.config,
            configDescriptor: built.configDescriptor,
            layers: [built.layer],
            credentials: inputs.username !== undefined && inputs.password !== undefined
                ? { username: inputs.username, password: inputs.password }
                : undefined,
            insecure: inputs.insecure,
            caFile: inputs.caFile,
            force: inputs.force,
        });
        return { digest: result.digest, blobsUploaded: result.stats.blobsUploaded };
    } finally {
        await fs.promises.rm(built.layer.path, { force: true });
    }
}
