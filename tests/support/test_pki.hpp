// The project's test PKI (docs/toolchain.md #21): certificates built in memory with the OpenSSL 3 C API, with
// fixed dates (never the day the tests run), for every test executable (target raccord_test_support).
//
//   TestPki::instance().root()          "CN=Raccord Test Root CA"          self-signed, trusted (write_trust_dir)
//   TestPki::instance().intermediate()  "CN=Raccord Test Intermediate CA"  signed by root; issues leaf_der()
//   other_root / other_intermediate     "CN=Raccord Other Root CA" / "CN=Raccord Other Intermediate CA", untrusted
//   attacker_root                       self-signed, same name as the root, its own key, untrusted (field case F21 d)
//   expired_intermediate                "CN=Raccord Expired Intermediate CA", root-signed, 2020-01-01..2024-12-31
//   future_intermediate                 "CN=Raccord Future Intermediate CA", root-signed, 2031-01-01..2040-12-31
//   sha1_intermediate                   "CN=Raccord SHA1 Intermediate CA", signed by the root with SHA-1 (F24 b)
//   sha1_root / sha1_root_intermediate  "CN=Raccord SHA1 Root CA" self-signed with SHA-1 (trust it yourself, F24 c),
//                                       and its SHA-256 intermediate "CN=Raccord SHA1 Root Intermediate CA"
// Every CA: EC P-256 key, valid 2020-01-01T00:00:00Z..2040-12-31T23:59:59Z unless said otherwise, SHA-256
// signatures, basicConstraints CA:TRUE (critical), keyUsage keyCertSign+cRLSign, SKID and AKID (key id).
// Leaves: basicConstraints CA:FALSE, keyUsage digitalSignature (+keyEncipherment for RSA), SKID/AKID, EKU per
// LeafOptions. All DER values are returned as byte strings (std::string). Thread-safe.
// CRLs (issue 17): TestCa::crl_der(CrlOptions) issues a CRL of any CA with fixed dates: current, stale,
// future, badly signed (a stranger's key), delta, with an issuing distribution point or an unknown critical
// extension, with removeFromCRL entries, large (filler_entries); certificates may carry crlDistributionPoints
// (LeafOptions::crl_urls, CaOptions::crl_urls).
// Detached signatures (issue 16): TestPki::signer / TestCa::signer make a leaf with its private key
// (TestSigner), whose sign() makes CMS signatures as `openssl cms -sign -binary` does (detached or attached,
// DER or PEM, with or without certificates and signed attributes, one or two SignerInfos), with a fixed
// signingTime.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace raccord::testing {

/// What a new end-entity certificate looks like. Dates are ISO 8601 UTC ("YYYY-MM-DDTHH:MM:SSZ").
struct LeafOptions {
  std::string common_name = "client.exemple.fr";
  std::string not_before = "2025-01-01T00:00:00Z";  // ISO 8601 UTC
  std::string not_after = "2030-12-31T23:59:59Z";
  bool eku = true;                // false: no extendedKeyUsage extension at all
  bool client_auth = true;        // EKU clientAuth (when eku)
  bool server_auth = false;       // EKU serverAuth (when eku); eku with neither gives EKU codeSigning only
  int rsa_bits = 0;               // 0: EC P-256 key; else RSA of that size (e.g. 1024, 2048); RSA keys are generated
                                  // once per size and per process, then reused (RSA generation is slow)
  std::string digest = "sha256";  // signature digest used by the issuer ("sha1" for weak, "md5")
  bool self_signed = false;       // signed by its own key instead of the issuer (issuer name = subject)
  bool ca = false;                // basicConstraints CA:TRUE and keyUsage keyCertSign+cRLSign (a CA-like leaf)
  bool ed25519 = false;           // Ed25519 key (overrides rsa_bits)
  int ec_bits = 256;             // EC curve when neither RSA nor Ed25519: 256 (P-256), 384 (P-384) or 224 (P-224, weak)
  bool authority_key_id = true;  // false: no authorityKeyIdentifier, so any CA bearing the issuer's name is a
                                 // candidate issuer (only the signature tells them apart)
  std::vector<std::string> crl_urls = {};  // crlDistributionPoints, one fullName URI each (none when empty)
  // RFC 5280 profile defects (issue 17, CERT_NON_CONFORME) and DSA (CERT_CLE_FAIBLE):
  bool dsa = false;                            // DSA 2048-bit key (generated once per process; overrides the others)
  bool key_cert_sign = false;                  // keyUsage keyCertSign on this non-CA certificate
  bool subject_key_id = true;                  // false: no subjectKeyIdentifier
  std::string serial_hex = {};                 // fixed serial number in hex ("0": zero); empty: 63 random bits
  std::vector<int> malformed_extensions = {};  // extensions (NIDs) whose value is the bytes "malformed", not DER
};

