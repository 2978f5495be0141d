import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import {
    checkEnforcementPlan, DEFAULTS, durationSeconds, registryHost, type EnforcementSetting, type SigningConfig, type StackConfig, type Verification,
} from "../lib/config";
import { enforcementPatches } from "../lib/policies/enforcement";
import { clusterSettings, effectiveEnforcement, registryCaFile, registryCredentials, type PolicyEnforcement } from "../lib/policyStack";
import type { PromotionSource } from "../lib/promote";
import type { PreparedArtifact } from "../lib/publish";
import { compareWithPublished, previewReport, promotionLine, tagConflictWarning, type Comparison } from "../lib/preview";
import { publishedSignatureLine } from "../lib/preview/signature";
import { fluxVerification, trustsKeys, verificationSecretName } from "../lib/verification";
import type { EnforcementStatusOutput } from "../lib/preview/clusterStatus";
import { Cluster } from "./cluster";
import { enforcementGate } from "./enforcementGate";
import { EnforcementStatus } from "./enforcementStatus";
import { Flux } from "./flux";
import { Kyverno } from "./kyverno";
import { LocalRegistry } from "./localRegistry";
import { PolicyArtifact, type ArtifactSignature } from "./policyArtifact";
import { PolicySource } from "./policySource";
import { RegistryAccess } from "./registryAccess";
import { VerificationKeys } from "./verificationKeys";

/**
 * Everything the stack needs, validated before anything is created: the sections of a
 * `StackConfig` (from `readStackConfig` or `parseStackConfig`, which apply the defaults; each
 * section is documented there) and the artifact prepared from it (`prepareStackArtifact`). Plain
 * values: they decide which children exist. `enforcementGate` defaults to `warn`, `signing` to
 * neither signing nor verification.
 */
export interface PolicyStackArgs
    extends Pick<StackConfig, "cluster" | "registry" | "artifact" | "enforcement" | "flux" | "kyverno">,
        Partial<Pick<StackConfig, "enforcementGate" | "signing">> {
    /**
     * The policies, built locally (or pulled from the promoted stack's registry) before any resource
     * exists, so that a bad policy or a stale source fails the run with nothing created.
     */
    prepared: PreparedArtifact;
    /**
     * With `artifact.source` `promote`: the source stack's artifact that `prepared` was read from;
     * `pulumi up` copies it byte for byte instead of pushing a build. Defaults to none (push the build).
     */
    promotedFrom?: PromotionSource;
}

/** What the stack reports (the program's stack outputs, which other stacks read through a StackReference). */
export interface PolicyStackOutputs {
    /** The cluster's kubeconfig (secret): kind's, or the configured one; undefined for the ambient kubeconfig. */
    kubeconfig: pulumi.Output<string | undefined>;
    /** kind cluster name, or the context. */
    clusterName: pulumi.Output<string>;
    /** The registry as the host sees it. */
    registryPushUrl: string;
    /** The registry as the cluster sees it. */
    registryPullUrl: string;
    artifactUrl: pulumi.Output<string>;
    artifactTag: pulumi.Output<string>;
    /** Manifest digest, sha256:…. */
    artifactDigest: pulumi.Output<string>;
    /** The revision as Flux reports it: `<tag>@sha256:<digest>`, or `sha256:<digest>` with `pinDigest`. */
    artifactRevision: pulumi.Output<string>;
    enforcement: EnforcementSetting;
    /** Every policy with the enforcement this stack applies. */
    policies: PolicyEnforcement[];
    /** Per policy, the action in force in the cluster and Kyverno's result counts, read after Flux applied them. */
    enforcementStatus: pulumi.Output<EnforcementStatusOutput>;
    fluxVersion: pulumi.Output<string>;
    kyvernoChartVersion: pulumi.Output<string>;
    kyvernoVersion: pulumi.Output<string>;
    ociRepository: { name: pulumi.Output<string>; namespace: pulumi.Output<string> };
    kustomization: { name: pulumi.Output<string>; namespace: pulumi.Output<string> };
    /** The artifact's cosign signature (its `.sig` tag and digest, the key's fingerprint); undefined when the stack does not sign. */
    artifactSignature: pulumi.Output<ArtifactSignature | undefined>;
    /** `cosign`: Flux applies only artifacts signed by a trusted key or identity. */
    verification: Verification;
    /** `build` or `promote`. */
    artifactSource: "build" | "promote";
    /** The promoted artifact's origin (stack, URL, digest, the copied signature's digest); undefined for a build. */
    promotedFrom?: PromotionOutput;
    /** Flux pulls `ref.digest` (the artifact's digest) rather than selecting by semver. */
    pinDigest: boolean;
}

