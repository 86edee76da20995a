// libFuzzer target for the certificate reader (docs/reference.md §3.3 "Certificates", §4 CERT_*; issue 8):
// rules::decode_bundle on the input taken as the <Certificat> text (PEM or base64) and on the
// base64 of the input (so raw DER/PKCS#7 seeds such as samples/pki/certs/*.p7b reach the PKCS#7
// parser), read_certificate_facts on every certificate decoded, and CertificateChecker::check on
// a sheet carrying the input, against the samples' trust store, at a fixed instant, twice: the
// certificates it reads must be decode_bundle's, and its second verdict (authorities then kept
// decoded and proved) the first one.
#include <openssl/evp.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "domain/certificate.hpp"
#include "domain/deposit.hpp"
#include "domain/error_code.hpp"
#include "rules/certificates.hpp"

namespace {

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

raccord::rules::CertificatePolicy fuzz_policy() {
  raccord::rules::CertificatePolicy policy;
  policy.trust_dir = RACCORD_FUZZ_TRUST_DIR;
  return policy;
}

const raccord::rules::CertificateChecker& checker() {
  static const raccord::rules::CertificateChecker instance(fuzz_policy());
  return instance;
}

/// decode_bundle on `content`; returns the fingerprints of the certificates read (empty: refused).
std::vector<std::string> decode(std::string_view content) {
  std::vector<std::string> ders;
  std::vector<std::string> bare;
  std::string why;
  const bool ok = raccord::rules::decode_bundle(content, ders, why, &bare);
  if (!ok && why.empty()) std::abort();  // a refusal always says why
  if (ok && ders.empty()) std::abort();  // a bundle has at least one certificate
  std::vector<std::string> fingerprints;
  for (const std::string& der : ders) {
    raccord::CertificateFacts facts;
    raccord::rules::read_certificate_facts(der, facts);
    fingerprints.push_back(facts.fingerprint_sha256);
  }
  for (const std::string& der : bare) {
    raccord::CertificateFacts facts;
    raccord::rules::read_certificate_facts(der, facts);
  }
  return fingerprints;
}

std::string verdict(const raccord::rules::CertificateReport& report) {
  std::string out;
  for (const auto& c : report.certificates) out += c.fingerprint_sha256 + "\n";
  for (const auto& d : report.diagnostics) out += std::string(raccord::to_code(d.code)) + " " + d.message + "\n";
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string encoded = base64(text);
  decode(text);
  const std::vector<std::string> decoded = decode(encoded);

  raccord::SheetOperation sheet;
  sheet.kind = raccord::SheetKind::Edi;
  sheet.has_certificates = true;
  sheet.certificates_line = 3;
  raccord::CertificateField field;
  field.content = encoded;
  field.line = 4;
  field.index = 1;
  sheet.certificates.push_back(field);
  const auto at = std::chrono::sys_days(std::chrono::year(2026) / 11 / 29) + std::chrono::hours(10);
  const auto instant = std::chrono::time_point_cast<std::chrono::seconds>(at);
  const raccord::rules::CertificateReport report = checker().check(sheet, raccord::Protocol::As2, instant, true);
  // Differential (issue 7): the check reads a bundle through its fast path (authorities kept
  // decoded), decode_bundle through d2i_PKCS7 alone: the same certificates, in the same order.
  std::vector<std::string> checked;
  for (const auto& c : report.certificates) checked.push_back(c.fingerprint_sha256);
  if (checked != decoded) std::abort();
  // Once this bundle's authorities are kept decoded (and proved), the verdict is the same.
  if (verdict(checker().check(sheet, raccord::Protocol::As2, instant, true)) != verdict(report)) std::abort();
  return 0;
}
