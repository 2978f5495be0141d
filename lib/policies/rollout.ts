/**
 * Per-policy rollout: which policies a stack enforces. A stack either enforces all of them or none
 * (`"enforce"`/`"audit"`), or follows a plan: a default plus the names that differ from it, so a
 * team can move one policy to Enforce while the others keep auditing. Pure module: no Pulumi.
 */

/** The stack-wide mode: patch every policy to Enforce, or apply them as written. */
export type EnforcementMode = "audit" | "enforce";

/** A per-policy rollout: `default` for every policy not named in `enforce` or `audit`. */
export interface EnforcementPlan {
    default: EnforcementMode;
    /** Policies to enforce whatever the default: a cluster-scoped policy by name, a namespaced one as `namespace/name`. */
    enforce: string[];
    /** Policies to leave as written whatever the default, named the same way. */
    audit: string[];
}

/** The `enforcement` setting of a stack. */
export type EnforcementSetting = EnforcementMode | EnforcementPlan;

/** What rollout needs of a policy: its identity. */
export interface NamedPolicy {
    name: string;
    namespace?: string;
}

/** How a plan names a policy: `name` when cluster-scoped, `namespace/name` when namespaced. */
export function policyKey(policy: NamedPolicy): string {
    return policy.namespace ? `${policy.namespace}/${policy.name}` : policy.name;
}

/** True when the setting is a plan rather than a stack-wide mode. */
export function isPlan(setting: EnforcementSetting): setting is EnforcementPlan {
    return typeof setting === "object";
}

/**
 * A predicate telling whether the setting enforces a policy. Names of a plan that match no
 * policy select nothing here; `planProblems` reports them.
 */
export function enforcedBy(setting: EnforcementSetting): (policy: NamedPolicy) => boolean {
    if (!isPlan(setting)) return () => setting === "enforce";
    const enforce = new Set(setting.enforce);
    const audit = new Set(setting.audit);
    return (policy) => {
        const key = policyKey(policy);
        if (enforce.has(key)) return true;
        if (audit.has(key)) return false;
        return setting.default === "enforce";
    };
}

/**
 * What is wrong with a plan given the policies that ship: names that match no policy (listing the
 * known ones, so a typo is fixed at once) and names listed under both `enforce` and `audit`.
 * `[]` for a stack-wide mode or a sound plan.
 */
export function planProblems(setting: EnforcementSetting, policies: readonly NamedPolicy[], keyName = "enforcement"): string[] {
    if (!isPlan(setting)) return [];
    const known = [...new Set(policies.map(policyKey))].sort();
    const knownSet = new Set(known);
    const problems: string[] = [];
    for (const list of ["enforce", "audit"] as const) {
        const unknown = [...new Set(setting[list])].filter((name) => !knownSet.has(name));
        if (unknown.length > 0) {
            problems.push(
                `${keyName}.${list} names ${unknown.map((n) => JSON.stringify(n)).join(", ")}, which ${unknown.length === 1 ? "is" : "are"} not in the artifact; ` +
                    `known policies: ${known.length > 0 ? known.join(", ") : "(none)"} (a namespaced policy is written namespace/name)`,
            );
        }
    }
    const audit = new Set(setting.audit);
    const both = [...new Set(setting.enforce)].filter((name) => audit.has(name));
    if (both.length > 0) {
        problems.push(`${keyName}: ${both.map((n) => JSON.stringify(n)).join(", ")} ${both.length === 1 ? "is" : "are"} listed under both enforce and audit; keep each policy in one list`);
    }
    return problems;
}

/**
 * The policies whose enforcement differs between two settings, as `name: audit → enforce` lines
 * in policy order: what a preview names when a rollout moves.
 */
export function enforcementFlips(before: EnforcementSetting, after: EnforcementSetting, policies: readonly NamedPolicy[]): string[] {
    const [was, now] = [enforcedBy(before), enforcedBy(after)];
    const mode = (on: boolean) => (on ? "enforce" : "audit");
    return policies.filter((p) => was(p) !== now(p)).map((p) => `${policyKey(p)}: ${mode(was(p))} → ${mode(now(p))}`);
}
