/**
 * The one table of defaults: what a stack gets for a key it does not set, and what a component
 * gets for an argument its caller leaves out. The config parsers and the components both read
 * it, so a changed default is one line here (and the README's table).
 */
import type { Enforcement, EnforcementGate } from "./enforcement";
import type { ArtifactSource } from "./promotion";
import type { Verification } from "./signing";

/** Defaults that point at the latest upstream releases. */
export const DEFAULTS = {
    kindNodeImage: "kindest/node:v1.34.0",
    localRegistryPort: 5001,
    localRegistryImage: "registry:2",
    localRegistryName: "kind-registry",
    repository: "kyverno-policies",
    artifactSource: "build" as ArtifactSource,
    artifactTag: "1.0.0",
    semverRange: ">=1.0.0",
    policiesPath: "policies",
    pinDigest: false,
    enforcement: "audit" as Enforcement,
    enforcementGate: "warn" as EnforcementGate,
    fluxVersion: "v2.9.4",
    fluxNamespace: "flux-system",
    fluxInterval: "1m",
    reconcileTimeout: "5m",
    sourceName: "kyverno-policies",
    kyvernoChartVersion: "3.9.1",
    kyvernoChart: "kyverno",
    kyvernoRepository: "https://kyverno.github.io/kyverno/",
    kyvernoNamespace: "kyverno",
    /** Without any key or identity set; with one, `cosign`. */
    verification: "none" as Verification,
} as const;

/** The release `install.yaml` of a Flux version, the default of `fluxInstallManifest`. */
export function fluxInstallManifestUrl(version: string): string {
    return `https://github.com/fluxcd/flux2/releases/download/${version}/install.yaml`;
}

/** The default kind cluster name of a stack: `policy-stack-<stack>`, made a DNS label. */
export function defaultKindClusterName(stack: string): string {
    return `policy-stack-${stack}`.toLowerCase().replace(/[^a-z0-9-]/g, "-");
}
