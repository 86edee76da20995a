// Certificate rules (SPEC.md §3.3 "Certificates", §4 CERT_*): PKCS#7 decoding and chain checks
// with OpenSSL (kept private to rules/). Times are UTC instants.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/domain/certificate.hpp"
#include "engine/domain/civil_date.hpp"
#include "engine/domain/deposit.hpp"

namespace raccord::rules {

struct CertificatePolicy {
  std::filesystem::path trust_dir;  // PEM files, several certificates each; the only anchors
  int min_rsa_bits = 2048;
  int expiry_warning_days = 30;
  int clock_skew_s = 300;
};

/// What the checks found for one sheet: the diagnostics (errors and warnings) and the facts of
/// every certificate read from the sheet's bundles (for storage), with bundle_index set.
struct CertificateReport {
  Diagnostics diagnostics;
  std::vector<CertificateFacts> certificates;
};

/// Decodes the text of a <Certificat> element into DER certificates: base64 of a PKCS#7 (DER or PEM
/// bytes) with spaces/tabs/CR/LF ignored, or PEM text starting with "-----BEGIN". Returns false and
/// sets `why` (French) when it is not a PKCS#7 bundle with at least one certificate, is bare
/// certificates, or holds a private key.
/// Format detected from the bytes, never from a file name (FIELD-CASES F19). The message never
/// quotes the content (a private key sent by mistake is never echoed).
bool decode_bundle(std::string_view content, std::vector<std::string>& der_certificates, std::string& why);

/// Facts of one DER X.509 certificate (bundle_index left at 0). Returns false when `der` is not a
/// certificate.
bool read_certificate_facts(std::string_view der, CertificateFacts& facts);

/// Thread-safe: check() may run concurrently from several threads; reload_trust_store() swaps the
/// store atomically (checks already running keep the store they started with).
class CertificateChecker {
 public:
  /// Loads the trust store from policy.trust_dir at once (see reload_trust_store; the log lines are
  /// kept, see trust_store_log()).
  explicit CertificateChecker(CertificatePolicy policy);
  ~CertificateChecker();
  CertificateChecker(const CertificateChecker&) = delete;
  CertificateChecker& operator=(const CertificateChecker&) = delete;

  /// (Re)loads the trust store from policy.trust_dir. A missing or empty directory is not an
  /// error (returns the number of anchors loaded; `log` receives lines worth logging).
  /// Every regular, non-hidden file of the directory is read as PEM holding one or several
  /// certificates (TOOLCHAIN.md #12); a file without certificates is logged and skipped.
  int reload_trust_store(std::vector<std::string>& log);

  /// Log lines of the last (re)load of the trust store, and its number of certificates.
  std::vector<std::string> trust_store_log() const;
  int trust_anchor_count() const;

  /// All certificate rules of one sheet at instant `at`: CERT_ABSENT, CERT_NOMBRE (SFTP and API:
  /// exactly 1 Certificat; PESIT and AS2: 1 or 2; `protocol` nullopt for API), CERT_FORMAT,
  /// CERT_EXPIRE / CERT_PAS_ENCORE_VALIDE (every certificate of a leaf's chain, notBefore tolerated up
  /// to clock_skew_s ahead), and the chain family of SPEC.md §4. Fields "Certificats/Certificat[N]".
  /// Precedence per leaf (leaves = the bundle's non-CA certificates): CERT_AUTOSIGNE, else
  /// CERT_AUTORITE_NON_RECONNUE, else CERT_CHAINE_INCOMPLETE (naming the missing issuer DN); plus
  /// CERT_USAGE (leaves of all bundles together), CERT_CLE_FAIBLE, CERT_SIGNATURE_FAIBLE (the
  /// anchor's self-signature excepted), warnings CERT_EXPIRE_BIENTOT and CERT_SANS_EKU (leaves).
  /// The verdict does not depend on the system OpenSSL security level (FIELD-CASES F25).
  /// Diagnostics are on field "Certificats/Certificat[N]" with the line of that element, or on
  /// "Certificats" (CERT_ABSENT without any element, CERT_NOMBRE, CERT_USAGE across several bundles).
  CertificateReport check(const SheetOperation& sheet, std::optional<Protocol> protocol, Instant at) const;

  const CertificatePolicy& policy() const { return policy_; }

 private:
  CertificatePolicy policy_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace raccord::rules
