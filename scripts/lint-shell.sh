#!/usr/bin/env bash
# Runs shellcheck over every shell script of the repository: the *.sh files (the program's own in
# lib/sh, the tooling's in scripts/) and the files without an extension whose #! line names sh or
# bash (.ci/run, the test plugins). Part of `npm run lint`; installs shellcheck first when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-lint-tools.sh

# The files git would ship (tracked or new, not ignored); every file outside node_modules and
# build when this is not a git checkout.
list() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard
  else
    find . \( -name node_modules -o -name build -o -name .git \) -prune -o -type f -print0
  fi
}

files=()
while IFS= read -r -d '' f; do
  if [ ! -f "$f" ] || [ -L "$f" ]; then continue; fi
  case "${f##*/}" in
    *.sh) files+=("$f") ;;
    *.*) ;;
    # No extension: a script if its #! line names sh or bash.
    *) if head -n 1 "$f" | grep -Eq '^#!.*[/ ](ba|da)?sh([[:space:]]|$)'; then files+=("$f"); fi ;;
  esac
done < <(list)

[ "${#files[@]}" -gt 0 ] || { echo "lint-shell: no shell scripts found" >&2; exit 1; }
shellcheck "${files[@]}"
echo "lint-shell: shellcheck passed on ${#files[@]} scripts"
