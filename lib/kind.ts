/**
 * The kind cluster and kind's documented "local registry" recipe: the kind configuration, and the
 * environment of the scripts in `lib/sh/` that the components run through `@pulumi/command`
 * (`kind-cluster.sh`, `registry-container.sh`, `registry-connect.sh`). Names reach the scripts as
 * environment variables, never as shell text.
 *
 * Pure module: unit tests run the scripts against fake `kind` and `docker` commands.
 */
import * as yaml from "js-yaml";
import { readScript, SCRIPT_VARIABLE, scriptCommand } from "./scripts";

/** Where containerd looks for per-registry host configuration on kind nodes. */
export const CONTAINERD_CERTS_DIR = "/etc/containerd/certs.d";

export interface KindConfigOptions {
    nodeImage: string;
    /** Adds containerd's `config_path` so `certs.d` entries (the local registry) are honoured. */
    localRegistry: boolean;
}

/** The kind cluster configuration (`kind.x-k8s.io/v1alpha4`), as YAML. */
export function renderKindConfig(options: KindConfigOptions): string {
    const config: Record<string, unknown> = {
        kind: "Cluster",
        apiVersion: "kind.x-k8s.io/v1alpha4",
        nodes: [{ role: "control-plane", image: options.nodeImage }],
    };
    if (options.localRegistry) {
        config.containerdConfigPatches = [
            `[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "${CONTAINERD_CERTS_DIR}"`,
        ];
    }
    return yaml.dump(config, { lineWidth: -1, noRefs: true });
}

export const KIND_CLUSTER_SCRIPT = "kind-cluster.sh";
/**
 * The kind cluster's Command lines. `create` reads the kind configuration on stdin, is idempotent
 * (a retried `pulumi up` after a partial failure adopts the cluster instead of failing on
 * "node(s) already exist") and prints the kubeconfig on stdout.
 */
export const KIND_CLUSTER_COMMANDS = {
    create: scriptCommand(KIND_CLUSTER_SCRIPT, "create"),
    delete: scriptCommand(KIND_CLUSTER_SCRIPT, "delete"),
};

/** The kind cluster Command's environment. */
export function kindClusterEnvironment(clusterName: string, waitSeconds = 120): Record<string, string> {
    return {
        [SCRIPT_VARIABLE]: readScript(KIND_CLUSTER_SCRIPT),
        KIND_CLUSTER: clusterName,
        KIND_WAIT_SECONDS: String(waitSeconds),
    };
}

export interface RegistryContainerOptions {
    containerName: string;
    hostPort: number;
    image: string;
}

export const REGISTRY_CONTAINER_SCRIPT = "registry-container.sh";
/**
 * Step 1 of the recipe, the registry container published on 127.0.0.1 only: `create` starts it
 * unless it runs (it needs no cluster: the push needs only this).
 */
export const REGISTRY_CONTAINER_COMMANDS = {
    create: scriptCommand(REGISTRY_CONTAINER_SCRIPT, "create"),
    delete: scriptCommand(REGISTRY_CONTAINER_SCRIPT, "delete"),
};

/** The registry container Command's environment. */
export function registryContainerEnvironment(o: RegistryContainerOptions): Record<string, string> {
    return {
        [SCRIPT_VARIABLE]: readScript(REGISTRY_CONTAINER_SCRIPT),
        REGISTRY_CONTAINER: o.containerName,
        REGISTRY_HOST_PORT: String(o.hostPort),
        REGISTRY_IMAGE: o.image,
    };
}

export interface RegistryConnectOptions {
    containerName: string;
    hostPort: number;
    clusterName: string;
}

export const REGISTRY_CONNECT_SCRIPT = "registry-connect.sh";
/**
 * Steps 3 and 4 of the recipe: every node's containerd resolves `localhost:<port>` to the
 * registry container, and the container joins the `kind` network so pods reach it by name.
 */
export const REGISTRY_CONNECT_COMMAND = scriptCommand(REGISTRY_CONNECT_SCRIPT);

/** The registry connect Command's environment. */
export function registryConnectEnvironment(o: RegistryConnectOptions): Record<string, string> {
    return {
        [SCRIPT_VARIABLE]: readScript(REGISTRY_CONNECT_SCRIPT),
        KIND_CLUSTER: o.clusterName,
        REGISTRY_CONTAINER: o.containerName,
        REGISTRY_HOST_PORT: String(o.hostPort),
        CONTAINERD_CERTS_DIR,
    };
}

/** The `local-registry-hosting` ConfigMap data (KEP-1755), which tools read to find the registry. */
export function localRegistryHostingData(hostPort: number): Record<string, string> {
    return {
        "localRegistryHosting.v1": `host: "localhost:${hostPort}"\nhelp: "https://kind.sigs.k8s.io/docs/user/local-registry/"\n`,
    };
}
