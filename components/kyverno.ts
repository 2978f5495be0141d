import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as command from "@pulumi/command";
import { ORPHAN_REAPER_COMMAND, orphanReaperEnvironment, WEBHOOK_CLEANUP_COMMAND, webhookCleanupEnvironment } from "../lib/kyverno";
import { DEFAULTS } from "../lib/config";
import type { ClusterAccess } from "./cluster";
import { kubectlEnvironment } from "./kubectlEnvironment";

export interface KyvernoArgs {
    /** The cluster Kyverno is installed in: the release's provider, and the kubeconfig and context of the cleanup steps. */
    cluster: ClusterAccess;
    /** Chart version (a local chart's Chart.yaml decides its own). Defaults to `3.9.1`. */
    chartVersion?: pulumi.Input<string>;
    /** Chart name in `repository`, or the path of a local chart directory. Defaults to `kyverno`. */
    chart?: pulumi.Input<string>;
    /** Helm repository of `chart`; leave it out for a local chart directory. Defaults to none (a local chart). */
    repository?: pulumi.Input<string>;
    /** Namespace, created by the release. Defaults to `kyverno`. */
    namespace?: pulumi.Input<string>;
    /** Extra chart values. Defaults to none. */
    values?: pulumi.Input<Record<string, unknown>>;
    /** Seconds Helm waits for the release to become ready (and to be gone, on uninstall). Defaults to 600. */
    timeoutSeconds?: number;
}

/** The Helm release's name, which the orphan reaper watches for. */
const RELEASE_NAME = "kyverno";

/**
 * Kyverno from its Helm chart as a `helm.v3.Release`, so the chart's own hooks run (its pre-delete
 * hook scales the controllers to zero, and a departing admission controller removes its webhooks).
 * A cleanup step after the uninstall makes sure no webhook configuration Kyverno registered is
 * left behind to block the API server. The release waits for its workloads: the component is
 * ready when Kyverno is.
 */
export class Kyverno extends pulumi.ComponentResource {
    public static readonly type = "policy-stack:kyverno:Kyverno";
    public readonly release: k8s.helm.v3.Release;
    public readonly version: pulumi.Output<string>;
    public readonly appVersion: pulumi.Output<string>;
    public readonly namespace: pulumi.Output<string>;

    constructor(name: string, args: KyvernoArgs, opts?: pulumi.ComponentResourceOptions) {
        super(Kyverno.type, name, {}, { ...opts, provider: args.cluster.provider });
        const repository = args.repository;
        const timeoutSeconds = args.timeoutSeconds ?? 600;
        const namespace = args.namespace ?? DEFAULTS.kyvernoNamespace;
        // Created before the release and deleted after it (the release depends on it): its delete
        // step removes the webhook configurations Kyverno registered, once its pods are gone.
        const webhookCleanup = new command.local.Command(`${name}-webhook-cleanup`, {
            // The delete step runs with the environment the last update recorded: a change of the
            // script or its parameters is an update (which runs nothing, there is no create).
            delete: WEBHOOK_CLEANUP_COMMAND,
            environment: kubectlEnvironment(args.cluster, (context) => pulumi.output(namespace).apply((ns) =>
                webhookCleanupEnvironment({ namespace: ns, timeoutSeconds: 120, context }))),
            logging: "stderr",
        }, { parent: this });
        this.release = new k8s.helm.v3.Release(`${name}-release`, {
            name: RELEASE_NAME,
            chart: args.chart ?? DEFAULTS.kyvernoChart,
            version: args.chartVersion ?? DEFAULTS.kyvernoChartVersion,
            repositoryOpts: repository === undefined ? undefined : { repo: repository },
            namespace,
            createNamespace: true,
            values: args.values ?? {},
            timeout: timeoutSeconds,
            skipAwait: false,
            cleanupOnFail: true,
        }, { parent: this, dependsOn: [webhookCleanup] });
        // Deleted just before the release, its delete step starts a watcher that lives through the
        // uninstall: see lib/sh/kyverno-orphan-reaper.sh for the Kubernetes race it works around.
        new command.local.Command(`${name}-uninstall-helper`, {
            delete: ORPHAN_REAPER_COMMAND,
            environment: kubectlEnvironment(args.cluster, (context) => pulumi.output(namespace).apply((ns) =>
                orphanReaperEnvironment({ release: RELEASE_NAME, namespace: ns, timeoutSeconds: timeoutSeconds + 60, context }))),
            logging: "stderr",
        }, { parent: this, dependsOn: [this.release] });
        this.version = this.release.status.version;
        this.appVersion = this.release.status.appVersion;
        this.namespace = this.release.status.namespace;
        this.registerOutputs({ version: this.version, appVersion: this.appVersion, namespace: this.namespace });
    }
}
