# shellcheck shell=sh
# The dev stack's kind cluster (components/cluster.ts). Its one argument is the step:
#   create  creates the cluster unless it exists, with kind's configuration on stdin, then prints
#           its kubeconfig on stdout (kind's progress goes to stderr). A retried `pulumi up` after a
#           partial failure so adopts the cluster instead of failing on "node(s) already exist".
#   delete  deletes it.
#
# Environment:
#   KIND_CLUSTER       the cluster's name
#   KIND_WAIT_SECONDS  create: how long kind waits for the control plane, in seconds
set -eu
cluster=${KIND_CLUSTER:?KIND_CLUSTER is required}
case ${1:-} in
  create)
    if ! kind get clusters 2>/dev/null | grep -qxF -e "$cluster"; then
      kind create cluster --name "$cluster" --config=- --wait "${KIND_WAIT_SECONDS:?KIND_WAIT_SECONDS is required}s" >&2
    fi
    kind get kubeconfig --name "$cluster"
    ;;
  delete)
    kind delete cluster --name "$cluster"
    ;;
  *)
    echo "usage: kind-cluster.sh create|delete" >&2
    exit 2
    ;;
esac
