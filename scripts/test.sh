#!/usr/bin/env bash
# README command 2: install, build, and run every test (ctest).
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_TEST_PACKAGES=1 scripts/setup.sh  # also the TEST_PACKAGES (chromium)
ctest --test-dir "${BUILD_DIR:-build}" -j"$(nproc)" --output-on-failure --timeout 600
