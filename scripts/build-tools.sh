#!/usr/bin/env bash
# Build the end-to-end tool chain (Pulumi CLI + language host, providers,
# Kubernetes control plane, etcd, kwok, Flux controllers, flux, oras, Kyverno,
# cosign) from the Go module proxy into a per-user cache outside the repository.
#
# Usage:
#   scripts/build-tools.sh [tool ...]          build (all tools by default)
#   scripts/build-tools.sh --check [tool ...]  smoke-test built binaries
#   scripts/build-tools.sh --list              tools and pinned versions
#   PATH="$(scripts/build-tools.sh | tail -1):$PATH"
#
# With no tool names every tool is built (in the order the e2e tests need
# them); otherwise only the named ones. Tools already built with the same
# inputs are skipped. Progress goes to stderr; stdout gets exactly one line,
# the bin directory of symlinks for the current pins in scripts/tools.env.
#
# Layout (TOOLS_DIR = ${POLICY_STACK_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/policy-stack/tools}):
#   TOOLS_DIR/<tool>/<version>/bin/...   the binaries
#   TOOLS_DIR/<tool>/<version>/stamp     version + fingerprint of the build inputs
#   TOOLS_DIR/bin-<hash of the pins>/    symlinks to every built binary
#
# Versions live in scripts/tools.env; wrapper-module templates in scripts/tools/.
# GOCACHE / GOMODCACHE are left at Go's defaults (outside the repository).
# Needs: go (>= the go lines of the modules, 1.26 today), node (JSON handling
# and the Pulumi plugin shims), sha256sum; flock is used when present.
#
# Not built: pulumi-resource-command (@pulumi/command). The module proxy
# serves no version of github.com/pulumi/pulumi-command/provider.

# The per-tool functions (build_<tool>, bins_<tool>, version_<tool>,
# check_<tool>) are called by computed names ("build_$t"), which shellcheck
# cannot follow: it would report them, and what only they call, unreachable.
# shellcheck disable=SC2317
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ENV_FILE="$SCRIPT_DIR/tools.env"
TEMPLATE_DIR="$SCRIPT_DIR/tools"
TOOLS_DIR=${POLICY_STACK_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/policy-stack/tools}

# Order matters: what the end-to-end test needs first comes first.
ALL_TOOLS=(
  pulumi
  pulumi-resource-kubernetes
  kwok
  etcd
  kubernetes
  source-controller
  kustomize-controller
  flux
  oras
  kyverno
  cosign
)

log() { printf '[%s] %s\n' "$(date '+%H:%M:%S')" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

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

# ---------------------------------------------------------------- helpers
# render TEMPLATE OUT: replace every @KEY@ from tools.env.
render() {
  local sed_args=() k
  for k in "${ENV_KEYS[@]}"; do sed_args+=(-e "s|@$k@|${!k}|g"); done
  sed "${sed_args[@]}" "$1" > "$2"
  if grep -v '^[[:space:]]*//' "$2" | grep -q '@[A-Z_]*@'; then die "unknown placeholder in $1"; fi
}

# module_json MODULE@VERSION FIELD: download a module and print a field of
# `go mod download -json` (Dir, GoMod, Time, Origin.Hash, ...).
module_json() {
  go mod download -json "$1" | node -e '
    let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
      const j = JSON.parse(s);
      if (j.Error) { console.error(j.Error); process.exit(1); }
      let v = j; for (const p of process.argv[1].split(".")) v = v == null ? v : v[p];
      console.log(v == null ? "" : v);
    });' "$2"
}

