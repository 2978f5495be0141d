# shellcheck shell=bash
# Sourced by scripts/build-tools.sh: the driver (fingerprint and stamp, the
# locked build of one tool, the bin directory of symlinks, the smoke tests).
#
# It calls the recipes by computed names ("build_$t", "check_$t"), which
# the linter cannot follow.
# shellcheck disable=SC2317

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
  stage="$TOOLS_DIR/$tool/.$version.tmp.${BASHPID:-$$}" # this build's own process (several run at once)
  rm -rf "$stage"; mkdir -p "$stage/bin"
  # Not in an `if`: bash would ignore `set -e` inside the subshell there.
  # (Callers run build_tool with `set +e`, for the same reason.)
  # Output lines carry the tool's name: with several builds at once they interleave. A pipeline,
  # so that bash waits for sed too; rc is the build's status, not sed's.
  ( set -e; "build_$t" "$stage/bin" "$work" ) 2>&1 | sed -u "s/^/  [$tool] /" >&2
  rc=${PIPESTATUS[0]}
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

# run_builds TOOL...: build_tool for each, started in the order given, up to
# POLICY_STACK_TOOLS_JOBS at a time (default 2). On 2 cores one `go build`
# leaves a core idle while it downloads modules and while it links; a second
# build fills it. FAILED lists the tools that failed. Bash older than 5.1
# (no `wait -n -p`) builds one at a time.
FAILED=()
run_builds() {
  local jobs=${POLICY_STACK_TOOLS_JOBS:-2} tool running=0 done_pid rc
  local tool_of=() # by pid (an indexed array: no bash 4 needed to reach the version check)
  [[ "$jobs" =~ ^[1-9][0-9]*$ ]] || die "POLICY_STACK_TOOLS_JOBS must be a whole number of builds (1 or more), not '$jobs'"
  if (( BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] < 501 )); then jobs=1; fi
  for tool in "$@"; do
    if [ "$jobs" = 1 ]; then
      set +e; build_tool "$tool"; rc=$?; set -e
      [ "$rc" = 0 ] || FAILED+=("$tool")
      continue
    fi
    while [ "$running" -ge "$jobs" ]; do reap_build; done
    ( set +e; build_tool "$tool" ) &
    tool_of[$!]=$tool
    running=$((running + 1))
  done
  while [ "$running" -gt 0 ]; do reap_build; done
}
# One finished build of run_builds (its locals are visible here: bash scoping is dynamic).
reap_build() {
  set +e; wait -n -p done_pid; rc=$?; set -e
  running=$((running - 1))
  [ "$rc" = 0 ] || FAILED+=("${tool_of[$done_pid]}")
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
