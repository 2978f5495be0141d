# shellcheck shell=sh
# The start of every script that talks to the cluster (flux-wait.sh, kyverno-*.sh). lib/kubectl.ts
# puts this file's text in front of the script's when it loads it, so each runs as one `sh -c`
# script. kubectl is the client so that any kubeconfig works: client certificates, tokens, exec
# plugins.
#
# Environment:
#   KUBECONFIG_DATA  the kubeconfig's contents, written to a private temporary file that is removed
#                    on exit; empty or unset: the ambient kubeconfig ($KUBECONFIG, ~/.kube/config)
#   KUBE_CONTEXT     the kubeconfig context; empty or unset: its current context
#
# Defines k: kubectl with that context.
set -u
command -v kubectl >/dev/null 2>&1 || { echo "kubectl is needed on PATH: https://kubernetes.io/docs/tasks/tools/" >&2; exit 1; }
if [ -n "${KUBECONFIG_DATA:-}" ]; then
  kc=$(mktemp)
  trap 'rm -f "$kc"' EXIT
  # A signal ends the script through exit, so the EXIT trap removes the file then too. (A signal
  # ignored on entry, like nohup's HUP, stays ignored.)
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  chmod 600 "$kc"
  printf '%s' "$KUBECONFIG_DATA" > "$kc"
  export KUBECONFIG="$kc"
fi
k() {
  if [ -n "${KUBE_CONTEXT:-}" ]; then kubectl --context "$KUBE_CONTEXT" "$@"; else kubectl "$@"; fi
}
