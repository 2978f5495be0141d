/**
 * Typed Flux custom resources, shaped the way crd2pulumi generates them: one class per kind with
 * the token `kubernetes:<group>/<version>:<Kind>`, input spec types, and output properties. Only
 * the fields this stack uses (and their close neighbours) are typed; every field follows the
 * v1 CRDs shipped with Flux v2.9 (source.toolkit.fluxcd.io/v1, kustomize.toolkit.fluxcd.io/v1).
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

type ObjectMetaInput = k8s.types.input.meta.v1.ObjectMeta;

/** A local object reference by name. */
export interface LocalObjectReference {
    name: pulumi.Input<string>;
}

/** `OCIRepository.spec.ref`: which tag, semver range or digest to pull. */
export interface OCIRepositoryRef {
    /** A digest such as sha256:…; takes precedence over the other fields. */
    digest?: pulumi.Input<string>;
    /** A semver range; the highest tag inside it is pulled. */
    semver?: pulumi.Input<string>;
    /** Regex filter applied to tags before the semver range. */
    semverFilter?: pulumi.Input<string>;
    /** A fixed tag. */
    tag?: pulumi.Input<string>;
}

/** `OCIRepository.spec.layerSelector`: which layer holds the content. */
export interface OCILayerSelector {
    mediaType?: pulumi.Input<string>;
    operation?: pulumi.Input<"extract" | "copy">;
}

/** A keyless signer Flux accepts: regular expressions over the certificate's OIDC issuer and subject. */
export interface OIDCIdentityMatch {
    issuer: pulumi.Input<string>;
    subject: pulumi.Input<string>;
}

/** `OCIRepository.spec.verify`: Flux pulls only artifacts whose signature verifies. */
export interface OCIRepositoryVerification {
    provider: pulumi.Input<"cosign" | "notation">;
    /** A Secret whose `*.pub` entries are the trusted public keys (cosign); omit for keyless verification. */
    secretRef?: pulumi.Input<LocalObjectReference>;
    /** Keyless (cosign): the identities whose Fulcio certificates are trusted; any one matching suffices. */
    matchOIDCIdentity?: pulumi.Input<pulumi.Input<OIDCIdentityMatch>[]>;
    /** A Secret with a Sigstore `trusted_root.json`, for a private Sigstore instance. */
    trustedRootSecretRef?: pulumi.Input<LocalObjectReference>;
}

/** `source.toolkit.fluxcd.io/v1` OCIRepository spec. */
export interface OCIRepositorySpec {
    /** oci://host/repository of the artifact, as seen from the cluster. */
    url: pulumi.Input<string>;
    ref?: pulumi.Input<OCIRepositoryRef>;
    layerSelector?: pulumi.Input<OCILayerSelector>;
    /** A `kubernetes.io/dockerconfigjson` Secret in the same namespace. */
    secretRef?: pulumi.Input<LocalObjectReference>;
    /** A Secret with `ca.crt` (and optionally a client certificate) for TLS to the registry. */
    certSecretRef?: pulumi.Input<LocalObjectReference>;
    serviceAccountName?: pulumi.Input<string>;
    provider?: pulumi.Input<"generic" | "aws" | "azure" | "gcp">;
    verify?: pulumi.Input<OCIRepositoryVerification>;
    /** Plain HTTP to the registry. */
    insecure?: pulumi.Input<boolean>;
    interval: pulumi.Input<string>;
    timeout?: pulumi.Input<string>;
    ignore?: pulumi.Input<string>;
    suspend?: pulumi.Input<boolean>;
}

/** `kustomize.toolkit.fluxcd.io/v1` `spec.patches[].target`. */
export interface KustomizeSelector {
    group?: pulumi.Input<string>;
    version?: pulumi.Input<string>;
    kind?: pulumi.Input<string>;
    name?: pulumi.Input<string>;
    namespace?: pulumi.Input<string>;
    labelSelector?: pulumi.Input<string>;
    annotationSelector?: pulumi.Input<string>;
}

/** A strategic-merge or JSON6902 patch with an optional target. */
export interface KustomizePatch {
    patch: pulumi.Input<string>;
    target?: pulumi.Input<KustomizeSelector>;
}

/** A reference to a Flux source. */
export interface CrossNamespaceSourceReference {
    apiVersion?: pulumi.Input<string>;
    kind: pulumi.Input<"OCIRepository" | "GitRepository" | "Bucket" | "ExternalArtifact">;
    name: pulumi.Input<string>;
    namespace?: pulumi.Input<string>;
}

