# shellcheck shell=bash
# Sourced by scripts/build-tools.sh: the helpers the per-tool recipes build
# with (templates, module downloads, replaces, the go build command).
#
# The fingerprint of a tool (scripts/lib/tools-driver.sh) hashes the text of
# these functions as `declare -f` prints it: a change here rebuilds every tool.
# Moving them between files does not.

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

# gobuild DIR OUT TAGS LDFLAGS PKG...: the common build command. The module in
# DIR first takes the versions of its dependency set, if the tool has one.
# With DEPSET_LIST set (build-tools.sh --depset) nothing is built: the modules
# the build would use are appended to that file instead.
gobuild() {
  local dir=$1 out=$2 tags=$3 ldflags=$4; shift 4
  apply_depset "$dir"
  if [ -n "${DEPSET_LIST:-}" ]; then list_build_modules "$dir" "$tags" "$@" >> "$DEPSET_LIST"; return 0; fi
  (cd "$dir" && go build -mod=mod -trimpath -pgo=off ${tags:+-tags "$tags"} \
     -ldflags "-s -w $ldflags" -o "$out" "$@")
}

# wrap_module DIR MODULE@VERSION: a wrapper module in DIR that requires the
# tool's module, so its build list is what the tool's own go.mod selects (as
# `go install MODULE/cmd@VERSION` would build it) and a dependency set can
# still be applied to it.
wrap_module() {
  (cd "$1" && go mod init "policy-stack.local/tools/${2%%@*}" 2>/dev/null && go get "$2")
}

# apply_depset DIR: pin the module in DIR to the dependency set in DEPSET_FILE
# (scripts/tools/depsets/, chosen by the driver), when there is one: its
# replaces, then the set's version of each module already in DIR's module
# graph (modules it does not use stay out of it). Module version selection
# keeps a higher version, and --depset writes the highest any member needs,
# so the members share their build lists and what they have in common
# compiles once for all of them. Modules on `hold` lines are not pinned by
# the set (version selection can still raise them through what it pins). A set
# written for other pins than tools.env's is refused before this runs
# (depset_current in tools-driver.sh): it would set a member back.
apply_depset() {
  local dir=$1 main kind a b c args=() graph
  [ -n "${DEPSET_FILE:-}" ] || return 0
  main=$(cd "$dir" && go mod edit -print | awk '$1 == "module" { print $2; exit }')
  graph=$(cd "$dir" && go mod graph | tr ' ' '\n' | sed 's/@.*//' | LC_ALL=C sort -u)
  while read -r kind a b c; do
    case "$kind" in
      replace) args+=("-replace=$a=$b@$c") ;;
      require) if [ "$a" != "$main" ] && grep -qxF "$a" <<<"$graph"; then args+=("-require=$a@$b"); fi ;;
    esac
  done < "$DEPSET_FILE"
  [ ${#args[@]} -eq 0 ] || (cd "$dir" && go mod edit "${args[@]}")
}

# list_build_modules DIR TAGS PKG...: the modules that provide the packages
# of the build as dependency-set lines: "require PATH VERSION", or "replace
# PATH NEWPATH NEWVERSION" for a module replaced by another published version.
# (Not `go list -m all`: that needs the proxy's .info of every module in the
# graph, and some of those are not served.)
list_build_modules() {
  local dir=$1 tags=$2; shift 2
  (cd "$dir" && go list -mod=mod ${tags:+-tags "$tags"} -deps -f \
    '{{with .Module}}{{if not .Main}}{{with .Replace}}{{if .Version}}replace {{$.Module.Path}} {{.Path}} {{.Version}}{{end}}{{else}}require {{.Path}} {{.Version}}{{end}}{{end}}{{end}}' \
    "$@") | sed '/^$/d' | LC_ALL=C sort -u
}

# gocopy MODULE@VERSION DEST: writable copy of a module from the module cache.
gocopy() {
  local src; src=$(module_json "$1" Dir)
  cp -r "$src" "$2"
  chmod -R u+w "$2"
}
