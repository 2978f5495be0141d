import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { DEFAULTS, fluxInstallManifestUrl } from "../lib/config";
import type { ClusterAccess } from "./cluster";

export interface FluxArgs {
    /** The cluster Flux is installed in (its provider applies install.yaml). */
    cluster: ClusterAccess;
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
        super(Flux.type, name, {}, { ...opts, provider: args.cluster.provider });
        this.version = pulumi.output(args.version ?? DEFAULTS.fluxVersion);
        const file = args.installManifest ?? this.version.apply(fluxInstallManifestUrl);
        const install = new k8s.yaml.v2.ConfigFile(`${name}-install`, { file }, { parent: this });
        this.resources = install.resources as pulumi.Output<pulumi.Resource[]>;
        // install.yaml's namespace.
        this.namespace = pulumi.output(DEFAULTS.fluxNamespace);
        this.registerOutputs({ version: this.version, namespace: this.namespace });
    }
}
