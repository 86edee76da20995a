#!/usr/bin/env bash
# ThreadSanitizer job of CI (issue 15; budget in docs/design.md "CI budget").
# Builds BUILD_DIR (default build-tsan) with -DRACCORD_SANITIZE=thread (GCC, -O1 -g1; ASan and TSan
# cannot share a build), only the two test executables the threaded code is tested in (rules_tests,
# engine_tests; not the raccord binary nor the other executables: inbox, outbox, files, domain and
# app code runs on one thread per process), then runs them whole, on SQLite:
#   - rules_tests: CertificateChecker::check from two threads at once (CertificatesTest,
#     ChainBuildingTest: the shared CA cache, the decoding contexts, the hand-made bundles);
#   - engine_tests: CertificatesAheadTest (the look-ahead itself: worker threads, window, failure),
#     and every test that processes dépôts (processor, engine groups, two engines on two threads,
#     nightly chunks checked ahead, hostile dépôts, store, search...): a dépôt's sheets are checked
#     ahead on a worker thread whenever it holds two or more. Left out: NightlyCommandTest only (it
#     starts the raccord binary: two processes, not two threads; the ASan + UBSan run has it).
# Whole executables rather than a list of suites: the rest of them costs about 1 min more on an idle
# 2-core machine (docs/design.md "CI budget"), and a new threaded test is checked without anyone
# having to add it to a filter.
# halt_on_error=1: the first report aborts the executable (exit 66) and fails CI.
# scripts/tsan.supp holds the suppressions (only documented third-party false positives).
# Logs: BUILD_DIR/tsan-<executable>.log.
# Usage: scripts/tsan.sh        env: BUILD_DIR, JOBS (default nproc), TSAN_OPTIONS (appended)
# Checked by hand (issue 15): the lock around `taken_ = i` removed from CertificatesAhead's take()
# is reported (data race, certificates_ahead.cpp, CertificatesAheadTest) and the job exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${BUILD_DIR:-build-tsan}
JOBS=${JOBS:-$(nproc)}

# ccache when it is installed (a developer's machine, a CI runner that keeps its cache); a clean
# clone without it builds the same.
LAUNCHERS=()
if command -v ccache >/dev/null; then
  LAUNCHERS=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRACCORD_SANITIZE=thread \
  ${LAUNCHERS[@]+"${LAUNCHERS[@]}"} >/dev/null
cmake --build "$BUILD_DIR" -j"$JOBS" --target rules_tests engine_tests

RULES_FILTER='*'
ENGINE_FILTER='-NightlyCommandTest.*'

export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$ROOT/scripts/tsan.supp ${TSAN_OPTIONS:-}"
status=0
run() {  # run EXECUTABLE FILTER
  local log="$BUILD_DIR/tsan-$1.log"
  echo "== TSan : $1 --gtest_filter=$2"
  if "$BUILD_DIR/tests/$1" --gtest_filter="$2" >"$log" 2>&1; then
    grep -E '^\[  PASSED  \]|^\[  SKIPPED \] [0-9]+ tests?,' "$log" || true
  else
    echo "!! $1 a échoué sous ThreadSanitizer (journal complet : $log) :"
    if grep -q 'WARNING: ThreadSanitizer' "$log"; then
      sed -n '/WARNING: ThreadSanitizer/,/^SUMMARY: ThreadSanitizer/p' "$log" | head -n 120
    else
      grep -E '^\[  FAILED  \]|Failure' "$log" | head -n 40
      tail -n 40 "$log"
    fi
    status=1
  fi
}
run rules_tests "$RULES_FILTER"
run engine_tests "$ENGINE_FILTER"
exit $status
