/**
 * Enforcement patches for the Flux Kustomization.
 *
 * The artifact is environment-neutral: the same policies ship to every stack, and each stack's
 * Kustomization patches them to enforce (or leaves them alone for audit). JSON6902 has no
 * wildcard over list items, so the patches are generated per policy and per rule from the parsed
 * policies. Pure module: no Pulumi.
 */
import type { Enforcement } from "./config";

/** The subset of a loaded policy that patch generation needs. */
export interface PatchablePolicy {
    apiVersion: string;
    kind: string;
    name: string;
    namespace?: string;
    document: Record<string, unknown>;
}

/** One JSON6902 operation. */
export interface JsonPatchOperation {
    op: "add" | "replace" | "remove";
    path: string;
    value?: unknown;
}

/** The selector of a Flux `spec.patches[]` entry. */
export interface PatchTarget {
    group: string;
    version: string;
    kind: string;
    name: string;
    namespace?: string;
}

/** A Flux Kustomization `spec.patches[]` entry, with the operations kept for inspection. */
export interface FluxPatch {
    target: PatchTarget;
    operations: JsonPatchOperation[];
    /** The patch as Flux takes it: a YAML/JSON string of the operations. */
    patch: string;
}

/** Classic Kyverno policies: `spec.rules[]` with validate/mutate/generate/verifyImages. */
const CLASSIC_KINDS = new Set(["ClusterPolicy", "Policy"]);
/** CEL policy kinds whose enforcement is `spec.validationActions`. */
const VALIDATION_ACTION_KINDS = new Set(["ValidatingPolicy", "NamespacedValidatingPolicy", "ImageValidatingPolicy", "NamespacedImageValidatingPolicy"]);

function asRecord(value: unknown): Record<string, unknown> | undefined {
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * The operations that make one policy enforce, or [] when it has nothing to enforce (a
 * mutate-only or generate-only policy, a PolicyException, …).
 */
export function enforceOperations(policy: PatchablePolicy): JsonPatchOperation[] {
    const spec = asRecord(policy.document.spec) ?? {};
    const group = policy.apiVersion.split("/")[0];
    const ops: JsonPatchOperation[] = [];
    if (group === "kyverno.io" && CLASSIC_KINDS.has(policy.kind)) {
        const rules = Array.isArray(spec.rules) ? spec.rules : [];
        rules.forEach((rule, i) => {
            const r = asRecord(rule);
            if (!r) return;
            // Rule-level failureAction (Kyverno >= 1.13) wins over the spec-level field, so each rule is set.
            if (asRecord(r.validate)) {
                ops.push({ op: "add", path: `/spec/rules/${i}/validate/failureAction`, value: "Enforce" });
            }
            const verify = Array.isArray(r.verifyImages) ? r.verifyImages : [];
            verify.forEach((entry, j) => {
                if (asRecord(entry)) ops.push({ op: "add", path: `/spec/rules/${i}/verifyImages/${j}/failureAction`, value: "Enforce" });
            });
        });
        if (ops.length > 0) {
            // The legacy spec-level field still decides for Kyverno < 1.13 and for tools that read only it.
            // "add" on an existing member replaces it (RFC 6902 4.1), so this works whether or not it is set.
            ops.unshift({ op: "add", path: "/spec/validationFailureAction", value: "Enforce" });
        }
    } else if (group === "policies.kyverno.io" && VALIDATION_ACTION_KINDS.has(policy.kind)) {
        ops.push({ op: "add", path: "/spec/validationActions", value: ["Deny"] });
    }
    return ops;
}

/** Renders operations the way Flux accepts them in `spec.patches[].patch`: a YAML flow list (JSON is YAML). */
export function renderOperations(ops: JsonPatchOperation[]): string {
    return JSON.stringify(ops);
}

/**
 * The Kustomization patches for a stack. `audit` stacks get none: the policies apply exactly as
 * they ship. `enforce` stacks get one patch per policy that has something to enforce.
 */
export function enforcementPatches(policies: readonly PatchablePolicy[], enforcement: Enforcement): FluxPatch[] {
    if (enforcement === "audit") return [];
    const patches: FluxPatch[] = [];
    const sorted = [...policies].sort((a, b) =>
        `${a.kind}/${a.namespace ?? ""}/${a.name}`.localeCompare(`${b.kind}/${b.namespace ?? ""}/${b.name}`),
    );
    for (const policy of sorted) {
        const operations = enforceOperations(policy);
        if (operations.length === 0) continue;
        const [group, version] = policy.apiVersion.split("/");
        const target: PatchTarget = { group, version, kind: policy.kind, name: policy.name };
        if (policy.namespace) target.namespace = policy.namespace;
        patches.push({ target, operations, patch: renderOperations(operations) });
    }
    return patches;
}
