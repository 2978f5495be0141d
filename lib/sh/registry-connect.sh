# shellcheck shell=sh
# Steps 3 and 4 of kind's "local registry" recipe (components/localRegistry.ts): every node's
# containerd resolves localhost:<port> to the registry container, and the container joins the
# kind network so that pods reach it by name.
#
# Environment:
#   KIND_CLUSTER          the kind cluster's name
#   REGISTRY_CONTAINER    the registry container's name
#   REGISTRY_HOST_PORT    the port on 127.0.0.1 the host pushes to
#   CONTAINERD_CERTS_DIR  where containerd looks for per-registry host configuration on the nodes
#                         (the config_path the kind configuration sets)
set -eu
cluster=${KIND_CLUSTER:?KIND_CLUSTER is required}
container=${REGISTRY_CONTAINER:?REGISTRY_CONTAINER is required}
hosts_dir="${CONTAINERD_CERTS_DIR:?CONTAINERD_CERTS_DIR is required}/localhost:${REGISTRY_HOST_PORT:?REGISTRY_HOST_PORT is required}"
# Listed first, so that a failure stops the script (it would not inside the for line).
nodes=$(kind get nodes --name "$cluster")
for node in $nodes; do
  docker exec "$node" mkdir -p "$hosts_dir"
  printf '[host."http://%s:5000"]\n' "$container" | docker exec -i "$node" cp /dev/stdin "$hosts_dir/hosts.toml"
done
if [ "$(docker inspect -f '{{json .NetworkSettings.Networks.kind}}' "$container")" = null ]; then
  docker network connect kind "$container"
fi
