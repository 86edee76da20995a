#!/usr/bin/env bash
# Fails when a C++ source differs from .clang-format (clang-format --dry-run -Werror), naming the
# files; run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run -Werror
