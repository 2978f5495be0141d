# shellcheck shell=sh
# The Flux status check (components/policySource.ts): asks Flux to reconcile a revision now, waits
# for Flux to report it applied and Ready, and when that does not happen within the timeout fails
# quoting Flux's own Ready messages (a wrong registry password, a policy the API rejects), which
# pulumi-kubernetes' await never shows. Runs after kubectl.sh (lib/fluxWait.ts joins them).
#
# Environment:
#   FLUX_NAMESPACE   namespace of the OCIRepository and the Kustomization
#   FLUX_NAME        name of both
#   FLUX_REVISION    the revision to wait for, <tag>@sha256:<digest>
#   TIMEOUT_SECONDS  how long to wait, in whole seconds
#   POLL_SECONDS     seconds between polls (as sleep takes them); default 2
#   FLUX_VERIFY      "true" when the OCIRepository verifies signatures (spec.verify): its
#                    SourceVerified condition must be True as well; default off
#   KUBECONFIG_DATA, KUBE_CONTEXT: see kubectl.sh
#
# It first sets reconcile.fluxcd.io/requestedAt to the revision on both objects, as
# `flux reconcile` does, so Flux does not wait for its interval to look at a new tag. Exits 0 once
# the Kustomization's lastAppliedRevision is the revision and its Ready condition is True for the
# current generation, and, with FLUX_VERIFY, the OCIRepository's SourceVerified condition is True:
# source-controller keeps serving the last artifact it verified when the tag moves to one it cannot
# verify, so the Kustomization alone would look fine.
ns=${FLUX_NAMESPACE:?FLUX_NAMESPACE is required}
name=${FLUX_NAME:?FLUX_NAME is required}
want=${FLUX_REVISION:?FLUX_REVISION is required}
timeout=${TIMEOUT_SECONDS:?TIMEOUT_SECONDS is required}
case $timeout in *[!0-9]*) echo "TIMEOUT_SECONDS is not a whole number of seconds: $timeout" >&2; exit 2 ;; esac
poll=${POLL_SECONDS:-2}
verify=${FLUX_VERIFY:-false}
source_kind=ocirepositories.source.toolkit.fluxcd.io
apply_kind=kustomizations.kustomize.toolkit.fluxcd.io
ready='{.status.conditions[?(@.type=="Ready")]'
verified='{.status.conditions[?(@.type=="SourceVerified")]'
deadline=$(( $(date +%s) + timeout ))

field() { k get "$1" -n "$ns" "$name" -o "jsonpath=$2" 2>/dev/null; }

for kind in "$source_kind" "$apply_kind"; do
  k annotate --overwrite "$kind" -n "$ns" "$name" "reconcile.fluxcd.io/requestedAt=$want" >/dev/null ||
    echo "could not ask Flux to reconcile ${kind%%.*}/$ns/$name now; waiting for its interval" >&2
done
while :; do
  applied=$(field "$apply_kind" '{.status.lastAppliedRevision}')
  status=$(field "$apply_kind" "$ready.status}")
  observed=$(field "$apply_kind" "$ready.observedGeneration}")
  generation=$(field "$apply_kind" '{.metadata.generation}')
  is_applied=false
  if [ "$applied" = "$want" ] && [ "$status" = True ] && [ "$observed" = "$generation" ]; then is_applied=true; fi
  is_verified=true
  if [ "$verify" = true ] && [ "$(field "$source_kind" "$verified.status}")" != True ]; then is_verified=false; fi
  if [ "$is_applied" = true ] && [ "$is_verified" = true ]; then exit 0; fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    if [ "$is_applied" = true ]; then
      echo "Flux applied $want, but does not report its source verified within ${timeout}s (it keeps the policies it last verified):" >&2
    else
      echo "Flux did not apply $want within ${timeout}s:" >&2
    fi
    for kind in "$source_kind" "$apply_kind"; do
      if k get "$kind" -n "$ns" "$name" >/dev/null 2>&1; then
        echo "  ${kind%%.*}/$ns/$name: Ready=$(field "$kind" "$ready.status}") ($(field "$kind" "$ready.reason}")): $(field "$kind" "$ready.message}")" >&2
        if [ "$verify" = true ] && [ "$kind" = "$source_kind" ]; then
          echo "  ${kind%%.*}/$ns/$name: SourceVerified=$(field "$kind" "$verified.status}") ($(field "$kind" "$verified.reason}")): $(field "$kind" "$verified.message}")" >&2
        fi
      else
        echo "  ${kind%%.*}/$ns/$name: not created (an earlier step failed)" >&2
      fi
    done
    echo "  (kubectl -n $ns describe ocirepository,kustomization $name shows more)" >&2
    exit 1
  fi
  sleep "$poll"
done