/** A Flux `spec.dependsOn` entry: another Kustomization that must be Ready first. */
export interface KustomizationDependency {
    name: pulumi.Input<string>;
    namespace?: pulumi.Input<string>;
}

/** `kustomize.toolkit.fluxcd.io/v1` Kustomization spec. */
export interface KustomizationSpec {
    sourceRef: pulumi.Input<CrossNamespaceSourceReference>;
    /** Path inside the artifact. */
    path?: pulumi.Input<string>;
    interval: pulumi.Input<string>;
    retryInterval?: pulumi.Input<string>;
    timeout?: pulumi.Input<string>;
    /** Delete what the source no longer holds. */
    prune: pulumi.Input<boolean>;
    /** Wait for every applied object to become Ready. */
    wait?: pulumi.Input<boolean>;
    force?: pulumi.Input<boolean>;
    targetNamespace?: pulumi.Input<string>;
    serviceAccountName?: pulumi.Input<string>;
    dependsOn?: pulumi.Input<pulumi.Input<KustomizationDependency>[]>;
    patches?: pulumi.Input<pulumi.Input<KustomizePatch>[]>;
    suspend?: pulumi.Input<boolean>;
}

/** The artifact a Flux source serves, as reported in its status. */
export interface ArtifactStatus {
    digest?: string;
    lastUpdateTime?: string;
    path?: string;
    revision?: string;
    size?: number;
    url?: string;
}

export interface Condition {
    type: string;
    status: string;
    reason?: string;
    message?: string;
    lastTransitionTime?: string;
    observedGeneration?: number;
}

export interface OCIRepositoryArgs {
    metadata: pulumi.Input<ObjectMetaInput>;
    spec: pulumi.Input<OCIRepositorySpec>;
}

/** Flux `OCIRepository` (source.toolkit.fluxcd.io/v1). */
export class OCIRepository extends pulumi.CustomResource {
    public static readonly __pulumiType = "kubernetes:source.toolkit.fluxcd.io/v1:OCIRepository";
    public readonly apiVersion!: pulumi.Output<"source.toolkit.fluxcd.io/v1">;
    public readonly kind!: pulumi.Output<"OCIRepository">;
    public readonly metadata!: pulumi.Output<k8s.types.output.meta.v1.ObjectMeta>;
    public readonly spec!: pulumi.Output<OCIRepositorySpec>;
    public readonly status!: pulumi.Output<{ artifact?: ArtifactStatus; conditions?: Condition[]; url?: string } | undefined>;

    public static isInstance(obj: unknown): obj is OCIRepository {
        return pulumi.CustomResource.isInstance(obj) && (obj as { __pulumiType?: string }).__pulumiType === OCIRepository.__pulumiType;
    }

    constructor(name: string, args: OCIRepositoryArgs, opts?: pulumi.CustomResourceOptions) {
        const inputs: pulumi.Inputs = {
            apiVersion: "source.toolkit.fluxcd.io/v1",
            kind: "OCIRepository",
            metadata: args.metadata,
            spec: args.spec,
            status: undefined,
        };
        super(OCIRepository.__pulumiType, name, inputs, opts);
    }
}

export interface KustomizationArgs {
    metadata: pulumi.Input<ObjectMetaInput>;
    spec: pulumi.Input<KustomizationSpec>;
}

/** Flux `Kustomization` (kustomize.toolkit.fluxcd.io/v1). */
export class Kustomization extends pulumi.CustomResource {
    public static readonly __pulumiType = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization";
    public readonly apiVersion!: pulumi.Output<"kustomize.toolkit.fluxcd.io/v1">;
    public readonly kind!: pulumi.Output<"Kustomization">;
    public readonly metadata!: pulumi.Output<k8s.types.output.meta.v1.ObjectMeta>;
    public readonly spec!: pulumi.Output<KustomizationSpec>;
    public readonly status!: pulumi.Output<{ lastAppliedRevision?: string; lastAttemptedRevision?: string; conditions?: Condition[] } | undefined>;

    public static isInstance(obj: unknown): obj is Kustomization {
        return pulumi.CustomResource.isInstance(obj) && (obj as { __pulumiType?: string }).__pulumiType === Kustomization.__pulumiType;
    }

    constructor(name: string, args: KustomizationArgs, opts?: pulumi.CustomResourceOptions) {
        const inputs: pulumi.Inputs = {
            apiVersion: "kustomize.toolkit.fluxcd.io/v1",
            kind: "Kustomization",
            metadata: args.metadata,
            spec: args.spec,
            status: undefined,
        };
        super(Kustomization.__pulumiType, name, inputs, opts);
    }
}
