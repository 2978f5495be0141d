/**
 * Enforcement: what a policy does as written (its action), and the Flux Kustomization patches
 * that make a stack enforce it. Both follow the kind families of kindTable.ts.
 *
 * The artifact is environment-neutral: the same policies ship to every stack, and each stack's
 * Kustomization patches them to enforce (or leaves them alone for audit). JSON6902 has no
 * wildcard over list items, so the operations are generated per policy and per rule from the parsed
 * policies; policies whose operations are identical then share one patch whose target name is an
 * anchored regular expression over their names, so the patch count follows the distinct rule
 * shapes, not the policy count. Pure module: no Pulumi.
 */
import type { Enforcement as StackEnforcement } from "../config";
import { familyOf } from "./kindTable";
import type { Enforcement } from "./types";

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
    /** Read by kustomize as a regular expression, matched against the whole name. */
    name: string;
    namespace?: string;
}

/** A Flux Kustomization `spec.patches[]` entry, with the operations kept for inspection. */
export interface FluxPatch {
    target: PatchTarget;
    /** The names of the policies the target selects, sorted. */
    names: string[];
    operations: JsonPatchOperation[];
    /** The patch as Flux takes it: a YAML/JSON string of the operations. */
    patch: string;
}

type Action = "Audit" | "Enforce";

/** A failure action as Kyverno reads it (case-insensitive), or undefined for anything else. */
export function normaliseAction(value: unknown): Action | undefined {
    if (typeof value !== "string") return undefined;
    const lower = value.toLowerCase();
    return lower === "audit" ? "Audit" : lower === "enforce" ? "Enforce" : undefined;
}

/** The actions of a policy's rules as one value: `None` without any, `Mixed` when they differ. */
export function combineActions(actions: readonly Action[]): Enforcement {
    if (actions.length === 0) return "None";
    return new Set(actions).size > 1 ? "Mixed" : actions[0];
}

/** The actions of `validationFailureActionOverrides`/`failureActionOverrides` entries. */
export function overrideActions(overrides: unknown): Action[] {
    if (!Array.isArray(overrides)) return [];
    return overrides.map((o) => normaliseAction(asRecord(o)?.action)).filter((a): a is Action => a !== undefined);
}