/** Where a promoted artifact came from. */
export interface PromotionOutput {
    stack: string;
    url: string;
    digest: string;
    /** Digest of the source's cosign signature copied along; undefined when none was copied. */
    copiedSignatureDigest: pulumi.Output<string | undefined>;
}

/**
 * The whole policy stack: the cluster, the registry, the policy artifact pushed to it, Flux and
 * Kyverno, the registry Secrets, and the Flux objects that apply the policies with this stack's
 * enforcement. On a preview it also compares the policies with the published artifact and logs
 * the differences.
 *
 * Order: the push (and its signature) needs the registry, never the cluster; Flux and Kyverno do
 * not wait for each other; the registry and verification-key Secrets wait for Flux (its
 * namespace); the OCIRepository waits for Flux, the push and the Secrets; the Kustomization for
 * Kyverno.
 *
 * Its children keep the names (and, through aliases, the URNs) they had when the program created
 * them at the top level, so a stack from before this component sees no replacement. Those names
 * are fixed: create one PolicyStack per program.
 */
export class PolicyStack extends pulumi.ComponentResource {
    public static readonly type = "policy-stack:index:PolicyStack";
    public readonly cluster: Cluster;
    /** kind's local registry; undefined for an external registry. */
    public readonly localRegistry?: LocalRegistry;
    public readonly artifact: PolicyArtifact;
    public readonly flux: Flux;
    public readonly kyverno: Kyverno;
    /** The pull and CA Secrets; undefined when the registry needs neither. */
    public readonly registryAccess?: RegistryAccess;
    /** The Secret of public keys Flux verifies with; undefined unless Flux verifies with keys. */
    public readonly verificationKeys?: VerificationKeys;
    public readonly source: PolicySource;
    /** What the cluster enforces and Kyverno reports, read after Flux applied the policies. */
    public readonly enforcementStatus: EnforcementStatus;
    public readonly outputs: PolicyStackOutputs;

