/**
 * The Kyverno uninstall helper. Kyverno's chart ships aggregated ClusterRoles
 * (`kyverno:<controller>` with an aggregationRule). When Helm deletes them together with the
 * roles they aggregate, kube-controller-manager's clusterrole-aggregation controller can apply the
 * aggregated role again from its stale cache, re-creating it without labels or aggregationRule.
 * Helm's uninstall then waits for a deletion that never comes (until its timeout), and a later
 * install fails on the orphan. Seen with Kubernetes 1.33. The helper's delete step starts, just
 * before the uninstall, a detached watcher that deletes such orphans until Helm's release record
 * is gone. Pure module: the script is run by the Kyverno component through `@pulumi/command`.
 */
import { shellQuote } from "./kind";
import { kubectlPreamble } from "./kubectl";

/** The aggregated ClusterRoles of the Kyverno chart (release name `kyverno`). */
export const KYVERNO_AGGREGATED_ROLES = ["admission-controller", "background-controller", "cleanup-controller", "reports-controller"];

export interface OrphanReaperOptions {
    /** Helm release name; the roles are `<release>:<controller>`. */
    release: string;
    namespace: string;
    /** Longest the helper waits for the release record to go. */
    timeoutSeconds: number;
    context?: string;
    pollSeconds?: number;
}

/**
 * Starts `orphanReaperScript` detached from the caller (all its streams closed, so the command
 * returns at once and the uninstall can begin), inheriting KUBECONFIG_DATA.
 */
export function detachedOrphanReaperScript(o: OrphanReaperOptions): string {
    return `nohup sh -c ${shellQuote(orphanReaperScript(o))} </dev/null >/dev/null 2>&1 &`;
}

/**
 * Deletes re-created aggregated ClusterRoles (those without Helm's managed-by label) until the
 * release record is gone, the cluster is unreachable, or the timeout passes. Never fails: the
 * uninstall's own outcome is what counts.
 */
export function orphanReaperScript(o: OrphanReaperOptions): string {
    const roles = KYVERNO_AGGREGATED_ROLES.map((r) => shellQuote(`${o.release}:${r}`)).join(" ");
    return [
        ...kubectlPreamble(o.context),
        `deadline=$(( $(date +%s) + ${Math.max(1, Math.floor(o.timeoutSeconds))} ))`,
        "while :; do",
        `  for role in ${roles}; do`,
        `    if k get clusterrole "$role" >/dev/null 2>&1 && [ -z "$(k get clusterrole "$role" -o 'jsonpath={.metadata.labels.app\\.kubernetes\\.io/managed-by}' 2>/dev/null)" ]; then`,
        `      k delete clusterrole "$role" --ignore-not-found >&2`,
        "    fi",
        "  done",
        `  records=$(k get secrets -n ${shellQuote(o.namespace)} -l owner=helm,name=${shellQuote(o.release)} -o name 2>/dev/null) || exit 0`,
        `  [ -z "$records" ] && exit 0`,
        `  [ "$(date +%s)" -ge "$deadline" ] && exit 0`,
        `  sleep ${o.pollSeconds ?? 2}`,
        "done",
    ].join("\n");
}
