import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { PromoteInputs, PromoteResult, PromotionSource } from "../lib/promote";
import type { PreparedArtifact, PublishInputs, PublishResult } from "../lib/publish";

/** One entry per policy in the resource's inputs, so `pulumi preview --diff` names each changed policy. */
export interface PolicyEntry {
    kind: string;
    /** sha256 of the policy's normalised content. */
    digest: string;
    /** Effective enforcement as written in the artifact (before any stack patch). */
    enforcement: string;
    file: string;
}

export interface PolicyArtifactArgs {
    /** The prepared artifact (built locally, or read from the promoted source; see `prepareStackArtifact`): its digest and policies become the resource's inputs. */
    prepared: PreparedArtifact;
    /** Push address, `oci://host[:port]/repository`. */
    url: pulumi.Input<string>;
    /** Semver tag. */
    tag: pulumi.Input<string>;
    /** Plain HTTP to the registry. Defaults to `false`. */
    insecure?: pulumi.Input<boolean>;
    /** PEM CA bundle for TLS to the registry. Defaults to the system CAs. */
    caFile?: pulumi.Input<string>;
    /** Registry user. Defaults to none: anonymous (only the CLI reads the Docker config's credentials). */
    username?: pulumi.Input<string>;
    /** Registry password; stored only as a Pulumi secret. */
    password?: pulumi.Input<string>;
    /** Move the tag if it holds different content. Defaults to `false`. */
    force?: pulumi.Input<boolean>;
    /**
     * PEM private key the pushed manifest is signed with (cosign's `.sig`); stored only as a Pulumi
     * secret input. Defaults to none: the artifact is not signed.
     */
    signingKey?: pulumi.Input<string>;
    /** Password of `signingKey`; stored only as a Pulumi secret input. Defaults to none. */
    signingKeyPassword?: pulumi.Input<string>;
    /**
     * Fingerprint of `signingKey`'s public half (`sha256:<hex>`, see lib/signing): a plain input, so
     * that a new key re-signs an unchanged artifact. Required with `signingKey`.
     */
    signingKeyFingerprint?: pulumi.Input<string>;
    /**
     * Promote instead of push: copy this source's manifest (`prepared.digest`) and blobs byte for
     * byte, its signature along unless `signingKey` signs again (lib/promote.ts). The source
     * password is stored only as a Pulumi secret. Defaults to none: the prepared artifact is pushed.
     */
    promotedFrom?: PromotionSource;
}

/** The signature stored beside the artifact. */
export interface ArtifactSignature {
    /** cosign's `sha256-<hex>.sig` tag in the artifact's repository. */
    tag: string;
    /** Digest of the signature manifest. */
    digest: string;
    /** Fingerprint of the key that signed. */
    keyFingerprint: string;
}

export interface ArtifactState extends Omit<PublishInputs, "password" | "signingKey" | "signingKeyPassword">, Partial<Omit<PromoteInputs, keyof PublishInputs>> {
    policies: Record<string, PolicyEntry>;
    password?: string;
    signingKey?: string;
    signingKeyPassword?: string;
    repository: string;
    revision: string;
    blobsUploaded?: number;
    signatureTag?: string;
    signatureDigest?: string;
    /** The source's signature, copied beside a promoted artifact (this stack not signing). */
    copiedSignatureTag?: string;
    copiedSignatureDigest?: string;
}

/**
 * Where the provider process finds the publishing code, as plain strings. The provider's closure
 * is serialised into the state; capturing our modules would serialise them (and js-yaml's
 * internals, which Pulumi cannot) by value, so the provider loads them by path at run time
 * instead: relative to the project directory (the provider's working directory) first, so a
 * moved checkout still works, then the absolute path of this run.
 */
const PUBLISH_MODULE = require.resolve("../lib/publish");
const PROMOTE_MODULE = require.resolve("../lib/promote");
const PUBLISH_MODULE_IN_PROJECT = path.relative(process.cwd(), PUBLISH_MODULE);
const PROMOTE_MODULE_IN_PROJECT = path.relative(process.cwd(), PROMOTE_MODULE);

/** Loads one of the modules above: relative to the provider's working directory first, else where this run found it. */
function loadByPath<T>(module: string, inProject: string): T {
    const file = [path.resolve(process.cwd(), inProject), module].find((f) => fs.existsSync(f));
    if (file === undefined) {
        throw new Error(`cannot find ${inProject} (the artifact provider's code) from ${process.cwd()}: run pulumi in the project directory`);
    }
    // Under `pulumi up` the program is TypeScript run by ts-node; the provider process starts bare.
    if (file.endsWith(".ts") && !(".ts" in require.extensions)) {
        require("ts-node").register({ transpileOnly: true });
    }
    return require(file) as T;
}