# add_replaces GOMOD WORKDIR [LOCAL_VERSION]: copy the replace directives of
# an upstream go.mod into the wrapper module in WORKDIR. Replaces that point
# at a local directory are dropped, except when LOCAL_VERSION is given: then
# they become `old => old LOCAL_VERSION` (used for k8s.io staging modules).
add_replaces() {
  local gomod=$1 dir=$2 localver=${3:-} spec
  while IFS= read -r spec; do
    [ -n "$spec" ] || continue
    log "    replace $spec"
    (cd "$dir" && go mod edit -replace="$spec")
  done < <(go mod edit -json "$gomod" | node -e '
    let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
      const localver = process.argv[1];
      for (const r of JSON.parse(s).Replace || []) {
        const old = r.Old.Path + (r.Old.Version ? "@" + r.Old.Version : "");
        if (r.New.Version) console.log(old + "=" + r.New.Path + "@" + r.New.Version);
        else if (localver) console.log(old + "=" + r.Old.Path + "@" + localver);
      }
    });' "$localver")
}

# gobuild DIR OUT TAGS LDFLAGS PKG...: the common build command.
gobuild() {
  local dir=$1 out=$2 tags=$3 ldflags=$4; shift 4
  (cd "$dir" && go build -mod=mod -trimpath -pgo=off ${tags:+-tags "$tags"} \
     -ldflags "-s -w $ldflags" -o "$out" "$@")
}

# gocopy MODULE@VERSION DEST: writable copy of a module from the module cache.
gocopy() {
  local src; src=$(module_json "$1" Dir)
  cp -r "$src" "$2"
  chmod -R u+w "$2"
}

# ---------------------------------------------------------------- tools
# Each tool has: version_<tool> (prints the cache version), bins_<tool>
# (binaries it must produce) and build_<tool> OUTBIN WORKDIR.

