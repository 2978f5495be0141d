# shellcheck shell=sh
# Step 1 of kind's "local registry" recipe (components/localRegistry.ts): the registry container
# on the host, published on 127.0.0.1 only. It needs no cluster (the artifact push needs only
# this). Its one argument is the step:
#   create  starts the container unless it runs
#   delete  removes it
#
# Environment:
#   REGISTRY_CONTAINER  the container's name, also its host name on the kind network
#   REGISTRY_HOST_PORT  create: the port on 127.0.0.1 the host pushes to
#   REGISTRY_IMAGE      create: the registry image
set -eu
container=${REGISTRY_CONTAINER:?REGISTRY_CONTAINER is required}
case ${1:-} in
  create)
    if [ "$(docker inspect -f '{{.State.Running}}' "$container" 2>/dev/null || true)" != true ]; then
      docker run -d --restart=always -p "127.0.0.1:${REGISTRY_HOST_PORT:?REGISTRY_HOST_PORT is required}:5000" \
        --network bridge --name "$container" "${REGISTRY_IMAGE:?REGISTRY_IMAGE is required}" >&2
    fi
    ;;
  delete)
    docker rm -f "$container"
    ;;
  *)
    echo "usage: registry-container.sh create|delete" >&2
    exit 2
    ;;
esac
