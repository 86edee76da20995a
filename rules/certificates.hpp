// Certificate rules (SPEC.md §3.3 "Certificates", §4 CERT_*): PKCS#7 decoding and chain checks
// with OpenSSL (kept private to rules/). Times are UTC instants.
#pragma once

#include <filesystem>
#include <memory>
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
bool decode_bundle(std::string_view content, std::vector<std::string>& der_certificates, std::string& why);

class CertificateChecker {
 public:
  explicit CertificateChecker(CertificatePolicy policy);
  ~CertificateChecker();
  CertificateChecker(const CertificateChecker&) = delete;
  CertificateChecker& operator=(const CertificateChecker&) = delete;

  /// (Re)loads the trust store from policy.trust_dir. A missing or empty directory is not an
  /// error (returns the number of anchors loaded; `log` receives lines worth logging).
  int reload_trust_store(std::vector<std::string>& log);

  /// All certificate rules of one sheet at instant `at`: CERT_ABSENT, CERT_NOMBRE (SFTP and API:
  /// exactly 1 Certificat; PESIT and AS2: 1 or 2; `protocol` nullopt for API), CERT_FORMAT,
  /// CERT_EXPIRE / CERT_PAS_ENCORE_VALIDE (every certificate of a leaf's chain, notBefore tolerated up
  /// to clock_skew_s ahead), and the chain family of SPEC.md §4. Fields "Certificats/Certificat[N]".
  CertificateReport check(const SheetOperation& sheet, std::optional<Protocol> protocol, Instant at) const;

  const CertificatePolicy& policy() const { return policy_; }

 private:
  CertificatePolicy policy_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace raccord::rules