# Pulumi CLI plus the Node.js language host and plugin shims. They share one
# bin dir: the CLI uses language plugins found next to its own executable
# ("bundled") without a warning, as in Pulumi's release archives.
version_pulumi() { echo "$PULUMI_VERSION"; }
bins_pulumi() { echo pulumi pulumi-language-nodejs pulumi-resource-pulumi-nodejs pulumi-analyzer-policy; }
build_pulumi() {
  local out=$1 w=$2 d
  mkdir -p "$w/cli" "$w/nodejs"
  render "$TEMPLATE_DIR/pulumi/go.mod.in" "$w/cli/go.mod"
  d=$(module_json "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" Dir)
  add_replaces "$d/go.mod" "$w/cli"
  (cd "$w/cli" && go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$PULUMI_VERSION" \
      "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION")
  gobuild "$w/cli" "$out/pulumi" osusergo,grpcnotrace \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

  # The upstream Node.js language host module is not served by the module
  # proxy (no version of it is), so this is our own minimal host from
  # scripts/tools/pulumi-language-nodejs, built against sdk/v3 at the pin.
  render "$TEMPLATE_DIR/pulumi-language-nodejs/go.mod.in" "$w/nodejs/go.mod"
  cp "$TEMPLATE_DIR/pulumi-language-nodejs/"*.go "$w/nodejs/"
  (cd "$w/nodejs" && go get "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION")
  gobuild "$w/nodejs" "$out/pulumi-language-nodejs" osusergo,grpcnotrace \
    "-X main.version=$PULUMI_VERSION" .

  # Plugin shims that Pulumi's release archives ship next to the CLI: resolve
  # @pulumi/pulumi from the program directory (the plugin's working directory)
  # and run its JS entry point.
  local shim
  for shim in "pulumi-resource-pulumi-nodejs:cmd/dynamic-provider" "pulumi-analyzer-policy:cmd/run-policy-pack"; do
    cat > "$out/${shim%%:*}" <<EOF
#!/bin/sh
# Generated by scripts/build-tools.sh: runs @pulumi/pulumi/${shim#*:} from the
# program's own node_modules.
entry=\$(node -p "require.resolve('@pulumi/pulumi/${shim#*:}')") || exit 1
exec node "\$entry" "\$@"
EOF
    chmod +x "$out/${shim%%:*}"
  done
}

# The provider module is only served as the pseudo-version of the v4.25.0
# commit. Its main embeds schema-embed.json / terraform-mapping-embed.json,
# which upstream generates (schema.json with .version set, minified): do the
# same in a copy of the module, and drop the local `sdk/v4 => ../sdk` replace.
version_pulumi_resource_kubernetes() { echo "$PULUMI_KUBERNETES_VERSION"; }
bins_pulumi_resource_kubernetes() { echo pulumi-resource-kubernetes; }
build_pulumi_resource_kubernetes() {
  local out=$1 w=$2 m="$2/provider" c
  gocopy "github.com/pulumi/pulumi-kubernetes/provider/v4@$PULUMI_KUBERNETES_MODULE_VERSION" "$m"
  c="$m/cmd/pulumi-resource-kubernetes"
  node -e '
    const fs = require("fs"); const [dir, version] = process.argv.slice(1);
    const schema = JSON.parse(fs.readFileSync(dir + "/schema.json", "utf8"));
    schema.version = version;
    fs.writeFileSync(dir + "/schema-embed.json", JSON.stringify(schema));
    const tf = JSON.parse(fs.readFileSync(dir + "/terraform-mapping.json", "utf8"));
    fs.writeFileSync(dir + "/terraform-mapping-embed.json", JSON.stringify(tf));
  ' "$c" "$PULUMI_KUBERNETES_VERSION"
  (cd "$m" && go mod edit -dropreplace=github.com/pulumi/pulumi-kubernetes/sdk/v4)
  gobuild "$m" "$out/pulumi-resource-kubernetes" "" \
    "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PULUMI_KUBERNETES_VERSION" \
    ./cmd/pulumi-resource-kubernetes
}

version_kwok() { echo "$KWOK_VERSION"; }
bins_kwok() { echo kwok kwokctl; }
build_kwok() {
  local out=$1
  GOBIN="$out" go install -trimpath -pgo=off -ldflags "-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
}

version_etcd() { echo "$ETCD_VERSION"; }
bins_etcd() { echo etcd; }
build_etcd() {
  local out=$1 w=$2
  render "$TEMPLATE_DIR/etcd/go.mod.in" "$w/go.mod"
  gobuild "$w" "$out/etcd" "" "" go.etcd.io/etcd/server/v3
}

version_kubernetes() { echo "$KUBERNETES_VERSION"; }
bins_kubernetes() { echo kube-apiserver kube-controller-manager kube-scheduler kubectl; }
build_kubernetes() {
  local out=$1 w=$2 mod="k8s.io/kubernetes@$KUBERNETES_VERSION" commit date major minor ld="" p
  render "$TEMPLATE_DIR/kubernetes/go.mod.in" "$w/go.mod"
  add_replaces "$(module_json "$mod" GoMod)" "$w" "$KUBERNETES_STAGING_VERSION"
  commit=$(module_json "$mod" Origin.Hash)
  date=$(module_json "$mod" Time)
  major=${KUBERNETES_VERSION#v}; major=${major%%.*}
  minor=${KUBERNETES_VERSION#v*.}; minor=${minor%%.*}
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    ld+=" -X $p.gitCommit=$commit -X $p.gitTreeState=clean -X $p.buildDate=$date"
  done
  gobuild "$w" "$out/" providerless,grpcnotrace "$ld" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
}

# Flux controllers: wrapper module requiring the controller and its api
# module at the same release, plus the non-local replaces of the real go.mod.
build_flux_controller() {
  local name=$1 version=$2 out=$3 w=$4 mod="github.com/fluxcd/$1"
  render "$TEMPLATE_DIR/$name/go.mod.in" "$w/go.mod"
  add_replaces "$(module_json "$mod@$version" GoMod)" "$w"
  gobuild "$w" "$out/$name" "" "" "$mod"
}
version_source_controller() { echo "$SOURCE_CONTROLLER_VERSION"; }
bins_source_controller() { echo source-controller; }
build_source_controller() { build_flux_controller source-controller "$SOURCE_CONTROLLER_VERSION" "$@"; }
version_kustomize_controller() { echo "$KUSTOMIZE_CONTROLLER_VERSION"; }
bins_kustomize_controller() { echo kustomize-controller; }
build_kustomize_controller() { build_flux_controller kustomize-controller "$KUSTOMIZE_CONTROLLER_VERSION" "$@"; }

# flux CLI: built inside a copy of its module (its go.mod/go.sum as is). Its
# cmd/flux embeds manifests/*.yaml, generated upstream at release time; a
# placeholder satisfies the embed (`flux install` without --manifests is then
# unusable; the tests use the vendored install.yaml instead).
version_flux() { echo "$FLUX_VERSION"; }
bins_flux() { echo flux; }
build_flux() {
  local out=$1 w=$2 m="$2/flux2"
  gocopy "github.com/fluxcd/flux2/v2@$FLUX_VERSION" "$m"
  mkdir -p "$m/cmd/flux/manifests"
  printf '# placeholder: manifests are not embedded in this build\n' > "$m/cmd/flux/manifests/placeholder.yaml"
  gobuild "$m" "$out/flux" "" "-X main.VERSION=${FLUX_VERSION#v}" ./cmd/flux
}

version_oras() { echo "$ORAS_VERSION"; }
bins_oras() { echo oras; }
build_oras() {
  local out=$1
  GOBIN="$out" go install -trimpath -pgo=off -ldflags "-s -w" "oras.land/oras/cmd/oras@$ORAS_VERSION"
}

# Kyverno's admission controller (cmd/kyverno) and reports controller: built
# inside a copy of the module with its own go.mod/go.sum (its single replace
# directive points at another published module, so it works unchanged). One
# `go build` for both, so the packages they share are compiled once. The
# background and cleanup controllers are not built: no policy here needs them.
version_kyverno() { echo "$KYVERNO_VERSION"; }
bins_kyverno() { echo kyverno reports-controller; }
build_kyverno() {
  local out=$1 w=$2 m="$2/kyverno"
  gocopy "github.com/kyverno/kyverno@$KYVERNO_VERSION" "$m"
  gobuild "$m" "$out/" "" "-X github.com/kyverno/kyverno/pkg/version.BuildVersion=$KYVERNO_VERSION" \
    ./cmd/kyverno ./cmd/reports-controller
}

# cosign CLI (signature verification tests). Its go.mod has no replace
# directives, so `go install module@version` builds it as upstream's go.mod
# and go.sum pin it. The version is set the way upstream's Makefile does
# (release-utils); the commit and date are left out: the module proxy does
# not report the commit.
version_cosign() { echo "$COSIGN_VERSION"; }
bins_cosign() { echo cosign; }
build_cosign() {
  local out=$1 p=sigs.k8s.io/release-utils/version
  GOBIN="$out" go install -trimpath -pgo=off \
    -ldflags "-s -w -X $p.gitVersion=$COSIGN_VERSION -X $p.gitTreeState=clean" \
    "github.com/sigstore/cosign/v3/cmd/cosign@$COSIGN_VERSION"
}

# check_<tool> BINDIR: smoke test of the built binaries (scripts/build-tools.sh --check).
check_pulumi() {
  "$1/pulumi" version | grep -qx "$PULUMI_VERSION"
  "$1/pulumi-language-nodejs" -version | grep -qx "$PULUMI_VERSION"
}
check_pulumi_resource_kubernetes() {
  # A provider has no --version flag (it only serves gRPC to an engine):
  # check that the version set with -X is in the binary; the engine test
  # in the e2e suite checks the rest.
  grep -qa "$PULUMI_KUBERNETES_VERSION" "$1/pulumi-resource-kubernetes"
}
check_kwok() { "$1/kwok" --version | grep -q "${KWOK_VERSION#v}"; "$1/kwokctl" --version | grep -q "${KWOK_VERSION#v}"; }
check_etcd() { "$1/etcd" --version | grep -q "${ETCD_VERSION#v}"; }
check_kubernetes() {
  local b
  for b in kube-apiserver kube-controller-manager kube-scheduler; do
    "$1/$b" --version | grep -qx "Kubernetes $KUBERNETES_VERSION"
  done
  "$1/kubectl" version --client | grep -q "$KUBERNETES_VERSION"
}
check_source_controller() { "$1/source-controller" --help 2>&1 | grep -q storage-path; }
check_kustomize_controller() { "$1/kustomize-controller" --help 2>&1 | grep -q concurrent; }
check_flux() { "$1/flux" --version | grep -q "${FLUX_VERSION#v}"; }
check_oras() { "$1/oras" version | grep -q "${ORAS_VERSION#v}"; }
check_kyverno() {
  local b
  for b in kyverno reports-controller; do
    "$1/$b" --help 2>&1 | grep -q -- -kubeconfig
  done
}
check_cosign() { "$1/cosign" version 2>&1 | grep -q "GitVersion: *$COSIGN_VERSION"; }

# ---------------------------------------------------------------- driver
fn() { echo "${1//-/_}"; }

# Fingerprint of everything that goes into a tool's build.
# (Only the pins a tool's code or templates mention are part of it.)
fingerprint() {
  local t code k dirs=("$TEMPLATE_DIR/$1"); t=$(fn "$1")
  [ "$1" != pulumi ] || dirs+=("$TEMPLATE_DIR/pulumi-language-nodejs")
  code=$(
    declare -f "build_$t" "bins_$t" "version_$t" gobuild add_replaces render gocopy module_json
    if [ "$t" != "${t%_controller}" ]; then declare -f build_flux_controller; fi
    find "${dirs[@]}" -type f 2>/dev/null | LC_ALL=C sort | xargs -r cat
  )
  {
    echo "$1 $("version_$t") $GO_VERSION $GO_PLATFORM CGO_ENABLED=$CGO_ENABLED"
    for k in "${ENV_KEYS[@]}"; do
      case "$code" in *"\$$k"*|*"{$k"*|*"@$k@"*) echo "$k=${!k}" ;; esac
    done
    printf '%s\n' "$code"
  } | sha256sum | cut -c1-16
}

is_built() {
  local tool=$1 dir=$2 fp=$3 b
  [ -f "$dir/stamp" ] && grep -qx "fingerprint=$fp" "$dir/stamp" || return 1
  for b in $("bins_$(fn "$tool")"); do [ -x "$dir/bin/$b" ] || return 1; done
}

# CPU_SECONDS := CPU seconds (user+sys) used so far by this shell's waited-for
# children. `times` must run in this shell (not in a subshell) to see them.
CPU_SECONDS=0
child_cpu() {
  local f; f=$(mktemp)
  times > "$f"
  CPU_SECONDS=$(awk 'NR==2 {n=split($0,t," "); s=0
      for (i=1;i<=n;i++) {split(t[i],a,/[ms]/); s+=a[1]*60+a[2]}; printf "%d", s}' "$f")
  rm -f "$f"
}

build_tool() {
  local tool=$1 t version dir fp start cpu0 cpu work stage rc=0
  t=$(fn "$tool")
  version=$("version_$t")
  dir="$TOOLS_DIR/$tool/$version"
  fp=$(fingerprint "$tool")
  if is_built "$tool" "$dir" "$fp"; then
    log "$tool $version: up to date ($dir)"
    return 0
  fi
  mkdir -p "$TOOLS_DIR/$tool"
  # One builder per tool at a time (several checkouts may share the cache).
  exec 9> "$TOOLS_DIR/$tool/.lock"
  if command -v flock >/dev/null; then flock 9; fi
  if is_built "$tool" "$dir" "$fp"; then
    log "$tool $version: up to date (built concurrently)"
    exec 9>&-; return 0
  fi
  start=$(date +%s); child_cpu; cpu0=$CPU_SECONDS
  log "$tool $version: building"
  work=$(mktemp -d "${TMPDIR:-/tmp}/policy-stack-$tool.XXXXXX")
  stage="$TOOLS_DIR/$tool/.$version.tmp.$$"
  rm -rf "$stage"; mkdir -p "$stage/bin"
  # Not in an `if`: bash would ignore `set -e` inside the subshell there.
  # (Callers run build_tool with `set +e`, for the same reason.)
  ( set -e; "build_$t" "$stage/bin" "$work" ) >&2
  rc=$?
  if [ "$rc" = 0 ]; then
    for b in $("bins_$t"); do
      [ -x "$stage/bin/$b" ] || { log "$tool: $b was not produced"; rc=1; }
    done
  fi
  child_cpu; cpu=$(( CPU_SECONDS - cpu0 ))
  if [ "$rc" = 0 ]; then
    printf 'tool=%s\nversion=%s\ngo=%s\nbuilt=%s\nseconds=%s\ncpu_seconds=%s\nfingerprint=%s\n' \
      "$tool" "$version" "$GO_VERSION" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
      "$(( $(date +%s) - start ))" "$cpu" "$fp" > "$stage/stamp"
    rm -rf "$dir"; mv "$stage" "$dir"
    log "$tool $version: built in $(( $(date +%s) - start ))s (cpu ${cpu}s)"
  else
    rm -rf "$stage"
    log "$tool $version: FAILED after $(( $(date +%s) - start ))s (work dir kept: $work)"
  fi
  [ "$rc" != 0 ] || rm -rf "$work"
  exec 9>&-
  return "$rc"
}

link_bin_dir() {
  local hash bindir tool t version dir b
  # Keyed by the pins only (comments in tools.env do not matter).
  hash=$(grep -E '^[A-Z_][A-Z0-9_]*=' "$ENV_FILE" | sha256sum | cut -c1-12)
  bindir="$TOOLS_DIR/bin-$hash"
  mkdir -p "$bindir"
  for tool in "${ALL_TOOLS[@]}"; do
    t=$(fn "$tool"); version=$("version_$t"); dir="$TOOLS_DIR/$tool/$version"
    [ -f "$dir/stamp" ] || continue
    for b in $("bins_$t"); do
      [ -x "$dir/bin/$b" ] && ln -sfn "$dir/bin/$b" "$bindir/$b"
    done
  done
  echo "$bindir"
}

# check_tools [tool ...]: run each built tool's smoke test.
check_tools() {
  local tools=("$@") tool t dir rc failed=0
  [ $# -gt 0 ] || tools=("${ALL_TOOLS[@]}")
  for tool in "${tools[@]}"; do
    t=$(fn "$tool"); dir="$TOOLS_DIR/$tool/$("version_$t")"
    if [ ! -f "$dir/stamp" ]; then log "check $tool: NOT BUILT"; failed=1; continue; fi
    set +e
    ( set -e -o pipefail; "check_$t" "$dir/bin" ) >&2
    rc=$?
    set -e
    if [ "$rc" = 0 ]; then log "check $tool: ok"; else log "check $tool: FAILED"; failed=1; fi
  done
  return "$failed"
}

main() {
  local tools=() tool rc failed=() total_start
  case "${1:-}" in
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; return 0 ;;
    --list) for tool in "${ALL_TOOLS[@]}"; do echo "$tool $("version_$(fn "$tool")")"; done; return 0 ;;
    --check) shift; check_tools "$@"; return ;;
  esac
  if [ $# -eq 0 ]; then tools=("${ALL_TOOLS[@]}"); else tools=("$@"); fi
  for tool in "${tools[@]}"; do
    declare -F "build_$(fn "$tool")" >/dev/null || die "unknown tool '$tool' (known: ${ALL_TOOLS[*]})"
  done
  mkdir -p "$TOOLS_DIR"
  total_start=$(date +%s)
  log "tools dir: $TOOLS_DIR ($GO_VERSION, GOCACHE=$(go env GOCACHE))"
  for tool in "${tools[@]}"; do
    set +e
    build_tool "$tool"
    rc=$?
    set -e
    [ "$rc" = 0 ] || failed+=("$tool")
  done
  log "done in $(( $(date +%s) - total_start ))s${failed:+; FAILED: ${failed[*]}}"
  link_bin_dir
  [ ${#failed[@]} -eq 0 ]
}

main "$@"; exit $?
