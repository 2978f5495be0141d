import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as command from "@pulumi/command";
import {
    localRegistryHostingData, REGISTRY_CONNECT_COMMAND, REGISTRY_CONTAINER_COMMANDS, registryConnectEnvironment, registryContainerEnvironment,
} from "../lib/kind";
import { DEFAULTS } from "../lib/config";
import type { ClusterAccess } from "./cluster";

export interface LocalRegistryArgs {
    /** The kind cluster whose nodes use the registry (its provider writes the hosting ConfigMap). */
    cluster: ClusterAccess;
    /** Name of the kind cluster whose nodes use the registry (pass the Cluster's output: the wiring waits for it). */
    clusterName: pulumi.Input<string>;
    /** Registry container name, also its host name on the `kind` network. Defaults to `kind-registry`. */
    containerName?: string;
    /** Port on 127.0.0.1 the host pushes to. Defaults to 5001. */
    hostPort?: number;
    /** Registry image. Defaults to `registry:2`. */
    image?: string;
}

/**
 * kind's local-registry recipe: a registry container on the host (started before the cluster is
 * ready, so the artifact push need not wait for the cluster), containerd `certs.d` entries on each
 * node, the container joined to the `kind` network, and the `local-registry-hosting` ConfigMap.
 * The ConfigMap goes through the cluster's provider.
 */
export class LocalRegistry extends pulumi.ComponentResource {
    public static readonly type = "policy-stack:registry:LocalRegistry";
    /** The running registry container; the artifact push depends on it. */
    public readonly container: command.local.Command;
    /** Push address as the host sees it. */
    public readonly pushUrl: pulumi.Output<string>;
    /** Pull address as pods in the cluster see it. */
    public readonly pullUrl: pulumi.Output<string>;

    constructor(name: string, args: LocalRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super(LocalRegistry.type, name, {}, { ...opts, provider: args.cluster.provider });
        const containerName = args.containerName ?? DEFAULTS.localRegistryName;
        const hostPort = args.hostPort ?? DEFAULTS.localRegistryPort;
        const image = args.image ?? DEFAULTS.localRegistryImage;
        this.container = new command.local.Command(`${name}-container`, {
            create: REGISTRY_CONTAINER_COMMANDS.create,
            delete: REGISTRY_CONTAINER_COMMANDS.delete,
            // Built from plain values only: no dependency on the cluster.
            environment: registryContainerEnvironment({ containerName, hostPort, image }),
            logging: "stderr",
        }, { parent: this });
        const connect = new command.local.Command(`${name}-connect`, {
            create: REGISTRY_CONNECT_COMMAND,
            environment: pulumi.output(args.clusterName).apply((clusterName) =>
                registryConnectEnvironment({ containerName, hostPort, clusterName })),
            triggers: [this.container.id],
            logging: "stderr",
        }, { parent: this });
        new k8s.core.v1.ConfigMap(`${name}-hosting`, {
            metadata: { name: "local-registry-hosting", namespace: "kube-public" },
            data: localRegistryHostingData(hostPort),
        }, { parent: this, dependsOn: [connect] });
        this.pushUrl = pulumi.output(`oci://localhost:${hostPort}`);
        this.pullUrl = pulumi.output(`oci://${containerName}:5000`);
        this.registerOutputs({ pushUrl: this.pushUrl, pullUrl: this.pullUrl });
    }
}
