/**
 * The whole stack configuration: every section parsed over one reader, so all problems are
 * reported at once.
 *
 * Pure module (no Pulumi import) so that every rule is tested directly. components/config.ts
 * hands it the stack's raw config (`pulumi.runtime.allConfig()`, which holds decrypted values);
 * the components keep the secret ones secret.
 */
import { parseArtifact, type ArtifactConfig } from "./artifact";
import { parseCluster, type ClusterConfig } from "./cluster";
import { parseEnforcement, parseEnforcementGate, type EnforcementGate, type EnforcementSetting } from "./enforcement";
import { parseFlux, type FluxConfig } from "./flux";
import { parseKyverno, type KyvernoConfig } from "./kyverno";
import { ConfigReader, type ParseContext } from "./reader";
import { parseRegistry, type RegistryConfig } from "./registry";
import { parseSigning, type SigningConfig } from "./signing";

export interface StackConfig {
    /** The stack's name (`pulumi.getStack()`). */
    stack: string;
    /** A kind cluster the stack creates (and deletes), or an existing one. */
    cluster: ClusterConfig;
    /** kind's local registry, or an external one: push and pull addresses, TLS, credentials, CA. */
    registry: RegistryConfig;
    /**
     * Where the artifact comes from (built, or promoted from another stack), its tag, the semver
     * range Flux selects by, whether the push may move an existing tag, whether Flux pins the digest.
     */
    artifact: ArtifactConfig;
    /**
     * `audit` ships the policies as written; `enforce` patches every validate rule to Enforce; a
     * rollout map enforces the policies it names (lib/policies/rollout.ts).
     */
    enforcement: EnforcementSetting;
    /** What a preview does when policies about to enforce fail existing resources: `warn` or `block`. */
    enforcementGate: EnforcementGate;
    /** Flux's release and the OCIRepository/Kustomization settings. */
    flux: FluxConfig;
    /** Kyverno's Helm chart. */
    kyverno: KyvernoConfig;
    /** The key `pulumi up` signs with (kept secret) and what Flux verifies with (lib/config/signing.ts). */
    signing: SigningConfig;
}

/**
 * Validates the raw stack config and applies defaults. Throws one ConfigError listing every
 * problem; returns a fully-resolved StackConfig otherwise.
 * @param raw every config value by full key (`<project>:<key>`); keys of other namespaces are ignored.
 */
export function parseStackConfig(raw: Record<string, string | undefined>, ctx: ParseContext): StackConfig {
    const reader = new ConfigReader(raw, ctx);
    const cluster = parseCluster(reader, ctx.stack);
    const config: StackConfig = {
        stack: ctx.stack,
        cluster,
        registry: parseRegistry(reader, cluster.mode),
        artifact: parseArtifact(reader, ctx.stack),
        enforcement: parseEnforcement(reader),
        enforcementGate: parseEnforcementGate(reader),
        flux: parseFlux(reader),
        kyverno: parseKyverno(reader),
        signing: parseSigning(reader),
    };
    reader.throwIfProblems();
    return config;
}
