import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { dockerConfigJson } from "../lib/dockerconfig";

export interface RegistrySecretArgs {
    /** Registry host (with port) the cluster pulls from, e.g. `ghcr.io`. */
    registryHost: pulumi.Input<string>;
    /** Registry user. */
    username: pulumi.Input<string>;
    /** Registry password or token; kept secret. */
    password: pulumi.Input<string>;
    /** Namespace of the OCIRepository. Defaults to `flux-system`. */
    namespace?: pulumi.Input<string>;
    /** Secret name. Defaults to `<name>`. */
    secretName?: pulumi.Input<string>;
}

/**
 * The `kubernetes.io/dockerconfigjson` Secret Flux pulls the artifact with, in the JSON shape
 * `flux create secret oci` writes. Only created for registries that need credentials.
 */
export class RegistrySecret extends pulumi.ComponentResource {
    public static readonly type = "policy-stack:registry:RegistrySecret";
    public readonly secret: k8s.core.v1.Secret;
    public readonly secretName: pulumi.Output<string>;

    constructor(name: string, args: RegistrySecretArgs, opts?: pulumi.ComponentResourceOptions) {
        super(RegistrySecret.type, name, {}, opts);
        const config = pulumi.secret(pulumi.all([args.registryHost, args.username, args.password])
            .apply(([host, username, password]) => dockerConfigJson(host, username, password)));
        this.secret = new k8s.core.v1.Secret(`${name}-secret`, {
            metadata: { name: args.secretName ?? name, namespace: args.namespace ?? "flux-system" },
            type: "kubernetes.io/dockerconfigjson",
            stringData: { ".dockerconfigjson": config },
        }, { parent: this, additionalSecretOutputs: ["data", "stringData"] });
        this.secretName = this.secret.metadata.name;
        this.registerOutputs({ secretName: this.secretName });
    }
}
