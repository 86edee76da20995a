// Hostile tests of the issue 7 fast path of rules/certificates.cpp (a SignedData read with
// certificates as ANY, authorities kept decoded per OpenSSL library context): for hand-made
// DER/BER bundles, CertificateChecker::check must read the certificates decode_bundle (d2i_PKCS7,
// no cache) reads, in the same order, and give the same verdict cold, warm, and on two threads.
// (To be merged into tests/rules/certificates_test.cpp by the integrator.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "rules/certificates.hpp"
#include "tests/support/test_pki.hpp"

namespace raccord::rules {
namespace {

using raccord::testing::CaOptions;
using raccord::testing::LeafOptions;
using raccord::testing::TestCa;
using raccord::testing::TestPki;

const TestPki& pki() {
  return TestPki::instance();
}

const Instant kNow = *parse_iso_instant("2026-06-10T10:00:00Z");

// --- a small DER/BER writer -------------------------------------------------------------------

std::string length_of(std::size_t n) {
  if (n < 0x80) return std::string(1, static_cast<char>(n));
  std::string bytes;
  for (std::size_t v = n; v != 0; v >>= 8) bytes.insert(bytes.begin(), static_cast<char>(v & 0xff));
  return std::string(1, static_cast<char>(0x80 | bytes.size())) + bytes;
}
std::string tlv(unsigned char tag, const std::string& content) {
  return std::string(1, static_cast<char>(tag)) + length_of(content.size()) + content;
}
/// Constructed, indefinite length (BER).
std::string ber(unsigned char tag, const std::string& content) {
  return std::string(1, static_cast<char>(tag)) + std::string("\x80", 1) + content + std::string(2, '\0');
}
/// The contents of a DER TLV (definite length).
std::string inner(const std::string& der) {
  const auto b = static_cast<unsigned char>(der[1]);
  const std::size_t header = b < 0x80 ? 2 : 2 + (b & 0x7f);
  return der.substr(header);
}

const std::string kOidSignedData = tlv(0x06, "\x2A\x86\x48\x86\xF7\x0D\x01\x07\x02");
const std::string kOidData = tlv(0x06, "\x2A\x86\x48\x86\xF7\x0D\x01\x07\x01");
const std::string kOidSignedAndEnveloped = tlv(0x06, "\x2A\x86\x48\x86\xF7\x0D\x01\x07\x04");
const std::string kVersion1 = tlv(0x02, std::string("\x01", 1));
const std::string kEmptySet = tlv(0x31, "");

/// SignedData { 1, {}, {data}, [0] certs, [crls], {} } inside a ContentInfo, all definite.
std::string signed_data(const std::string& certs_content, const std::string& extra_after_certs = "") {
  const std::string sd =
      tlv(0x30, kVersion1 + kEmptySet + tlv(0x30, kOidData) + tlv(0xA0, certs_content) + extra_after_certs + kEmptySet);
  return tlv(0x30, kOidSignedData + tlv(0xA0, sd));
}
/// The same, every constructed level indefinite-length (BER).
std::string signed_data_ber(const std::string& certs_content) {
  const std::string sd = ber(0x30, kVersion1 + kEmptySet + ber(0x30, kOidData) + ber(0xA0, certs_content) + kEmptySet);
  return ber(0x30, kOidSignedData + ber(0xA0, sd));
}

SheetOperation sheet_with(const std::string& content) {
  SheetOperation sheet;
  sheet.has_certificates = true;
  sheet.certificates_line = 10;
  CertificateField f;
  f.name = Field{"certificat.p7b", 11, true};
  f.content = content;
  f.line = 11;
  f.index = 1;
  sheet.certificates.push_back(f);
  return sheet;
}

/// Everything a verdict says: certificates (fingerprint), diagnostics (code, field, line, message).
std::string verdict(const CertificateReport& r) {
  std::string out;
  for (const auto& c : r.certificates) out += "cert " + c.fingerprint_sha256 + "\n";
  for (const auto& d : r.diagnostics) {
    out += std::string(to_string(d.code)) + (d.is_error() ? " E " : " W ") + d.field + ":" + std::to_string(d.line) +
           " " + d.message + "\n";
  }
  return out;
}

/// What decode_bundle (d2i_PKCS7 path) makes of `content`: the fingerprints, or the refusal.
std::string decoded(const std::string& content) {
  std::vector<std::string> ders;
  std::string why;
  if (!decode_bundle(content, ders, why)) return "refus " + why;
  std::string out;
  for (const auto& der : ders) {
    CertificateFacts facts;
    EXPECT_TRUE(read_certificate_facts(der, facts));
    out += "cert " + facts.fingerprint_sha256 + "\n";
  }
  return out;
}
/// The same seen from a check: its certificates, or its CERT_FORMAT message.
std::string read_by_check(const CertificateReport& r) {
  for (const auto& d : r.diagnostics) {
    if (d.code == ErrorCode::CertFormat) return "refus " + d.message;
  }
  std::string out;
  for (const auto& c : r.certificates) out += "cert " + c.fingerprint_sha256 + "\n";
  return out;
}

class CertificatesHostileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    trust_dir_ = new std::filesystem::path(std::filesystem::path(::testing::TempDir()) /
                                           ("raccord_hostile7_" + std::to_string(::getpid())));
    pki().write_trust_dir(*trust_dir_);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*trust_dir_);
    delete trust_dir_;
  }
  static CertificatePolicy policy() {
    CertificatePolicy p;
    p.trust_dir = *trust_dir_;
    return p;
  }
  static std::filesystem::path* trust_dir_;
};
std::filesystem::path* CertificatesHostileTest::trust_dir_ = nullptr;

