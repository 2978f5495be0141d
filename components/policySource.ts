import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { fluxWaitScript } from "../lib/fluxWait";
import { kubectlEnvironment } from "./kubectlEnvironment";
import { Kustomization, KustomizationDependency, KustomizePatch, OCIRepository } from "./crds/flux";

export interface PolicySourceArgs {
    /** Name of the OCIRepository and the Kustomization. Defaults to `kyverno-policies`. */
    sourceName?: pulumi.Input<string>;
    /** Namespace of both objects (Flux's). Defaults to `flux-system`. */
    namespace?: pulumi.Input<string>;
    /** The artifact as the cluster sees it: oci://host/repository (the pull address). */
    url: pulumi.Input<string>;
    /** `spec.ref.semver`: the range of tags Flux may pick. */
    semverRange: pulumi.Input<string>;
    /**
     * The revision this stack published (`<tag>@sha256:<digest>`). `pulumi up` waits until Flux
     * reports it as pulled and applied, and a new value asks Flux to reconcile at once.
     */
    expectedRevision: pulumi.Input<string>;
    /** A dockerconfigjson Secret in `namespace`; omit for registries without credentials. */
    secretName?: pulumi.Input<string>;
    /** A Secret with `ca.crt` in `namespace`, for a registry with a private CA. Defaults to the system CAs. */
    caSecretName?: pulumi.Input<string>;
    /** Plain HTTP to the registry. Defaults to `false`. */
    insecure?: pulumi.Input<boolean>;
    /** Reconcile interval of both objects. Defaults to `1m`. */
    interval?: pulumi.Input<string>;
    /** Kustomization `spec.timeout` and how long `pulumi up` waits for Flux, in seconds. Defaults to 300. */
    timeoutSeconds?: number;
    /** Kustomization `spec.retryInterval`. Defaults to `30s`. */
    retryInterval?: pulumi.Input<string>;
    /** The enforcement patches (JSON6902, one per policy). Defaults to none. */
    patches?: pulumi.Input<pulumi.Input<KustomizePatch>[]>;
    /** Flux `spec.dependsOn`: Flux Kustomizations that must be Ready first (e.g. one that installs Kyverno). Defaults to none. */
    fluxDependsOn?: pulumi.Input<pulumi.Input<KustomizationDependency>[]>;
    /** What the OCIRepository needs first: Flux's CRDs and controllers, the secret, the pushed artifact. */
    sourceDependsOn?: pulumi.Input<pulumi.Input<pulumi.Resource>[]>;
    /** What the Kustomization needs first besides the OCIRepository: Kyverno (its CRDs must exist). */
    applyDependsOn?: pulumi.Input<pulumi.Input<pulumi.Resource>[]>;
    /** Kubeconfig for the Flux status check (keep it a secret). Defaults to the ambient kubeconfig. */
    kubeconfig?: pulumi.Input<string | undefined>;
    /** Kubeconfig context for the Flux status check. Defaults to the current context. */
    context?: pulumi.Input<string | undefined>;
}

/** Extra seconds the objects' own await gets, so the Flux status check reports first. */
const AWAIT_GRACE_SECONDS = 15;

/** The Pulumi await annotations that make `pulumi up` wait for Flux to report the expected revision. */
export function awaitAnnotations(statusField: string, revision: string, timeoutSeconds: number): Record<string, string> {
    return {
        "pulumi.com/waitFor": JSON.stringify(["condition=Ready", `jsonpath={${statusField}}=${revision}`]),
        "pulumi.com/timeoutSeconds": String(timeoutSeconds),
        // Flux reconciles at once when this value changes, instead of at the next interval.
        "reconcile.fluxcd.io/requestedAt": revision,
    };
}

/**
 * The Flux objects that deliver the policies: an OCIRepository that pulls the artifact by semver
 * range, and a Kustomization that applies it (pruning, waiting, with the stack's enforcement
 * patches). Both carry `pulumi.com/waitFor`, so `pulumi up` returns once Flux has pulled and
 * applied this stack's revision, or fails with Flux's own Ready message.
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
        super(PolicySource.type, name, {}, opts);
        const sourceName = args.sourceName ?? "kyverno-policies";
        const namespace = args.namespace ?? "flux-system";
        const interval = args.interval ?? "1m";
        const timeoutSeconds = args.timeoutSeconds ?? 300;
        const revision = pulumi.output(args.expectedRevision);

        const awaitSeconds = timeoutSeconds + AWAIT_GRACE_SECONDS;
        this.ociRepository = new OCIRepository(`${name}-source`, {
            metadata: {
                name: sourceName,
                namespace,
                annotations: revision.apply((r) => awaitAnnotations(".status.artifact.revision", r, awaitSeconds)),
            },
            spec: {
                url: args.url,
                ref: { semver: args.semverRange },
                secretRef: args.secretName === undefined ? undefined : { name: args.secretName },
                certSecretRef: args.caSecretName === undefined ? undefined : { name: args.caSecretName },
                insecure: args.insecure ?? false,
                interval,
                timeout: "60s",
            },
        }, { parent: this, dependsOn: args.sourceDependsOn });

        const applyDependsOn = pulumi.output(args.applyDependsOn ?? []).apply((deps) => [...deps, this.ociRepository]);
        this.kustomization = new Kustomization(`${name}-apply`, {
            metadata: {
                name: sourceName,
                namespace,
                annotations: revision.apply((r) => awaitAnnotations(".status.lastAppliedRevision", r, awaitSeconds)),
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

        // Beside the objects, not after them: when Flux fails, the objects' await fails too, and
        // this check must still run to report why. It waits for the same revision and, after the
        // timeout, fails quoting Flux's Ready messages. A new revision replaces it.
        this.fluxStatus = new command.local.Command(`${name}-flux-status`, {
            create: pulumi.all([revision, namespace, sourceName, args.context]).apply(([r, ns, n, context]) =>
                fluxWaitScript({ namespace: ns, name: n, revision: r, timeoutSeconds, context })),
            environment: kubectlEnvironment(args.kubeconfig),
            triggers: [revision],
            logging: "stderr",
        }, { parent: this, dependsOn: args.sourceDependsOn });

        this.name = this.kustomization.metadata.apply((m) => m.name ?? sourceName);
        this.namespace = this.kustomization.metadata.apply((m) => m.namespace ?? "flux-system");
        this.registerOutputs({ name: this.name, namespace: this.namespace });
    }
}