    constructor(name: string, args: PolicyStackArgs, opts?: pulumi.ComponentResourceOptions) {
        super(PolicyStack.type, name, {}, opts);
        const { prepared, registry, artifact, flux } = args;
        // A rollout map naming a policy the artifact lacks fails before any child exists.
        checkEnforcementPlan(args.enforcement, prepared.policies);
        // Created at the top of the program before this component existed: the alias keeps
        // their URNs (and their children's), so existing stacks see no replacement.
        const child = { parent: this, aliases: [{ parent: pulumi.rootStackResource }] };
        const credentials = registryCredentials(registry);
        // Kept secret wherever it is stored: the push resource's inputs, the pull Secret.
        const secretCredentials = credentials && { username: credentials.username, password: pulumi.secret(credentials.password) };
        const caFile = registryCaFile(registry);
        const signing: SigningConfig = args.signing ?? { verification: "none", publicKeys: [], identities: [] };

        // Previews say which policies change against what Flux serves now, and warn early about what
        // the push would refuse. Read-only and best effort: an unreachable registry only costs the report.
        const comparison = pulumi.runtime.isDryRun()
            ? compareWithPublished({
                url: registry.pushUrl,
                tag: artifact.tag,
                semverRange: artifact.semverRange,
                local: prepared.summaries,
                localDigest: prepared.digest,
                credentials,
                insecure: registry.insecure,
                caFile,
            }).catch((e: Error) => e)
            : undefined;

        this.cluster = new Cluster("cluster", clusterSettings(args.cluster, registry), child);
        const cluster = this.cluster.access;
        this.localRegistry = registry.mode === "local"
            ? new LocalRegistry("registry", {
                cluster,
                clusterName: this.cluster.name,
                containerName: registry.containerName,
                hostPort: registry.hostPort,
                image: registry.image,
            }, child)
            : undefined;

        // The push needs the registry, never the cluster.
        this.artifact = new PolicyArtifact("policies", {
            prepared,
            url: registry.pushUrl,
            tag: artifact.tag,
            insecure: registry.insecure,
            caFile,
            username: secretCredentials?.username,
            password: secretCredentials?.password,
            force: artifact.force,
            // Secret from here on; the fingerprint is plain, so a new key signs again.
            signingKey: signing.key === undefined ? undefined : pulumi.secret(signing.key),
            signingKeyPassword: signing.keyPassword === undefined ? undefined : pulumi.secret(signing.keyPassword),
            signingKeyFingerprint: signing.keyFingerprint,
            promotedFrom: args.promotedFrom,
        }, { ...child, dependsOn: this.localRegistry ? [this.localRegistry.container] : [] });

        this.flux = new Flux("flux", { cluster, version: flux.version, installManifest: flux.installManifest }, child);
        this.kyverno = new Kyverno("kyverno", {
            cluster,
            chartVersion: args.kyverno.chartVersion,
            chart: args.kyverno.chart,
            repository: args.kyverno.repository,
            namespace: args.kyverno.namespace,
        }, child);

        this.registryAccess = credentials !== undefined || caFile !== undefined
            ? new RegistryAccess("registry", {
                cluster,
                registryHost: registryHost(registry.pullUrl),
                credentials: secretCredentials,
                caCertificate: caFile === undefined ? undefined : fs.readFileSync(caFile, "utf8"),
                namespace: flux.namespace,
                pullSecretName: `${flux.sourceName}-registry`,
                caSecretName: `${flux.sourceName}-registry-ca`,
            }, { parent: this, dependsOn: this.flux.resources })
            : undefined;

        // Signature verification: the trusted keys as a Secret beside the pull and CA Secrets (keyless
        // verification needs none), and the OCIRepository's spec.verify.
        this.verificationKeys = trustsKeys(signing)
            ? new VerificationKeys("verification-keys", {
                cluster,
                publicKeys: signing.publicKeys,
                namespace: flux.namespace,
                secretName: verificationSecretName(flux.sourceName),
            }, { parent: this, dependsOn: this.flux.resources })
            : undefined;
        const verify = fluxVerification(signing, this.verificationKeys ? verificationSecretName(flux.sourceName) : undefined);

        // One patch per distinct enforcement shape (not per policy); the `policies` output still
        // reports each policy's enforcement.
        const patches = enforcementPatches(prepared.policies, args.enforcement);
        const planned = effectiveEnforcement(prepared.policies, patches);

        // Enforcement readiness (components/enforcementGate.ts): the patches are registered only once
        // the gate has read what enforcing would block, and not at all when `block` refuses.
        const gate = enforcementGate({
            cluster,
            policies: planned.map((p, i) => ({ ...p, apiVersion: prepared.policies[i].apiVersion })),
            gate: args.enforcementGate ?? DEFAULTS.enforcementGate,
            gateKey: `${pulumi.getProject()}:enforcementGate`,
            logOn: this,
        });
        const secrets = [...(this.registryAccess?.secrets ?? []), ...(this.verificationKeys ? [this.verificationKeys.secret] : [])];
        this.source = new PolicySource("policy-source", {
            cluster,
            sourceName: flux.sourceName,
            namespace: flux.namespace,
            url: registry.pullUrl,
            semverRange: artifact.semverRange,
            // Pinned: the digest the preview shows (the push or copy refuses any other), and Flux
            // reports the bare digest as the revision. The OCIRepository still waits for the push.
            digest: artifact.pinDigest ? prepared.digest : undefined,
            expectedRevision: artifact.pinDigest ? prepared.digest : this.artifact.revision,
            secretName: this.registryAccess?.pullSecretName,
            caSecretName: this.registryAccess?.caSecretName,
            insecure: registry.insecure,
            verify,
            interval: flux.interval,
            timeoutSeconds: durationSeconds(flux.reconcileTimeout),
            patches: gate.apply(() => patches.map((p) => ({ patch: p.patch, target: p.target }))),
            sourceDependsOn: this.flux.resources.apply((rs) => [...rs, this.artifact.resource, ...secrets]),
            applyDependsOn: [this.kyverno.release],
        }, child);

        // After Flux applied the policies; read again whenever the status check runs again.
        this.enforcementStatus = new EnforcementStatus("enforcement-status", {
            cluster,
            policies: prepared.policies,
            triggers: [this.source.fluxStatus.id],
        }, { parent: this, dependsOn: [this.source.fluxStatus] });

        if (comparison) {
            // The engine waits for the report before it disconnects.
            const done = pulumi.runtime.rpcKeepAlive();
            void this.logPreview(comparison, args).finally(done);
        }
        if (comparison && signing.verification !== "none") {
            // Whether what Flux selects now is signed by a key it trusts: best effort, as the comparison.
            const done = pulumi.runtime.rpcKeepAlive();
            void comparison
                .then((c) => publishedSignatureLine({
                    url: registry.pushUrl, tag: c instanceof Error ? undefined : c.publishedTag, signing, credentials, insecure: registry.insecure, caFile,
                }))
                .then((line) => (line === undefined ? undefined : pulumi.log.info(line, this.artifact.resource)))
                .finally(done);
        }

        this.outputs = {
            kubeconfig: this.cluster.kubeconfig,
            clusterName: this.cluster.name,
            registryPushUrl: registry.pushUrl,
            registryPullUrl: registry.pullUrl,
            artifactUrl: this.artifact.url,
            artifactTag: this.artifact.tag,
            artifactDigest: this.artifact.digest,
            artifactRevision: artifact.pinDigest ? this.artifact.digest : this.artifact.revision,
            enforcement: args.enforcement,
            policies: planned,
            enforcementStatus: this.enforcementStatus.status,
            fluxVersion: this.flux.version,
            kyvernoChartVersion: this.kyverno.version,
            kyvernoVersion: this.kyverno.appVersion,
            ociRepository: { name: this.source.ociRepository.metadata.name, namespace: this.source.ociRepository.metadata.namespace },
            kustomization: { name: this.source.name, namespace: this.source.namespace },
            artifactSignature: this.artifact.signature,
            verification: signing.verification,
            artifactSource: args.promotedFrom ? "promote" : "build",
            // Plain where known at preview; only the copied signature waits for the copy.
            promotedFrom: args.promotedFrom && {
                stack: args.promotedFrom.stack,
                url: args.promotedFrom.url,
                digest: args.promotedFrom.digest,
                copiedSignatureDigest: this.artifact.copiedSignatureDigest,
            },
            pinDigest: artifact.pinDigest,
        };
        this.registerOutputs(this.outputs);
    }

    /** The preview's report on the artifact: the tag-conflict warning, and the per-policy comparison (or why there is none). */
    private async logPreview(comparison: Promise<Comparison | Error>, args: PolicyStackArgs): Promise<void> {
        const published = await comparison;
        const project = pulumi.getProject();
        const tagConflict = tagConflictWarning({
            url: args.registry.pushUrl,
            tag: args.artifact.tag,
            localDigest: args.prepared.digest,
            force: args.artifact.force,
            published,
            project,
        });
        const resource = this.artifact.resource;
        if (args.promotedFrom) await pulumi.log.info(promotionLine(args.promotedFrom, args.registry.pushUrl, args.artifact.tag), resource);
        if (tagConflict) await pulumi.log.warn(tagConflict, resource);
        const report = previewReport(published, args.prepared.policies.length, project);
        if (report) await pulumi.log.info(report, resource);
    }
}
