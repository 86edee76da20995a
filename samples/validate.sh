#!/usr/bin/env bash
# Validates the sample dépôts against samples/xsd/depot.xsd (SPEC.md §5.1: the project tests its
# samples against its XSDs). 92 (DOCTYPE) and 93 (malformed) are deliberately not valid XML
# dépôts: 92 must hold a DOCTYPE, 93 must not be well-formed. Exit 0 when everything is as expected. Requires xmllint
# (Debian package libxml2-utils).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
xsd="${here}/xsd/depot.xsd"
status=0
for f in "${here}"/depots/*.xml; do
  case "$(basename "$f")" in
    92_*)
      if ! grep -q '<!DOCTYPE' "$f"; then
        echo "ERREUR : $f doit contenir un DOCTYPE (DTD_INTERDITE)" >&2; status=1
      fi ;;
    93_*)
      if xmllint --noout --nonet "$f" >/dev/null 2>&1; then
        echo "ERREUR : $f doit être mal formé (XML_MALFORME)" >&2; status=1
      fi ;;
    *)
      if ! xmllint --noout --nonet --schema "${xsd}" "$f" 2>/dev/null; then
        xmllint --noout --nonet --schema "${xsd}" "$f" >&2 || true
        status=1
      fi ;;
  esac
done
[ "${status}" -eq 0 ] && echo "Dépôts d'exemple conformes à depot.xsd (92 et 93 refusés comme prévu)."
exit "${status}"
