#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer + LeakSanitizer (issue 8).
# Since the CI budget work (docs/design.md "CI budget") this is what scripts/test.sh does by default;
# this script keeps the old entry point: the same run in its own build directory (default build-asan),
# so a plain ./build is left alone.
# Usage: scripts/sanitize.sh [extra ctest args...]   env: BUILD_DIR (default build-asan)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-asan} RACCORD_SANITIZE=ON exec scripts/test.sh "$@"
