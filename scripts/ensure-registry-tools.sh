#!/usr/bin/env bash
# Installs the tools the OCI integration tests drive: Debian's docker-registry (Distribution 2.8),
# skopeo (independent client), openssl (test CA + server cert) and apache2-utils (htpasswd -B).
# Idempotent: does nothing when everything is already on PATH, and runs `apt-get update` only when
# an install is needed. Safe to call from CI and from every test process.
set -euo pipefail

need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v skopeo          >/dev/null 2>&1 || need+=(skopeo)
command -v openssl         >/dev/null 2>&1 || need+=(openssl)
command -v htpasswd        >/dev/null 2>&1 || need+=(apache2-utils)

if [ "${#need[@]}" -eq 0 ]; then
  echo "ensure-registry-tools: docker-registry, skopeo, openssl, htpasswd already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

# The Debian package ships a systemd unit / init script that would start a registry on :5000. The
# tests start their own instances on free ports, so keep the packaged service from starting at all
# during install (policy-rc.d exit 101 = "action forbidden"), and stop it if it runs anyway.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  created_policy=1
fi
cleanup() { if [ "$created_policy" -eq 1 ]; then $SUDO rm -f "$policy"; fi; }
trap cleanup EXIT

# Refresh package lists only if they are missing or the candidate is unknown.
candidates=$(apt-cache policy "${need[@]}" 2>/dev/null | grep -c 'Candidate: [0-9]' || true)
if [ "${candidates:-0}" -lt "${#need[@]}" ]; then
  echo "ensure-registry-tools: apt-get update"
  $SUDO apt-get update -q
fi
echo "ensure-registry-tools: installing ${need[*]}"
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}"

# Belt and braces: a packaged service that started anyway would hold :5000 and confuse nobody but
# a human debugging; stop and disable it without failing when systemd is absent.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
  $SUDO systemctl disable --now docker-registry || true
fi
if [ -x /etc/init.d/docker-registry ]; then $SUDO /etc/init.d/docker-registry stop >/dev/null 2>&1 || true; fi
echo "ensure-registry-tools: done"
