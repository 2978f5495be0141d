/**
 * kind cluster and local-registry command lines (kind's documented "local registry" recipe).
 *
 * Pure module: the components hand these strings to `@pulumi/command`, and unit tests check them
 * without Docker. Names reaching a shell are validated as DNS labels by the config module; they
 * are still quoted here so the commands stay safe if that ever changes.
 */
import * as yaml from "js-yaml";

/** Where containerd looks for per-registry host configuration on kind nodes. */
export const CONTAINERD_CERTS_DIR = "/etc/containerd/certs.d";

/** Single-quotes a value for POSIX sh. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

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

export interface KindCommands {
    /** Creates the cluster (config on stdin) unless it exists, then prints its kubeconfig on stdout. */
    create: string;
    delete: string;
}

/**
 * Commands for a kind cluster. `create` is idempotent so a retried `pulumi up` after a partial
 * failure adopts the cluster instead of failing on "node(s) already exist".
 */
export function kindCommands(clusterName: string, waitSeconds = 120): KindCommands {
    const name = shellQuote(clusterName);
    return {
        create: [
            "set -e",
            `if ! kind get clusters 2>/dev/null | grep -qx ${name}; then`,
            `  kind create cluster --name ${name} --config=- --wait ${waitSeconds}s >&2`,
            "fi",
            `kind get kubeconfig --name ${name}`,
        ].join("\n"),
        delete: `kind delete cluster --name ${name}`,
    };
}

export interface RegistryContainerOptions {
    containerName: string;
    hostPort: number;
    image: string;
}

export interface RegistryContainerCommands {
    /** Starts the registry container unless it runs (needs no cluster: the push needs only this). */
    create: string;
    delete: string;
}

/** Step 1 of the recipe: the registry container, published on 127.0.0.1 only. */
export function registryContainerCommands(o: RegistryContainerOptions): RegistryContainerCommands {
    const container = shellQuote(o.containerName);
    return {
        create: [
            "set -e",
            `if [ "$(docker inspect -f '{{.State.Running}}' ${container} 2>/dev/null || true)" != 'true' ]; then`,
            `  docker run -d --restart=always -p ${shellQuote(`127.0.0.1:${o.hostPort}:5000`)} --network bridge --name ${container} ${shellQuote(o.image)} >&2`,
            "fi",
        ].join("\n"),
        delete: `docker rm -f ${container}`,
    };
}

export interface RegistryConnectOptions {
    containerName: string;
    hostPort: number;
    clusterName: string;
}

/**
 * Steps 3 and 4 of the recipe: every node's containerd resolves `localhost:<port>` to the
 * registry container, and the container joins the `kind` network so pods reach it by name.
 */
export function registryConnectCommand(o: RegistryConnectOptions): string {
    const container = shellQuote(o.containerName);
    const hostsDir = `${CONTAINERD_CERTS_DIR}/localhost:${o.hostPort}`;
    const hostsToml = `[host."http://${o.containerName}:5000"]`;
    return [
        "set -e",
        `for node in $(kind get nodes --name ${shellQuote(o.clusterName)}); do`,
        `  docker exec "$node" mkdir -p ${shellQuote(hostsDir)}`,
        `  printf '%s\\n' ${shellQuote(hostsToml)} | docker exec -i "$node" cp /dev/stdin ${shellQuote(`${hostsDir}/hosts.toml`)}`,
        "done",
        `if [ "$(docker inspect -f '{{json .NetworkSettings.Networks.kind}}' ${container})" = 'null' ]; then`,
        `  docker network connect kind ${container}`,
        "fi",
    ].join("\n");
}

/** The `local-registry-hosting` ConfigMap data (KEP-1755), which tools read to find the registry. */
export function localRegistryHostingData(hostPort: number): Record<string, string> {
    return {
        "localRegistryHosting.v1": `host: "localhost:${hostPort}"\nhelp: "https://kind.sigs.k8s.io/docs/user/local-registry/"\n`,
    };
}
