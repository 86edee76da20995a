#!/usr/bin/env bash
# Installs raccord into a temporary DESTDIR with `cmake --install` and checks the list of installed
# files, and that the installed units run the installed binary with the installed configuration
# (docs/design.md "Install layout"). Run by ctest (install_layout, install_layout_usr).
#
# Usage: scripts/check-install.sh BUILD_DIR
#          a configured and built tree (the raccord target): everything is installed, for its prefix.
#        scripts/check-install.sh --prefix-usr WORK_DIR
#          configures (never builds) a tree in WORK_DIR with CMAKE_INSTALL_PREFIX=/usr, the Debian
#          package's prefix, and installs everything but the binary and the man pages (components
#          "binary" and "man"): the /etc,
#          unit, sysusers, tmpfiles, data and completion paths of the package, checked without a build.
set -euo pipefail
source_dir=$(cd "$(dirname "$0")/.." && pwd)

with_binary=1
if [[ ${1:-} == --prefix-usr ]]; then
  build=$2
  with_binary=0
  cmake -S "$source_dir" -B "$build" -DCMAKE_INSTALL_PREFIX=/usr -DBUILD_TESTING=OFF -DRACCORD_PCH=OFF >/dev/null
else
  build=$1
fi
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
destdir=$(mktemp -d)
trap 'rm -rf "$destdir"' EXIT
if ((with_binary)); then
  DESTDIR=$destdir cmake --install "$build" >/dev/null
else
  DESTDIR=$destdir cmake --install "$build" --component Unspecified >/dev/null
fi

# Where each kind of file must be, for this prefix: /usr is the package's layout (configuration in
# /etc, systemd's own directories as pkg-config systemd and bash-completion give them); any other
# prefix keeps everything under it.
pc() { pkg-config --variable="$2" "$1" 2>/dev/null || true; }
if [[ $prefix == /usr ]]; then
  etc=/etc
  units=$(pc systemd systemdsystemunitdir)
  sysusers=$(pc systemd sysusersdir)
  tmpfiles=$(pc systemd tmpfilesdir)
  completions=$(pc bash-completion completionsdir)
  : "${units:=/usr/lib/systemd/system}" "${sysusers:=/usr/lib/sysusers.d}" "${tmpfiles:=/usr/lib/tmpfiles.d}"
  : "${completions:=/usr/share/bash-completion/completions}"
else
  etc=$prefix/etc
  units=$prefix/lib/systemd/system
  sysusers=$prefix/lib/sysusers.d
  tmpfiles=$prefix/lib/tmpfiles.d
  completions=$prefix/share/bash-completion/completions
fi
expected=(
  "$etc/raccord/raccord.ini"
  "$units/raccord.service" "$units/raccord-nightly.service" "$units/raccord-nightly.timer"
  "$units/raccord-trust-refresh.service" "$units/raccord-trust-refresh.timer"
  "$sysusers/raccord.conf" "$tmpfiles/raccord.conf"
  "$completions/raccord"
  "$prefix/share/raccord/rules/catalogue.xml" "$prefix/share/raccord/rules/trust/"
  "$prefix/share/doc/raccord/README.md"
  "$prefix/share/doc/raccord/reference.md" "$prefix/share/doc/raccord/revocation.md"
  "$prefix/share/doc/raccord/accounts.md"
  "$prefix/share/doc/raccord/systemd-examples/remote-postgresql.conf"
  "$prefix/share/doc/raccord/systemd-examples/shared-storage.conf"
)
for xsd in "$source_dir"/samples/xsd/*.xsd; do expected+=("$prefix/share/raccord/xsd/$(basename "$xsd")"); done
if ((with_binary)); then expected+=("$prefix/bin/raccord"); fi

# What was installed: every file, and every empty directory (with a trailing /). The man pages of
# docs/ (when that directory installs them) are checked by their own tests, not listed here.
actual=$(cd "$destdir" && find . \( -type f -o -type l -o \( -type d -empty \) \) -printf '%y %p\n' |
  sed -e 's/^d \.\(.*\)/\1\//' -e 's/^[fl] \.//' | grep -v "^$prefix/share/man/" | sort)
want=$(printf '%s\n' "${expected[@]}" | sort)
status=0
if [[ $actual != "$want" ]]; then
  echo "ÉCHEC : fichiers installés (prefix $prefix) différents de la liste attendue :"
  diff <(echo "$want") <(echo "$actual") | sed -n 's/^</  manquant :/p; s/^>/  en trop :/p'
  status=1
fi

# The units run the installed binary with the installed configuration and document the installed README.
for unit in raccord.service raccord-nightly.service raccord-trust-refresh.service; do
  file=$destdir$units/$unit
  [[ -f $file ]] || continue
  exec_start=$(sed -n 's/^ExecStart=//p' "$file")
  read -r -a argv <<<"$exec_start"
  if [[ ${argv[0]} != "$prefix/bin/raccord" ]] || { ((with_binary)) && [[ ! -x $destdir${argv[0]} ]]; }; then
    echo "ÉCHEC : $unit lance ${argv[0]}, le binaire installé est $prefix/bin/raccord"
    status=1
  fi
  config=$(sed -n 's/.*--config \([^ ]*\).*/\1/p' <<<"$exec_start")
  if [[ $config != "$etc/raccord/raccord.ini" || ! -f $destdir$config ]]; then
    echo "ÉCHEC : $unit lit la configuration « $config », installée en $etc/raccord/raccord.ini"
    status=1
  fi
  doc=$(sed -n 's|^Documentation=file://||p' "$file")
  if [[ ! -f $destdir$doc ]]; then
    echo "ÉCHEC : $unit documente $doc, qui n'est pas installé"
    status=1
  fi
done
if ((status == 0)); then echo "installation (prefix $prefix) : ${#expected[@]} chemins attendus, unités cohérentes"; fi
exit $status
