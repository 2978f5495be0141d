import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { DEFAULTS, durationSeconds } from "../lib/config";
import { FLUX_WAIT_COMMAND, fluxWaitEnvironment } from "../lib/fluxWait";
import type { ClusterAccess } from "./cluster";
import { kubectlEnvironment } from "./kubectlEnvironment";
import { Kustomization, KustomizationDependency, KustomizePatch, OCIRepository, OCIRepositoryVerification } from "./crds/flux";

export interface PolicySourceArgs {
    /**
     * The cluster Flux runs in: the objects' provider, and the kubeconfig and context of the Flux
     * status check, from one place. Defaults to the ambient kubeconfig and its current context (the
     * status check's, and the default provider's); pass the cluster rather than a provider in
     * `opts`, which the status check would not see.
     */
    cluster?: ClusterAccess;
    /** Name of the OCIRepository and the Kustomization. Defaults to `kyverno-policies`. */
    sourceName?: pulumi.Input<string>;
    /** Namespace of both objects (Flux's). Defaults to `flux-system`. */
    namespace?: pulumi.Input<string>;
    /** The artifact as the cluster sees it: oci://host/repository (the pull address). */
    url: pulumi.Input<string>;
    /** `spec.ref.semver`: the range of tags Flux may pick. Ignored when `digest` is given. */
    semverRange: pulumi.Input<string>;
    /**
     * `spec.ref.digest`: Flux pulls exactly this manifest (`sha256:…`) instead of selecting a tag
     * by `semverRange`. Defaults to none (select by semver).
     */
    digest?: pulumi.Input<string>;
    /**
     * The revision this stack published, as Flux reports it: `<tag>@sha256:<digest>` when selecting
     * by semver, `sha256:<digest>` when pinned to `digest`. `pulumi up` waits until Flux reports it
     * as pulled and applied, and a new value asks Flux to reconcile at once.
     */
    expectedRevision: pulumi.Input<string>;
    /** A dockerconfigjson Secret in `namespace`; omit for registries without credentials. */
    secretName?: pulumi.Input<string>;
    /** A Secret with `ca.crt` in `namespace`, for a registry with a private CA. Defaults to the system CAs. */
    caSecretName?: pulumi.Input<string>;
    /** Plain HTTP to the registry. Defaults to `false`. */
    insecure?: pulumi.Input<boolean>;
    /**
     * `spec.verify`: Flux pulls only signed artifacts (a Secret of `*.pub` keys, or OIDC identities),
     * and the Flux status check also waits for SourceVerified=True. Its presence is a plain value:
     * it decides what the check waits for. Defaults to none (no verification).
     */
    verify?: OCIRepositoryVerification;
    /** Reconcile interval of both objects. Defaults to `1m`. */
    interval?: pulumi.Input<string>;
    /** Kustomization `spec.timeout` and how long `pulumi up` waits for Flux, in seconds. Defaults to 300. */
    timeoutSeconds?: number;
    /** Kustomization `spec.retryInterval`. Defaults to `30s`. */
    retryInterval?: pulumi.Input<string>;
    /** The enforcement patches (JSON6902, one per distinct enforcement shape; target names are regular expressions). Defaults to none. */
    patches?: pulumi.Input<pulumi.Input<KustomizePatch>[]>;
    /** Flux `spec.dependsOn`: Flux Kustomizations that must be Ready first (e.g. one that installs Kyverno). Defaults to none. */
    fluxDependsOn?: pulumi.Input<pulumi.Input<KustomizationDependency>[]>;
    /** What the OCIRepository needs first: Flux's CRDs and controllers, the secret, the pushed artifact. */
    sourceDependsOn?: pulumi.Input<pulumi.Input<pulumi.Resource>[]>;
    /** What the Kustomization needs first besides the OCIRepository: Kyverno (its CRDs must exist). */
    applyDependsOn?: pulumi.Input<pulumi.Input<pulumi.Resource>[]>;
}

/**
 * The objects carry no Pulumi await and no per-revision value: pulumi-kubernetes applies them and
 * returns, and the Flux status check beside them does the waiting. A per-revision annotation
 * (`pulumi.com/waitFor` with the revision, `requestedAt`) made every release an update of both
 * objects, and after a release whose await failed, a retry could record the objects' annotations
 * of the previous release (pulumi-kubernetes 4.25 keeps the last object its watch saw for the same
 * generation, and annotation-only updates do not change the generation), so the next preview
 * showed a change nobody made.
 */
