#!/usr/bin/env bash
# Bounded libFuzzer run of fuzz/*_fuzzer.cpp (issue 8).
# Builds BUILD_DIR (default build-fuzz) with clang, -fsanitize=fuzzer-no-link,address,undefined on
# every library and -fsanitize=fuzzer on the targets, then runs each fuzzer for SECONDS (default 60)
# on a copy of fuzz/corpus/<target>/ (the committed seeds are never modified). Exits non-zero when a
# fuzzer crashes, leaks, hits undefined behaviour, times out on one input or runs out of memory;
# the reproducer is kept in $BUILD_DIR/fuzz-artifacts/<target>/ (turn it into a regression test
# in tests/inbox/ or tests/rules/).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]     env: BUILD_DIR, JOBS, CC, CXX
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(deposit_reader_fuzzer pkcs7_fuzzer crl_fuzzer)
BUILD_DIR=${BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-$(nproc)}
export CC=${CC:-clang} CXX=${CXX:-clang++}

SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
LAUNCHERS=()  # ccache when installed (scripts/setup.sh installs it), as in scripts/tsan.sh
if command -v ccache >/dev/null; then
  LAUNCHERS=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRACCORD_FUZZ=ON -DBUILD_TESTING=OFF \
  ${LAUNCHERS[@]+"${LAUNCHERS[@]}"} \
  -DRACCORD_WERROR=OFF -DCMAKE_CXX_FLAGS="$SAN" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$BUILD_DIR" -j"$JOBS" --target "${TARGETS[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for target in "${TARGETS[@]}"; do
  name=${target%_fuzzer}
  work="$BUILD_DIR/fuzz-corpus/$name"
  artifacts="$BUILD_DIR/fuzz-artifacts/$name"
  rm -rf "$work"
  mkdir -p "$work" "$artifacts"
  cp -R "$ROOT/fuzz/corpus/$name/." "$work/"
  echo "== $target : ${SECONDS_PER_TARGET} s sur $(ls "$work" | wc -l) graines"
  # -max_len 1 MiB: big enough for a sheet with two bundles; -rss_limit_mb: an input that needs
  # more than 2 GiB is a finding. -timeout: one input taking over 10 s is a finding (a hang).
  if ! "$BUILD_DIR/fuzz/$target" -max_total_time="$SECONDS_PER_TARGET" -max_len=1048576 -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" \
      > "$BUILD_DIR/fuzz-$name.log" 2>&1; then
    echo "!! $target a trouvé un problème (reproducteur dans $artifacts/) :"
    tail -n 60 "$BUILD_DIR/fuzz-$name.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$BUILD_DIR/fuzz-$name.log" || true
  fi
done
exit $status
