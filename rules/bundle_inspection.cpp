// `raccord cert` inspection (docs/reference.md §7, §3.3, §4) over the sheet rules of rules/certificates.cpp.
#include "rules/bundle_inspection.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>

namespace raccord::rules {
namespace {

bool is_text(std::string_view bytes) {
  for (unsigned char c : bytes) {
    if (c == '\t' || c == '\n' || c == '\r') continue;
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

std::string base64_of(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

SheetOperation sheet_of(std::string content) {
  SheetOperation sheet;
  sheet.has_certificates = true;
  sheet.certificates_line = 0;
  CertificateField field;
  field.content = std::move(content);
  field.index = 1;
  sheet.certificates.push_back(std::move(field));
  return sheet;
}

}  // namespace

std::string make_pkcs7_der(const std::vector<std::string>& der_certificates) {
  std::unique_ptr<PKCS7, decltype(&PKCS7_free)> p7(PKCS7_new(), PKCS7_free);
  std::string out;
  if (!p7 || PKCS7_set_type(p7.get(), NID_pkcs7_signed) != 1 || PKCS7_content_new(p7.get(), NID_pkcs7_data) != 1) {
    ERR_clear_error();
    return out;
  }
  for (const auto& der : der_certificates) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
    const bool added = x != nullptr && PKCS7_add_certificate(p7.get(), x) == 1;  // takes its own reference
    X509_free(x);
    if (!added) {
      ERR_clear_error();
      return out;
    }
  }
  unsigned char* buf = nullptr;
  const int len = i2d_PKCS7(p7.get(), &buf);
  if (len > 0) out.assign(reinterpret_cast<char*>(buf), static_cast<std::size_t>(len));
  OPENSSL_free(buf);
  ERR_clear_error();
  return out;
}

BundleInspection inspect_bundle(std::string_view file_bytes, const CertificateChecker& checker,
                                std::optional<Protocol> protocol, Instant at) {
  BundleInspection inspection;
  // Text (PEM or base64) goes as it is; binary (DER) as its base64, as a <Certificat> would carry it.
  const std::string content = is_text(file_bytes) ? std::string(file_bytes) : base64_of(file_bytes);
  CertificateReport report = checker.check(sheet_of(content), protocol, at, true);

  const bool refused_format = std::any_of(report.diagnostics.begin(), report.diagnostics.end(),
                                          [](const Diagnostic& d) { return d.code == ErrorCode::CertFormat; });
  if (!refused_format) {
    inspection.kind = report.certificates.empty() ? BundleKind::Unreadable : BundleKind::Pkcs7;
    inspection.certificates = std::move(report.certificates);
    inspection.chains = std::move(report.chains);
    inspection.diagnostics = std::move(report.diagnostics);
    return inspection;
  }

  std::vector<std::string> ders;
  std::string why;
  std::vector<std::string> bare;
  decode_bundle(content, ders, why, &bare);
  const std::string bundled = bare.empty() ? std::string() : make_pkcs7_der(bare);
  if (bundled.empty()) {
    inspection.kind = BundleKind::Unreadable;
    inspection.diagnostics = std::move(report.diagnostics);
    return inspection;
  }
  // Bare certificates: CERT_FORMAT, then what they would get once bundled.
  CertificateReport as_bundle = checker.check(sheet_of(base64_of(bundled)), protocol, at, true);
  inspection.kind = BundleKind::BareCertificates;
  inspection.certificates = std::move(as_bundle.certificates);
  inspection.chains = std::move(as_bundle.chains);
  inspection.diagnostics = std::move(report.diagnostics);
  for (auto& d : as_bundle.diagnostics) inspection.diagnostics.push_back(std::move(d));
  return inspection;
}

}  // namespace raccord::rules