/** A CEL policy's action from `spec.validationActions`: Kyverno denies when the list is unset. */
export function validationActionsEnforcement(actions: readonly string[] | undefined): Enforcement {
    if (actions === undefined) return "Enforce";
    return actions.includes("Deny") ? "Enforce" : "Audit";
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * The operations that make one policy enforce, or [] when it has nothing to enforce (a
 * mutate-only or generate-only policy, a PolicyException, …).
 */
export function enforceOperations(policy: PatchablePolicy): JsonPatchOperation[] {
    const spec = asRecord(policy.document.spec) ?? {};
    const family = familyOf(policy.apiVersion, policy.kind);
    const ops: JsonPatchOperation[] = [];
    if (family === "classic") {
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
    } else if (family === "validating") {
        ops.push({ op: "add", path: "/spec/validationActions", value: ["Deny"] });
    }
    return ops;
}

/** Renders operations the way Flux accepts them in `spec.patches[].patch`: a YAML flow list (JSON is YAML). */
export function renderOperations(ops: JsonPatchOperation[]): string {
    return JSON.stringify(ops);
}

/** Code-unit order: the same on every machine and locale, so previews never reorder. */
function compare(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A name as a regular expression that matches exactly that name. kustomize reads every target
 * name as a regular expression, and Kubernetes names may hold dots, so `a.b` unescaped would
 * also select `axb`.
 */
export function nameRegex(name: string): string {
    return name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

interface ShapedPolicy {
    policy: PatchablePolicy;
    group: string;
    version: string;
    operations: JsonPatchOperation[];
    patch: string;
}

/** The policies that have something to enforce, with their operations, in (kind, namespace, name) order. */
function enforceable(policies: readonly PatchablePolicy[]): ShapedPolicy[] {
    const out: ShapedPolicy[] = [];
    for (const policy of policies) {
        const operations = enforceOperations(policy);
        if (operations.length === 0) continue;
        const [group, version] = policy.apiVersion.split("/");
        out.push({ policy, group, version, operations, patch: renderOperations(operations) });
    }
    const key = (s: ShapedPolicy) => [s.policy.kind, s.policy.namespace ?? "", s.policy.name];
    return out.sort((a, b) => {
        const [x, y] = [key(a), key(b)];
        return compare(x[0], y[0]) || compare(x[1], y[1]) || compare(x[2], y[2]);
    });
}

/**
 * The Kustomization patches for a stack. `audit` stacks get none: the policies apply exactly as
 * they ship. `enforce` stacks get one patch per distinct enforcement shape: the policies of one
 * group, version, kind and namespace whose operations are identical (e.g. every ClusterPolicy with
 * one validate rule) share a patch targeting `^(name1|name2|…)$`. Patches are ordered by kind,
 * group, version, namespace and then operations, and names sorted within each, so the output
 * depends only on the set of policies, never on the order they were read in.
 *
 * A shape with a single policy gets the same anchored form, `^(name)$`, rather than the plain
 * name: every target then reads the same way, a policy joining or leaving a shape changes only the
 * alternation, and the match never relies on kustomize anchoring the expression itself (it does,
 * as `^(?:…)$`; the explicit anchors make the meaning visible in the Kustomization).
 */
export function enforcementPatches(policies: readonly PatchablePolicy[], enforcement: StackEnforcement): FluxPatch[] {
    if (enforcement === "audit") return [];
    const groups = new Map<string, { first: ShapedPolicy; names: string[] }>();
    for (const shaped of enforceable(policies)) {
        const key = JSON.stringify([shaped.policy.kind, shaped.group, shaped.version, shaped.policy.namespace ?? "", shaped.patch]);
        const entry = groups.get(key);
        if (entry) entry.names.push(shaped.policy.name);
        else groups.set(key, { first: shaped, names: [shaped.policy.name] });
    }
    return [...groups.entries()]
        .sort(([a], [b]) => compare(a, b))
        .map(([, { first, names }]) => {
            const sorted = [...new Set(names)].sort(compare);
            const target: PatchTarget = { group: first.group, version: first.version, kind: first.policy.kind, name: `^(${sorted.map(nameRegex).join("|")})$` };
            if (first.policy.namespace) target.namespace = first.policy.namespace;
            return { target, names: sorted, operations: first.operations, patch: first.patch };
        });
}

/**
 * One patch per policy that has something to enforce, targeting its (escaped) name: the shape
 * before grouping, kept as the reference the grouped patches are checked against.
 */
export function perPolicyEnforcementPatches(policies: readonly PatchablePolicy[], enforcement: StackEnforcement): FluxPatch[] {
    if (enforcement === "audit") return [];
    return enforceable(policies).map(({ policy, group, version, operations, patch }) => {
        const target: PatchTarget = { group, version, kind: policy.kind, name: nameRegex(policy.name) };
        if (policy.namespace) target.namespace = policy.namespace;
        return { target, names: [policy.name], operations, patch };
    });
}

/**
 * A predicate telling whether one of the patches selects a policy, so per-policy reports (the
 * stack's `policies` output) say what the grouped patches really apply.
 */
export function patchedBy(patches: readonly FluxPatch[]): (policy: PatchablePolicy) => boolean {
    const key = (apiVersion: string, kind: string, namespace: string | undefined, name: string) => JSON.stringify([apiVersion, kind, namespace ?? "", name]);
    const selected = new Set(patches.flatMap((p) => p.names.map((name) => key(`${p.target.group}/${p.target.version}`, p.target.kind, p.target.namespace, name))));
    return (policy) => selected.has(key(policy.apiVersion, policy.kind, policy.namespace, policy.name));
}
