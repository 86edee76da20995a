#!/usr/bin/env bash
# Installs the Debian 12 packages raccord needs (idempotent), then configures and builds it in ./build.
# Usage: scripts/setup.sh [extra cmake args...]   (as root, or with sudo available)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake ninja-build pkg-config
  libboost-dev libboost-filesystem-dev libboost-system-dev libboost-program-options-dev
  libpugixml-dev libexpat1-dev libpoco-dev libssl-dev openssl libsqlite3-dev libpq-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev libhowardhinnant-date-dev libfmt-dev
  libsystemd-dev libcli11-dev libxml2-utils postgresql tzdata time scdoc
  clang libclang-rt-14-dev clang-format clang-tidy)
# clang + libFuzzer/sanitizer runtimes: scripts/fuzz.sh; clang-format: scripts/check-format.sh;
# clang-tidy: scripts/check-tidy.sh (Debian's clang, clang-format and clang-tidy are all version 14).
# scdoc builds the man pages of docs/man/ (target man, docs/CMakeLists.txt).
# Installed only for the tests (scripts/test.sh sets WITH_TEST_PACKAGES=1), never needed to run raccord:
# chromium renders the nightly HTML report headless (tests/engine/app/report_browser_test.cpp);
# systemd brings systemd-analyze, which verifies the units and their drop-ins (systemd_units_test.cpp).
# strace and python3 drive the syscall fault sweep and the power-loss order test (tests/faults/).
# time (GNU time) measures the peak memory of raccord alone (memory_bound_test.cpp).
TEST_PACKAGES=(chromium libreoffice-calc-nogui systemd strace python3 time)
if [ "${WITH_TEST_PACKAGES:-0}" = 1 ]; then PACKAGES+=("${TEST_PACKAGES[@]}"); fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "== installation des paquets Debian : ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

BUILD_DIR=${BUILD_DIR:-build}
# RACCORD_SANITIZE=ON (scripts/test.sh) builds with ASan + UBSan at -O1; always passed, so this
# command gives the build it is asked for whatever BUILD_DIR held before (a switch rebuilds it).
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
  -DRACCORD_SANITIZE=${RACCORD_SANITIZE:-OFF} "$@" >/dev/null
# BUILD_TARGET=raccord builds the binary only (the demo); the default builds everything (tests).
cmake --build "$BUILD_DIR" -j"$(nproc)" ${BUILD_TARGET:+--target "$BUILD_TARGET"}
