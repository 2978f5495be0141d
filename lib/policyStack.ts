/**
 * The decisions components/policyStack.ts makes from the stack config and the prepared artifact,
 * as plain functions tested directly: which cluster to create, the registry credentials and CA,
 * how a promotion reaches its source registry, and the `policies` output's enforcement. Pure: no Pulumi.
 */
import { isLoopbackHost, type ClusterConfig, type PromotionConfig, type RegistryConfig } from "./config";
import type { ClientOptions } from "./oci/client";
import { credentialOf } from "./oci/credentials";
import { parseOciUrl } from "./oci/reference";
import { patchedBy, type FluxPatch } from "./policies/enforcement";
import type { PreparedPolicy } from "./publish";

/** A kind cluster to create, or an existing one to target (the Cluster component's arguments). */
export type ClusterSettings =
    | { mode: "kind"; name: string; nodeImage: string; localRegistry: boolean }
    | { mode: "existing"; kubeconfig?: string; context?: string };

/** The Cluster's arguments: kind's containerd is wired to the local registry when the stack runs one. */
export function clusterSettings(cluster: ClusterConfig, registry: RegistryConfig): ClusterSettings {
    return cluster.mode === "kind"
        ? { mode: "kind", name: cluster.name, nodeImage: cluster.nodeImage, localRegistry: registry.mode === "local" }
        : { mode: "existing", kubeconfig: cluster.kubeconfig, context: cluster.context };
}

/** A registry user and password (or token). */
export interface RegistryCredentials {
    username: string;
    password: string;
}

/**
 * The credentials of the push, the preview's read and Flux's pull: those of an external registry
 * that has both a username and a password (the config refuses one without the other). Plain:
 * each user keeps the password secret its own way.
 */
export function registryCredentials(registry: RegistryConfig): RegistryCredentials | undefined {
    return registry.mode === "external" ? credentialOf(registry.username, registry.password) : undefined;
}

/** The PEM CA bundle the push and the preview trust, and Flux through the CA Secret: an external registry's `registryCaFile`. */
export function registryCaFile(registry: RegistryConfig): string | undefined {
    return registry.mode === "external" ? registry.caFile : undefined;
}

/**
 * How to reach the registry a promotion copies from (`sourceUrl`, the source stack's artifactUrl):
 * the promoteFrom* keys when they are set; else, on this stack's own registry host, this stack's
 * credentials, CA and TLS setting; else anonymous, plain HTTP only on loopback (as registryInsecure).
 */
export function promotionConnection(promotion: PromotionConfig, registry: RegistryConfig, sourceUrl: string): ClientOptions {
    const host = parseOciUrl(sourceUrl).host;
    const ownRegistry = host === parseOciUrl(registry.pushUrl).host;
    const own = registryCredentials(registry);
    const credentials = credentialOf(promotion.username, promotion.password) ?? (ownRegistry ? own : undefined);
    return {
        credentials,
        caFile: promotion.caFile ?? (ownRegistry ? registryCaFile(registry) : undefined),
        insecure: promotion.insecure ?? (ownRegistry ? registry.insecure : isLoopbackHost(host)),
    };
}

/** A policy as the `policies` output reports it. */
export interface PolicyEnforcement {
    name: string;
    namespace?: string;
    kind: string;
    /** What this stack applies: `Enforce` where an enforcement patch selects the policy, else the action as written. */
    enforcement: string;
}

/** Each policy with the enforcement the stack applies, so the output says what the grouped patches really do. */
export function effectiveEnforcement(policies: readonly PreparedPolicy[], patches: readonly FluxPatch[]): PolicyEnforcement[] {
    const patched = patchedBy(patches);
    return policies.map((p) => ({
        name: p.name,
        namespace: p.namespace,
        kind: p.kind,
        enforcement: patched(p) ? "Enforce" : p.enforcement,
    }));
}
