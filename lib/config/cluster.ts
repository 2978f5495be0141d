/** The `cluster` section: a kind cluster the stack creates, or one that exists. */
import { defaultKindClusterName, DEFAULTS } from "./defaults";
import { DNS_LABEL, type ConfigReader } from "./reader";

/** A kind cluster created and deleted by the stack (dev on a laptop). */
export interface KindClusterConfig {
    mode: "kind";
    /** kind cluster name: `policy-stack-<stack>` unless set. */
    name: string;
    /** kind node image (decides the Kubernetes version). */
    nodeImage: string;
}

/** A cluster that exists already (staging, prod). */
export interface ExistingClusterConfig {
    mode: "existing";
    /** Kubeconfig contents (a secret). When absent the ambient kubeconfig ($KUBECONFIG or ~/.kube/config) is used. */
    kubeconfig?: string;
    /** Context inside the kubeconfig; defaults to its current context. */
    context?: string;
}

export type ClusterConfig = KindClusterConfig | ExistingClusterConfig;

/** `clusterMode` and the keys of that mode; the other mode's keys are refused. */
export function parseCluster(reader: ConfigReader, stack: string): ClusterConfig {
    const mode = reader.oneOf("clusterMode", ["kind", "existing"] as const, "kind");
    if (mode === "existing") {
        reader.refuse(["kindClusterName", "kindNodeImage"], "only applies to clusterMode kind (remove it)");
        return { mode: "existing", kubeconfig: reader.str("kubeconfig"), context: reader.str("kubeContext") };
    }
    const name = reader.str("kindClusterName") ?? defaultKindClusterName(stack);
    if (!DNS_LABEL.test(name) || name.length > 50) {
        reader.bad("kindClusterName", name, "must be a lowercase DNS label of at most 50 characters (kind names its Docker containers after it)");
    }
    const nodeImage = reader.str("kindNodeImage") ?? DEFAULTS.kindNodeImage;
    if (!/^[a-z0-9.\-/:_@]+$/i.test(nodeImage) || !nodeImage.includes(":")) {
        reader.bad("kindNodeImage", nodeImage, "must be an image reference with a tag, e.g. kindest/node:v1.34.0");
    }
    reader.refuse(["kubeconfig", "kubeContext"], "only applies to clusterMode existing (remove it, or set clusterMode existing)");
    return { mode: "kind", name, nodeImage };
}
