# shellcheck shell=bash
# Sourced by scripts/build-tools.sh: the driver (fingerprint and stamp, the
# locked build of one tool, the bin directory of symlinks, the smoke tests).
#
# It calls the recipes by computed names ("build_$t", "check_$t"), which
# the linter cannot follow.
# shellcheck disable=SC2317

fn() { echo "${1//-/_}"; }

# recipe_text TOOL: the text of what builds TOOL, as `declare -f` prints its
# functions and the helpers (comments do not count), then its templates.
recipe_text() {
  local t dirs=("$TEMPLATE_DIR/$1"); t=$(fn "$1")
  [ "$1" != pulumi ] || dirs+=("$TEMPLATE_DIR/pulumi-language-nodejs")
  declare -f "build_$t" "bins_$t" "version_$t" gobuild add_replaces render gocopy module_json \
    wrap_module apply_depset list_build_modules
  if [ "$t" != "${t%_controller}" ]; then declare -f build_flux_controller; fi
  find "${dirs[@]}" -type f 2>/dev/null | LC_ALL=C sort | xargs -r cat
}

# pins_in TEXT: the tools.env pins TEXT names, as KEY=value lines in tools.env order.
pins_in() {
  local k
  for k in "${ENV_KEYS[@]}"; do
    case "$1" in *"\$$k"*|*"{$k"*|*"@$k@"*) echo "$k=${!k}" ;; esac
  done
}