struct Case {
  std::string name;
  std::string content;  // <Certificat> text
};

std::vector<Case> hostile_cases() {
  const std::string leaf = pki().leaf_der();
  const std::string inter = pki().intermediate_der();
  const std::string root = pki().root_der();
  const std::string leaf_ber = ber(0x30, inner(leaf));
  const std::string inter_ber = ber(0x30, inner(inter));
  std::vector<Case> cases;
  auto add = [&cases](std::string name, const std::string& der) { cases.push_back({name, TestPki::base64(der)}); };
  add("reference", TestPki::pkcs7_der({leaf, inter}));
  add("CA deux fois", signed_data(leaf + inter + inter));
  add("CA deux fois, racine aussi", signed_data(inter + leaf + root + inter + root));
  add("tout en BER", signed_data_ber(leaf + inter));
  add("certificats en BER", signed_data(leaf_ber + inter_ber));
  add("CA en BER puis en DER", signed_data(inter_ber + leaf + inter));
  add("CRL vides", signed_data(leaf + inter, tlv(0xA1, "")));
  add("entier parmi les certificats", signed_data(leaf + tlv(0x02, std::string("\x00", 1)) + inter));
  add("SET parmi les certificats", signed_data(leaf + tlv(0x31, inner(inter))));
  add("aucun certificat", signed_data(""));
  add("octets après", TestPki::pkcs7_der({leaf, inter}) + "xx");
  add("NUL après", TestPki::pkcs7_der({leaf, inter}) + std::string(3, '\0'));
  add("élément de trop dans SignedData",
      tlv(0x30, kOidSignedData + tlv(0xA0, tlv(0x30, kVersion1 + kEmptySet + tlv(0x30, kOidData) +
                                                         tlv(0xA0, leaf + inter) + kEmptySet + kEmptySet))));
  add("octets en trop dans un certificat", signed_data(leaf + tlv(0x30, inner(inter) + tlv(0x05, ""))));
  add("EOC dans un ensemble défini", signed_data(leaf + std::string(2, '\0') + inter));
  add("ContentInfo imbriqué",
      tlv(0x30, kOidSignedData +
                    tlv(0xA0, tlv(0x30, kVersion1 + kEmptySet + TestPki::pkcs7_der({leaf, inter}) + kEmptySet))));
  add("ContentInfo imbriqué et certificats",
      tlv(0x30, kOidSignedData + tlv(0xA0, tlv(0x30, kVersion1 + kEmptySet + TestPki::pkcs7_der({leaf, inter}) +
                                                         tlv(0xA0, inter + leaf) + kEmptySet))));
  {
    // signedAndEnveloped { 1, recipientInfos {}, digestAlgs {}, EncryptedContentInfo, [0] certs, {} }
    const std::string eci = tlv(
        0x30, kOidData + tlv(0x30, tlv(0x06, "\x2A\x86\x48\x86\xF7\x0D\x03\x07") + tlv(0x04, std::string(8, '\x01'))));
    const std::string se = tlv(0x30, kVersion1 + kEmptySet + kEmptySet + eci + tlv(0xA0, leaf + inter) + kEmptySet);
    add("signedAndEnveloped", tlv(0x30, kOidSignedAndEnveloped + tlv(0xA0, se)));
  }
  cases.push_back({"PEM PKCS7 en BER", "-----BEGIN PKCS7-----\n" + TestPki::base64(signed_data_ber(leaf + inter)) +
                                           "-----END PKCS7-----\n"});
  cases.push_back({"PEM PKCS7", TestPki::pkcs7_pem({inter, leaf})});
  return cases;
}

