#!/usr/bin/env bash
# Brings the dev stack up on this machine: kind cluster, local registry, Flux, Kyverno and the
# policies. Needs Docker, kind, the Pulumi CLI and Node.js 20+. Idempotent: run it again to
# apply changes. Extra arguments go to `pulumi up` (e.g. --yes, --diff).
set -euo pipefail
cd "$(dirname "$0")/.."

need() {
    local tool=$1 hint=$2
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "dev-up: '$tool' is not installed: $hint" >&2
        exit 1
    fi
}
need docker "install Docker: https://docs.docker.com/engine/install/"
need kind "install kind v0.20 or later: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
need pulumi "install the Pulumi CLI v3: https://www.pulumi.com/docs/install/"
need node "install Node.js 20 or later: https://nodejs.org/"
need kubectl "install kubectl (the Flux status check and the Kyverno uninstall helper use it): https://kubernetes.io/docs/tasks/tools/"
# shellcheck disable=SC2016 # JavaScript, with its own ${} template literals
node -e 'const [major] = process.versions.node.split(".").map(Number); if (major < 20) { console.error(`dev-up: Node.js ${process.versions.node} is too old: install Node.js 20 or later`); process.exit(1); }'
docker info >/dev/null 2>&1 || { echo "dev-up: the Docker daemon is not reachable: start Docker first" >&2; exit 1; }

# npm ci unless node_modules is newer than the lockfile.
if ! { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ]; }; then npm ci; fi

# A local file backend unless the user is already logged in somewhere.
if ! pulumi whoami >/dev/null 2>&1; then
    export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$HOME/.pulumi-policy-stack}"
    mkdir -p "${PULUMI_BACKEND_URL#file://}"
    echo "dev-up: using the local state backend $PULUMI_BACKEND_URL"
fi
# The dev stack holds no secrets; an empty passphrase keeps it prompt-free unless one is set.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"

pulumi stack select dev 2>/dev/null || pulumi stack init dev
pulumi up --stack dev "$@"
