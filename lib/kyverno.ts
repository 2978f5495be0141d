/**
 * The two scripts the Kyverno component runs around the release's uninstall, both in `lib/sh/`
 * after `kubectl.sh` (their headers say why each is needed):
 * - `kyverno-orphan-reaper.sh`, started detached by the uninstall helper's delete step just before
 *   the uninstall: deletes aggregated ClusterRoles that kube-controller-manager re-creates from a
 *   stale cache while Helm deletes them, until Helm's release record is gone;
 * - `kyverno-webhook-cleanup.sh`, the delete step of a Command the release depends on, so after
 *   the uninstall: removes the webhook configurations Kyverno registered at run time.
 * Pure module: the component runs them through `@pulumi/command`.
 */
import { kubectlScript, kubectlVariables } from "./kubectl";
import { detachedScriptCommand, SCRIPT_VARIABLE, scriptCommand, wholeSeconds } from "./scripts";

export interface OrphanReaperOptions {
    /** Helm release name; the roles are `<release>:<controller>`. */
    release: string;
    namespace: string;
    /** Longest the helper waits for the release record to go. */
    timeoutSeconds: number;
    context?: string;
    pollSeconds?: number;
}

export const ORPHAN_REAPER_SCRIPT = "kyverno-orphan-reaper.sh";
/**
 * The uninstall helper's `delete`: starts the reaper detached from the caller (all its streams
 * closed, so the command returns at once and the uninstall can begin), inheriting the environment.
 */
export const ORPHAN_REAPER_COMMAND = detachedScriptCommand(ORPHAN_REAPER_SCRIPT);

/** The uninstall helper's environment, less KUBECONFIG_DATA. */
export function orphanReaperEnvironment(o: OrphanReaperOptions): Record<string, string> {
    return {
        [SCRIPT_VARIABLE]: kubectlScript(ORPHAN_REAPER_SCRIPT),
        HELM_RELEASE: o.release,
        HELM_NAMESPACE: o.namespace,
        TIMEOUT_SECONDS: wholeSeconds(o.timeoutSeconds),
        POLL_SECONDS: String(o.pollSeconds ?? 2),
        ...kubectlVariables(o.context),
    };
}

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

export const WEBHOOK_CLEANUP_SCRIPT = "kyverno-webhook-cleanup.sh";
/** The webhook cleanup's `delete`. */
export const WEBHOOK_CLEANUP_COMMAND = scriptCommand(WEBHOOK_CLEANUP_SCRIPT);

/**
 * The webhook cleanup's environment, less KUBECONFIG_DATA. It fails, naming what is left, when
 * the configurations do not stay gone in time: a dangling fail-closed webhook blocks the cluster.
 */
export function webhookCleanupEnvironment(o: WebhookCleanupOptions): Record<string, string> {
    return {
        [SCRIPT_VARIABLE]: kubectlScript(WEBHOOK_CLEANUP_SCRIPT),
        KYVERNO_NAMESPACE: o.namespace,
        TIMEOUT_SECONDS: wholeSeconds(o.timeoutSeconds),
        POLL_SECONDS: String(o.pollSeconds ?? 2),
        QUIET_POLLS: String(o.quietPolls ?? 3),
        ...kubectlVariables(o.context),
    };
}
