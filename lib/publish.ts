/**
 * Publishing the policies as an artifact: prepared (loaded, validated, built) locally before any
 * resource exists, and pushed by `publishPolicies`, the one push flow, which the CLI's `push` and
 * the program's dynamic provider (`publishArtifact`, at `pulumi up`) both run. No Pulumi here.
 */
import * as path from "node:path";
import { buildInTempDir, type BuiltArtifact } from "./artifact/build";
import { loadPolicyDir } from "./policies/loader";
import type { PolicySet } from "./policies/types";
import type { ClientOptions } from "./oci/client";
import { credentialOf } from "./oci/credentials";
import { withHint } from "./oci/errors";
import { pushImage, type PushResult } from "./oci/push";
import { stackHintFor } from "./config/registryHints";
import { policyKey, summarise, type PolicySummary } from "./preview/diff";
import { loadSigningKey, shortFingerprint, signArtifact, type SigningKey } from "./signing";

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
    /** Absolute policy directory; for a promoted artifact, the source's `oci://host/repository@sha256:…`. */
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

/** The artifact's annotations; each defaults to what git says about the directory. */
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
    const { built, dispose } = await buildInTempDir(set, { source: options.source, revision: options.sourceRevision, created: options.created });
    await dispose();
    return preparedOf(set, path.resolve(dir), { digest: built.manifestDigest, layerDigest: built.layer.digest, annotations: built.annotations });
}

/** A `PreparedArtifact` of loaded policies and the manifest they are (or were) shipped in. */
export function preparedOf(set: PolicySet, where: string, manifest: { digest: string; layerDigest: string; annotations: Record<string, string> }): PreparedArtifact {
    return {
        path: where,
        digest: manifest.digest,
        layerDigest: manifest.layerDigest,
        source: manifest.annotations["org.opencontainers.image.source"],
        sourceRevision: manifest.annotations["org.opencontainers.image.revision"],
        created: manifest.annotations["org.opencontainers.image.created"],
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

/** Options of `publishPolicies`: where to push, and how to reach the registry. */
export interface PublishOptions extends ClientOptions, PrepareOptions {
    /** Policy directory. */
    path: string;
    /** `oci://host[:port]/repository`. */
    url: string;
    tag: string;
    /** Move the tag even when it points at other content. */
    force?: boolean;
    /** Called once the artifact is built, before anything is sent; may throw to stop the push. */
    onBuilt?: (set: PolicySet, built: BuiltArtifact) => void;
}

/**
 * Loads the directory, builds the artifact and pushes it (blobs first, manifest last; the tag is
 * not moved to other content without `force`). The layer's temp directory is removed afterwards.
 */
export async function publishPolicies(o: PublishOptions): Promise<PushResult & { set: PolicySet }> {
    const { path: dir, source, sourceRevision, created, onBuilt, ...push } = o;
    const set = await loadPolicyDir(dir, { cache: true });
    const { built, dispose } = await buildInTempDir(set, { source, revision: sourceRevision, created });
    try {
        onBuilt?.(set, built);
        const result = await pushImage({
            ...push,
            manifest: built.manifest,
            config: built.config,
            configDescriptor: built.configDescriptor,
            layers: [built.layer],
        });
        return { ...result, set };
    } finally {
        await dispose();
    }
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
    /** PEM private key to sign the pushed manifest with (a secret); no signature without it. */
    signingKey?: string;
    /** Its password (a secret). */
    signingKeyPassword?: string;
    /** The fingerprint the preview saw (`sha256:<hex>` of its public half); the signature refuses any other key. */
    signingKeyFingerprint?: string;
}

/** The signature `publishArtifact` stored beside the artifact. */
export interface PublishedSignature {
    /** cosign's `sha256-<hex>.sig` tag. */
    tag: string;
    /** Digest of the signature manifest. */
    digest: string;
    keyFingerprint: string;
}

export interface PublishResult {
    digest: string;
    blobsUploaded: number;
    /** Present when a signing key was given. */
    signature?: PublishedSignature;
}

/**
 * The dynamic provider's push: `publishPolicies`, refusing an artifact other than the one preview
 * showed, with registry failures worded for the stack (the config key to change).
 */
export async function publishArtifact(inputs: PublishInputs): Promise<PublishResult> {
    try {
        // The key is checked before anything is pushed: a push it could not sign would leave the tag unsigned.
        const key = inputs.signingKey === undefined ? undefined : await signingKeyOf(inputs);
        const connection: ClientOptions = { credentials: credentialOf(inputs.username, inputs.password), insecure: inputs.insecure, caFile: inputs.caFile };
        const result = await publishPolicies({
            ...connection,
            path: inputs.path,
            url: inputs.url,
            tag: inputs.tag,
            source: inputs.source,
            sourceRevision: inputs.sourceRevision,
            created: inputs.created,
            force: inputs.force,
            onBuilt: (_set, built) => {
                if (built.manifestDigest !== inputs.digest) {
                    throw new Error(
                        `the policies in ${inputs.path} changed after the preview (built ${built.manifestDigest}, preview showed ${inputs.digest}); ` +
                            "run pulumi up again to publish what is there now",
                    );
                }
            },
        });
        // Signed after the push and before the resource returns, so the OCIRepository, which
        // waits for this resource, never points at an unsigned tag of this stack.
        const signature = key === undefined ? undefined : await signPushed(inputs.url, result.digest, key, connection);
        return { digest: result.digest, blobsUploaded: result.stats.blobsUploaded, signature };
    } catch (e) {
        throw withHint(e, stackHintFor());
    }
}

/**
 * The signing key, opened. Its fingerprint must be the one the preview showed, so a key changed in
 * between cannot sign unnoticed.
 */
export async function signingKeyOf(inputs: Pick<PublishInputs, "signingKey" | "signingKeyPassword" | "signingKeyFingerprint">): Promise<SigningKey> {
    const key = await loadSigningKey(inputs.signingKey!, inputs.signingKeyPassword);
    const fingerprint = key.publicKey.fingerprint;
    if (inputs.signingKeyFingerprint !== undefined && fingerprint !== inputs.signingKeyFingerprint) {
        throw new Error(`the signing key is ${shortFingerprint(fingerprint)}, not the ${shortFingerprint(inputs.signingKeyFingerprint)} the preview showed; run pulumi up again`);
    }
    return key;
}

/** Signs the pushed manifest (cosign's classic `.sig`, replacing what was there: the stack's key is the one that counts). */
export async function signPushed(url: string, digest: string, key: SigningKey, connection: ClientOptions): Promise<PublishedSignature> {
    const signed = await signArtifact({ ...connection, url, digest, key, replace: true });
    return { tag: signed.signatureTag, digest: signed.signatureDigest, keyFingerprint: key.publicKey.fingerprint };
}
