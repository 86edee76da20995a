// What the tests of the certificate rules share (tests/rules/certificates_test.cpp and the tests of
// the files it is split into: bundle_decoding, certificate_facts, chain_building, trust_store): sheets
// whose certificates come from the test PKI, checked at a fixed instant, and the fixture holding a
// checker on the test PKI's trust directory. One fixture type for every file, so that the tests of
// one suite may live in several files.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "rules/certificates.hpp"
#include "tests/support/test_pki.hpp"

namespace raccord::rules {

using raccord::testing::CaOptions;
using raccord::testing::LeafOptions;
using raccord::testing::TestPki;

inline const TestPki& pki() {
  return TestPki::instance();
}

inline Instant instant(const char* iso) {
  return *parse_iso_instant(iso);
}

// F27's clock: every check runs at this instant unless said otherwise.
inline const Instant kNow = instant("2026-06-10T10:00:00Z");

inline std::filesystem::path temp_dir(const std::string& name) {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::path(::testing::TempDir()) /
             ("raccord_certs_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + name);
  std::filesystem::remove_all(dir);
  return dir;
}

inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

/// A sheet whose Certificats hold one Certificat per content (lines 11, 12, ...; Certificats on line 10).
inline SheetOperation sheet_with(const std::vector<std::string>& contents, const std::string& name = "certificat.p7b") {
  SheetOperation sheet;
  sheet.has_certificates = true;
  sheet.certificates_line = 10;
  for (std::size_t i = 0; i < contents.size(); ++i) {
    CertificateField f;
    f.name = Field{name, static_cast<int>(11 + i), true};
    f.content = contents[i];
    f.line = static_cast<int>(11 + i);
    f.index = static_cast<int>(i + 1);
    sheet.certificates.push_back(f);
  }
  return sheet;
}

inline std::string bundle(const std::vector<std::string>& ders) {
  return TestPki::base64(TestPki::pkcs7_der(ders));
}

inline std::vector<ErrorCode> error_codes(const CertificateReport& r) {
  std::vector<ErrorCode> out;
  for (const auto& d : r.diagnostics) {
    if (d.is_error()) out.push_back(d.code);
  }
  return out;
}

inline std::vector<ErrorCode> warning_codes(const CertificateReport& r) {
  std::vector<ErrorCode> out;
  for (const auto& d : r.diagnostics) {
    if (!d.is_error()) out.push_back(d.code);
  }
  return out;
}

inline std::string dump(const CertificateReport& r) {
  std::string out;
  for (const auto& d : r.diagnostics) {
    out += std::string(to_code(d.code)) + " [" + d.field + ":" + std::to_string(d.line) + "] " + d.message + "\n";
  }
  return out;
}

using Codes = std::vector<ErrorCode>;

class CertificatesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    trust_dir_ = new std::filesystem::path(temp_dir("trust"));
    pki().write_trust_dir(*trust_dir_);
    CertificatePolicy policy;
    policy.trust_dir = *trust_dir_;
    checker_ = new CertificateChecker(policy);
  }
  static void TearDownTestSuite() {
    delete checker_;
    std::filesystem::remove_all(*trust_dir_);
    delete trust_dir_;
  }

  static CertificateReport check(const std::vector<std::string>& contents,
                                 std::optional<Protocol> protocol = Protocol::Sftp, Instant at = kNow) {
    return checker_->check(sheet_with(contents), protocol, at);
  }
  static CertificateReport check_leaf(const LeafOptions& o, std::optional<Protocol> protocol = Protocol::Sftp,
                                      Instant at = kNow) {
    return check({pki().bundle_base64(o)}, protocol, at);
  }

  // NOLINTNEXTLINE(readability-identifier-naming): a member of the suite, named like the others
  inline static std::filesystem::path* trust_dir_ = nullptr;
  // NOLINTNEXTLINE(readability-identifier-naming): as above
  inline static CertificateChecker* checker_ = nullptr;
};

}  // namespace raccord::rules
