# shellcheck shell=sh
# The Kyverno webhook cleanup (components/kyverno.ts), the delete step of a Command the release
# depends on, so it runs after the uninstall. Kyverno builds its webhook configurations at run time
# (the chart ships none, so Helm never deletes them) and removes them itself only when its pod sees
# its Deployment going away; a pod killed before that, or an admission controller running outside
# the cluster, leaves fail-closed webhooks that reject every matching request once nothing answers
# them. This waits for the admission-controller pods to go (a running one registers again what is
# deleted), then deletes the labelled configurations until several polls in a row find none. It
# fails, naming what is left and the command that removes it, when that does not happen within
# the timeout: a dangling fail-closed webhook blocks the cluster. Runs after kubectl.sh
# (lib/kyverno.ts joins them).
#
# Environment:
#   KYVERNO_NAMESPACE  the release's namespace, where its admission-controller pods run
#   TIMEOUT_SECONDS    the longest it waits for the pods to go and the configurations to stay gone
#   POLL_SECONDS       seconds between polls (as sleep takes them); default 2
#   QUIET_POLLS        polls in a row that must find no configuration; default 3
#   KUBECONFIG_DATA, KUBE_CONTEXT: see kubectl.sh
ns=${KYVERNO_NAMESPACE:?KYVERNO_NAMESPACE is required}
timeout=${TIMEOUT_SECONDS:?TIMEOUT_SECONDS is required}
case $timeout in *[!0-9]*) echo "TIMEOUT_SECONDS is not a whole number of seconds: $timeout" >&2; exit 2 ;; esac
poll=${POLL_SECONDS:-2}
quiet_polls=${QUIET_POLLS:-3}
kinds=validatingwebhookconfigurations,mutatingwebhookconfigurations
# The label Kyverno puts on every webhook configuration it registers.
selector=webhook.kyverno.io/managed-by=kyverno
deadline=$(( $(date +%s) + timeout ))

quiet=0
while :; do
  pods=$(k get pods -n "$ns" -l app.kubernetes.io/component=admission-controller -o name 2>&1) ||
    { echo "cannot list Kyverno's pods: $pods" >&2; exit 1; }
  left=$(k get "$kinds" -l "$selector" -o name 2>&1) ||
    { echo "cannot list Kyverno's webhook configurations: $left" >&2; exit 1; }
  if [ -z "$pods" ] && [ -z "$left" ]; then
    quiet=$((quiet + 1))
    [ "$quiet" -ge "$quiet_polls" ] && exit 0
  else
    quiet=0
  fi
  if [ -z "$pods" ] && [ -n "$left" ]; then k delete "$kinds" -l "$selector" --ignore-not-found >&2 || true; fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "Kyverno's webhooks were not removed within ${timeout}s after the uninstall:" >&2
    [ -z "$pods" ] || echo "  admission-controller pods still running: $(printf '%s\n' "$pods" | paste -s -d ' ' -)" >&2
    printf '%s\n' "$left" | sed 's/^/  /' >&2
    echo "  they reject matching requests while nothing answers them: kubectl delete $kinds -l $selector" >&2
    exit 1
  fi
  sleep "$poll"
done
