#!/usr/bin/env bash
# Validates the sample dépôts against samples/xsd/depot.xsd (docs/reference.md §5.1: the project tests its
# samples against its XSDs). 92 (DOCTYPE) and 93 (malformed) are deliberately not valid XML
# dépôts: 92 must hold a DOCTYPE, 93 must not be well-formed. Exit 0 when everything is as expected. Requires xmllint
# (Debian package libxml2-utils), perl and openssl.
# Also checks that the certificates embedded in the dépôts are those of pki/certs/.
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
# The certificates embedded in the dépôts must be the bundles of pki/certs/ (make-pki.sh refreshes
# both together), and every good leaf must chain to trust/root.pem.
if ! CERTS="${here}/pki/certs" perl -0777 -ne '
    use MIME::Base64;
    while (/<Certificat\b[^>]*\bnom="([^"]+)"[^>]*>(.*?)<\/Certificat>/gs) {
      my ($name, $body) = ($1, $2);
      my $file = "$ENV{CERTS}/$name";
      next unless -f $file;
      open(my $fh, "<:raw", $file) or die; local $/; my $bytes = <$fh>; close $fh;
      my ($a, $b);
      if ($name =~ /\.pem$/) { ($a = $body) =~ s/\s+//g; ($b = $bytes) =~ s/\s+//g; }
      else { ($a = $body) =~ s/\s+//g; $a = decode_base64($a); $b = $bytes; }
      if ($a ne $b) { print STDERR "ERREUR : $ARGV, Certificat $name ne correspond pas à pki/certs/$name\n"; $bad = 1; }
    }
    END { exit($bad ? 1 : 0) }' "${here}"/depots/*.xml; then
  status=1
fi
for leaf in sftp-client as2-client as2-server pesit api-client; do
  if ! openssl verify -attime "$(date -u -d 2026-12-01T00:00:00Z +%s)" -CAfile "${here}/trust/root.pem" \
      -untrusted "${here}/pki/certs/intermediate.pem" "${here}/pki/certs/${leaf}.pem" >/dev/null; then
    echo "ERREUR : pki/certs/${leaf}.pem ne se rattache pas à trust/root.pem" >&2; status=1
  fi
done
[ "${status}" -eq 0 ] && echo "Dépôts d'exemple conformes à depot.xsd (92 et 93 refusés comme prévu)."
exit "${status}"
