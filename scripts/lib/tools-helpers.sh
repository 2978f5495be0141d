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