/** The push of `inputs`, or, for a promoted artifact (a source URL is set), the copy. */
async function publish(inputs: ArtifactState): Promise<PublishResult & Partial<PromoteResult>> {
    if (inputs.sourceUrl !== undefined) {
        const promoter = loadByPath<typeof import("../lib/promote")>(PROMOTE_MODULE, PROMOTE_MODULE_IN_PROJECT);
        return promoter.promoteArtifact(inputs as PromoteInputs);
    }
    const publisher = loadByPath<typeof import("../lib/publish")>(PUBLISH_MODULE, PUBLISH_MODULE_IN_PROJECT);
    return publisher.publishArtifact(inputs);
}

/**
 * The dynamic provider: nothing is pushed at preview (only `diff` runs there), and an unchanged
 * digest means no update and therefore no registry traffic at all.
 */
export const artifactProvider: pulumi.dynamic.ResourceProvider = {
    async diff(_id: string, olds: ArtifactState, news: ArtifactState): Promise<pulumi.dynamic.DiffResult> {
        // The directory path is deliberately not compared: moving the checkout changes nothing shipped.
        // A new signing key signs again (the key itself is a secret input, compared by fingerprint).
        // A promoted artifact's source signature too: one signed (or re-signed) since is copied again.
        const watched: (keyof ArtifactState)[] = ["url", "tag", "digest", "signingKeyFingerprint", "sourceSignatureDigest"];
        const changed = watched.filter((key) => olds[key] !== news[key]);
        return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs: ArtifactState): Promise<pulumi.dynamic.CreateResult> {
        const result = await publish(inputs);
        return { id: `${inputs.url}:${inputs.tag}`, outs: stateOf(inputs, result) };
    },
    async update(_id: string, _olds: ArtifactState, news: ArtifactState): Promise<pulumi.dynamic.UpdateResult> {
        const result = await publish(news);
        return { outs: stateOf(news, result) };
    },
    async delete(): Promise<void> {
        // Published artifacts are releases: other stacks and rollbacks may still pull them, so
        // destroying the stack leaves the registry untouched.
    },
};

/**
 * The outputs: the inputs less every secret (registry passwords, signing key and its password), plus
 * what the push did. Without undefined values: the dynamic provider hands `outs` to protobuf's
 * `Struct.fromJavaScript` as they are, which throws "Unexpected struct type" on `undefined`.
 */
export function stateOf(inputs: ArtifactState, result: PublishResult & Partial<PromoteResult>): ArtifactState {
    const { password: _password, signingKey: _key, signingKeyPassword: _keyPassword, sourcePassword: _sourcePassword, ...rest } = inputs;
    const state: ArtifactState = {
        ...rest,
        blobsUploaded: result.blobsUploaded,
        signatureTag: result.signature?.tag,
        signatureDigest: result.signature?.digest,
        copiedSignatureTag: result.copiedSignature?.tag,
        copiedSignatureDigest: result.copiedSignature?.digest,
    };
    return Object.fromEntries(Object.entries(state).filter(([, v]) => v !== undefined)) as ArtifactState;
}

/** The artifact resource. Its inputs are the per-policy map and the digest; see the provider above. */
class PolicyArtifactResource extends pulumi.dynamic.Resource {
    public readonly url!: pulumi.Output<string>;
    public readonly tag!: pulumi.Output<string>;
    public readonly digest!: pulumi.Output<string>;
    public readonly revision!: pulumi.Output<string>;
    public readonly repository!: pulumi.Output<string>;
    public readonly policies!: pulumi.Output<Record<string, PolicyEntry>>;
    public readonly signatureTag!: pulumi.Output<string | undefined>;
    public readonly signatureDigest!: pulumi.Output<string | undefined>;
    public readonly signingKeyFingerprint!: pulumi.Output<string | undefined>;
    public readonly copiedSignatureDigest!: pulumi.Output<string | undefined>;

    constructor(name: string, props: Record<string, pulumi.Input<unknown>>, opts?: pulumi.CustomResourceOptions) {
        const outputs = { blobsUploaded: undefined, signatureTag: undefined, signatureDigest: undefined, copiedSignatureTag: undefined, copiedSignatureDigest: undefined };
        super(artifactProvider, name, { ...outputs, ...props }, opts, "policy-stack", "PolicyArtifact");
    }
}