// Cold (a new checker), warm (the same checker again, its CAs kept decoded and proved), and after
// the same CAs came in other bundles: the same certificates as decode_bundle, the same verdict.
TEST_F(CertificatesHostileTest, FastPathReadsWhatD2iPkcs7ReadsColdAndWarm) {
  CertificateChecker warm(policy());
  warm.check(sheet_with(pki().bundle_base64()), Protocol::Sftp, kNow);  // the intermediate now kept decoded
  for (const Case& c : hostile_cases()) {
    CertificateChecker cold(policy());
    const CertificateReport first = cold.check(sheet_with(c.content), Protocol::Sftp, kNow);
    EXPECT_EQ(read_by_check(first), decoded(c.content)) << c.name;
    const CertificateReport again = cold.check(sheet_with(c.content), Protocol::Sftp, kNow);
    EXPECT_EQ(verdict(again), verdict(first)) << c.name;
    const CertificateReport warmed = warm.check(sheet_with(c.content), Protocol::Sftp, kNow);
    EXPECT_EQ(verdict(warmed), verdict(first)) << c.name;
  }
  EXPECT_GE(warm.cache_stats().reused_authority_decodings, 5u);  // the fast path did run
}

// More authorities in one bundle than a context keeps (64): the cache is emptied in the middle of
// the bundle; the certificates and the verdict stay those of a cold check.
TEST_F(CertificatesHostileTest, BundleWithMoreAuthoritiesThanTheCacheKeeps) {
  std::vector<std::string> ders{pki().leaf_der(), pki().intermediate_der()};
  for (int i = 0; i < 70; ++i) {
    CaOptions o;
    o.common_name = "Autorité de trop " + std::to_string(i);
    ders.push_back(pki().other_root().issue_ca(o).der());
  }
  ders.push_back(pki().intermediate_der());  // and the intermediate once more, after the eviction
  const std::string content = TestPki::base64(TestPki::pkcs7_der(ders));
  CertificateChecker checker(policy());
  const CertificateReport cold = checker.check(sheet_with(content), Protocol::Sftp, kNow);
  EXPECT_EQ(read_by_check(cold), decoded(content));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(verdict(checker.check(sheet_with(content), Protocol::Sftp, kNow)), verdict(cold)) << i;
  }
}

// Two threads checking the hostile cases at once on one checker (two decoding contexts, each with
// its own kept authorities): each verdict is the cold one.
TEST_F(CertificatesHostileTest, TwoThreadsGiveTheColdVerdicts) {
  const std::vector<Case> cases = hostile_cases();
  std::vector<std::string> expected;
  for (const Case& c : cases) {
    CertificateChecker cold(policy());
    expected.push_back(verdict(cold.check(sheet_with(c.content), Protocol::Sftp, kNow)));
  }
  CertificateChecker shared(policy());
  std::atomic<int> mismatches{0};
  auto run = [&](std::size_t shift) {
    for (int round = 0; round < 3; ++round) {
      for (std::size_t k = 0; k < cases.size(); ++k) {
        const std::size_t i = (k + shift) % cases.size();
        if (verdict(shared.check(sheet_with(cases[i].content), Protocol::Sftp, kNow)) != expected[i]) ++mismatches;
      }
    }
  };
  std::thread a(run, 0);
  std::thread b(run, cases.size() / 2);
  a.join();
  b.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace raccord::rules
