// Tests of rules/bundle_inspection.cpp (`raccord cert` inspection; docs/reference.md §3.3, §7; docs/field-cases.md F19,
// F20).
#include "rules/bundle_inspection.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "tests/support/test_pki.hpp"

namespace raccord::rules {
namespace {

using raccord::testing::TestPki;

const TestPki& pki() {
  return TestPki::instance();
}
const Instant kNow = *parse_iso_instant("2026-06-10T10:00:00Z");

class BundleInspectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::path(::testing::TempDir()) /
                                     ("raccord_inspection_" + std::to_string(::getpid())));
    pki().write_trust_dir(*dir_);
    CertificatePolicy policy;
    policy.trust_dir = *dir_;
    checker_ = new CertificateChecker(policy);
  }
  static void TearDownTestSuite() {
    delete checker_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static BundleInspection inspect(const std::string& bytes, std::optional<Protocol> p = Protocol::Sftp) {
    return inspect_bundle(bytes, *checker_, p, kNow);
  }
  static std::filesystem::path* dir_;
  static CertificateChecker* checker_;
};

std::filesystem::path* BundleInspectionTest::dir_ = nullptr;
CertificateChecker* BundleInspectionTest::checker_ = nullptr;

TEST_F(BundleInspectionTest, DerPemAndBase64GiveTheSameInspection) {
  std::vector<std::string> chain{pki().leaf_der(), pki().intermediate_der(), pki().root_der()};
  auto der = inspect(TestPki::pkcs7_der(chain));
  EXPECT_EQ(der.kind, BundleKind::Pkcs7);
  EXPECT_TRUE(der.acceptable());
  ASSERT_EQ(der.certificates.size(), 3u);
  ASSERT_EQ(der.chains.size(), 1u);
  EXPECT_EQ(der.chains[0].links.size(), 3u);
  EXPECT_EQ(der.chains[0].end, ChainEnd::Anchored);
  for (const std::string& bytes : {TestPki::pkcs7_pem(chain), TestPki::base64(TestPki::pkcs7_der(chain)),
                                   TestPki::pkcs7_der({chain[2], chain[1], chain[0]})}) {
    auto other = inspect(bytes);
    EXPECT_EQ(other.kind, BundleKind::Pkcs7);
    EXPECT_TRUE(other.acceptable());
    ASSERT_EQ(other.chains.size(), 1u);
    EXPECT_EQ(other.chains[0].links.back().fingerprint_sha256, der.chains[0].links.back().fingerprint_sha256);
    EXPECT_EQ(other.chains[0].links.front().fingerprint_sha256, der.chains[0].links.front().fingerprint_sha256);
  }
}

TEST_F(BundleInspectionTest, BareCertificatesAreInspectedWithCertFormatFirst) {
  auto bare = inspect(pki().leaf_der());
  EXPECT_EQ(bare.kind, BundleKind::BareCertificates);
  EXPECT_FALSE(bare.acceptable());
  ASSERT_EQ(bare.certificates.size(), 1u);
  ASSERT_GE(bare.diagnostics.size(), 2u);
  EXPECT_EQ(bare.diagnostics[0].code, ErrorCode::CertFormat);
  EXPECT_EQ(bare.diagnostics[1].code, ErrorCode::CertChaineIncomplete);
  auto pem = inspect(TestPki::certificates_pem({pki().leaf_der(), pki().intermediate_der()}));
  EXPECT_EQ(pem.kind, BundleKind::BareCertificates);
  ASSERT_EQ(pem.diagnostics.size(), 1u);
  EXPECT_EQ(pem.diagnostics[0].code, ErrorCode::CertFormat);
  EXPECT_EQ(pem.certificates.size(), 2u);
}

TEST_F(BundleInspectionTest, UnreadableContentHasNothingToShow) {
  for (const std::string& bytes :
       {TestPki::pkcs7_der({}), TestPki::private_key_pem(), std::string("\x01\x02garbage")}) {
    auto r = inspect(bytes);
    EXPECT_EQ(r.kind, BundleKind::Unreadable);
    EXPECT_TRUE(r.certificates.empty());
    ASSERT_EQ(r.diagnostics.size(), 1u);
    EXPECT_EQ(r.diagnostics[0].code, ErrorCode::CertFormat);
  }
}

TEST(MakePkcs7Der, RoundTripsThroughDecodeBundle) {
  std::vector<std::string> chain{pki().leaf_der(), pki().intermediate_der()};
  std::string p7 = make_pkcs7_der(chain);
  std::vector<std::string> ders;
  std::string why;
  ASSERT_TRUE(decode_bundle(TestPki::base64(p7), ders, why)) << why;
  EXPECT_EQ(ders, chain);
  EXPECT_TRUE(make_pkcs7_der({"pas un certificat"}).empty());
}

}  // namespace
}  // namespace raccord::rules
