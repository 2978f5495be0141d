/**
 * Shell fragments shared by the scripts the components run with kubectl (the Flux status check,
 * the Kyverno uninstall helper). kubectl is the client so any kubeconfig works: client
 * certificates, tokens, exec plugins.
 */
import { shellQuote } from "./kind";

/**
 * Checks for kubectl and, when KUBECONFIG_DATA is set, writes it to a private temp file removed on
 * exit; otherwise the ambient kubeconfig is used. Defines `k` as kubectl with the context.
 */
export function kubectlPreamble(context?: string): string[] {
    const ctx = context ? ` --context ${shellQuote(context)}` : "";
    return [
        "set -u",
        `command -v kubectl >/dev/null 2>&1 || { echo "kubectl is needed on PATH: https://kubernetes.io/docs/tasks/tools/" >&2; exit 1; }`,
        `if [ -n "\${KUBECONFIG_DATA:-}" ]; then`,
        `  kc=$(mktemp); trap 'rm -f "$kc"' EXIT; chmod 600 "$kc"; printf '%s' "$KUBECONFIG_DATA" > "$kc"; export KUBECONFIG="$kc"`,
        "fi",
        `k() { kubectl${ctx} "$@"; }`,
    ];
}
