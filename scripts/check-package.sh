#!/usr/bin/env bash
# Installs the package of scripts/package.sh on this machine and takes it away again, checking what an
# operator relies on (README "Install on a server"): the binary and its version, the man page when the
# package has one, the installed units (systemd-analyze verify), the service user and /var/lib/raccord,
# the conffile, the enabled units, an upgrade that keeps a disabled daemon disabled, `raccord init` as
# the service user; then remove and purge: /var/lib/raccord (data) is kept, nothing else is left.
# Works without systemd as PID 1 (containers, CI): the maintainer scripts of dh_installsystemd then
# enable the units on disk and start nothing, which is what is checked.
# Usage (root): scripts/check-package.sh [DEB]   (default: the newest build-deb/raccord_*.deb)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) == 0 ]] || { echo "scripts/check-package.sh installe un paquet : lancez-le en root." >&2; exit 2; }
deb=${1:-}
if [[ -z $deb ]]; then for f in build-deb/raccord_*.deb; do [[ -z $deb || $f -nt $deb ]] && deb=$f; done; fi
[[ -f $deb ]] || { echo "aucun paquet : lancez d'abord scripts/package.sh" >&2; exit 2; }
deb=$(realpath "$deb")
version=$(dpkg-deb -f "$deb" Version)
failures=0
fail() { echo "ÉCHEC : $*"; failures=$((failures + 1)); }
step() { echo "== $*"; }

if dpkg-query -W -f='${Status}' raccord 2>/dev/null | grep -q "installed\|config-files"; then
  fail "raccord était déjà installé : purgé avant le test"
  dpkg --purge raccord >/dev/null
fi
# A /var/lib/raccord from an earlier run is data this test must not remove: it is kept aside.
kept_aside=""
if [[ -e /var/lib/raccord ]]; then
  kept_aside=$(mktemp -d /var/tmp/raccord-kept.XXXXXX)
  mv /var/lib/raccord "$kept_aside/"
fi

# What the machine holds before, to compare after the purge (paths only; the databases of dpkg, apt
# and the caches change by design). User and group files change (the system user is kept, as Debian
# does) but their names do not; their backups (passwd-...) may appear.
snapshot() {
  find /etc /usr /var/lib /lib -xdev \( -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/lib/ucf \
    -o -path /var/lib/raccord -o -path /var/lib/systemd/deb-systemd-helper-masked \) -prune -o -print 2>/dev/null |
    grep -v -E '^/etc/(passwd|group|shadow|gshadow)-$' | sort
}
before=$(mktemp)
after=$(mktemp)
finished=0
# Stopped half-way (an unexpected error under set -e): the machine is put back all the same.
cleanup() {
  rm -f "$before" "$after"
  if ((!finished)); then
    echo "ÉCHEC : arrêt imprévu ; le paquet est purgé et /var/lib/raccord remis comme avant" >&2
    dpkg --purge raccord >/dev/null 2>&1 || true
    rm -rf /var/lib/raccord
    if [[ -n $kept_aside ]]; then mv "$kept_aside/raccord" /var/lib/raccord && rmdir "$kept_aside"; fi
  fi
}
trap cleanup EXIT
snapshot >"$before"

step "dpkg -i $(basename "$deb")"
dpkg -i "$deb"

step "raccord --version"
/usr/bin/raccord --version || fail "raccord --version a échoué"
[[ $(/usr/bin/raccord --version | head -1) == "raccord $version" ]] || fail "la version n'est pas « raccord $version »"

step "man -w raccord"
if dpkg -L raccord | grep -q '^/usr/share/man/man1/raccord\.1'; then
  man -w raccord || fail "man -w raccord ne trouve pas la page"
else
  echo "(ce paquet ne contient pas encore de pages de manuel : rien à vérifier)"
fi

step "fichiers, utilisateur, conffile, unités activées"
units_dir=$(dirname "$(dpkg -L raccord | grep '/systemd/system/raccord\.service$')")
getent passwd raccord >/dev/null || fail "pas d'utilisateur raccord (sysusers)"
[[ $(stat -c '%U:%G %a' /var/lib/raccord 2>/dev/null) == "raccord:raccord 750" ]] ||
  fail "/var/lib/raccord : $(stat -c '%U:%G %a' /var/lib/raccord 2>&1) au lieu de raccord:raccord 750 (tmpfiles)"
for d in inbox outbox archive error crl; do [[ -d /var/lib/raccord/$d ]] || fail "pas de /var/lib/raccord/$d"; done
dpkg-query -W -f='${Conffiles}\n' raccord | grep -q '^ /etc/raccord/raccord.ini ' ||
  fail "/etc/raccord/raccord.ini n'est pas un conffile"
enabled() { [[ -L /etc/systemd/system/$1.wants/$2 ]]; }
enabled multi-user.target raccord.service || fail "raccord.service n'est pas activé"
enabled timers.target raccord-nightly.timer || fail "raccord-nightly.timer n'est pas activé"
enabled timers.target raccord-trust-refresh.timer || fail "raccord-trust-refresh.timer n'est pas activé"

step "systemd-analyze verify des unités installées"
systemd-analyze verify "$units_dir"/raccord*.service "$units_dir"/raccord*.timer ||
  fail "systemd-analyze verify"

step "raccord init en tant qu'utilisateur raccord"
(cd /var/lib/raccord && runuser -u raccord -- /usr/bin/raccord init --config /etc/raccord/raccord.ini) ||
  fail "raccord init --config /etc/raccord/raccord.ini"
[[ -f /var/lib/raccord/raccord.db ]] || fail "pas de store /var/lib/raccord/raccord.db"

step "mise à jour : un démon désactivé par l'administrateur le reste"
systemctl disable raccord.service  # works on the unit files without a running systemd
dpkg -i "$deb"
enabled multi-user.target raccord.service && fail "la mise à jour a réactivé raccord.service"
enabled timers.target raccord-nightly.timer || fail "la mise à jour a désactivé raccord-nightly.timer"
systemctl enable raccord.service  # enabled again, so that the purge below has links to remove

step "dpkg --remove : binaire retiré, configuration gardée"
dpkg --remove raccord
[[ ! -e /usr/bin/raccord ]] || fail "/usr/bin/raccord reste après remove"
[[ -f /etc/raccord/raccord.ini ]] || fail "remove a retiré la configuration"

step "dpkg --purge : configuration retirée, /var/lib/raccord gardé"
purge_output=$(dpkg --purge raccord 2>&1)
echo "$purge_output"
grep -q "/var/lib/raccord est conservé" <<<"$purge_output" || fail "la purge ne dit pas que /var/lib/raccord est conservé"
[[ ! -e /etc/raccord ]] || fail "/etc/raccord reste après purge"
[[ -f /var/lib/raccord/raccord.db ]] || fail "la purge a retiré les données (/var/lib/raccord/raccord.db)"
snapshot >"$after"
if ! diff -q "$before" "$after" >/dev/null; then
  fail "la machine n'est pas comme avant (hors /var/lib/raccord) :"
  diff "$before" "$after" | sed -n 's/^</  disparu :/p; s/^>/  resté :/p'
fi

# This test's own /var/lib/raccord goes; one that was there before comes back.
rm -rf /var/lib/raccord
if [[ -n $kept_aside ]]; then mv "$kept_aside/raccord" /var/lib/raccord && rmdir "$kept_aside"; fi
finished=1
if ((failures)); then
  echo "$failures échec(s)"
  exit 1
fi
echo "paquet $(basename "$deb") : installation, mise à jour, retrait et purge conformes"