/// A certificate authority of the test PKI: its certificate and private key (shared, immutable).
struct CaOptions {
  std::string common_name;
  std::string not_before = "2020-01-01T00:00:00Z";
  std::string not_after = "2040-12-31T23:59:59Z";
  std::string digest = "sha256";           // digest of the signature by the issuer (or its own, when self-signed)
  std::vector<std::string> crl_urls = {};  // crlDistributionPoints, one fullName URI each (none when empty)
  // RFC 5280 profile defects (issue 17, CERT_NON_CONFORME), DSA (CERT_SIGNATURE_FAIBLE), a CA's EKU (CERT_USAGE):
  bool dsa = false;                        // DSA 2048-bit key (once per process): what it signs is DSA-signed
  bool basic_constraints_critical = true;  // false: basicConstraints CA:TRUE not marked critical
  bool subject_key_id = true;              // false: no subjectKeyIdentifier
  bool authority_key_id = true;            // false: no authorityKeyIdentifier
  std::string eku = {};                    // extendedKeyUsage of the CA ("serverAuth", ...); empty: none
  bool key_cert_sign = true;               // false: keyUsage digitalSignature, cRLSign (no keyCertSign)
};

/// One entry of a test CRL (RFC 5280 §5.1.2.6).
struct CrlEntry {
  std::string serial_hex;                           // uppercase hex, as CertificateFacts::serial
  std::string revoked_at = "2025-06-01T00:00:00Z";  // revocationDate, ISO 8601 UTC
  int reason = -1;         // CRLReason (RFC 5280 §5.3.1): -1 none, 0 unspecified, 1 keyCompromise, 4 superseded,
                           // 5 cessationOfOperation, 6 certificateHold, 8 removeFromCRL...
  int second_reason = -1;  // >= 0: a second crlReason extension in the entry (malformed: RFC 5280 §4.2
                           // forbids an extension twice; OpenSSL then reads none of them)
};

/// What a new CRL looks like. Dates are ISO 8601 UTC, fixed (never the day the tests run).
/// Default: a current CRL for checks at 2026-01-01..2026-01-08 (kCrlNow in the tests is 2026-01-03).
struct CrlOptions {
  std::string this_update = "2026-01-01T00:00:00Z";
  std::string next_update = "2026-01-08T00:00:00Z";  // empty: no nextUpdate
  std::vector<CrlEntry> entries = {};
  long crl_number = 1;                      // cRLNumber extension; negative: none
  long delta_base = -1;                     // >= 0: a delta CRL (deltaCRLIndicator, critical) on that base number
  std::string idp_uri;                      // non-empty: an issuingDistributionPoint (critical) with that fullName URI
  bool unknown_critical_extension = false;  // a critical private extension (1.3.6.1.4.1.55555.1) no reader knows
  std::size_t filler_entries = 0;           // that many more entries, serials 0x7F000000 + i (large CRLs)
  bool stranger_key = false;  // signed by a fresh key instead of the CA's (issuer name unchanged): badly signed
  std::string digest = "sha256";
};

class TestSigner;

/// What a CMS signature made by TestSigner::sign looks like (issue 16). Default: what
/// `openssl cms -sign -binary -outform DER -in F -signer cert.pem -inkey key.pem -out F.p7s` writes.
struct CmsOptions {
  bool pem = false;                                   // "-----BEGIN CMS-----" PEM instead of DER (-outform PEM)
  bool attached = false;                              // the signed bytes encapsulated in the signature (-nodetach)
  bool embed_certificate = true;                      // false: no certificate in the signature (-nocerts)
  bool signed_attributes = true;                      // false: no signed attributes (-noattr)
  std::string signing_time = "2026-01-03T10:00:00Z";  // signingTime attribute (ISO 8601 UTC; with attributes)
  const TestSigner* second_signer = nullptr;          // a second SignerInfo, by that signer
};

class TestCa {
 public:
  /// A new self-signed CA (new EC P-256 key).
  static TestCa self_signed(const CaOptions& options);
  /// A new subordinate CA (new EC P-256 key) signed by this CA.
  TestCa issue_ca(const CaOptions& options) const;
  /// A new certificate of this same CA (same subject name, same key: it issues the same leaves) signed by
  /// `issuer`: the cross-signed form of this CA. options.common_name is ignored (the name stays this CA's);
  /// the dates and digest are options'.
  TestCa cross_signed_by(const TestCa& issuer, const CaOptions& options = {}) const;
  /// The same CA (same subject name, same key) in a self-signed certificate: the form a cross-signed CA is
  /// often shipped with beside its cross-signed one. options.common_name is ignored.
  TestCa self_signed_copy(const CaOptions& options = {}) const;
  /// A new end-entity (or CA-like, see LeafOptions::ca) certificate signed by this CA; DER bytes.
  std::string leaf_der(const LeafOptions& options = {}) const;
  /// A new end-entity certificate signed by this CA with its private key, to sign with.
  TestSigner signer(const LeafOptions& options = {}) const;
  /// A CRL issued by this CA (issuer name = this CA's subject, authorityKeyIdentifier = its key), signed with
  /// its key (or a stranger's, options.stranger_key); DER bytes.
  std::string crl_der(const CrlOptions& options = {}) const;

