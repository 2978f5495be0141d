# shellcheck shell=sh
# The Kyverno uninstall helper's watcher (components/kyverno.ts), started detached just before
# Helm uninstalls the release. Kyverno's chart ships aggregated ClusterRoles
# (<release>:<controller> with an aggregationRule). When Helm deletes them together with the roles
# they aggregate, kube-controller-manager's clusterrole-aggregation controller can apply the
# aggregated role again from its stale cache, re-creating it without labels or aggregationRule.
# Helm's uninstall then waits for a deletion that never comes (until its timeout), and a later
# install fails on the orphan (seen with Kubernetes 1.33). This deletes such orphans, the roles
# without Helm's managed-by label, until the release record is gone, the cluster is unreachable,
# or the timeout passes. It never fails: the uninstall's own outcome is what counts. Runs after
# kubectl.sh (lib/kyverno.ts joins them).
#
# Environment:
#   HELM_RELEASE     the release's name; the roles are <release>:<controller>
#   HELM_NAMESPACE   the release's namespace (where Helm keeps its release records)
#   TIMEOUT_SECONDS  the longest it runs, in whole seconds
#   POLL_SECONDS     seconds between polls (as sleep takes them); default 2
#   KUBECONFIG_DATA, KUBE_CONTEXT: see kubectl.sh
release=${HELM_RELEASE:?HELM_RELEASE is required}
ns=${HELM_NAMESPACE:?HELM_NAMESPACE is required}
timeout=${TIMEOUT_SECONDS:?TIMEOUT_SECONDS is required}
case $timeout in *[!0-9]*) echo "TIMEOUT_SECONDS is not a whole number of seconds: $timeout" >&2; exit 2 ;; esac
poll=${POLL_SECONDS:-2}
deadline=$(( $(date +%s) + timeout ))

while :; do
  # The chart's aggregated roles.
  for controller in admission-controller background-controller cleanup-controller reports-controller; do
    role="$release:$controller"
    if k get clusterrole "$role" >/dev/null 2>&1 &&
      [ -z "$(k get clusterrole "$role" -o 'jsonpath={.metadata.labels.app\.kubernetes\.io/managed-by}' 2>/dev/null)" ]; then
      k delete clusterrole "$role" --ignore-not-found >&2
    fi
  done
  records=$(k get secrets -n "$ns" -l "owner=helm,name=$release" -o name 2>/dev/null) || exit 0
  [ -z "$records" ] && exit 0
  [ "$(date +%s)" -ge "$deadline" ] && exit 0
  sleep "$poll"
done