# Fingerprint of everything that goes into a tool's build: its recipe text,
# the pins that text names and its dependency set (comments and the `pins`
# record left out: they change no build).
fingerprint() {
  local t code depset; t=$(fn "$1")
  depset=$(depset_of "$1") || return 1
  code=$(
    recipe_text "$1"
    if [ -n "$depset" ]; then grep -v -e "^#" -e "^pins " "$depset"; fi
  )
  {
    echo "$1 $("version_$t") $GO_VERSION $GO_PLATFORM CGO_ENABLED=$CGO_ENABLED"
    pins_in "$code"
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
  # Stages of builders that were stopped half-way (npm test stops its background build when a
  # suite fails): with the lock ours, no other builder of this tool is writing one.
  if command -v flock >/dev/null; then rm -rf "$TOOLS_DIR/$tool"/.*.tmp.*; fi
  start=$(date +%s); child_cpu; cpu0=$CPU_SECONDS
  local DEPSET_FILE; DEPSET_FILE=$(depset_of "$tool")
  if [ -n "$DEPSET_FILE" ] && ! depset_current "$DEPSET_FILE"; then exec 9>&-; return 1; fi
  log "$tool $version: building${DEPSET_FILE:+ (dependency set ${DEPSET_FILE##*/})}"
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

# warn_stale: name each built tool whose stamp is not of the current recipe, pins and dependency
# set (--bin-dir links it all the same: it builds nothing, and the version is the pinned one).
warn_stale() {
  local tool t dir
  for tool in "${ALL_TOOLS[@]}"; do
    t=$(fn "$tool"); dir="$TOOLS_DIR/$tool/$("version_$t")"
    [ -f "$dir/stamp" ] || continue
    is_built "$tool" "$dir" "$(fingerprint "$tool")" ||
      log "$tool: built from an earlier recipe or dependency set, linked as it is (scripts/build-tools.sh $tool rebuilds it)"
  done
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

# ---------------------------------------------------------------- dependency sets
# A dependency set (scripts/tools/depsets/NAME.txt) names tools on its `tools`
# line and lists the module versions they all build with: apply_depset pins
# each member to it, so the packages they share (client-go, controller-runtime,
# go-containerregistry, the cloud SDKs, ...) compile once instead of once per
# tool. Each member keeps its own code at its pin; its dependencies move to the
# highest version any member needs (never lower than its own go.mod asks).

# depset_of TOOL: the dependency set file that lists TOOL, if any (a tool in
# two sets is an error: it could not build with both).
depset_of() {
  local f found=""
  for f in "$TEMPLATE_DIR"/depsets/*.txt; do
    [ -f "$f" ] || continue
    if grep -qE "^tools( .*)? $1( |\$)" "$f"; then
      [ -z "$found" ] || { log "ERROR: $1 is in two dependency sets: $found and $f"; return 1; }
      found=$f
    fi
  done
  echo "$found"
}

# depset_current FILE: whether the set was written for the pins tools.env has
# now (its `pins` line). A stale set would pin a member's own module, or what
# its new release needs, to the old versions: refuse it, naming the fix.
depset_current() {
  local pin stale=()
  local key recorded=()
  read -r -a recorded < <(sed -n 's/^pins //p' "$1")
  for pin in "${recorded[@]}"; do
    key=${pin%%=*}
    [ "${!key:-}" = "${pin#*=}" ] || stale+=("$pin")
  done
  [ ${#stale[@]} -eq 0 ] && return 0
  log "ERROR: dependency set ${1##*/} was written for ${stale[*]}; scripts/tools.env has moved: run scripts/build-tools.sh --depset $(basename "$1" .txt)"
  return 1
}

# refresh_depset NAME: rewrite scripts/tools/depsets/NAME.txt from what its
# members' builds load: the highest version of each module any member uses,
# applied to all of them again until no member's build raises one (a fixed
# point), then the pins it was written for.
refresh_depset() {
  local name=${1:-} file members=() tool w round cur next list rc pins=""
  file="$TEMPLATE_DIR/depsets/$name.txt"
  [ -f "$file" ] || die "no dependency set named '$name' (files: scripts/tools/depsets/*.txt)"
  read -r -a members < <(sed -n 's/^tools //p' "$file")
  [ ${#members[@]} -gt 0 ] || die "$file has no 'tools' line (tools NAME...)"
  for tool in "${members[@]}"; do
    [[ " ${ALL_TOOLS[*]} " == *" $tool "* ]] || die "$file: unknown tool '$tool' (known: ${ALL_TOOLS[*]})"
  done
  cur=$(mktemp); { printf 'tools %s\n' "${members[*]}"; grep '^hold ' "$file" || true; } > "$cur"
  for round in 1 2 3 4 5 6; do
    list=$(mktemp); next=$(mktemp)
    for tool in "${members[@]}"; do
      log "dependency set $name, round $round: $tool"
      w=$(mktemp -d "${TMPDIR:-/tmp}/policy-stack-depset-$tool.XXXXXX"); mkdir "$w/bin"
      set +e
      # shellcheck disable=SC2034 # DEPSET_LIST is read by gobuild (scripts/lib/tools-helpers.sh)
      ( set -e; DEPSET_FILE=$cur DEPSET_LIST=$list; "build_$(fn "$tool")" "$w/bin" "$w" ) 2>&1 \
        | sed -u "s/^/  [$tool] /" >&2
      rc=${PIPESTATUS[0]}
      set -e
      if [ "$rc" != 0 ]; then
        rm -f "$cur" "$list" "$next"
        die "dependency set $name: could not resolve the modules of $tool (work dir kept: $w)"
      fi
      rm -rf "$w"
    done
    {
      sed '/^tools /,$d' "$file"
      printf 'tools %s\n' "${members[*]}"
      grep '^hold ' "$file" || true
    } > "$next"
    if ! merge_module_lists "$(sed -n 's/^hold //p' "$file")" < "$list" >> "$next"; then
      rm -f "$cur" "$list" "$next"
      die "dependency set $name: the members' modules do not merge (above)"
    fi
    rm -f "$list"
    if cmp -s <(grep -v '^#' "$next") <(grep -v '^#' "$cur"); then
      for tool in "${members[@]}"; do pins+=$'\n'$(pins_in "$(recipe_text "$tool")"); done
      pins=$(printf '%s\n' "$pins" | sed '/^$/d' | LC_ALL=C sort -u | tr '\n' ' ')
      sed "/^tools /a pins ${pins% }" "$next" > "$file"
      rm -f "$cur" "$next"
      log "dependency set $name: $(grep -c '^require ' "$file") modules, $(grep -c '^replace ' "$file") replaces, stable after $round rounds"
      return 0
    fi
    rm -f "$cur"; cur=$next
  done
  die "dependency set $name: versions still rising after $round rounds (last try: $cur)"
}

# merge_module_lists HOLDS: stdin has list_build_modules lines of several
# modules; prints one line per module: the highest required version (Go's
# semantic version order), and each replace once. Modules named in HOLDS
# (space-separated) are left out. Two different replaces of one module are an
# error; a replace below a version some member requires is reported (it
# applies to every member: Flux's pieces replace modules the proxy lacks).
merge_module_lists() {
  # shellcheck disable=SC2016 # ${...} are JavaScript template literals
  node -e '
    const lines = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean);
    const parse = (v) => {
      const m = /^v(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v);
      if (!m) throw new Error(`not a module version: ${v}`);
      return { core: [+m[1], +m[2], +m[3]], pre: m[4] === undefined ? [] : m[4].split(".") };
    };
    const comparePre = (a, b) => {
      if (!a.length || !b.length) return b.length - a.length; // a release sorts after its pre-releases
      for (let i = 0; i < Math.min(a.length, b.length); i++) {
        const an = /^\d+$/.test(a[i]), bn = /^\d+$/.test(b[i]);
        if (an && bn && +a[i] !== +b[i]) return +a[i] - +b[i];
        if (an !== bn) return an ? -1 : 1;
        if (!an && a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
      }
      return a.length - b.length;
    };
    const compare = (x, y) => {
      const a = parse(x), b = parse(y);
      for (let i = 0; i < 3; i++) if (a.core[i] !== b.core[i]) return a.core[i] - b.core[i];
      return comparePre(a.pre, b.pre);
    };
    const holds = new Set(process.argv[1].split(/\s+/).filter(Boolean));
    const required = new Map(), replaced = new Map();
    for (const line of lines) {
      const [kind, path, a, b] = line.split(" ");
      if (holds.has(path)) continue;
      if (kind === "require") {
        if (!required.has(path) || compare(a, required.get(path)) > 0) required.set(path, a);
      } else if (kind === "replace") {
        const to = `${a} ${b}`;
        if (replaced.has(path) && replaced.get(path) !== to) {
          console.error(`${path} is replaced by ${replaced.get(path)} and by ${to}`);
          process.exit(1);
        }
        replaced.set(path, to);
      }
    }
    for (const [p, to] of replaced) {
      const [newPath, newVersion] = to.split(" ");
      if (newPath === p && required.has(p) && compare(required.get(p), newVersion) > 0)
        console.error(`note: ${p} is replaced by ${newVersion}, below the ${required.get(p)} a member requires`);
    }
    const sorted = (m) => [...m].sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0));
    for (const [p, to] of sorted(replaced)) console.log(`replace ${p} ${to}`);
    for (const [p, v] of sorted(required)) console.log(`require ${p} ${v}`);
  ' "${1:-}"
}
