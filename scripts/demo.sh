#!/usr/bin/env bash
# README command 1: install, build, and run the main job on samples/ with the embedded SQLite
# default under ./var (the sample trust store comes from samples/raccord.ini).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_TARGET=raccord scripts/setup.sh
RACCORD=build/engine/app/raccord
CONFIG=samples/raccord.ini
# What decides trust must not be writable by group or others, else the engine does not start
# (docs/accounts.md): a checkout made under umask 002 gives the sample trust store 0775/0664.
chmod go-w samples/trust samples/trust/*.pem samples/signataires samples/signataires/*.pem samples/crl samples/crl/*.crl
"$RACCORD" init --config "$CONFIG" --support support.n1
cp samples/depots/*.xml var/inbox/
# The sample sender account [compte.acme]: its dépôts go to inbox/acme/, its answers to outbox/acme/.
cp samples/comptes/acme/*.xml var/inbox/acme/
"$RACCORD" process --config "$CONFIG"
echo
echo "== Accusés (un par dépôt) dans $(pwd)/var/outbox :"
ls -1 var/outbox
echo
echo "== Accusés et exports du compte expéditeur acme dans $(pwd)/var/outbox/acme :"
ls -1 var/outbox/acme
echo "== Originaux archivés sous var/archive/, refusés illisibles sous var/error/ (avec NAME.reason.txt)."
