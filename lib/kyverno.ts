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

/** The label Kyverno puts on every webhook configuration it registers at run time. */
export const KYVERNO_WEBHOOK_SELECTOR = "webhook.kyverno.io/managed-by=kyverno";

export interface WebhookCleanupOptions {
    /** Namespace of the release; its admission-controller pods must be gone first. */
    namespace: string;
    /** Longest the cleanup waits for the pods to go and the configurations to stay gone. */
    timeoutSeconds: number;
    context?: string;
    pollSeconds?: number;
    /** Consecutive polls that must find no configuration before the cleanup is done. Defaults to 3. */
    quietPolls?: number;
}

/**
 * Removes the webhook configurations Kyverno registered, after the release is gone. Kyverno builds
 * them at run time (the chart ships none, so Helm never deletes them) and removes them itself only
 * when its pod sees its Deployment going away; a pod killed before that, or an admission
 * controller running outside the cluster, leaves fail-closed webhooks that reject every matching
 * request once nothing answers them. Runs after the uninstall (the release depends on the helper):
 * waits for the admission-controller pods to go (a running one re-registers what is deleted), then
 * deletes the labelled configurations until several polls in a row find none. Fails, naming what
 * is left, when that does not happen in time: a dangling fail-closed webhook blocks the cluster.
 */
export function webhookCleanupScript(o: WebhookCleanupOptions): string {
    const ns = shellQuote(o.namespace);
    const kinds = "validatingwebhookconfigurations,mutatingwebhookconfigurations";
    const quiet = o.quietPolls ?? 3;
    return [
        ...kubectlPreamble(o.context),
        `deadline=$(( $(date +%s) + ${Math.max(1, Math.floor(o.timeoutSeconds))} ))`,
        "quiet=0",
        "while :; do",
        `  pods=$(k get pods -n ${ns} -l app.kubernetes.io/component=admission-controller -o name 2>&1) || { echo "cannot list Kyverno's pods: $pods" >&2; exit 1; }`,
        `  left=$(k get ${kinds} -l ${KYVERNO_WEBHOOK_SELECTOR} -o name 2>&1) || { echo "cannot list Kyverno's webhook configurations: $left" >&2; exit 1; }`,
        `  if [ -z "$pods" ] && [ -z "$left" ]; then quiet=$((quiet + 1)); [ "$quiet" -ge ${quiet} ] && exit 0; else quiet=0; fi`,
        `  if [ -z "$pods" ] && [ -n "$left" ]; then k delete ${kinds} -l ${KYVERNO_WEBHOOK_SELECTOR} --ignore-not-found >&2 || true; fi`,
        `  if [ "$(date +%s)" -ge "$deadline" ]; then`,
        `    echo "Kyverno's webhooks were not removed within ${o.timeoutSeconds}s after the uninstall:" >&2`,
        `    [ -z "$pods" ] || echo "  admission-controller pods still running: $(echo $pods)" >&2`,
        `    echo "$left" | sed 's/^/  /' >&2`,
        `    echo "  they reject matching requests while nothing answers them: kubectl delete ${kinds} -l ${KYVERNO_WEBHOOK_SELECTOR}" >&2`,
        "    exit 1",
        "  fi",
        `  sleep ${o.pollSeconds ?? 2}`,
        "done",
    ].join("\n");
}
