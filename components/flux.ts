import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

export interface FluxArgs {
    /** Flux release, recorded in the outputs. Defaults to `v2.9.4`. */
    version?: pulumi.Input<string>;
    /**
     * The release `install.yaml`: an https URL or a local file (air-gapped installs). Defaults to
     * `https://github.com/fluxcd/flux2/releases/download/<version>/install.yaml`.
     */
    installManifest?: pulumi.Input<string>;
}

/**
 * Flux's controllers and CRDs from the release manifest, applied server-side (the provider's
 * default) and awaited: the component is done when the CRDs are established and the controller
 * Deployments are Available.
 */
export class Flux extends pulumi.ComponentResource {
    public static readonly type = "policy-stack:flux:Flux";
    public readonly version: pulumi.Output<string>;
    public readonly namespace: pulumi.Output<string>;
    /** Every object from install.yaml; depend on these to wait for Flux. */
    public readonly resources: pulumi.Output<pulumi.Resource[]>;

    constructor(name: string, args: FluxArgs, opts?: pulumi.ComponentResourceOptions) {
        super(Flux.type, name, {}, opts);
        this.version = pulumi.output(args.version ?? "v2.9.4");
        const file = args.installManifest ?? this.version.apply((v) => `https://github.com/fluxcd/flux2/releases/download/${v}/install.yaml`);
        const install = new k8s.yaml.v2.ConfigFile(`${name}-install`, { file }, { parent: this });
        this.resources = install.resources as pulumi.Output<pulumi.Resource[]>;
        this.namespace = pulumi.output("flux-system");
        this.registerOutputs({ version: this.version, namespace: this.namespace });
    }
}
