import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { DEFAULTS } from "../lib/config";
import { dockerConfigJson } from "../lib/dockerconfig";
import type { ClusterAccess } from "./cluster";

export interface RegistryAccessArgs {
    /** The cluster the Secrets go to. */
    cluster: ClusterAccess;
    /** Registry host (with port) the cluster pulls from, e.g. `ghcr.io`: the pull Secret's `auths` entry. */
    registryHost: pulumi.Input<string>;
    /**
     * User and password (or token) Flux pulls with; the pull Secret exists only when they are
     * given (a plain value: it decides whether the child exists). Defaults to none (anonymous pull).
     */
    credentials?: { username: pulumi.Input<string>; password: pulumi.Input<string> };
    /** PEM CA bundle that signed the registry's certificate; the CA Secret exists only when it is given. Defaults to none (the system CAs). */
    caCertificate?: pulumi.Input<string>;
    /** Namespace of the OCIRepository. Defaults to `flux-system`. */
    namespace?: pulumi.Input<string>;
    /** Name of the pull Secret. Defaults to `<name>-credentials`. */
    pullSecretName?: pulumi.Input<string>;
    /** Name of the CA Secret. Defaults to `<name>-ca`. */
    caSecretName?: pulumi.Input<string>;
}

/**
 * Where the Secrets were before this component held both: each under a component of its own at
 * the top of the program. Their old URNs as aliases, so existing stacks keep the Secrets (a
 * replacement would delete and recreate them under the OCIRepository's feet).
 */
function formerlyUnder(component: string, type: string): pulumi.Alias[] {
    return [{ parent: pulumi.createUrn(component, type) }];
}

/**
 * What Flux needs to pull from the registry, as Secrets beside the OCIRepository: the
 * `kubernetes.io/dockerconfigjson` pull Secret (`secretRef`, in the JSON shape `flux create secret
 * oci` writes) for a registry that needs credentials, and the `ca.crt` Secret (`certSecretRef`)
 * for a registry whose certificate comes from a private CA — the same CA `registryCaFile` gives
 * the push. Each exists only when needed.
 */
export class RegistryAccess extends pulumi.ComponentResource {
    public static readonly type = "policy-stack:registry:RegistryAccess";
    /** The pull Secret; undefined without credentials. */
    public readonly pullSecret?: k8s.core.v1.Secret;
    /** The CA Secret; undefined without a CA. */
    public readonly caSecret?: k8s.core.v1.Secret;
    /** The OCIRepository's `secretRef` name; undefined without credentials. */
    public readonly pullSecretName?: pulumi.Output<string>;
    /** The OCIRepository's `certSecretRef` name; undefined without a CA. */
    public readonly caSecretName?: pulumi.Output<string>;
    /** Every Secret this component made; depend on them before the OCIRepository reads them. */
    public readonly secrets: k8s.core.v1.Secret[];

    constructor(name: string, args: RegistryAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super(RegistryAccess.type, name, {}, { ...opts, provider: args.cluster.provider });
        const namespace = args.namespace ?? DEFAULTS.fluxNamespace;
        const credentials = args.credentials;
        if (credentials !== undefined) {
            const config = pulumi.secret(pulumi.all([args.registryHost, credentials.username, credentials.password])
                .apply(([host, username, password]) => dockerConfigJson(host, username, password)));
            this.pullSecret = new k8s.core.v1.Secret(`${name}-credentials-secret`, {
                metadata: { name: args.pullSecretName ?? `${name}-credentials`, namespace },
                type: "kubernetes.io/dockerconfigjson",
                stringData: { ".dockerconfigjson": config },
            }, {
                parent: this,
                additionalSecretOutputs: ["data", "stringData"],
                aliases: formerlyUnder("registry-credentials", "policy-stack:registry:RegistrySecret"),
            });
            this.pullSecretName = this.pullSecret.metadata.name;
        }
        if (args.caCertificate !== undefined) {
            this.caSecret = new k8s.core.v1.Secret(`${name}-ca-secret`, {
                metadata: { name: args.caSecretName ?? `${name}-ca`, namespace },
                type: "Opaque",
                stringData: { "ca.crt": args.caCertificate },
            }, { parent: this, aliases: formerlyUnder("registry-ca", "policy-stack:registry:RegistryCaSecret") });
            this.caSecretName = this.caSecret.metadata.name;
        }
        this.secrets = [this.pullSecret, this.caSecret].filter((s): s is k8s.core.v1.Secret => s !== undefined);
        this.registerOutputs({ pullSecretName: this.pullSecretName, caSecretName: this.caSecretName });
    }
}
