#!/usr/bin/env bash
# Regenerates the sample PKI of raccord with FIXED validity dates (docs/toolchain.md #21), so that the
# samples never depend on the day they are generated.
#
#   samples/pki/make-pki.sh            # regenerate samples/pki/certs/ and samples/trust/root.pem,
#                                      # then refresh the <Certificat> contents of samples/depots/*.xml
#
# Output (samples/pki/certs/, removed and recreated on every run):
#   root.pem                 "Raccord Exemple Racine"           20250101000000Z - 20451231235959Z
#   intermediate.pem         "Raccord Exemple Intermediaire"    20250101000000Z - 20451231235959Z
#   autre-racine.pem         "Autre Racine" (NOT trusted)       20250101000000Z - 20451231235959Z
#   <leaf>.pem               the leaf certificate alone
#   <leaf>.p7b               PKCS#7 (DER) : leaf + its issuing CA (the intermediate, or Autre Racine)
#   <leaf>.p7b.pem           the same bundle, PEM text ("-----BEGIN PKCS7-----")
# Leaves (20250601000000Z - 20351231235959Z unless stated, SHA-256 signatures):
#   sftp-client   EC P-256   EKU clientAuth
#   as2-client    EC P-256   EKU clientAuth
#   as2-server    RSA 2048   EKU serverAuth
#   pesit         EC P-256   EKU clientAuth + serverAuth (one leaf for both purposes)
#   api-client    EC P-256   EKU clientAuth
#   expire        EC P-256   EKU clientAuth, 20200101000000Z - 20240101000000Z (CERT_EXPIRE)
#   autre-autorite EC P-256  EKU clientAuth, issued by "Autre Racine" (CERT_AUTORITE_NON_RECONNUE)
#   signature-acme EC P-256  keyUsage digitalSignature: the signer of the sample account "acme"
#                            (docs/accounts.md "Signing a dépôt"); its key IS kept, see below
#   revoque       EC P-256   EKU clientAuth, revoked (keyCompromise, 01/09/2025) in the intermediate's CRL
#
# CRLs (samples/crl/, the samples' certificates.crl_dir; docs/revocation.md "The samples' CRLs"):
#   racine.crl        of "Raccord Exemple Racine", no entry
#   intermediaire.crl of "Raccord Exemple Intermediaire", listing revoque
# both thisUpdate 20250601000000Z, nextUpdate 20351231235959Z (the end of the sample leaves).
#
# Also written: samples/signataires/acme.pem, the `signataires` file of the sample account (the
# certificate signature-acme.pem, which the engine pins by its SHA-256 fingerprint).
#
# No private key is kept, except certs/signature-acme.key: the sample signer's key, published on
# purpose so that anyone can sign sample dépôts (openssl cms -sign -binary -outform DER -in F.xml
# -signer certs/signature-acme.pem -inkey certs/signature-acme.key -out F.xml.p7s). Never pin it
# outside a demonstration. Other keys live in a temporary directory deleted at exit. Each run therefore
# makes new keys and new certificates; the dépôts are refreshed to embed the new bundles (every
# <Certificat nom="X"> whose X is a file of certs/ gets that file's content: base64 of the DER
# bundle wrapped at 76 columns for *.p7b, the PEM text for *.p7b.pem).
# Requires: bash, openssl (3.x), perl, base64.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
samples="$(cd "${here}/.." && pwd)"
out="${here}/certs"
trust="${samples}/trust"
signers="${samples}/signataires"
depots="${samples}/depots"
crl="${samples}/crl"

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

rm -rf "${out}" "${crl}"
mkdir -p "${out}" "${trust}" "${crl}"

ca_start=20250101000000Z
ca_end=20451231235959Z
leaf_start=20250601000000Z
leaf_end=20351231235959Z

