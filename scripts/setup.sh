#!/usr/bin/env bash
# Installs the Debian 12 packages raccord needs (idempotent), then configures and builds it in ./build.
# Usage: scripts/setup.sh [extra cmake args...]   (as root, or with sudo available)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake ninja-build pkg-config
  libboost-dev libboost-filesystem-dev libboost-system-dev libboost-program-options-dev
  libpugixml-dev libexpat1-dev libpoco-dev libssl-dev openssl libsqlite3-dev libpq-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev libhowardhinnant-date-dev libfmt-dev
  libsystemd-dev libcli11-dev libxml2-utils postgresql tzdata time bash-completion scdoc
  clang libclang-rt-14-dev clang-format clang-tidy ccache)
# clang + libFuzzer/sanitizer runtimes: scripts/fuzz.sh; clang-format: scripts/check-format.sh;
# clang-tidy: scripts/check-tidy.sh (Debian's clang, clang-format and clang-tidy are all version 14).
# scdoc builds the man pages of docs/man/ (target man, docs/CMakeLists.txt).
# ccache: a rebuild of unchanged sources (a second clone, a CI runner that keeps its ~/.ccache) is a
# cache hit; paths are hashed relative to the clone (CCACHE_BASEDIR), so clones elsewhere share it.
# Installed only for the tests (scripts/test.sh sets WITH_TEST_PACKAGES=1), never needed to run raccord:
# chromium renders the nightly HTML report headless (tests/engine/app/report_browser_test.cpp);
# systemd brings systemd-analyze, which verifies the units and their drop-ins (systemd_units_test.cpp).
# strace and python3 drive the syscall fault sweep and the power-loss order test (tests/faults/).
# time (GNU time) measures the peak memory of raccord alone (memory_bound_test.cpp).
TEST_PACKAGES=(chromium libreoffice-calc-nogui systemd strace python3 time)
if [ "${WITH_TEST_PACKAGES:-0}" = 1 ]; then PACKAGES+=("${TEST_PACKAGES[@]}"); fi
# bash-completion (above): its completionsdir (pkg-config) and the completion test's real <TAB>.
# The Debian package (scripts/package.sh sets WITH_PACKAGING_TOOLS=1): dpkg-buildpackage, debhelper
# (compat 13 and its sysusers add-on), lintian, systemd for its
# pkg-config directories; man-db and systemd-analyze for scripts/check-package.sh.
PACKAGING_PACKAGES=(dpkg-dev debhelper lintian systemd man-db)
if [ "${WITH_PACKAGING_TOOLS:-0}" = 1 ]; then PACKAGES+=("${PACKAGING_PACKAGES[@]}"); fi

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

# RACCORD_SETUP_NO_BUILD=1 (scripts/package.sh): the packages only, no build tree.
if [ "${RACCORD_SETUP_NO_BUILD:-0}" = 1 ]; then exit 0; fi

BUILD_DIR=${BUILD_DIR:-build}
# RACCORD_SANITIZE=ON (scripts/test.sh) builds with ASan + UBSan at -O1; always passed, so this
# command gives the build it is asked for whatever BUILD_DIR held before (a switch rebuilds it).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache \
  -DRACCORD_SANITIZE=${RACCORD_SANITIZE:-OFF} "$@" >/dev/null
# BUILD_TARGET=raccord builds the binary only (the demo); the default builds everything (tests).
cmake --build "$BUILD_DIR" -j"$(nproc)" ${BUILD_TARGET:+--target "$BUILD_TARGET"}
