import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

export interface RegistryCaSecretArgs {
    /** PEM CA bundle that signed the registry's certificate. */
    caCertificate: pulumi.Input<string>;
    /** Namespace of the OCIRepository. Defaults to `flux-system`. */
    namespace?: pulumi.Input<string>;
    /** Secret name. Defaults to `<name>`. */
    secretName?: pulumi.Input<string>;
}

/**
 * The Secret an OCIRepository's `certSecretRef` points at (`ca.crt`), so Flux trusts a registry
 * whose certificate comes from a private CA — the same CA `registryCaFile` gives the push.
 */
export class RegistryCaSecret extends pulumi.ComponentResource {
    public static readonly type = "policy-stack:registry:RegistryCaSecret";
    public readonly secret: k8s.core.v1.Secret;
    public readonly secretName: pulumi.Output<string>;

    constructor(name: string, args: RegistryCaSecretArgs, opts?: pulumi.ComponentResourceOptions) {
        super(RegistryCaSecret.type, name, {}, opts);
        this.secret = new k8s.core.v1.Secret(`${name}-secret`, {
            metadata: { name: args.secretName ?? name, namespace: args.namespace ?? "flux-system" },
            type: "Opaque",
            stringData: { "ca.crt": args.caCertificate },
        }, { parent: this });
        this.secretName = this.secret.metadata.name;
        this.registerOutputs({ secretName: this.secretName });
    }
}
