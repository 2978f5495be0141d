# shellcheck shell=sh
# Reads what the cluster enforces now and what Kyverno's reports say about it: the live policies'
# failure actions and, per policy, the results of every PolicyReport and ClusterPolicyReport. The
# preview's enforcement readiness (components/enforcementGate.ts) runs it in the program, the
# enforcement status (components/enforcementStatus.ts) as a Command after Flux applied the
# policies. It never fails for what it cannot read: it says so on a line of its own and goes on,
# so a cluster that is not there yet or has no reports costs only the report. Runs after
# kubectl.sh (lib/policyStatus.ts joins them). Its lines are parsed by lib/preview/clusterStatus.ts.
#
# Environment:
#   POLICY_RESOURCES  the policy resources to read, space-separated (clusterpolicies.kyverno.io …);
#                     empty: only the reports
#   LIST_FAILING      1: also list each resource that fails a policy; else counts only
#   REQUEST_TIMEOUT   kubectl's --request-timeout; default 20s
#   KUBECONFIG_DATA, KUBE_CONTEXT: see kubectl.sh
#
# Output, one record a line, fields separated by tabs ("-" for an empty field):
#   unreachable  <kubectl's message>                     the cluster could not be read at all
#   policy       <apiVersion> <kind> <namespace> <name> <validationFailureAction> <validationActions,> <rule actions,>
#   missing      <resource>                              the resource type is not served (no CRD)
#   unread       <what> <kubectl's message>              a list that could not be read
#   count        <policy> <result> <n>                   Kyverno's results of a policy, by result
#   failing      <policy> <kind> <namespace> <name>      (LIST_FAILING=1) a resource failing the policy
resources=${POLICY_RESOURCES?POLICY_RESOURCES is required (empty: read no policy kind)}
list_failing=${LIST_FAILING:-0}
timeout=${REQUEST_TIMEOUT:-20s}
tab=$(printf '\t')
tmp=$(mktemp -d)
# Replaces kubectl.sh's trap, so it removes the kubeconfig file too.
trap 'rm -rf "$tmp" ${KUBECONFIG_DATA:+"$KUBECONFIG"}' EXIT
err=$tmp/err
results=$tmp/results

# The first line of kubectl's complaint, tabs flattened, so one record stays one line.
message() { head -n 1 "$err" | tr '\t' ' '; }

if ! k get --raw /version --request-timeout="$timeout" >/dev/null 2>"$err"; then
  printf 'unreachable\t%s\n' "$(message)"
  exit 0
fi

# Per policy: the spec-level action, the CEL validationActions, and the action of each validate
# rule and each verifyImages entry ("-" where unset: Kyverno's default applies).
policy_template='{{range .items}}policy{{"\t"}}{{.apiVersion}}{{"\t"}}{{.kind}}{{"\t"}}{{or .metadata.namespace "-"}}{{"\t"}}{{.metadata.name}}{{"\t"}}{{or .spec.validationFailureAction "-"}}{{"\t"}}{{if .spec.validationActions}}{{range .spec.validationActions}}{{.}},{{end}}{{else}}-{{end}}{{"\t"}}{{range .spec.rules}}{{if .validate}}{{or .validate.failureAction "-"}},{{end}}{{range .verifyImages}}{{or .failureAction "-"}},{{end}}{{end}}{{"\n"}}{{end}}'
for resource in $resources; do
  if ! k get "$resource" -A --request-timeout="$timeout" -o "go-template=$policy_template" 2>"$err"; then
    if grep -q "doesn't have a resource type" "$err"; then
      printf 'missing\t%s\n' "$resource"
    else
      printf 'unread\t%s\t%s\n' "$resource" "$(message)"
    fi
  fi
done

# One line per result: policy, result, source, and the resource it is about (the report's scope,
# as Kyverno 1.19 writes one report per resource; else the result's first resource).
# shellcheck disable=SC2016 # a Go template: $scope is the template's variable, not the shell's
report_template='{{range .items}}{{$scope := .scope}}{{range .results}}{{.policy}}{{"\t"}}{{.result}}{{"\t"}}{{or .source "-"}}{{"\t"}}{{if $scope}}{{$scope.kind}}{{"\t"}}{{or $scope.namespace "-"}}{{"\t"}}{{$scope.name}}{{else if .resources}}{{with index .resources 0}}{{.kind}}{{"\t"}}{{or .namespace "-"}}{{"\t"}}{{.name}}{{end}}{{else}}-{{"\t"}}-{{"\t"}}-{{end}}{{"\n"}}{{end}}{{end}}'
if ! k get policyreports.wgpolicyk8s.io,clusterpolicyreports.wgpolicyk8s.io -A --request-timeout="$timeout" -o "go-template=$report_template" >"$results" 2>"$err"; then
  printf 'unread\treports\t%s\n' "$(message)"
  exit 0
fi
# Kyverno's results only (its classic and CEL engines name themselves); other engines' are left out.
awk -F "$tab" -v failing="$list_failing" '
  NF >= 6 && (tolower($3) ~ /kyverno/ || $3 == "-") {
    count[$1 "\t" $2]++
    if (failing == "1" && $2 == "fail" && $4 != "-") seen[$1 "\t" $4 "\t" $5 "\t" $6] = 1
  }
  END {
    for (k in count) print "count\t" k "\t" count[k]
    for (k in seen) print "failing\t" k
  }' "$results" | LC_ALL=C sort