  std::string der() const;             // the CA certificate, DER bytes
  std::string pem() const;             // "-----BEGIN CERTIFICATE-----..." with a final "\n"
  const std::string& subject() const;  // RFC 2253, e.g. "CN=Raccord Test Root CA"

  struct State;  // OpenSSL objects (private to test_pki.cpp)

 private:
  friend class TestPki;
  explicit TestCa(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

/// A leaf certificate and its private key (shared, immutable): the identity a back-office signs dépôts with.
class TestSigner {
 public:
  std::string der() const;      // the certificate, DER bytes
  std::string pem() const;      // the certificate, "-----BEGIN CERTIFICATE-----" PEM
  std::string key_pem() const;  // its private key, PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----")
  /// A CMS SignedData over `bytes` (RFC 5652), detached unless options.attached; CMS_BINARY (no MIME
  /// canonicalisation), SHA-256 digest. Throws std::runtime_error when OpenSSL fails.
  std::string sign(std::string_view bytes, const CmsOptions& options = {}) const;
  /// The same DER signature (made by this signer, EC key) with its ECDSA value (r, s) replaced by (r, n - s),
  /// n the order of the curve: the other value that verifies (ECDSA's malleability); DER.
  std::string other_ecdsa_form(std::string_view der_signature) const;

  struct State;  // OpenSSL objects (private to test_pki.cpp)

 private:
  friend class TestCa;
  explicit TestSigner(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

class TestPki {
 public:
  /// Lazily built once per process (thread-safe): every CA listed at the top of this header.
  static const TestPki& instance();

  std::string root_der() const;
  std::string root_pem() const;
  std::string intermediate_der() const;
  std::string intermediate_pem() const;
  /// A new leaf (new key) signed by the intermediate (or by itself, options.self_signed); DER bytes.
  std::string leaf_der(const LeafOptions& options = {}) const;
  /// A new leaf signed by the intermediate (or by itself), with its key: intermediate().signer(options).
  TestSigner signer(const LeafOptions& options = {}) const;
  /// Creates `dir` (and parents) and writes `root.pem` (the test root only) in it.
  void write_trust_dir(const std::filesystem::path& dir) const;

  /// DER of a degenerate PKCS#7 SignedData (certificates only, no signer) holding `der_certificates`
  /// in the given order; an empty vector gives an empty certificate set (docs/field-cases.md F19 f).
  static std::string pkcs7_der(const std::vector<std::string>& der_certificates);
  /// The same as "-----BEGIN PKCS7-----" PEM text.
  static std::string pkcs7_pem(const std::vector<std::string>& der_certificates);
  /// Base64 of `bytes`, wrapped at 64 columns, each line ended by "\n".
  static std::string base64(std::string_view bytes);
  /// base64(pkcs7_der({leaf_der(options), intermediate_der()})): a ready <Certificat> content.
  std::string bundle_base64(const LeafOptions& options = {}) const;

  /// PEM "CERTIFICATE" blocks of the given DER certificates (bare certificates, F19 c).
  static std::string certificates_pem(const std::vector<std::string>& der_certificates);
  /// A fresh EC P-256 private key as PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----") and as PKCS#8 DER.
  static std::string private_key_pem();
  static std::string private_key_der();
  /// A PKCS#12 (password "test") holding a new leaf (signed by the intermediate), its key and the intermediate.
  std::string pkcs12_der(const LeafOptions& options = {}) const;

  /// The serial number of a DER certificate, uppercase hex (the form of CertificateFacts::serial).
  static std::string serial_hex(const std::string& der_certificate);
  /// "-----BEGIN X509 CRL-----" PEM blocks of the given DER CRLs, concatenated.
  static std::string crl_pem(const std::vector<std::string>& der_crls);

  const TestCa& root() const { return root_; }
  const TestCa& intermediate() const { return intermediate_; }
  const TestCa& other_root() const { return other_root_; }
  const TestCa& other_intermediate() const { return other_intermediate_; }
  const TestCa& attacker_root() const { return attacker_root_; }
  const TestCa& expired_intermediate() const { return expired_intermediate_; }
  const TestCa& future_intermediate() const { return future_intermediate_; }
  const TestCa& sha1_intermediate() const { return sha1_intermediate_; }
  const TestCa& sha1_root() const { return sha1_root_; }
  const TestCa& sha1_root_intermediate() const { return sha1_root_intermediate_; }

 private:
  TestPki();
  TestCa root_;
  TestCa intermediate_;
  TestCa other_root_;
  TestCa other_intermediate_;
  TestCa attacker_root_;
  TestCa expired_intermediate_;
  TestCa future_intermediate_;
  TestCa sha1_intermediate_;
  TestCa sha1_root_;
  TestCa sha1_root_intermediate_;
};

}  // namespace raccord::testing
