/**
 * Stack configuration: every key the program reads (`keys`), its default (`defaults`), and its
 * validation, one parser per section (`cluster`, `registry`, `artifact` (with `promotion`), `enforcement`, `flux`,
 * `kyverno`, `signing`) over one shared reader (`reader`), composed by `stack`. Pure: no Pulumi.
 */
export {
    checkEnforcementPlan, ENFORCEMENT_GATES, ENFORCEMENTS, type Enforcement, type EnforcementGate, type EnforcementPlan, type EnforcementSetting,
} from "./enforcement";
export { DEFAULTS, defaultKindClusterName, fluxInstallManifestUrl } from "./defaults";
export { KNOWN_KEYS, SECRET_KEYS } from "./keys";
export { ConfigError, ConfigReader, durationSeconds, type ParseContext } from "./reader";
export type { ClusterConfig, ExistingClusterConfig, KindClusterConfig } from "./cluster";
export {
    isLoopbackHost, parseOciUrl, registryHost, type ExternalRegistryConfig, type LocalRegistryConfig, type OciUrl, type RegistryConfig,
} from "./registry";
export type { ArtifactConfig } from "./artifact";
export { ARTIFACT_SOURCES, type ArtifactSource, type PromotionConfig } from "./promotion";
export type { FluxConfig } from "./flux";
export type { KyvernoConfig } from "./kyverno";
export { VERIFICATIONS, type OidcIdentity, type SigningConfig, type TrustedKey, type Verification } from "./signing";
export { parseStackConfig, type StackConfig } from "./stack";
