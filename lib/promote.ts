/**
 * Promotion: the artifact another stack published, taken as it is. `preparePromotion` reads it
 * before any resource exists (the policies for the preview's diff and the enforcement patches;
 * the digest, never rebuilt); `promoteArtifact` is the dynamic provider's copy at `pulumi up`:
 * the same manifest and blobs into this stack's registry, its signature along. No Pulumi here.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { pullArtifact } from "./artifact/pull";
import { promotionHintFor } from "./config/registryHints";
import type { ClientOptions } from "./oci/client";
import { copyImage } from "./oci/copy";
import { credentialOf } from "./oci/credentials";
import { OciError, withHint } from "./oci/errors";
import { resolveTag } from "./oci/push";
import { loadPolicyDir } from "./policies/loader";
import { preparedOf, signingKeyOf, signPushed, type PreparedArtifact, type PublishedSignature, type PublishInputs, type PublishResult } from "./publish";
import { signatureTag } from "./signing";

/** The artifact a source stack's outputs name, and how to reach its registry. */
export interface PromotionSource extends ClientOptions {
    /** The source stack, as `promoteFrom` names it (for messages). */
    stack: string;
    /** Its `artifactUrl` output: `oci://host[:port]/repository`. */
    url: string;
    /** Its `artifactDigest` output: the manifest to promote. */
    digest: string;
    /** Its `artifactTag` output, when it has one: named when the digest is gone. */
    tag?: string;
    /** Digest of the source's cosign `.sig` manifest, read at preparation; undefined when unsigned (or not read yet). */
    signatureDigest?: string;
}

/** The source stack's outputs point at a manifest its registry no longer serves. */
export class StalePromotionError extends Error {
    /** The source as its outputs named it; never its credentials. */
    readonly source: Pick<PromotionSource, "stack" | "url" | "digest" | "tag">;

    constructor(
        source: Pick<PromotionSource, "stack" | "url" | "digest" | "tag">,
        /** What the source tag points at now; undefined when the tag is gone too. */
        readonly servedDigest: string | undefined,
    ) {
        const now = source.tag === undefined
            ? ""
            : servedDigest === undefined
                ? `; its tag ${source.tag} is gone too`
                : `; its tag ${source.tag} now points at ${servedDigest}`;
        super(
            `stack ${source.stack} outputs artifactDigest ${source.digest}, which ${source.url} no longer serves${now}. ` +
                `Nothing was promoted: run pulumi up on ${source.stack} so that its outputs name what its registry serves, then preview again`,
        );
        this.name = "StalePromotionError";
        this.source = { stack: source.stack, url: source.url, digest: source.digest, tag: source.tag };
    }
}

/**
 * Pulls the source manifest by digest and loads its policies (checked as a build would check
 * them). The digest is the source's, never recomputed from a rebuild. Throws `StalePromotionError`
 * when the registry no longer serves that digest.
 */
export async function preparePromotion(source: PromotionSource): Promise<PreparedArtifact & { sourceSignatureDigest?: string }> {
    const { stack: _stack, url, digest, tag, ...connection } = source;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-promote-"));
    try {
        const pulled = await pullArtifact({ ...connection, url, digest, into: dir }).catch(async (e: unknown) => {
            if (!(e instanceof OciError && e.code === "not-found")) throw e;
            const served = tag === undefined ? undefined : await resolveTag({ ...connection, url, tag }).catch(() => undefined);
            throw new StalePromotionError({ stack: source.stack, url, digest, tag }, served);
        });
        // Not cached: the directory is temporary, and the manifest digest already pins the content.
        const set = await loadPolicyDir(dir, { cache: false });
        // The source's signature is part of what is promoted: a new one (signed or re-signed since) is a change to copy.
        const sourceSignatureDigest = await resolveTag({ ...connection, url, tag: signatureTag(digest) });
        const prepared = preparedOf(set, `${url}@${digest}`, { digest: pulled.manifestDigest, layerDigest: pulled.layer.digest, annotations: pulled.annotations });
        return { ...prepared, sourceSignatureDigest };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** What the dynamic provider receives for a promotion: the push inputs (this stack's registry, tag, key) and the source. */
export interface PromoteInputs extends PublishInputs {
    sourceStack: string;
    sourceUrl: string;
    /** The source's `.sig` manifest digest the preview saw; undefined when the source is unsigned. */
    sourceSignatureDigest?: string;
    sourceUsername?: string;
    /** A secret. */
    sourcePassword?: string;
    sourceCaFile?: string;
    sourceInsecure: boolean;
}

export interface PromoteResult extends PublishResult {
    /** The source's signature, copied beside the artifact (when the source was signed and this stack does not sign). */
    copiedSignature?: { tag: string; digest: string };
}

/**
 * Copies the source manifest (`inputs.digest`) and its blobs into this stack's registry under its
 * tag, byte for byte (lib/oci/copy.ts), then the signature: with this stack's key the artifact is
 * signed again (that signature replaces the copied one, as for a build); without one, the source's
 * `.sig` is copied as it is, so keys that trusted the source still verify it here.
 */
export async function promoteArtifact(inputs: PromoteInputs): Promise<PromoteResult> {
    try {
        const key = inputs.signingKey === undefined ? undefined : await signingKeyOf(inputs);
        const target: ClientOptions = { credentials: credentialOf(inputs.username, inputs.password), insecure: inputs.insecure, caFile: inputs.caFile };
        const source: ClientOptions = { credentials: credentialOf(inputs.sourceUsername, inputs.sourcePassword), insecure: inputs.sourceInsecure, caFile: inputs.sourceCaFile };
        const copied = await copyImage({
            from: { ...source, url: inputs.sourceUrl, digest: inputs.digest },
            to: { ...target, url: inputs.url, tag: inputs.tag, force: inputs.force },
        });
        const uploaded = copied.copied.length;
        if (key !== undefined) {
            const signature: PublishedSignature = await signPushed(inputs.url, copied.digest, key, target);
            return { digest: copied.digest, blobsUploaded: uploaded, signature };
        }
        const copiedSignature = await copySignature(inputs.sourceUrl, source, inputs.url, target, copied.digest);
        return { digest: copied.digest, blobsUploaded: uploaded, copiedSignature };
    } catch (e) {
        throw withHint(e, promotionHintFor(inputs.sourceUrl, inputs.url));
    }
}

/** Copies cosign's `sha256-<hex>.sig` of `digest` from the source repository, when there is one. */
async function copySignature(fromUrl: string, from: ClientOptions, toUrl: string, to: ClientOptions, digest: string): Promise<{ tag: string; digest: string } | undefined> {
    const tag = signatureTag(digest);
    const signature = await resolveTag({ ...from, url: fromUrl, tag });
    if (signature === undefined) return undefined;
    // The signature tag follows its source: it names the digest, so moving it cannot mislabel bytes.
    const copied = await copyImage({ from: { ...from, url: fromUrl, digest: signature }, to: { ...to, url: toUrl, tag, force: true } });
    return { tag, digest: copied.digest };
}
