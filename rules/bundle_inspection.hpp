// Inspection of one certificate file for `raccord cert` (docs/reference.md §7; §3.3 "Certificates"; §4 CERT_*):
// what the file holds, the chain built for each leaf, and the verdict of the sheet rules for a protocol.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/certificate.hpp"
#include "domain/civil_date.hpp"
#include "domain/diagnostic.hpp"
#include "domain/vocabulary.hpp"
#include "rules/certificates.hpp"

namespace raccord::rules {

/// What a certificate file turned out to be.
enum class BundleKind {
  Pkcs7,             // a PKCS#7 bundle (DER or PEM, or their base64): what a sheet must carry
  BareCertificates,  // PEM CERTIFICATE blocks or a DER certificate without PKCS#7: inspected, but CERT_FORMAT
  Unreadable,        // neither (garbage, empty PKCS#7, a private key...): CERT_FORMAT, nothing to show
};

struct BundleInspection {
  BundleKind kind = BundleKind::Unreadable;
  std::vector<CertificateFacts> certificates;  // in file order (bundle_index 1)
  std::vector<LeafChain> chains;               // one per leaf (non-CA certificate)
  Diagnostics diagnostics;                     // the verdict: errors and warnings, in rule order
  /// True when the verdict has no error (warnings allowed): a sheet carrying this file would pass.
  bool acceptable() const { return !has_error(diagnostics); }
};

/// Inspects the raw bytes of a certificate file as the sheet rules would judge it as the only
/// <Certificat> of a sheet of `protocol` (nullopt: API) at instant `at`. The format comes from the bytes,
/// never from a file name (docs/field-cases.md F19): binary bytes (DER PKCS#7 or DER certificate) are handed
/// over as base64, text (PEM, or base64) as is.
/// Bare certificates: the verdict holds the CERT_FORMAT of docs/reference.md §3.3 first, then the codes those
/// certificates would get once bundled as PKCS#7 in the same file (so one run says everything).
/// CERT_NOMBRE cannot occur (one file); CERT_USAGE for PESIT/AS2 asks both purposes of this file.
/// Never throws for bad content (it is a verdict); does not touch any store.
BundleInspection inspect_bundle(std::string_view file_bytes, const CertificateChecker& checker,
                                std::optional<Protocol> protocol, Instant at);

/// DER of a degenerate PKCS#7 SignedData holding `der_certificates` (certificates only, no signer), as
/// `openssl crl2pkcs7 -nocrl` writes it; empty when a certificate does not parse.
std::string make_pkcs7_der(const std::vector<std::string>& der_certificates);

}  // namespace raccord::rules
