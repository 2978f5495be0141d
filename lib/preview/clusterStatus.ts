/**
 * What `lib/sh/policy-status.sh` printed, parsed: the live policies with the action they have in
 * the cluster now, the policy kinds the cluster does not serve, what could not be read, and
 * Kyverno's report results per policy. Also the `enforcementStatus` stack output built from it.
 * Pure module: the preview's runner (readCluster.ts) and the EnforcementStatus Command produce
 * the text.
 */
import { combineActions, normaliseAction, validationActionsEnforcement } from "../policies/enforcement";
import { familyOf } from "../policies/kindTable";
import { policyKey, type NamedPolicy } from "../policies/rollout";
import type { Enforcement } from "../policies/types";
import { describeResource, type PolicyReportStatus, type ReportedResource } from "./readiness";

/** A policy as it is in the cluster now. */
export interface LivePolicy {
    apiVersion: string;
    kind: string;
    name: string;
    namespace?: string;
    /** The action of its validate rules in the cluster, by Kyverno's defaults where unset. */
    action: Enforcement;
}

export interface ClusterStatus {
    /** kubectl's message when the cluster could not be read at all; nothing else is then known. */
    unreachable?: string;
    /** The live policies by key (`name`, or `namespace/name` for a namespaced one). */
    policies: Map<string, LivePolicy>;
    /** Policy resources the cluster does not serve (Kyverno not installed yet): none of that kind is there. */
    missing: string[];
    /** What could not be read, as `<what>: <kubectl's message>` (`reports: …` for the PolicyReports). */
    unread: string[];
    /** Kyverno's results by policy key; undefined when the reports could not be read. */
    reports?: Map<string, PolicyReportStatus>;
}

const field = (v: string | undefined) => (v === undefined || v === "-" || v === "" ? undefined : v);

/**
 * A live policy's action: for a classic policy each validate rule's and verifyImages entry's
 * `failureAction`, else the spec's `validationFailureAction`, else Audit (Kyverno's default);
 * for a CEL policy its `validationActions`. (`…Overrides` are not read.)
 */
export function liveAction(apiVersion: string, kind: string, specAction: string | undefined, validationActions: string[] | undefined, ruleActions: string[]): Enforcement {
    const family = familyOf(apiVersion, kind);
    if (family === "validating") return validationActionsEnforcement(validationActions);
    if (family !== "classic") return "None";
    const fallback = normaliseAction(specAction) ?? "Audit";
    return combineActions(ruleActions.map((a) => normaliseAction(a) ?? fallback));
}

export function parseClusterStatus(text: string): ClusterStatus {
    const status: ClusterStatus = { policies: new Map(), missing: [], unread: [] };
    const reports = new Map<string, PolicyReportStatus>();
    const blank = (): PolicyReportStatus => ({ pass: 0, fail: 0, warn: 0, error: 0, skip: 0, failing: [] });
    const of = (policy: string) => reports.get(policy) ?? reports.set(policy, blank()).get(policy)!;
    for (const line of text.split("\n")) {
        const [record, ...f] = line.split("\t");
        if (record === "unreachable") {
            status.unreachable = f.join(" ").trim() || "no message";
        } else if (record === "policy" && f.length >= 5) {
            const [apiVersion, kind, namespace, name, specAction, actions, rules] = f;
            const list = (v: string | undefined) => (field(v) ?? "").split(",").filter((x) => x !== "");
            const policy: LivePolicy = {
                apiVersion, kind, name,
                ...(field(namespace) ? { namespace } : {}),
                action: liveAction(apiVersion, kind, field(specAction), field(actions) === undefined ? undefined : list(actions), list(rules)),
            };
            status.policies.set(policyKey(policy), policy);
        } else if (record === "missing" && f[0]) {
            status.missing.push(f[0]);
        } else if (record === "unread" && f[0]) {
            status.unread.push(`${f[0]}: ${f.slice(1).join(" ").trim() || "no message"}`);
        } else if (record === "count" && f.length === 3) {
            const [policy, result, n] = f;
            const s = of(policy);
            if (["pass", "fail", "warn", "error", "skip"].includes(result)) s[result as "pass"] += Number(n) || 0;
        } else if (record === "failing" && f.length === 4) {
            const [policy, kind, namespace, name] = f;
            of(policy).failing.push({ kind, ...(field(namespace) ? { namespace } : {}), name } as ReportedResource);
        }
    }
    for (const s of reports.values()) s.failing.sort((a, b) => (describeResource(a) < describeResource(b) ? -1 : describeResource(a) > describeResource(b) ? 1 : 0));
    if (!status.unread.some((u) => u.startsWith("reports:")) && status.unreachable === undefined) status.reports = reports;
    return status;
}

/** One policy in the `enforcementStatus` output. */
export interface PolicyStatus {
    name: string;
    namespace?: string;
    kind: string;
    /** The action in force in the cluster (`Enforce`, `Audit`, `Mixed`, `None`), or `NotFound` when the cluster does not hold it. */
    action: Enforcement | "NotFound" | "Unknown";
    pass: number;
    fail: number;
    warn: number;
    error: number;
    skip: number;
}

/** The `enforcementStatus` stack output: per policy, what the cluster does and what Kyverno reports. */
export interface EnforcementStatusOutput {
    policies: PolicyStatus[];
    /** What could not be read (then the actions or counts it would give are `Unknown` or 0). */
    unread: string[];
}

/** The output for the stack's policies, from what the cluster showed. */
export function enforcementStatusOutput(policies: readonly (NamedPolicy & { kind: string })[], status: ClusterStatus): EnforcementStatusOutput {
    const unread = status.unreachable !== undefined ? [`cluster: ${status.unreachable}`] : [...status.unread];
    const policyKindsRead = status.unreachable === undefined && !status.unread.some((u) => !u.startsWith("reports:"));
    return {
        policies: policies.map((p) => {
            const live = status.policies.get(policyKey(p));
            const counts = status.reports?.get(policyKey(p));
            return {
                name: p.name,
                ...(p.namespace ? { namespace: p.namespace } : {}),
                kind: p.kind,
                action: live?.action ?? (policyKindsRead ? "NotFound" : "Unknown"),
                pass: counts?.pass ?? 0,
                fail: counts?.fail ?? 0,
                warn: counts?.warn ?? 0,
                error: counts?.error ?? 0,
                skip: counts?.skip ?? 0,
            };
        }),
        unread,
    };
}
