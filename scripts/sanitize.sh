#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (issue 8).
# Configures BUILD_DIR (default build-asan) with -DRACCORD_SANITIZE=ON, builds every target and runs
# ctest with leak detection on. Exits non-zero when a test fails or a sanitizer reports an error.
# Usage: scripts/sanitize.sh [extra ctest args...]   env: BUILD_DIR, JOBS (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build-asan}
JOBS=${JOBS:-$(nproc)}

# GCC 12 with -fsanitize=address,undefined raises a false -Wmaybe-uninitialized inside <regex>'s
# std::function (libstdc++ headers, not our code): kept as a warning, not an error, in this build only.
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRACCORD_SANITIZE=ON \
  -DCMAKE_CXX_FLAGS="-Wno-error=maybe-uninitialized" >/dev/null
cmake --build "$BUILD_DIR" -j"$JOBS"

# halt_on_error: a sanitizer report fails the test that raised it. UBSan aborts too (no recovery).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

ctest --test-dir "$BUILD_DIR" -j"$JOBS" --output-on-failure --timeout 900 "$@"