# One `openssl ca` configuration per issuing CA (database, serial, policy, extensions).
make_ca_dir() {  # $1 = ca name, $2 = first serial (hex)
  local d="${work}/$1"
  mkdir -p "${d}/newcerts"
  : > "${d}/index.txt"
  echo "unique_subject = no" > "${d}/index.txt.attr"
  echo "$2" > "${d}/serial"
  echo "$2" > "${d}/crlnumber"
  cat > "${d}/ca.cnf" <<CNF
[ ca ]
default_ca = this_ca

[ this_ca ]
dir              = ${d}
database         = \$dir/index.txt
new_certs_dir    = \$dir/newcerts
serial           = \$dir/serial
crlnumber        = \$dir/crlnumber
certificate      = \$dir/ca.pem
private_key      = \$dir/ca.key
default_md       = sha256
policy           = policy_any
email_in_dn      = no
copy_extensions  = none
unique_subject   = no
utf8             = yes
string_mask      = utf8only

[ policy_any ]
countryName            = optional
organizationName       = optional
organizationalUnitName = optional
commonName             = supplied

[ req ]
distinguished_name = req_dn
prompt             = no
utf8               = yes
string_mask        = utf8only

[ req_dn ]
CN = placeholder

[ crl_ext ]
authorityKeyIdentifier = keyid:always

[ v3_root ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ v3_intermediate ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ v3_client ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyAgreement
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = \${ENV::LEAF_SAN}

[ v3_server ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = \${ENV::LEAF_SAN}

[ v3_client_server ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyAgreement
extendedKeyUsage       = clientAuth, serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = \${ENV::LEAF_SAN}

[ v3_signing ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = \${ENV::LEAF_SAN}
CNF
}

new_key() {  # $1 = key file, $2 = ec|rsa
  case "$2" in
    ec)  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null ;;
    ec384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$1" 2>/dev/null ;;
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null ;;
  esac
}

export LEAF_SAN="DNS:placeholder.example.com"

# Self-signed root with fixed dates: `openssl ca -selfsign`.
make_root() {  # $1 = ca name, $2 = subject, $3 = first serial
  local d="${work}/$1"
  make_ca_dir "$1" "$3"
  new_key "${d}/ca.key" ec384
  openssl req -new -config "${d}/ca.cnf" -key "${d}/ca.key" -subj "$2" -utf8 -out "${d}/ca.csr"
  openssl ca -batch -notext -selfsign -config "${d}/ca.cnf" -keyfile "${d}/ca.key" \
    -startdate "${ca_start}" -enddate "${ca_end}" -extensions v3_root \
    -in "${d}/ca.csr" -out "${d}/ca.pem" 2>/dev/null
}

# Certificate signed by CA $1: $2 = out cert, $3 = key file, $4 = subject, $5 = extensions,
# $6 = start, $7 = end.
sign() {
  local d="${work}/$1"
  openssl req -new -config "${d}/ca.cnf" -key "$3" -subj "$4" -utf8 -out "${work}/req.csr"
  openssl ca -batch -notext -config "${d}/ca.cnf" -startdate "$6" -enddate "$7" \
    -extensions "$5" -in "${work}/req.csr" -out "$2" 2>/dev/null
}

# --- the sample hierarchy -------------------------------------------------------------------
make_root racine "/C=FR/O=Raccord Exemple/CN=Raccord Exemple Racine" 1000
cp "${work}/racine/ca.pem" "${out}/root.pem"

make_ca_dir intermediaire 2000
new_key "${work}/intermediaire/ca.key" ec
sign racine "${work}/intermediaire/ca.pem" "${work}/intermediaire/ca.key" \
  "/C=FR/O=Raccord Exemple/CN=Raccord Exemple Intermediaire" v3_intermediate "${ca_start}" "${ca_end}"
cp "${work}/intermediaire/ca.pem" "${out}/intermediate.pem"

make_root autre "/C=FR/O=Autre Organisation/CN=Autre Racine" 3000
cp "${work}/autre/ca.pem" "${out}/autre-racine.pem"

# leaf: $1 = name, $2 = key type, $3 = extensions, $4 = CN, $5 = SAN, [$6 $7 = dates], [$8 = CA]
leaf() {
  local name="$1" ca="${8:-intermediaire}"
  new_key "${work}/${name}.key" "$2"
  LEAF_SAN="$5" sign "${ca}" "${out}/${name}.pem" "${work}/${name}.key" \
    "/C=FR/O=ACME Logistique SAS/CN=$4" "$3" "${6:-${leaf_start}}" "${7:-${leaf_end}}"
  openssl crl2pkcs7 -nocrl -certfile "${out}/${name}.pem" -certfile "${work}/${ca}/ca.pem" \
    -outform DER -out "${out}/${name}.p7b"
  openssl crl2pkcs7 -nocrl -certfile "${out}/${name}.pem" -certfile "${work}/${ca}/ca.pem" \
    -outform PEM -out "${out}/${name}.p7b.pem"
}

leaf sftp-client    ec  v3_client        "sftp.acme-logistique.example.com"   "DNS:sftp.acme-logistique.example.com"
leaf as2-client     ec  v3_client        "as2-client.acme-logistique.example.com" "DNS:as2-client.acme-logistique.example.com"
leaf as2-server     rsa v3_server        "as2.acme-logistique.example.com"    "DNS:as2.acme-logistique.example.com"
leaf pesit          ec  v3_client_server "pesit.acme-logistique.example.com"  "DNS:pesit.acme-logistique.example.com"
leaf api-client     ec  v3_client        "api.acme-logistique.example.com"    "DNS:api.acme-logistique.example.com"
leaf expire         ec  v3_client        "ancien.acme-logistique.example.com" "DNS:ancien.acme-logistique.example.com" \
  20200101000000Z 20240101000000Z
leaf autre-autorite ec  v3_client        "inconnu.acme-logistique.example.com" "DNS:inconnu.acme-logistique.example.com" \
  "${leaf_start}" "${leaf_end}" autre

leaf revoque        ec  v3_client        "revoque.acme-logistique.example.com" "DNS:revoque.acme-logistique.example.com"

# --- the CRLs, with fixed dates ---------------------------------------------------------------
# revoque is revoked by the intermediate; its revocation date is set to a fixed instant in the
# CA database (`openssl ca -revoke` writes the current time).
openssl ca -batch -config "${work}/intermediaire/ca.cnf" -revoke "${out}/revoque.pem" \
  -crl_reason keyCompromise 2>/dev/null
perl -i -pe 's/^R\t(\S+)\t\d{12}Z,/R\t$1\t250901000000Z,/' "${work}/intermediaire/index.txt"
gencrl() {  # $1 = ca name, $2 = out file
  openssl ca -batch -gencrl -config "${work}/$1/ca.cnf" -crlexts crl_ext \
    -crl_lastupdate 20250601000000Z -crl_nextupdate 20351231235959Z -out "$2" 2>/dev/null
}
gencrl racine "${crl}/racine.crl"
gencrl intermediaire "${crl}/intermediaire.crl"

# The signer of the sample account "acme" (last, so that the serials of the leaves above never change).
leaf signature-acme ec  v3_signing       "signature.acme-logistique.example.com" "DNS:signature.acme-logistique.example.com"
rm -f "${out}/signature-acme.p7b" "${out}/signature-acme.p7b.pem"  # a signer is pinned alone, never a bundle
cp "${work}/signature-acme.key" "${out}/signature-acme.key"
mkdir -p "${signers}"
{
  echo "Signataires du compte d'exemple acme (samples/pki/make-pki.sh) : les certificats dont le moteur"
  echo "accepte les signatures, comparés par empreinte SHA-256 :"
  openssl x509 -in "${out}/signature-acme.pem" -noout -fingerprint -sha256
  cat "${out}/signature-acme.pem"
} > "${signers}/acme.pem"

# The sample trust store: the sample root only ("Autre Racine" is deliberately NOT trusted).
cp "${out}/root.pem" "${trust}/root.pem"
# What decides trust must not be writable by group or others (docs/accounts.md), whatever the umask.
chmod go-w "${trust}" "${trust}/root.pem" "${signers}" "${signers}/acme.pem" "${crl}" "${crl}"/*.crl

# Sanity: the good leaves verify against root + intermediate at a fixed instant (2026-06-01).
at=$(date -u -d 2026-06-01T00:00:00Z +%s)
for name in sftp-client as2-client as2-server pesit api-client signature-acme; do
  openssl verify -attime "${at}" -x509_strict -CAfile "${out}/root.pem" \
    -untrusted "${out}/intermediate.pem" "${out}/${name}.pem" >/dev/null
  openssl verify -attime "${at}" -crl_check_all -CAfile "${out}/root.pem" -CRLfile "${crl}/racine.crl" \
    -CRLfile "${crl}/intermediaire.crl" -untrusted "${out}/intermediate.pem" "${out}/${name}.pem" >/dev/null
done
if openssl verify -attime "${at}" -crl_check_all -CAfile "${out}/root.pem" -CRLfile "${crl}/racine.crl" \
  -CRLfile "${crl}/intermediaire.crl" -untrusted "${out}/intermediate.pem" "${out}/revoque.pem" >/dev/null 2>&1; then
  echo "revoque.pem is not revoked by ${crl}/intermediaire.crl" >&2
  exit 1
fi

# --- refresh the certificates embedded in the sample dépôts -----------------------------------
if compgen -G "${depots}/*.xml" >/dev/null; then
  CERTS="${out}" perl -0777 -i -pe '
    sub bundle {
      my ($name, $indent) = @_;
      my $file = "$ENV{CERTS}/$name";
      return undef unless -f $file;
      open(my $fh, "<:raw", $file) or die "$file: $!";
      local $/; my $bytes = <$fh>; close $fh;
      my $text;
      if ($name =~ /\.pem$/) { $text = $bytes; }
      else { require MIME::Base64; $text = MIME::Base64::encode_base64($bytes, ""); $text =~ s/(.{1,76})/$1\n/g; }
      $text =~ s/\s+$//;
      $text =~ s/^/$indent  /mg;
      return "\n$text\n$indent";
    }
    s{^([ \t]*)(<Certificat\b[^>]*\bnom="([^"]+)"[^>]*(?<!/)>)(.*?)(</Certificat>)}{
      my ($indent, $open, $name, $body, $close) = ($1, $2, $3, $4, $5);
      my $new = bundle($name, $indent);
      $indent . $open . (defined $new ? $new : $body) . $close
    }gmse;
  ' "${depots}"/*.xml
fi

echo "PKI regenerated in ${out}; trust store ${trust}/root.pem; CRLs in ${crl}"
