import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as command from "@pulumi/command";
import { DEFAULTS } from "../lib/config";
import { KIND_CLUSTER_COMMANDS, kindClusterEnvironment, renderKindConfig } from "../lib/kind";

/**
 * How the Kubernetes components reach the cluster, handed out by `Cluster` as one object: the
 * provider of their Kubernetes resources and the kubeconfig and context of their kubectl scripts
 * come from the same place, so the two cannot point at different clusters.
 */
export interface ClusterAccess {
    /** The Kubernetes provider bound to the cluster. */
    readonly provider: k8s.Provider;
    /** Kubeconfig contents (secret); undefined means the ambient kubeconfig, which the provider and kubectl both read. */
    readonly kubeconfig: pulumi.Output<string | undefined>;
    /** Context within the kubeconfig; undefined means its current context. */
    readonly context: pulumi.Output<string | undefined>;
}

export interface ClusterArgs {
    /**
     * `kind` creates (and on destroy deletes) a kind cluster; `existing` targets a cluster that is
     * already there. A plain value: it decides which children exist. Defaults to `kind`.
     */
    mode?: "kind" | "existing";
    /** kind cluster name. Required for `kind`. */
    name?: pulumi.Input<string>;
    /** kind node image, which decides the Kubernetes version. Defaults to `kindest/node:v1.34.0`. */
    nodeImage?: pulumi.Input<string>;
    /** Configure containerd on the kind nodes for the local registry (`certs.d`). Defaults to `false`. */
    localRegistry?: boolean;
    /** Kubeconfig contents for `existing`; kept secret. Defaults to the ambient kubeconfig. */
    kubeconfig?: pulumi.Input<string>;
    /** Kubeconfig context for `existing`. Defaults to the kubeconfig's current context. */
    context?: pulumi.Input<string>;
    /** Seconds kind waits for the control plane. Defaults to 120. */
    waitSeconds?: number;
}

/**
 * The Kubernetes cluster the stack deploys to, and the access (provider, kubeconfig, context)
 * every Kubernetes component takes.
 *
 * The provider's kubeconfig comes from the kind command's stored output, which is known at every
 * preview after the first, so an unchanged stack never sees the provider (and everything under
 * it) replaced.
 */
export class Cluster extends pulumi.ComponentResource {
    public static readonly type = "policy-stack:cluster:Cluster";
    /** Kubeconfig of the cluster (secret); undefined for an existing cluster read from the environment. */
    public readonly kubeconfig: pulumi.Output<string | undefined>;
    /** The cluster's name (kind name, or the context for an existing cluster). */
    public readonly name: pulumi.Output<string>;
    /** What the Kubernetes components take: the provider, and the kubeconfig and context for kubectl. */
    public readonly access: ClusterAccess;
    /** The kind create/delete command; undefined for an existing cluster. */
    public readonly kindCluster?: command.local.Command;

    constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super(Cluster.type, name, {}, opts);
        const mode = args.mode ?? "kind";
        if (mode === "kind") {
            if (args.name === undefined) throw new pulumi.ResourceError("Cluster: 'name' is required for a kind cluster", this);
            this.kindCluster = new command.local.Command(`${name}-kind`, {
                create: KIND_CLUSTER_COMMANDS.create,
                delete: KIND_CLUSTER_COMMANDS.delete,
                environment: pulumi.output(args.name).apply((n) => kindClusterEnvironment(n, args.waitSeconds ?? 120)),
                stdin: pulumi.output(args.nodeImage ?? DEFAULTS.kindNodeImage).apply((nodeImage) =>
                    renderKindConfig({ nodeImage, localRegistry: args.localRegistry ?? false })),
                // stdout is the kubeconfig (credentials): only kind's progress on stderr is logged.
                logging: "stderr",
            }, { parent: this, additionalSecretOutputs: ["stdout"] });
            this.kubeconfig = pulumi.secret(this.kindCluster.stdout);
            // Derived from the command so that whatever follows the cluster waits for it to exist.
            this.name = pulumi.all([args.name, this.kindCluster.id]).apply(([n]) => n);
        } else {
            this.kubeconfig = args.kubeconfig === undefined ? pulumi.output(undefined) : pulumi.secret(args.kubeconfig);
            this.name = pulumi.output(args.context ?? "current-context");
        }
        // A kind cluster's kubeconfig names one context, its current one.
        const context = mode === "existing" ? args.context : undefined;
        const provider = new k8s.Provider(`${name}-k8s`, {
            // undefined means the ambient kubeconfig, which the provider reads itself.
            kubeconfig: this.kubeconfig as pulumi.Output<string>,
            context,
            enableServerSideApply: true,
        }, { parent: this });
        this.access = { provider, kubeconfig: this.kubeconfig, context: pulumi.output(context) };
        this.registerOutputs({ kubeconfig: this.kubeconfig, name: this.name });
    }
}
