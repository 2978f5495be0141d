# shellcheck shell=sh
# Step 1 of kind's "local registry" recipe (components/localRegistry.ts): the registry container
# on the host, published on 127.0.0.1 only. It needs no cluster (the artifact push needs only
# this). Its one argument is the step:
#   create  runs the container, or starts it again when it exists stopped (after a reboot of a
#           laptop whose Docker does not restart it): its pushed artifacts are in it, and a new
#           container of that name could not be made. One that publishes another port is refused.
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
    port=${REGISTRY_HOST_PORT:?REGISTRY_HOST_PORT is required}
    running=$(docker inspect -f '{{.State.Running}}' "$container" 2>/dev/null || echo absent)
    if [ "$running" = absent ]; then
      docker run -d --restart=always -p "127.0.0.1:$port:5000" \
        --network bridge --name "$container" "${REGISTRY_IMAGE:?REGISTRY_IMAGE is required}" >&2
      exit 0
    fi
    published=$(docker inspect -f '{{range (index .HostConfig.PortBindings "5000/tcp")}}{{.HostIp}}:{{.HostPort}}{{end}}' "$container")
    if [ "$published" != "127.0.0.1:$port" ]; then
      echo "registry-container.sh: the container $container exists and publishes the registry on '${published:-nothing}', not on 127.0.0.1:$port (policy-stack:localRegistryPort). Remove it (docker rm -f $container) or set localRegistryPort to its port." >&2
      exit 1
    fi
    if [ "$running" != true ]; then docker start "$container" >&2; fi
    ;;
  delete)
    docker rm -f "$container"
    ;;
  *)
    echo "usage: registry-container.sh create|delete" >&2
    exit 2
    ;;
esac
