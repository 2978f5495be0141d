/**
 * The package entry (`import { PolicyStack } from "policy-stack"`): the PolicyStack component and
 * what another Pulumi program needs to create it. The Pulumi program of this project is
 * index.ts (Pulumi.yaml's `main`), not this file.
 */
export { PolicyStack, type PolicyStackArgs, type PolicyStackOutputs } from "./components/policyStack";
export { readStackConfig, type ReadStackConfigOptions } from "./components/config";
export type { ArtifactSignature } from "./components/policyArtifact";
export { preparePolicyArtifact, prepareStackArtifact, type StackArtifact } from "./components/artifactSource";
export type { ClusterAccess } from "./components/cluster";
export {
    ConfigError, DEFAULTS, KNOWN_KEYS, parseStackConfig,
    type ArtifactConfig, type ClusterConfig, type Enforcement, type EnforcementGate, type EnforcementPlan, type EnforcementSetting, type FluxConfig, type KyvernoConfig, type ParseContext, type RegistryConfig, type StackConfig,
    type OidcIdentity, type SigningConfig, type TrustedKey, type Verification,
} from "./lib/config";
export type { PreparedArtifact } from "./lib/publish";
export type { PolicyEnforcement } from "./lib/policyStack";
export type { EnforcementStatusOutput, PolicyStatus } from "./lib/preview/clusterStatus";
