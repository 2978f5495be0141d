/**
 * The enforcement gate's decisions: which policies change action against what the cluster holds
 * now, what the ones about to enforce would block (from Kyverno's reports), what the preview
 * says, and whether `enforcementGate: block` refuses the change. Pure module: the cluster is read
 * by the caller (components/enforcementGate.ts).
 */
import { policyKey, type NamedPolicy } from "../policies/rollout";
import type { ClusterStatus } from "./clusterStatus";
import { readiness, readinessLines } from "./readiness";

/** A policy the stack ships, with the action it will have once applied (lib/policyStack.ts effectiveEnforcement). */
export interface PlannedPolicy extends NamedPolicy {
    kind: string;
    /** `Enforce`, `Audit`, `Mixed` or `None`. */
    enforcement: string;
}

/** What was learnt of the cluster: its status, or why there is none. */
export type ClusterView =
    | { status: ClusterStatus }
    /** The cluster is created by this update (its kubeconfig is not known yet): nothing runs in it. */
    | { notCreated: true }
    /** The reading itself failed (kubectl missing, a timeout). */
    | { error: string };

export interface GateDecision {
    /** What the preview logs (empty when there is nothing to say). */
    lines: string[];
    /** Whether some existing resource fails a policy about to enforce (a warning under `warn`). */
    blocked: boolean;
    /** Under `block`: why the change is refused; undefined when it may go ahead. */
    refusal?: string;
}

/** Whether the stack enforces anything: only then is the cluster worth reading. */
export function enforcesAnything(policies: readonly PlannedPolicy[]): boolean {
    return policies.some((p) => p.enforcement === "Enforce");
}

const mode = (action: string | undefined) => (action === undefined ? "not in the cluster" : action.toLowerCase());

/**
 * The gate's verdict.
 * @param gateKey how the refusal names the setting, e.g. `policy-stack:enforcementGate`.
 */
export function decideGate(policies: readonly PlannedPolicy[], view: ClusterView, gate: "warn" | "block", gateKey = "enforcementGate"): GateDecision {
    const enforcing = policies.filter((p) => p.enforcement === "Enforce").map(policyKey);
    if ("notCreated" in view) {
        return { lines: enforcing.length > 0 ? ["enforcement readiness: the cluster is created by this update; nothing runs in it yet that enforcing could block"] : [], blocked: false };
    }
    const unreadable = "error" in view ? view.error : view.status.unreachable;
    if (unreadable !== undefined) {
        const lines = [`enforcement readiness: could not read the cluster (${unreadable}); which policies change action and what enforcing would block is unknown` +
            (enforcing.length > 0 ? `; this stack enforces ${enforcing.join(", ")}` : "")];
        const refusal = gate === "block" && enforcing.length > 0
            ? `${gateKey} is block and the cluster could not be read (${unreadable}), so nothing shows that enforcing ${enforcing.join(", ")} blocks no existing resource; ` +
              `make the cluster reachable, or set 'pulumi config set ${gateKey} warn' to go ahead without the check`
            : undefined;
        return { lines, blocked: false, refusal };
    }

    const status = (view as { status: ClusterStatus }).status;
    const flips = policies.flatMap((p) => {
        const live = status.policies.get(policyKey(p))?.action;
        // A policy new to the cluster is worth naming only when it arrives enforcing.
        if (p.enforcement === "None" || live === p.enforcement || (live === undefined && p.enforcement !== "Enforce")) return [];
        return [{ key: policyKey(p), from: live, to: p.enforcement }];
    });
    const lines: string[] = [];
    if (flips.length > 0) {
        lines.push(`enforcement: ${flips.length} ${flips.length === 1 ? "policy changes" : "policies change"} action in the cluster:`);
        for (const f of flips) lines.push(`  ${f.key}: ${mode(f.from)} → ${mode(f.to)}`);
    }
    // Only a policy the cluster already holds has reports; one that is new there has none to read.
    const toEnforce = flips.filter((f) => f.to === "Enforce");
    const reportable = toEnforce.filter((f) => f.from !== undefined).map((f) => f.key);
    if (toEnforce.length === 0) return { lines, blocked: false };
    if (status.reports === undefined) {
        const why = status.unread.find((u) => u.startsWith("reports:"))?.slice("reports: ".length) ?? "unknown";
        lines.push(`enforcement readiness: could not read the PolicyReports (${why}); what enforcing ${toEnforce.map((f) => f.key).join(", ")} would block is unknown`);
        const refusal = gate === "block" && reportable.length > 0
            ? `${gateKey} is block and the PolicyReports could not be read (${why}), so nothing shows that enforcing ${reportable.join(", ")} blocks no existing resource; ` +
              `set 'pulumi config set ${gateKey} warn' to go ahead without the check`
            : undefined;
        return { lines, blocked: false, refusal };
    }
    const result = readiness(reportable, status.reports);
    const unreported = reportable.filter((k) => status.reports!.get(k) === undefined);
    if (result.blocked.length > 0) {
        lines.push(...readinessLines(result));
    } else if (reportable.length > 0) {
        lines.push(`enforcement readiness: Kyverno's reports show no existing resource failing ${reportable.join(", ")}`);
    }
    if (unreported.length > 0) lines.push(`enforcement readiness: no report results yet for ${unreported.join(", ")} (Kyverno's background scan has not reported on ${unreported.length === 1 ? "it" : "them"})`);
    const blocked = result.blocked.length > 0;
    const refusal = gate === "block" && blocked
        ? [`${gateKey} is block: enforcing would block ${result.total} existing resource${result.total === 1 ? "" : "s"} at ${result.total === 1 ? "its" : "their"} next create or update:`,
            ...readinessLines(result, 20).slice(1),
            `fix ${result.total === 1 ? "it" : "them"} (Kyverno's PolicyReports show each failure), keep the policy in audit, or set 'pulumi config set ${gateKey} warn' to enforce anyway`].join("\n")
        : undefined;
    return { lines, blocked, refusal };
}
