#!/usr/bin/env bash
# README command 2: install, build, and run every test (ctest), on SQLite and on a real PostgreSQL 15
# started here on loopback for the run (docs/toolchain.md #10) and stopped at the end.
# The suite is built and run under AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer)
# by default (issue 8; one build serves the tests, the sanitizers and the CI benchmark smoke run,
# docs/design.md "CI budget"): a sanitizer report fails the test that raised it.
# env: BUILD_DIR (default build), RACCORD_SANITIZE=OFF for a plain RelWithDebInfo build,
#      RACCORD_TEST_PG_PORT (default 54330; the outage tests' cluster takes the next port). Extra arguments go to ctest (e.g. -R SiretTest).
# --full-alloc-sweep (first argument): the allocation-failure sweep of the app tests
#      (AllocationSweepTest) injects a failure at every occurrence of every step, not CI's sample
#      (sets RACCORD_TEST_ALLOC_SWEEP=full; e.g. scripts/test.sh --full-alloc-sweep -R app_tests).
set -euo pipefail
if [ "${1:-}" = "--full-alloc-sweep" ]; then
  export RACCORD_TEST_ALLOC_SWEEP=full
  shift
fi
cd "$(dirname "$0")/.."
export BUILD_DIR=${BUILD_DIR:-build}
export RACCORD_SANITIZE=${RACCORD_SANITIZE:-ON}
WITH_TEST_PACKAGES=1 scripts/setup.sh  # also the TEST_PACKAGES (chromium); builds BUILD_DIR

PG_BIN=/usr/lib/postgresql/15/bin
PG_PORT=${RACCORD_TEST_PG_PORT:-54330}
AS_PG=()
[ "$(id -u)" -eq 0 ] && AS_PG=(runuser -u postgres --)
# Two throwaway clusters on loopback: the suite's, and one of its own for the outage tests
# (MultiEngineOutageTest stops and starts it; the other tests run beside them on the first).
PG_DIRS=()
PG_CTLS=()
stop_pg() {
  for ctl in "${PG_CTLS[@]}"; do eval "$ctl -m immediate stop" >/dev/null 2>&1 || true; done
  rm -rf "${PG_DIRS[@]}"
}
trap stop_pg EXIT
start_cluster() {  # PORT: starts a cluster with database raccord_test; sets PG_CTL
  local dir
  dir=$(mktemp -d /tmp/raccord-test-pg.XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  PG_DIRS+=("$dir")
  PG_CTL="${AS_PG[*]} $PG_BIN/pg_ctl -D $dir/data -l $dir/log -o '-k $dir -p $1 -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off'"
  PG_CTLS+=("$PG_CTL")
  "${AS_PG[@]}" "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
  eval "$PG_CTL -w start" >/dev/null
  psql -X -q -h 127.0.0.1 -p "$1" -U postgres -c "CREATE DATABASE raccord_test" >/dev/null
}
start_cluster $((PG_PORT + 1))
export RACCORD_TEST_OUTAGE_POSTGRES="host=127.0.0.1 port=$((PG_PORT + 1)) dbname=raccord_test user=postgres"
export RACCORD_TEST_OUTAGE_PG_CTL="$PG_CTL"
start_cluster "$PG_PORT"
export RACCORD_TEST_POSTGRES="host=127.0.0.1 port=$PG_PORT dbname=raccord_test user=postgres"

# halt_on_error: a sanitizer report fails the test that raised it (UBSan is built without recovery).
# The raccord processes the tests start inherit these.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

ctest --test-dir "$BUILD_DIR" -j"$(($(nproc) + 1))" --output-on-failure --timeout 1200 "$@"
