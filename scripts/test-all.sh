#!/usr/bin/env bash
# `npm test`: lint, unit, integration and end-to-end tests, in that order; the first failure
# stops the run.
#
# The end-to-end tool chain (scripts/build-tools.sh: half an hour to an hour on two cores when the
# tool cache is cold, under a second when it is warm) starts building first, in the background
# and at low priority. The suites before the end-to-end ones leave much of the machine idle
# (they wait on a registry, an API server, the Pulumi engine) and the build takes that time
# instead of starting after them; at low priority it slows them little. Those suites build what
# they need themselves (cosign, on first use) and so do the end-to-end ones: build-tools.sh locks
# each tool, so they wait for a build already under way instead of starting a second one.
#
# Not started when POLICY_STACK_TOOLS_BIN names a prepared tool directory or
# POLICY_STACK_BUILD_TOOLS=0 (the suites then build nothing either). Its progress goes to
# build/tools-build.log, its last lines to this output when the build is waited for.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_LOG=build/tools-build.log
build_pid=""

# The build runs in its own process group (setsid), so that stopping it stops its `go build`s.
stop_build() {
  if [ -n "$build_pid" ] && kill -0 "$build_pid" 2>/dev/null; then
    echo "test: stopping the background tool build (log: $BUILD_LOG)" >&2
    kill -TERM -- "-$build_pid" 2>/dev/null || true
    wait "$build_pid" 2>/dev/null || true
  fi
}
trap stop_build EXIT
# The build is in a session of its own: a Ctrl-C or a TERM sent to this run's process group does
# not reach it, so this script turns those into an exit, which stops it.
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "${POLICY_STACK_TOOLS_BIN:-}" ] && [ "${POLICY_STACK_BUILD_TOOLS:-1}" != 0 ]; then
  mkdir -p build
  setsid nice -n 10 scripts/build-tools.sh > /dev/null 2> "$BUILD_LOG" &
  build_pid=$!
  echo "test: building the end-to-end tool chain in the background (progress: $BUILD_LOG)" >&2
fi

npm run lint
npm run test:unit
npm run test:integration

if [ -n "$build_pid" ]; then
  echo "test: waiting for the tool build (progress: $BUILD_LOG)" >&2
  set +e; wait "$build_pid"; rc=$?; set -e
  build_pid=""
  if [ "$rc" != 0 ]; then
    echo "test: scripts/build-tools.sh failed (exit $rc); the end of $BUILD_LOG:" >&2
    tail -n 40 "$BUILD_LOG" >&2
    echo "test: fix the build (run scripts/build-tools.sh TOOL to retry one tool), then npm test again" >&2
    exit 1
  fi
  grep -E '(: built in |: up to date|done in )' "$BUILD_LOG" | sed 's/^/test: /' >&2 || true
fi

npm run test:e2e