/**
 * The team's policies as a Flux OCI artifact in a registry. Prepared during the program run (built
 * locally, or read from a promoted stack's registry by digest), so preview knows the digest and
 * each policy's content hash; pushed (or, promoted, copied byte for byte with the source's
 * signature) by `pulumi up` only when the digest, tag or URL changed; with a signing key, signed
 * right after (and again when the key changes).
 */
export class PolicyArtifact extends pulumi.ComponentResource {
    public static readonly type = "policy-stack:artifact:PolicyArtifact";
    /** Push address, oci://host/repository. */
    public readonly url: pulumi.Output<string>;
    public readonly tag: pulumi.Output<string>;
    /** Manifest digest, sha256:…. */
    public readonly digest: pulumi.Output<string>;
    /** `<tag>@sha256:<digest>`, as Flux reports the revision it pulled. */
    public readonly revision: pulumi.Output<string>;
    /** The policies in the artifact: kind, name and enforcement. */
    public readonly policies: { name: string; namespace?: string; kind: string; enforcement: string }[];
    /** The signature stored beside the artifact; undefined when the stack does not sign. */
    public readonly signature: pulumi.Output<ArtifactSignature | undefined>;
    /** The source's signature copied beside a promoted artifact (this stack not signing); undefined otherwise. */
    public readonly copiedSignatureDigest: pulumi.Output<string | undefined>;
    /** The resource that pushes (and signs); depend on it to wait for both. */
    public readonly resource: pulumi.CustomResource;

    constructor(name: string, args: PolicyArtifactArgs, opts?: pulumi.ComponentResourceOptions) {
        super(PolicyArtifact.type, name, {}, opts);
        const prepared = args.prepared;
        const policies: Record<string, PolicyEntry> = {};
        for (const p of prepared.policies) {
            policies[p.key] = { kind: p.kind, digest: p.digest, enforcement: p.enforcement, file: p.file };
        }
        const url = pulumi.output(args.url);
        const tag = pulumi.output(args.tag);
        const resource = new PolicyArtifactResource(`${name}-push`, {
            path: prepared.path,
            url,
            tag,
            digest: prepared.digest,
            layerDigest: prepared.layerDigest,
            source: prepared.source,
            revision: pulumi.interpolate`${tag}@${prepared.digest}`,
            sourceRevision: prepared.sourceRevision,
            created: prepared.created,
            repository: url.apply((u) => u.replace(/^oci:\/\/[^/]+\//, "")),
            insecure: args.insecure ?? false,
            caFile: args.caFile,
            username: args.username,
            password: args.password === undefined ? undefined : pulumi.secret(args.password),
            force: args.force ?? false,
            signingKey: args.signingKey === undefined ? undefined : pulumi.secret(args.signingKey),
            signingKeyPassword: args.signingKeyPassword === undefined ? undefined : pulumi.secret(args.signingKeyPassword),
            signingKeyFingerprint: args.signingKeyFingerprint,
            policies,
            ...promotionInputs(args.promotedFrom),
        }, { parent: this, additionalSecretOutputs: ["password", "signingKey", "signingKeyPassword", "sourcePassword"] });
        this.resource = resource;
        this.url = resource.url;
        this.tag = resource.tag;
        this.digest = resource.digest;
        this.revision = resource.revision;
        // Known (undefined) at preview when the stack does not sign, rather than unknown.
        this.signature = args.signingKey === undefined ? pulumi.output(undefined) : pulumi.all([resource.signatureTag, resource.signatureDigest, resource.signingKeyFingerprint]).apply(([tag, digest, keyFingerprint]) =>
            tag !== undefined && digest !== undefined && keyFingerprint !== undefined ? { tag, digest, keyFingerprint } : undefined);
        this.copiedSignatureDigest = resource.copiedSignatureDigest;
        this.policies = prepared.policies.map((p) => ({ name: p.name, namespace: p.namespace, kind: p.kind, enforcement: p.enforcement }));
        this.registerOutputs({ url: this.url, tag: this.tag, digest: this.digest, revision: this.revision, signature: this.signature, copiedSignatureDigest: this.copiedSignatureDigest });
    }
}

/** The promotion inputs of the resource: the source, its password secret; none for a built artifact. */
function promotionInputs(source: PromotionSource | undefined): Record<string, pulumi.Input<unknown>> {
    if (source === undefined) return {};
    return {
        sourceStack: source.stack,
        sourceUrl: source.url,
        sourceSignatureDigest: source.signatureDigest,
        sourceUsername: source.credentials?.username,
        sourcePassword: source.credentials === undefined ? undefined : pulumi.secret(source.credentials.password),
        sourceCaFile: source.caFile,
        sourceInsecure: source.insecure ?? false,
    };
}
