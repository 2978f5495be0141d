#!/usr/bin/env bash
# Build the end-to-end tool chain (Pulumi CLI + language host, providers,
# Kubernetes control plane, etcd, kwok, Flux controllers, flux, oras, Kyverno,
# cosign) from the Go module proxy into a per-user cache outside the repository.
#
# Usage:
#   scripts/build-tools.sh [tool ...]          build (all tools by default)
#   scripts/build-tools.sh --check [tool ...]  smoke-test built binaries
#   scripts/build-tools.sh --list              tools and pinned versions
#   scripts/build-tools.sh --bin-dir           link what is built, build nothing
#   scripts/build-tools.sh --depset NAME       rewrite scripts/tools/depsets/NAME.txt
#   PATH="$(scripts/build-tools.sh | tail -1):$PATH"
#
# With no tool names every tool is built; otherwise only the named ones.
# Tools already built with the same inputs are skipped. POLICY_STACK_TOOLS_JOBS
# tools build at once (default 2: one `go build` leaves a core idle while it
# downloads modules and while it links). Progress goes to stderr (build output
# prefixed with the tool's name); stdout gets exactly one line,
# the bin directory of symlinks for the current pins in scripts/tools.env.
#
# Layout (TOOLS_DIR = ${POLICY_STACK_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/policy-stack/tools}):
#   TOOLS_DIR/<tool>/<version>/bin/...   the binaries
#   TOOLS_DIR/<tool>/<version>/stamp     version + fingerprint of the build inputs
#   TOOLS_DIR/bin-<hash of the pins>/    symlinks to every built binary
#
# Versions live in scripts/tools.env; wrapper-module templates in scripts/tools/.
# Tools named in a dependency set (scripts/tools/depsets/) build with its module
# versions, shared by all its members; run --depset NAME after moving a pin of
# one of them (until then their builds refuse the set; the set is part of
# their fingerprints: they rebuild).
# The code is in scripts/lib/: tools-helpers.sh (fetch and build helpers),
# tools-recipes.sh (one recipe per tool: version, binaries, build, check),
# tools-driver.sh (fingerprint, stamp, lock, bin directory, --check, --depset).
# GOCACHE / GOMODCACHE are left at Go's defaults (outside the repository).
# Needs: go (>= the go lines of the modules, 1.26 today), node (JSON handling
# and the Pulumi plugin shims), sha256sum; flock is used when present.
#
# Not built: pulumi-resource-command (@pulumi/command). The module proxy
# serves no version of github.com/pulumi/pulumi-command/provider.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ENV_FILE="$SCRIPT_DIR/tools.env"
TEMPLATE_DIR="$SCRIPT_DIR/tools"
TOOLS_DIR=${POLICY_STACK_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/policy-stack/tools}

# Longest build first (CPU seconds of a cold build, README "How long it takes"),
# so that with two builds at once the last one to start is short. The first
# member of a dependency set to build compiles what the set shares (cosign,
# when the integration tests build it alone, else the first one here).
ALL_TOOLS=(
  kubernetes
  pulumi-resource-kubernetes
  pulumi
  cosign
  kyverno
  source-controller
  kustomize-controller
  kwok
  etcd
  flux
  oras
)

log() { printf '[%s] %s\n' "$(date '+%H:%M:%S')" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# shellcheck source-path=SCRIPTDIR source=lib/tools-helpers.sh
. "$SCRIPT_DIR/lib/tools-helpers.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tools-recipes.sh
. "$SCRIPT_DIR/lib/tools-recipes.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tools-driver.sh
. "$SCRIPT_DIR/lib/tools-driver.sh"

# ---------------------------------------------------------------- pins
ENV_KEYS=()
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in ''|'#'*) continue ;; esac
  key=${line%%=*}; val=${line#*=}
  [[ "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]] || die "bad line in tools.env: $line"
  printf -v "$key" '%s' "$val"
  ENV_KEYS+=("$key")
done < "$ENV_FILE"

command -v go >/dev/null || die "go is not on PATH"
export CGO_ENABLED=0 GOWORK=off
GO_VERSION=$(go env GOVERSION)
GO_PLATFORM="$(go env GOOS)/$(go env GOARCH)"

# ---------------------------------------------------------------- main
main() {
  local tools=() tool total_start
  case "${1:-}" in
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; return 0 ;;
    --list) for tool in "${ALL_TOOLS[@]}"; do echo "$tool $("version_$(fn "$tool")")"; done; return 0 ;;
    --bin-dir) mkdir -p "$TOOLS_DIR"; warn_stale; link_bin_dir; return ;;
    --check) shift; check_tools "$@"; return ;;
    --depset) shift; refresh_depset "$@"; return ;;
  esac
  if [ $# -eq 0 ]; then tools=("${ALL_TOOLS[@]}"); else tools=("$@"); fi
  # Membership, not "a build_<name> function exists": the driver's own functions are build_* too.
  # A tool named twice is kept once: it would build twice at once (without flock, into one stage).
  local unique=()
  for tool in "${tools[@]}"; do
    [[ " ${ALL_TOOLS[*]} " == *" $tool "* ]] || die "unknown tool '$tool' (known: ${ALL_TOOLS[*]})"
    [[ " ${unique[*]} " == *" $tool "* ]] || unique+=("$tool")
  done
  tools=("${unique[@]}")
  mkdir -p "$TOOLS_DIR"
  total_start=$(date +%s)
  log "tools dir: $TOOLS_DIR ($GO_VERSION, GOCACHE=$(go env GOCACHE))"
  run_builds "${tools[@]}"
  log "done in $(( $(date +%s) - total_start ))s${FAILED:+; FAILED: ${FAILED[*]}}"
  link_bin_dir
  [ ${#FAILED[@]} -eq 0 ]
}

main "$@"; exit $?
