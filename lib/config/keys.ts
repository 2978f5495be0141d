/** Every key the program reads, and which of them hold secrets. */

/** Keys that hold secrets: their values never appear in error messages. */
export const SECRET_KEYS = new Set(["registryPassword", "kubeconfig", "signingKey", "signingKeyPassword"]);

/** Every key the program reads, with a one-line description (used for "unknown key" hints and the README). */
export const KNOWN_KEYS: Record<string, string> = {
    clusterMode: "kind | existing",
    kindClusterName: "kind cluster name",
    kindNodeImage: "kind node image",
    kubeconfig: "kubeconfig contents for an existing cluster (secret)",
    kubeContext: "kubeconfig context for an existing cluster",
    registryMode: "local | external",
    localRegistryPort: "host port of the local registry",
    localRegistryImage: "image of the local registry container",
    registryUrl: "push address, oci://host[:port]/repository",
    registryPullUrl: "pull address as seen from the cluster, oci://…",
    registryUsername: "registry user",
    registryPassword: "registry password (secret)",
    registryPrivate: "the registry needs credentials (true | false)",
    registryInsecure: "plain HTTP to the registry (true | false)",
    registryCaFile: "PEM CA bundle for the push",
    artifactTag: "semver tag of the artifact",
    semverRange: "OCIRepository ref.semver range",
    policiesPath: "policy directory",
    forcePush: "move an existing tag to new content (true | false)",
    enforcement: "audit | enforce | a rollout map { default, enforce: [names], audit: [names] }",
    enforcementGate: "warn | block: what a preview does when policies about to enforce fail existing resources",
    fluxVersion: "Flux release, vX.Y.Z",
    fluxInstallManifest: "URL or file of Flux's install.yaml",
    fluxInterval: "reconcile interval (Go duration)",
    reconcileTimeout: "how long Flux may take to apply (Go duration)",
    sourceName: "name of the OCIRepository and Kustomization",
    kyvernoChartVersion: "Kyverno Helm chart version",
    kyvernoChart: "Kyverno chart: a local chart directory, or a chart name in kyvernoRepository",
    kyvernoRepository: "Kyverno Helm repository URL",
    signingKey: "PEM private key pulumi up signs the artifact with: cosign generate-key-pair's, or PKCS#8 ECDSA P-256 (secret)",
    signingKeyPassword: "password of signingKey (secret)",
    verification: "none | cosign: Flux applies only signed artifacts",
    verificationPublicKeys: "PEM public keys Flux trusts (default: signingKey's public half)",
    verificationIdentities: "keyless signers Flux trusts: a list of {issuer, subject} regular expressions",
};
