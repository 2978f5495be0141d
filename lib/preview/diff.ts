/**
 * Pure comparison of two policy sets, for previews ("what will this artifact change?").
 */
import { digestOf } from "../policies/normalise";
import type { Enforcement, Policy } from "../policies/types";

export interface RuleSummary {
    name: string;
    /** "sha256:…" of the canonical JSON of the rule. */
    digest: string;
    failureAction?: string;
}

export interface PolicySummary {
    kind: string;
    name: string;
    namespace?: string;
    digest: string;
    enforcement: Enforcement | string;
    rules?: RuleSummary[];
}

export interface PolicyChange {
    key: string;
    before: PolicySummary;
    after: PolicySummary;
    rulesAdded: string[];
    rulesRemoved: string[];
    rulesChanged: string[];
    enforcement?: { from: string; to: string };
}

export interface PolicyDiff {
    added: PolicySummary[];
    removed: PolicySummary[];
    changed: PolicyChange[];
    unchanged: PolicySummary[];
}

/** `Kind/namespace/name`, or `Kind/name` for cluster-scoped policies. */
export function policyKey(p: { kind: string; name: string; namespace?: string }): string {
    return p.namespace ? `${p.kind}/${p.namespace}/${p.name}` : `${p.kind}/${p.name}`;
}

/** Reduces a loaded policy to what the diff needs, with a digest per rule. */
export function summarise(policy: Policy): PolicySummary {
    const spec = policy.document.spec as { rules?: unknown[] } | undefined;
    const rawRules = Array.isArray(spec?.rules) ? spec.rules : [];
    const rules: RuleSummary[] = policy.rules.map((r, i) => ({
        name: r.name,
        digest: digestOf(rawRules[i]),
        ...(r.failureAction ? { failureAction: r.failureAction } : {}),
    }));
    return {
        kind: policy.kind,
        name: policy.name,
        ...(policy.namespace ? { namespace: policy.namespace } : {}),
        digest: policy.digest,
        enforcement: policy.enforcement,
        ...(rules.length ? { rules } : {}),
    };
}

function index(list: PolicySummary[], side: string): Map<string, PolicySummary> {
    const m = new Map<string, PolicySummary>();
    for (const p of list) {
        const k = policyKey(p);
        if (m.has(k)) throw new Error(`diffPolicySets: ${side} has ${k} twice`);
        m.set(k, p);
    }
    return m;
}

/**
 * Compares two policy sets by key. A policy is "changed" when its digest differs; rule additions,
 * removals and edits are reported by rule name, and enforcement changes separately.
 * @throws Error if one side lists the same key twice
 */
export function diffPolicySets(before: PolicySummary[], after: PolicySummary[]): PolicyDiff {
    const b = index(before, "before");
    const a = index(after, "after");
    const keys = [...new Set([...b.keys(), ...a.keys()])].sort();
    const diff: PolicyDiff = { added: [], removed: [], changed: [], unchanged: [] };
    for (const key of keys) {
        const x = b.get(key);
        const y = a.get(key);
        if (!x && y) diff.added.push(y);
        else if (x && !y) diff.removed.push(x);
        else if (x && y) {
            if (x.digest === y.digest && x.enforcement === y.enforcement) {
                diff.unchanged.push(y);
                continue;
            }
            const xr = new Map((x.rules ?? []).map((r) => [r.name, r]));
            const yr = new Map((y.rules ?? []).map((r) => [r.name, r]));
            const change: PolicyChange = {
                key,
                before: x,
                after: y,
                rulesAdded: [...yr.keys()].filter((n) => !xr.has(n)).sort(),
                rulesRemoved: [...xr.keys()].filter((n) => !yr.has(n)).sort(),
                rulesChanged: [...yr.keys()].filter((n) => xr.has(n) && xr.get(n)!.digest !== yr.get(n)!.digest).sort(),
            };
            if (x.enforcement !== y.enforcement) change.enforcement = { from: x.enforcement, to: y.enforcement };
            diff.changed.push(change);
        }
    }
    return diff;
}

/** True when any policy was added, removed or changed. */
export function hasDifferences(d: PolicyDiff): boolean {
    return d.added.length + d.removed.length + d.changed.length > 0;
}

/** One-line summary: `policies: +added ~changed -removed`. */
export function diffSummaryLine(d: PolicyDiff): string {
    return `policies: +${d.added.length} ~${d.changed.length} -${d.removed.length}`;
}

/**
 * Human-readable report (summary line first) and the one-line summary.
 */
export function formatDiff(d: PolicyDiff): { text: string; summary: string } {
    const summary = diffSummaryLine(d);
    const lines = [summary];
    for (const p of d.added) lines.push(`+ ${policyKey(p)} (${p.enforcement})`);
    for (const c of d.changed) {
        lines.push(`~ ${c.key}`);
        if (c.enforcement) lines.push(`    enforcement: ${c.enforcement.from} -> ${c.enforcement.to}`);
        for (const r of c.rulesAdded) lines.push(`    + rule ${r}`);
        for (const r of c.rulesRemoved) lines.push(`    - rule ${r}`);
        for (const r of c.rulesChanged) {
            const fa = (s: PolicySummary) => s.rules?.find((x) => x.name === r)?.failureAction ?? "(inherited)";
            const from = fa(c.before);
            const to = fa(c.after);
            lines.push(`    ~ rule ${r}${from !== to ? ` (failureAction ${from} -> ${to})` : ""}`);
        }
        if (!c.enforcement && !c.rulesAdded.length && !c.rulesRemoved.length && !c.rulesChanged.length) {
            lines.push("    changed outside rules (metadata or spec settings)");
        }
    }
    for (const p of d.removed) lines.push(`- ${policyKey(p)} (${p.enforcement})`);
    if (d.unchanged.length) lines.push(`= ${d.unchanged.length} unchanged`);
    return { text: lines.join("\n"), summary };
}
