#!/usr/bin/env bash
# ThreadSanitizer job of CI (issue 15; budget in docs/design.md "CI budget").
# Builds BUILD_DIR (default build-tsan) with -DRACCORD_SANITIZE=thread (GCC, -O1 -g1; ASan and TSan
# cannot share a build), only the two test executables the threaded tests are in (rules_tests,
# engine_tests; not the raccord binary: its commands run the same engine code single-process), then
# runs the tests whose code runs on several threads, on SQLite:
#   - rules_tests: CertificatesTest, ChainBuildingTest (CertificateChecker::check from two threads at
#     once, the shared CA cache and decoding contexts);
#   - engine_tests: the processor (LifecycleTest, Spec4/CodeTest, Spec33/ForbiddenTransitionTest:
#     a dépôt's sheets are checked ahead on worker threads, CertificatesAhead), the engine groups
#     (EngineTest, Spec4/UnreadableTest, TwoEngines/SheetRaceTest, TwoEnginesTest: groups of dépôts,
#     two engines on two threads), the nightly job (NightlyTest: two chunks checked ahead at once),
#     and the two HostileDepositTest tests that start threads. The other engine tests (store,
#     config, search, rights..., and NightlyCommandTest, which needs the raccord binary: two
#     processes, not two threads) run on one thread and are left to the ASan + UBSan run of
#     scripts/test.sh.
# halt_on_error=1: the first report aborts the executable (exit 66) and fails CI; the raccord
# processes the tests start inherit TSAN_OPTIONS. scripts/tsan.supp holds the suppressions (only
# documented third-party false positives). Logs: BUILD_DIR/tsan-<executable>.log.
# Usage: scripts/tsan.sh        env: BUILD_DIR, JOBS (default nproc), TSAN_OPTIONS (appended)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${BUILD_DIR:-build-tsan}
JOBS=${JOBS:-$(nproc)}

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRACCORD_SANITIZE=thread >/dev/null
cmake --build "$BUILD_DIR" -j"$JOBS" --target rules_tests engine_tests

RULES_FILTER='CertificatesTest.*:ChainBuildingTest.*'
ENGINE_FILTER='LifecycleTest.*:*/CodeTest.*:*/ForbiddenTransitionTest.*'
ENGINE_FILTER+=':EngineTest.*:*/UnreadableTest.*:*/SheetRaceTest.*:TwoEnginesTest.*'
ENGINE_FILTER+=':NightlyTest.*'
ENGINE_FILTER+=':HostileDepositTest.GrowingFileIsLeftForLaterThenTakenOnce:HostileDepositTest.TwoEnginesAtOnceAnswerEachFileOnce'

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
