#!/usr/bin/env bash
# Installs what `npm run lint` needs beyond node_modules: Debian's shellcheck. Idempotent: does
# nothing when it is already on PATH, and runs `apt-get update` only when the install needs it.
# Safe to call from CI and from every lint run.
set -euo pipefail

command -v shellcheck >/dev/null 2>&1 && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache policy shellcheck 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  echo "ensure-lint-tools: apt-get update"
  $SUDO apt-get update -q
fi
echo "ensure-lint-tools: installing shellcheck"
$SUDO apt-get install -y -q --no-install-recommends shellcheck