const NO_AWAIT = { "pulumi.com/skipAwait": "true" };

/**
 * The Flux objects that deliver the policies: an OCIRepository that pulls the artifact by semver
 * range, and a Kustomization that applies it (pruning, waiting, with the stack's enforcement
 * patches). A Flux status check after them asks Flux to reconcile and waits, so `pulumi up`
 * returns once Flux has pulled and applied this stack's revision (and verified its signature, with
 * `verify`), or fails with Flux's own Ready and SourceVerified messages. A new tag changes neither
 * object (the semver range selects it): only the check runs again.
 */
export class PolicySource extends pulumi.ComponentResource {
    public static readonly type = "policy-stack:flux:PolicySource";
    public readonly ociRepository: OCIRepository;
    public readonly kustomization: Kustomization;
    /** Waits for Flux beside the objects and reports Flux's own messages when it does not get there. */
    public readonly fluxStatus: command.local.Command;
    public readonly name: pulumi.Output<string>;
    public readonly namespace: pulumi.Output<string>;

    constructor(name: string, args: PolicySourceArgs, opts?: pulumi.ComponentResourceOptions) {
        super(PolicySource.type, name, {}, args.cluster === undefined ? opts : { ...opts, provider: args.cluster.provider });
        const sourceName = args.sourceName ?? DEFAULTS.sourceName;
        const namespace = args.namespace ?? DEFAULTS.fluxNamespace;
        const interval = args.interval ?? DEFAULTS.fluxInterval;
        const timeoutSeconds = args.timeoutSeconds ?? durationSeconds(DEFAULTS.reconcileTimeout);
        const revision = pulumi.output(args.expectedRevision);

        this.ociRepository = new OCIRepository(`${name}-source`, {
            metadata: {
                name: sourceName,
                namespace,
                annotations: NO_AWAIT,
            },
            spec: {
                url: args.url,
                ref: args.digest === undefined ? { semver: args.semverRange } : { digest: args.digest },
                secretRef: args.secretName === undefined ? undefined : { name: args.secretName },
                certSecretRef: args.caSecretName === undefined ? undefined : { name: args.caSecretName },
                insecure: args.insecure ?? false,
                interval,
                timeout: "60s",
                verify: args.verify,
            },
        }, { parent: this, dependsOn: args.sourceDependsOn });

        const applyDependsOn = pulumi.output(args.applyDependsOn ?? []).apply((deps) => [...deps, this.ociRepository]);
        this.kustomization = new Kustomization(`${name}-apply`, {
            metadata: {
                name: sourceName,
                namespace,
                annotations: NO_AWAIT,
            },
            spec: {
                sourceRef: { kind: "OCIRepository", name: this.ociRepository.metadata.apply((m) => m.name ?? sourceName) },
                path: "./",
                interval,
                retryInterval: args.retryInterval ?? "30s",
                timeout: `${timeoutSeconds}s`,
                prune: true,
                wait: true,
                dependsOn: args.fluxDependsOn,
                patches: args.patches ?? [],
            },
        }, { parent: this, dependsOn: applyDependsOn });

        // After the objects: it asks Flux to reconcile this revision and waits for it, failing after
        // the timeout with Flux's Ready messages. It runs again (a replacement) whenever the
        // revision changes or either object's spec does (a new generation, e.g. new patches).
        const generation = (r: OCIRepository | Kustomization) => r.metadata.apply((m) => m.generation ?? 0);
        this.fluxStatus = new command.local.Command(`${name}-flux-status`, {
            // The script and its parameters are in the environment: a change of either is an update,
            // which runs `create` again.
            create: FLUX_WAIT_COMMAND,
            environment: kubectlEnvironment(args.cluster, (context) => pulumi.all([revision, namespace, sourceName]).apply(([r, ns, n]) =>
                fluxWaitEnvironment({ namespace: ns, name: n, revision: r, timeoutSeconds, context, verify: args.verify !== undefined }))),
            triggers: [revision, generation(this.ociRepository), generation(this.kustomization)],
            logging: "stderr",
        }, { parent: this, dependsOn: [this.ociRepository, this.kustomization] });

        this.name = this.kustomization.metadata.apply((m) => m.name ?? sourceName);
        this.namespace = this.kustomization.metadata.apply((m) => m.namespace ?? DEFAULTS.fluxNamespace);
        this.registerOutputs({ name: this.name, namespace: this.namespace });
    }
}
