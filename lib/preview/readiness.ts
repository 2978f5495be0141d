/**
 * Enforcement readiness: what a switch to Enforce would block, read from the PolicyReports Kyverno
 * writes for what already runs in the cluster (wgpolicyk8s.io/v1alpha2 PolicyReport and
 * ClusterPolicyReport). Kyverno 1.19 writes one report per resource, naming it in `scope`; older
 * reports list `resources` on each result; both are read. Pure module: the caller fetches the
 * reports (kubectl) and decides what a failure to fetch means.
 */

/** A resource a report names. */
export interface ReportedResource {
    kind: string;
    namespace?: string;
    name: string;
}

/** The results of one policy across every report. */
export interface PolicyReportStatus {
    pass: number;
    fail: number;
    warn: number;
    error: number;
    skip: number;
    /** The resources with at least one failing result, sorted, each once. */
    failing: ReportedResource[];
}

const RESULTS = ["pass", "fail", "warn", "error", "skip"] as const;

function record(value: unknown): Record<string, unknown> | undefined {
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function resourceOf(value: unknown): ReportedResource | undefined {
    const r = record(value);
    if (!r || typeof r.kind !== "string" || typeof r.name !== "string") return undefined;
    return typeof r.namespace === "string" && r.namespace !== "" ? { kind: r.kind, namespace: r.namespace, name: r.name } : { kind: r.kind, name: r.name };
}

/** `Deployment apps/web`, `Namespace team-a`. */
export function describeResource(resource: ReportedResource): string {
    return `${resource.kind} ${resource.namespace ? `${resource.namespace}/` : ""}${resource.name}`;
}

/**
 * Per policy (keyed as Kyverno writes `results[].policy`: the name, or `namespace/name` for a
 * namespaced policy), its result counts and failing resources. Reports of other engines
 * (`results[].source` other than kyverno) are left out; malformed entries are skipped.
 */
export function summariseReports(reports: readonly unknown[]): Map<string, PolicyReportStatus> {
    const statuses = new Map<string, PolicyReportStatus>();
    const failingKeys = new Map<string, Set<string>>();
    for (const report of reports) {
        const r = record(report);
        if (!r) continue;
        const scope = resourceOf(r.scope);
        for (const entry of Array.isArray(r.results) ? r.results : []) {
            const result = record(entry);
            if (!result || typeof result.policy !== "string") continue;
            // Kyverno writes "kyverno" for classic policies and a Kyverno-named source for CEL ones.
            if (typeof result.source === "string" && !/kyverno/i.test(result.source)) continue;
            const kind = RESULTS.find((k) => k === result.result);
            if (!kind) continue;
            let status = statuses.get(result.policy);
            if (!status) {
                status = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0, failing: [] };
                statuses.set(result.policy, status);
                failingKeys.set(result.policy, new Set());
            }
            status[kind]++;
            if (kind !== "fail") continue;
            const listed = Array.isArray(result.resources) ? result.resources.map(resourceOf).filter((x): x is ReportedResource => !!x) : [];
            for (const resource of listed.length > 0 ? listed : scope ? [scope] : []) {
                const key = describeResource(resource);
                const seen = failingKeys.get(result.policy)!;
                if (seen.has(key)) continue;
                seen.add(key);
                status.failing.push(resource);
            }
        }
    }
    for (const status of statuses.values()) {
        status.failing.sort((a, b) => (describeResource(a) < describeResource(b) ? -1 : describeResource(a) > describeResource(b) ? 1 : 0));
    }
    return statuses;
}

/** What a switch to Enforce would block, per policy that flips. */
export interface Readiness {
    /** Policy key → failing resources (only policies with at least one). */
    blocked: { policy: string; failing: ReportedResource[] }[];
    /** The number of failing resources over every flipping policy (a resource failing two policies counts twice). */
    total: number;
}

/** The failing resources of the policies about to enforce. */
export function readiness(flippingToEnforce: readonly string[], statuses: ReadonlyMap<string, PolicyReportStatus>): Readiness {
    const blocked = [...new Set(flippingToEnforce)]
        .map((policy) => ({ policy, failing: statuses.get(policy)?.failing ?? [] }))
        .filter((b) => b.failing.length > 0);
    return { blocked, total: blocked.reduce((n, b) => n + b.failing.length, 0) };
}

/**
 * The preview text: one line per policy, at most `cap` resources each with a count of the rest,
 * and a total. Empty when nothing would be blocked.
 */
export function readinessLines(result: Readiness, cap = 5): string[] {
    if (result.blocked.length === 0) return [];
    const lines = result.blocked.map(({ policy, failing }) => {
        const shown = failing.slice(0, cap).map(describeResource).join(", ");
        const more = failing.length > cap ? ` and ${failing.length - cap} more` : "";
        return `  ${policy}: ${failing.length} existing resource${failing.length === 1 ? " fails" : "s fail"} it: ${shown}${more}`;
    });
    const policies = result.blocked.length;
    return [
        `enforcement readiness: ${result.total} existing resource${result.total === 1 ? "" : "s"} fail${result.total === 1 ? "s" : ""} ` +
            `${policies === 1 ? "a policy" : `${policies} policies`} about to enforce; Kyverno will block ${result.total === 1 ? "it" : "them"} at the next create or update:`,
        ...lines,
    ];
}
