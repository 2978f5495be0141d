import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { DEFAULTS, type TrustedKey } from "../lib/config";
import { verificationKeyEntries } from "../lib/verification";
import type { ClusterAccess } from "./cluster";

export interface VerificationKeysArgs {
    /** The cluster the Secret goes to. */
    cluster: ClusterAccess;
    /** The public keys Flux trusts (PEM and fingerprint; see lib/config/signing.ts). At least one. */
    publicKeys: TrustedKey[];
    /** Namespace of the OCIRepository. Defaults to `flux-system`. */
    namespace?: pulumi.Input<string>;
    /** Name of the Secret. Defaults to `<name>-keys`. */
    secretName?: pulumi.Input<string>;
}

/**
 * The public keys Flux verifies the artifact's cosign signature with: a Secret of `*.pub` entries
 * beside the OCIRepository (its `spec.verify.secretRef`), next to the pull and CA Secrets of
 * RegistryAccess. Public keys only: nothing in it is secret, and the private key never reaches
 * the cluster.
 */
export class VerificationKeys extends pulumi.ComponentResource {
    public static readonly type = "policy-stack:signing:VerificationKeys";
    public readonly secret: k8s.core.v1.Secret;
    /** The OCIRepository's `spec.verify.secretRef` name. */
    public readonly secretName: pulumi.Output<string>;

    constructor(name: string, args: VerificationKeysArgs, opts?: pulumi.ComponentResourceOptions) {
        super(VerificationKeys.type, name, {}, { ...opts, provider: args.cluster.provider });
        if (args.publicKeys.length === 0) throw new pulumi.ResourceError("VerificationKeys needs at least one public key", this);
        this.secret = new k8s.core.v1.Secret(`${name}-secret`, {
            metadata: { name: args.secretName ?? `${name}-keys`, namespace: args.namespace ?? DEFAULTS.fluxNamespace },
            type: "Opaque",
            stringData: verificationKeyEntries(args.publicKeys),
        }, { parent: this });
        this.secretName = this.secret.metadata.name;
        this.registerOutputs({ secretName: this.secretName });
    }
}
