#!/usr/bin/env bash
# Builds the Debian package raccord_<version>_<arch>.deb (debian/: native, debhelper compat 13) and
# checks it with lintian (no error, no warning; an override would go in
# debian/raccord.lintian-overrides, each justified there: none is needed today).
# Usage: scripts/package.sh [OUT_DIR]   (default build-deb; as root or with sudo for the Debian
# packages it installs first).
#
# The build happens in a copy of the working tree (tracked and untracked, ignored files left out) under
# OUT_DIR, so that dpkg-buildpackage writes its .deb, .buildinfo and .changes there and nothing next to
# the checkout. Release build, tests off (debian/rules); ccache when installed (CCACHE_* from the
# environment, as for every build of the project).
set -euo pipefail
cd "$(dirname "$0")/.."
source_dir=$(pwd)
out=$(realpath -m "${1:-build-deb}")

# Debian packages to build the package, and the build dependencies of debian/control.
RACCORD_SETUP_NO_BUILD=1 WITH_PACKAGING_TOOLS=1 scripts/setup.sh

version=$(sed -n 's/^project(raccord VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
deb_version=$(dpkg-parsechangelog -S Version)
if [[ $version != "$deb_version" ]]; then
  echo "debian/changelog annonce $deb_version, CMakeLists.txt project(VERSION) $version : ajoutez une entrée" \
    "à debian/changelog (dch -v $version) avant de construire le paquet." >&2
  exit 2
fi

tree=$out/raccord-$version
rm -rf "$tree"
mkdir -p "$tree"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [[ -e $f ]] && printf '%s\0' "$f"
done | tar -C "$source_dir" --null -T - -cf - | tar -C "$tree" -xf -

if command -v ccache >/dev/null; then
  export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}
  export CMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER:-ccache}
fi
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
rm -f "$out"/raccord_"$version"_"$arch".* "$out"/raccord-dbgsym_"$version"_"$arch".*
(cd "$tree" && dpkg-buildpackage -b -us -uc)

deb=$out/raccord_${version}_${arch}.deb
echo "== paquet : $deb"
dpkg-deb -c "$deb"
echo "== lintian"
lintian --fail-on error,warning --display-info "$out/raccord_${version}_${arch}.changes"
echo "== lintian : ni erreur ni avertissement"
