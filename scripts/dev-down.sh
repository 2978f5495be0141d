#!/usr/bin/env bash
# Tears the dev stack down: policies, Flux, Kyverno (its hooks remove its webhooks), the kind
# cluster and the local registry container. Extra arguments go to `pulumi destroy`.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! pulumi whoami >/dev/null 2>&1; then
    export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$HOME/.pulumi-policy-stack}"
fi
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
pulumi destroy --stack dev "$@"
