/** The `flux` section: the Flux release and the OCIRepository/Kustomization settings. */
import { DEFAULTS, fluxInstallManifestUrl } from "./defaults";
import { DNS_LABEL, type ConfigReader } from "./reader";

export interface FluxConfig {
    version: string;
    /** URL or absolute local path of the release `install.yaml`. */
    installManifest: string;
    namespace: string;
    /** OCIRepository/Kustomization reconcile interval. */
    interval: string;
    /** Kustomization `spec.timeout` and how long `pulumi up` waits for Ready. */
    reconcileTimeout: string;
    /** Name of the OCIRepository and Kustomization. */
    sourceName: string;
}

export function parseFlux(reader: ConfigReader): FluxConfig {
    const version = reader.str("fluxVersion") ?? DEFAULTS.fluxVersion;
    if (!/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) {
        reader.bad("fluxVersion", version, "must be a Flux release tag such as v2.9.4");
    }
    const manifest = reader.str("fluxInstallManifest");
    let installManifest = fluxInstallManifestUrl(version);
    if (manifest !== undefined) {
        if (/^https:\/\//.test(manifest)) installManifest = manifest;
        else if (/^[a-z]+:\/\//i.test(manifest)) reader.bad("fluxInstallManifest", manifest, "must be an https:// URL or a local file path");
        else installManifest = reader.resolvePath(manifest);
    }
    const sourceName = reader.str("sourceName") ?? DEFAULTS.sourceName;
    if (!DNS_LABEL.test(sourceName)) reader.bad("sourceName", sourceName, "must be a lowercase DNS label (a Kubernetes object name)");
    return {
        version,
        installManifest,
        namespace: DEFAULTS.fluxNamespace,
        interval: reader.duration("fluxInterval", DEFAULTS.fluxInterval),
        reconcileTimeout: reader.duration("reconcileTimeout", DEFAULTS.reconcileTimeout),
        sourceName,
    };
}
