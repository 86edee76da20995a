// Tests of rules/certificates.cpp: every CERT_* code from sheets whose certificates come from the test
// PKI, at fixed instants (SPEC.md §3.3, §4; FIELD-CASES F19, F20, F21, F23, F24, F25, F27).
#include "rules/certificates.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/test_pki.hpp"

namespace raccord::rules {
namespace {

using raccord::testing::CaOptions;
using raccord::testing::LeafOptions;
using raccord::testing::TestPki;

const TestPki& pki() {
  return TestPki::instance();
}

Instant instant(const char* iso) {
  return *parse_iso_instant(iso);
}

// F27's clock: every check runs at this instant unless said otherwise.
const Instant kNow = instant("2026-06-10T10:00:00Z");

std::filesystem::path temp_dir(const std::string& name) {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::path(::testing::TempDir()) /
             ("raccord_certs_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + name);
  std::filesystem::remove_all(dir);
  return dir;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

/// A sheet whose Certificats hold one Certificat per content (lines 11, 12, ...; Certificats on line 10).
SheetOperation sheet_with(const std::vector<std::string>& contents, const std::string& name = "certificat.p7b") {
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

std::string bundle(const std::vector<std::string>& ders) {
  return TestPki::base64(TestPki::pkcs7_der(ders));
}

std::vector<ErrorCode> error_codes(const CertificateReport& r) {
  std::vector<ErrorCode> out;
  for (const auto& d : r.diagnostics) {
    if (d.is_error()) out.push_back(d.code);
  }
  return out;
}

std::vector<ErrorCode> warning_codes(const CertificateReport& r) {
  std::vector<ErrorCode> out;
  for (const auto& d : r.diagnostics) {
    if (!d.is_error()) out.push_back(d.code);
  }
  return out;
}

std::string dump(const CertificateReport& r) {
  std::string out;
  for (const auto& d : r.diagnostics) {
    out += std::string(to_string(d.code)) + " [" + d.field + ":" + std::to_string(d.line) + "] " + d.message + "\n";
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

  static std::filesystem::path* trust_dir_;
  static CertificateChecker* checker_;
};

std::filesystem::path* CertificatesTest::trust_dir_ = nullptr;
CertificateChecker* CertificatesTest::checker_ = nullptr;

// ---------------------------------------------------------------------------------------------
// decode_bundle (SPEC.md §3.3, FIELD-CASES F19)

TEST(DecodeBundle, ReadsBase64OfDerPkcs7) {
  std::string leaf = pki().leaf_der();
  std::vector<std::string> ders;
  std::string why;
  ASSERT_TRUE(decode_bundle(bundle({leaf, pki().intermediate_der()}), ders, why)) << why;
  ASSERT_EQ(ders.size(), 2u);
  EXPECT_TRUE(std::find(ders.begin(), ders.end(), leaf) != ders.end());
  EXPECT_TRUE(why.empty());
}

TEST(DecodeBundle, F19SameCertificatesFromDerPemAndWhitespace) {
  std::vector<std::string> chain{pki().leaf_der(), pki().intermediate_der()};
  std::string der = TestPki::pkcs7_der(chain);
  std::string pem = TestPki::pkcs7_pem(chain);
  std::string b64 = TestPki::base64(der);
  // (d) base64 with spaces, tabs, CR and LF anywhere.
  std::string spaced;
  for (std::size_t i = 0; i < b64.size(); ++i) {
    spaced += b64[i];
    if (i % 7 == 3) spaced += " ";
    if (i % 11 == 5) spaced += "\t\r\n";
  }
  // (b) PEM text, indented, CRLF line ends (as pasted in an XML element).
  std::string indented;
  for (char c : pem) {
    if (c == '\n') {
      indented += "\r\n      ";
    } else {
      indented += c;
    }
  }
  std::vector<std::string> expected;
  std::string why;
  ASSERT_TRUE(decode_bundle(b64, expected, why)) << why;
  for (const std::string& content : {TestPki::base64(pem), spaced, pem, "  \n" + indented}) {
    std::vector<std::string> got;
    ASSERT_TRUE(decode_bundle(content, got, why)) << why << "\n" << content;
    EXPECT_EQ(got, expected);
  }
}

TEST(DecodeBundle, F19BarePemCertificatesAreRefusedWithHowToBundle) {
  std::string pem = TestPki::certificates_pem({pki().leaf_der(), pki().intermediate_der(), pki().root_der()});
  for (const std::string& content : {pem, TestPki::base64(pem)}) {
    std::vector<std::string> ders;
    std::string why;
    EXPECT_FALSE(decode_bundle(content, ders, why));
    EXPECT_TRUE(ders.empty());
    EXPECT_NE(why.find("sans structure PKCS#7"), std::string::npos) << why;
    EXPECT_NE(why.find("openssl crl2pkcs7 -nocrl -certfile chaine.pem -out certificat.p7b"), std::string::npos) << why;
    EXPECT_NE(why.find("(3)"), std::string::npos) << why;
  }
}

TEST(DecodeBundle, F19BareDerCertificateIsRefused) {
  std::vector<std::string> ders;
  std::string why;
  EXPECT_FALSE(decode_bundle(TestPki::base64(pki().leaf_der()), ders, why));
  EXPECT_NE(why.find("un certificat X.509 seul"), std::string::npos) << why;
  EXPECT_NE(why.find("PKCS#7"), std::string::npos);
}

TEST(DecodeBundle, F19EmptyCertificateSetIsRefused) {
  std::vector<std::string> ders;
  std::string why;
  EXPECT_FALSE(decode_bundle(bundle({}), ders, why));
  EXPECT_NE(why.find("aucun certificat"), std::string::npos) << why;
  EXPECT_FALSE(decode_bundle(TestPki::pkcs7_pem({}), ders, why));
  EXPECT_NE(why.find("aucun certificat"), std::string::npos) << why;
}

TEST(DecodeBundle, F19PrivateKeysAreRefusedAndNeverEchoed) {
  std::string key_pem = TestPki::private_key_pem();
  std::string key_der = TestPki::private_key_der();
  std::string p12 = pki().pkcs12_der();
  std::string mixed = key_pem + TestPki::pkcs7_pem({pki().leaf_der(), pki().intermediate_der()});
  for (const std::string& content :
       {key_pem, TestPki::base64(key_pem), TestPki::base64(key_der), TestPki::base64(p12), mixed}) {
    std::vector<std::string> ders;
    std::string why;
    EXPECT_FALSE(decode_bundle(content, ders, why));
    EXPECT_TRUE(ders.empty());
    EXPECT_NE(why.find("une clé privée ne doit jamais être envoyée"), std::string::npos) << why;
    // No line of the key text (nor of its base64) appears in the message.
    std::size_t start = 0;
    while (start < content.size()) {
      std::size_t end = std::min(content.find('\n', start), content.size());
      std::string line = content.substr(start, end - start);
      if (line.size() > 8) {
        EXPECT_EQ(why.find(line), std::string::npos) << line;
      }
      start = end + 1;
    }
  }
}

TEST(DecodeBundle, RefusesGarbage) {
  std::vector<std::string> ders;
  std::string why;
  EXPECT_FALSE(decode_bundle("ceci n'est pas un certificat", ders, why));
  EXPECT_NE(why.find("base64"), std::string::npos) << why;
  EXPECT_FALSE(decode_bundle(TestPki::base64("bonjour, ceci est du texte"), ders, why));
  EXPECT_NE(why.find("PKCS#7"), std::string::npos) << why;
  EXPECT_FALSE(decode_bundle("-----BEGIN PKCS7-----\n@@@@\n-----END PKCS7-----\n", ders, why));
  EXPECT_FALSE(why.empty());
  EXPECT_FALSE(decode_bundle("   ", ders, why));
}

TEST(ReadCertificateFacts, ReadsEveryFact) {
  LeafOptions o;
  o.server_auth = true;
  std::string der = pki().leaf_der(o);
  CertificateFacts f;
  ASSERT_TRUE(read_certificate_facts(der, f));
  EXPECT_EQ(f.subject, "CN=client.exemple.fr");
  EXPECT_EQ(f.subject_cn, "client.exemple.fr");
  EXPECT_EQ(f.issuer, "CN=Raccord Test Intermediate CA");
  EXPECT_EQ(f.not_before, instant("2025-01-01T00:00:00Z"));
  EXPECT_EQ(f.not_after, instant("2030-12-31T23:59:59Z"));
  EXPECT_EQ(f.fingerprint_sha256.size(), 64u);
  EXPECT_EQ(f.fingerprint_sha256.find_first_not_of("0123456789ABCDEF"), std::string::npos);
  EXPECT_FALSE(f.serial.empty());
  EXPECT_EQ(f.serial.find_first_not_of("0123456789ABCDEF"), std::string::npos);
  EXPECT_FALSE(f.is_ca);
  EXPECT_FALSE(f.self_signed);
  EXPECT_TRUE(f.has_eku);
  EXPECT_TRUE(f.client_auth);
  EXPECT_TRUE(f.server_auth);
  EXPECT_EQ(f.key_type, "EC");
  EXPECT_EQ(f.key_bits, 256);
  EXPECT_EQ(f.signature_algorithm, "ecdsa-with-SHA256");

  CertificateFacts root;
  ASSERT_TRUE(read_certificate_facts(pki().root_der(), root));
  EXPECT_TRUE(root.is_ca);
  EXPECT_TRUE(root.self_signed);
  EXPECT_FALSE(read_certificate_facts("pas un certificat", root));
}

// ---------------------------------------------------------------------------------------------
// A correct sheet, facts, CERT_ABSENT, CERT_NOMBRE, CERT_FORMAT

TEST_F(CertificatesTest, AcceptsAValidChainAndReportsItsFacts) {
  LeafOptions o;
  std::string leaf = pki().leaf_der(o);
  auto r = check({bundle({leaf, pki().intermediate_der()})});
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  ASSERT_EQ(r.certificates.size(), 2u);
  CertificateFacts expected;
  ASSERT_TRUE(read_certificate_facts(leaf, expected));
  const auto& f = r.certificates[0];
  EXPECT_EQ(f.fingerprint_sha256, expected.fingerprint_sha256);
  EXPECT_EQ(f.bundle_index, 1);
  EXPECT_EQ(r.certificates[1].subject, "CN=Raccord Test Intermediate CA");
  EXPECT_EQ(r.certificates[1].bundle_index, 1);
  EXPECT_EQ(checker_->trust_anchor_count(), 1);
}

TEST_F(CertificatesTest, CertAbsentWithoutCertificats) {
  SheetOperation sheet;
  auto r = checker_->check(sheet, Protocol::Sftp, kNow);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertAbsent});
  EXPECT_EQ(r.diagnostics[0].field, "Certificats");

  sheet.has_certificates = true;  // <Certificats/> without <Certificat>
  sheet.certificates_line = 7;
  r = checker_->check(sheet, Protocol::Sftp, kNow);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertAbsent});
  EXPECT_EQ(r.diagnostics[0].line, 7);
}

TEST_F(CertificatesTest, CertAbsentForAnEmptyCertificat) {
  auto r = check({"  \n "});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertAbsent}) << dump(r);
  EXPECT_EQ(r.diagnostics[0].field, "Certificats/Certificat[1]");
  EXPECT_EQ(r.diagnostics[0].line, 11);
}

TEST_F(CertificatesTest, CertNombreForSftpAndApi) {
  std::string b = pki().bundle_base64();
  for (std::optional<Protocol> p : {std::optional<Protocol>(Protocol::Sftp), std::optional<Protocol>()}) {
    auto r = check({b, b}, p);
    EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertNombre}) << dump(r);
    EXPECT_EQ(r.diagnostics[0].field, "Certificats");
    EXPECT_NE(r.diagnostics[0].message.find("exactement un certificat"), std::string::npos);
  }
}

TEST_F(CertificatesTest, PesitAndAs2TakeOneOrTwoCertificates) {
  LeafOptions client;
  LeafOptions server;
  server.common_name = "serveur.exemple.fr";
  server.client_auth = false;
  server.server_auth = true;
  std::string c = pki().bundle_base64(client);
  std::string s = pki().bundle_base64(server);
  for (Protocol p : {Protocol::Pesit, Protocol::As2}) {
    auto r = check({c, s}, p);
    EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
    ASSERT_EQ(r.certificates.size(), 4u);
    EXPECT_EQ(r.certificates[2].bundle_index, 2);
    r = check({c, s, c}, p);
    EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertNombre}) << dump(r);
  }
}

TEST_F(CertificatesTest, CertFormatOnTheRightCertificat) {
  LeafOptions both;
  both.server_auth = true;
  auto r = check({pki().bundle_base64(both), TestPki::certificates_pem({pki().leaf_der()})}, Protocol::Pesit);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertFormat}) << dump(r);
  EXPECT_EQ(r.diagnostics[0].field, "Certificats/Certificat[2]");
  EXPECT_EQ(r.diagnostics[0].line, 12);
  EXPECT_NE(r.diagnostics[0].message.find("crl2pkcs7"), std::string::npos);
  EXPECT_EQ(r.certificates.size(), 2u);  // facts of the readable bundle only
}

TEST_F(CertificatesTest, F19VerdictDoesNotDependOnFormatOrName) {
  LeafOptions o;
  o.not_after = "2026-01-31T23:59:59Z";  // expired at kNow: a non-empty verdict to compare
  std::vector<std::string> chain{pki().leaf_der(o), pki().intermediate_der()};
  std::string der64 = bundle(chain);
  auto reference = check({der64});
  ASSERT_EQ(error_codes(reference), Codes{ErrorCode::CertExpire}) << dump(reference);
  for (const std::string& content : {TestPki::pkcs7_pem(chain), TestPki::base64(TestPki::pkcs7_pem(chain)), der64}) {
    for (const char* name : {"certificat.p7b", "certificat.pem", "certificat.cer"}) {
      auto r = checker_->check(sheet_with({content}, name), Protocol::Sftp, kNow);
      EXPECT_EQ(error_codes(r), error_codes(reference)) << name;
      ASSERT_EQ(r.certificates.size(), reference.certificates.size());
      EXPECT_EQ(r.certificates[0].fingerprint_sha256, reference.certificates[0].fingerprint_sha256);
    }
  }
  auto bare = check({TestPki::certificates_pem(chain)});
  EXPECT_EQ(error_codes(bare), Codes{ErrorCode::CertFormat});
  auto empty = check({bundle({})});
  EXPECT_EQ(error_codes(empty), Codes{ErrorCode::CertFormat});
  auto key = check({TestPki::base64(pki().pkcs12_der())});
  EXPECT_EQ(error_codes(key), Codes{ErrorCode::CertFormat});
  EXPECT_NE(key.diagnostics[0].message.find("clé privée"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// F20: order of the bundle

TEST_F(CertificatesTest, F20OrderDoesNotMatter) {
  std::string leaf = pki().leaf_der();
  std::string inter = pki().intermediate_der();
  std::string root = pki().root_der();
  std::string fp;
  for (const auto& order : std::vector<std::vector<std::string>>{
           {leaf, inter, root}, {root, inter, leaf}, {inter, root, leaf}, {inter, leaf}}) {
    auto r = check({bundle(order)});
    EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
    auto it = std::find_if(r.certificates.begin(), r.certificates.end(), [](auto& f) { return !f.is_ca; });
    ASSERT_NE(it, r.certificates.end());
    if (fp.empty()) fp = it->fingerprint_sha256;
    EXPECT_EQ(it->fingerprint_sha256, fp);
  }
}

TEST_F(CertificatesTest, F20UnrelatedCaCertificateIsIgnored) {
  auto r = check({bundle({pki().other_root().der(), pki().leaf_der(), pki().intermediate_der()})});
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  EXPECT_EQ(r.certificates.size(), 3u);
}

TEST_F(CertificatesTest, F20TwoLeavesAreJudgedTogether) {
  LeafOptions server;
  server.common_name = "serveur.exemple.fr";
  server.client_auth = false;
  server.server_auth = true;
  std::string c = pki().leaf_der();
  std::string s = pki().leaf_der(server);
  // PESIT: client + server leaves in one bundle cover both purposes.
  auto r = check({bundle({s, pki().intermediate_der(), c})}, Protocol::Pesit);
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  // SFTP: each leaf is checked; an expired second leaf is reported.
  LeafOptions old;
  old.common_name = "ancien.exemple.fr";
  old.not_after = "2025-12-31T23:59:59Z";
  r = check({bundle({c, pki().leaf_der(old), pki().intermediate_der()})}, Protocol::Sftp);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertExpire}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("CN=ancien.exemple.fr"), std::string::npos);
}

// F20 with several issuer candidates: a CA shipped both cross-signed by the trusted root and
// self-signed (same name, same key), renewed CA certificates, namesakes with other keys, loops.
// Every order of the bundle gives the same verdict and the same chain (docs/design.md, "Chain
// building").

/// Every order of `certs` (n! bundles).
std::vector<std::vector<std::string>> every_order(std::vector<std::string> certs) {
  std::vector<std::size_t> index(certs.size());
  for (std::size_t i = 0; i < index.size(); ++i) index[i] = i;
  std::vector<std::vector<std::string>> out;
  do {
    std::vector<std::string> order;
    for (std::size_t i : index) order.push_back(certs[i]);
    out.push_back(std::move(order));
  } while (std::next_permutation(index.begin(), index.end()));
  return out;
}

std::string fingerprint_of(const std::string& der) {
  CertificateFacts facts;
  EXPECT_TRUE(read_certificate_facts(der, facts));
  return facts.fingerprint_sha256;
}

/// The verdict of a report in a form that does not depend on the bundle's order: error and warning
/// codes with their messages, and the chains (end, missing issuer, fingerprints, trust-store marks).
std::string order_free_verdict(const CertificateReport& r) {
  std::string out = dump(r);
  for (const auto& c : r.chains) {
    out += "chain end=" + std::to_string(static_cast<int>(c.end)) + " " + c.missing_issuer + ":";
    for (const auto& l : c.links) out += " " + l.fingerprint_sha256 + (l.from_trust_store ? "*" : "");
    out += "\n";
  }
  return out;
}

/// "CN=Raccord Cross CA", issued by the trusted root; its other forms are made from it by the tests.
const raccord::testing::TestCa& cross_ca() {
  static const raccord::testing::TestCa ca = pki().root().issue_ca({"Raccord Cross CA"});
  return ca;
}

class ChainBuildingTest : public CertificatesTest {
 protected:
  /// Checks every order of `certs` on a fresh checker (cold) and on the shared one (warm after the
  /// first orders), expects the same verdict for all, and returns it with the first order's report.
  static CertificateReport same_for_every_order(const std::vector<std::string>& certs, Instant at = kNow) {
    CertificatePolicy policy;
    policy.trust_dir = *trust_dir_;
    CertificateChecker cold(policy);
    CertificateReport first;
    std::string reference;
    for (const auto& order : every_order(certs)) {
      cold.clear_cache();
      auto r = cold.check(sheet_with({bundle(order)}), Protocol::Sftp, at, true);
      auto warm = checker_->check(sheet_with({bundle(order)}), Protocol::Sftp, at, true);
      const std::string verdict = order_free_verdict(r);
      EXPECT_EQ(order_free_verdict(warm), verdict) << "cache";
      if (reference.empty()) {
        reference = verdict;
        first = std::move(r);
      } else {
        EXPECT_EQ(verdict, reference) << "l'ordre du lot change le verdict";
      }
    }
    return first;
  }

  static std::vector<std::string> chain_fingerprints(const CertificateReport& r) {
    std::vector<std::string> out;
    if (r.chains.size() != 1) return out;
    for (const auto& l : r.chains[0].links) out.push_back(l.fingerprint_sha256);
    return out;
  }
};

TEST_F(ChainBuildingTest, F20CrossSignedCaShippedWithItsSelfSignedFormIsAnchoredInEveryOrder) {
  const auto& ca = cross_ca();
  const auto self = ca.self_signed_copy();
  const std::string leaf = ca.leaf_der();
  // The issue's two orders first: [leaf, CA by root, CA self-signed] and the order pyca/cryptography writes.
  for (const auto& order :
       {std::vector<std::string>{leaf, ca.der(), self.der()}, std::vector<std::string>{leaf, self.der(), ca.der()}}) {
    auto r = check({bundle(order)});
    EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  }
  // The shared checker has proved the CA on a plain bundle: the warm checks cannot take its cache.
  ASSERT_TRUE(check({bundle({ca.leaf_der(), ca.der()})}).diagnostics.empty());
  auto r = same_for_every_order({leaf, ca.der(), self.der()});
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  ASSERT_EQ(r.chains.size(), 1u);
  EXPECT_EQ(r.chains[0].end, ChainEnd::Anchored);
  EXPECT_EQ(chain_fingerprints(r), (std::vector<std::string>{fingerprint_of(leaf), fingerprint_of(ca.der()),
                                                             fingerprint_of(pki().root_der())}));
  EXPECT_TRUE(r.chains[0].links[2].from_trust_store);
  // The same with a copy of the trusted root in the bundle: the trust store's root ends the chain.
  r = same_for_every_order({leaf, ca.der(), self.der(), pki().root_der()});
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  EXPECT_EQ(chain_fingerprints(r), (std::vector<std::string>{fingerprint_of(leaf), fingerprint_of(ca.der()),
                                                             fingerprint_of(pki().root_der())}));
}

TEST_F(ChainBuildingTest, F20WithoutAPathToAnAnchorTheCodeIsTheSameInEveryOrder) {
  const auto& ca = cross_ca();
  const auto self = ca.self_signed_copy();
  const auto by_other = ca.cross_signed_by(pki().other_root());  // its issuer is in neither bundle nor store
  const std::string leaf = ca.leaf_der();
  // Only the self-signed form: the chain reaches an untrusted root.
  auto r = same_for_every_order({leaf, self.der()});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertAutoriteNonReconnue}) << dump(r);
  // Self-signed form and a form whose issuer is missing: the path complete in the bundle is reported
  // (CERT_AUTORITE_NON_RECONNUE before CERT_CHAINE_INCOMPLETE, as the precedence orders them).
  r = same_for_every_order({leaf, by_other.der(), self.der()});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertAutoriteNonReconnue}) << dump(r);
  EXPECT_EQ(chain_fingerprints(r), (std::vector<std::string>{fingerprint_of(leaf), fingerprint_of(self.der())}));
  // Only the form whose issuer is missing: CERT_CHAINE_INCOMPLETE naming that issuer.
  r = same_for_every_order({leaf, by_other.der()});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertChaineIncomplete}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("« CN=Raccord Other Root CA »"), std::string::npos) << dump(r);
  // The three forms: the anchored one wins.
  r = same_for_every_order({leaf, by_other.der(), self.der(), ca.der()});
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  EXPECT_EQ(chain_fingerprints(r), (std::vector<std::string>{fingerprint_of(leaf), fingerprint_of(ca.der()),
                                                             fingerprint_of(pki().root_der())}));
}

TEST_F(ChainBuildingTest, F20ValidCaCertificateIsPreferredToAnExpiredOne) {
  const auto& ca = cross_ca();
  const auto old = ca.cross_signed_by(pki().root(), {"", "2020-01-01T00:00:00Z", "2024-12-31T23:59:59Z"});
  const auto self = ca.self_signed_copy();
  const std::string leaf = ca.leaf_der();
  auto r = same_for_every_order({leaf, old.der(), ca.der()});
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  EXPECT_EQ(chain_fingerprints(r), (std::vector<std::string>{fingerprint_of(leaf), fingerprint_of(ca.der()),
                                                             fingerprint_of(pki().root_der())}));
  r = same_for_every_order({leaf, old.der(), ca.der(), self.der()});
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  // Only an expired path reaches the anchor, beside an untrusted self-signed form: the anchored path is
  // kept and its expired CA is reported (the sender is told to add the renewed CA certificate).
  r = same_for_every_order({leaf, old.der(), self.der()});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertExpire}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("Le certificat d'autorité « CN=Raccord Cross CA »"), std::string::npos)
      << dump(r);
  EXPECT_EQ(chain_fingerprints(r), (std::vector<std::string>{fingerprint_of(leaf), fingerprint_of(old.der()),
                                                             fingerprint_of(pki().root_der())}));
}

TEST_F(ChainBuildingTest, F20NamesakeWithAnotherKeyIsNotTakenForTheIssuer) {
  // A leaf without authorityKeyIdentifier: every CA named like its issuer is a candidate.
  const auto& ca = cross_ca();
  LeafOptions o;
  o.authority_key_id = false;
  const std::string leaf = ca.leaf_der(o);
  const auto namesake_by_root = pki().root().issue_ca({"Raccord Cross CA"});  // same name, other key, anchored
  const auto namesake_self = raccord::testing::TestCa::self_signed({"Raccord Cross CA"});
  for (const auto* namesake : {&namesake_by_root, &namesake_self}) {
    auto r = same_for_every_order({leaf, namesake->der(), ca.der()});
    EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
    EXPECT_EQ(chain_fingerprints(r), (std::vector<std::string>{fingerprint_of(leaf), fingerprint_of(ca.der()),
                                                               fingerprint_of(pki().root_der())}));
  }
  // Only the namesake: its signature does not verify the leaf, whatever the order.
  auto r = same_for_every_order({leaf, namesake_by_root.der()});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertAutoriteNonReconnue}) << dump(r);
}

TEST_F(ChainBuildingTest, F20LoopsEndAndAPathOutOfThemIsFound) {
  // A issues the leaf; A is issued by B and B by A (cross-certified), neither trusted.
  const auto a = raccord::testing::TestCa::self_signed({"Raccord Loop A CA"});
  const auto b = a.issue_ca({"Raccord Loop B CA"});
  const auto a_by_b = a.cross_signed_by(b);
  const std::string leaf = a.leaf_der();
  auto r = same_for_every_order({leaf, a_by_b.der(), b.der()});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertChaineIncomplete}) << dump(r);
  // With A's self-signed certificate: an untrusted root.
  r = same_for_every_order({leaf, a_by_b.der(), b.der(), a.der()});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertAutoriteNonReconnue}) << dump(r);
  // B also cross-signed by the trusted root: the way out of the loop reaches the anchor (5 certificates,
  // 120 orders).
  const auto b_by_root = b.cross_signed_by(pki().root());
  r = same_for_every_order({leaf, a_by_b.der(), b.der(), a.der(), b_by_root.der()});
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  EXPECT_EQ(chain_fingerprints(r),
            (std::vector<std::string>{fingerprint_of(leaf), fingerprint_of(a_by_b.der()),
                                      fingerprint_of(b_by_root.der()), fingerprint_of(pki().root_der())}));
}

TEST_F(ChainBuildingTest, F20PrecedenceStaysWithSeveralCandidates) {
  // A self-signed leaf is CERT_AUTOSIGNE alone, whatever else the bundle holds.
  const auto& ca = cross_ca();
  LeafOptions self_leaf;
  self_leaf.self_signed = true;
  auto r = same_for_every_order({ca.leaf_der(self_leaf), ca.der(), ca.self_signed_copy().der()});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertAutosigne}) << dump(r);
}

TEST_F(ChainBuildingTest, F20ManyNamesakesAreSearchedInBoundedTime) {
  // 60 self-signed namesakes of the leaf's CA (other keys) around the real one: the leaf has no
  // authorityKeyIdentifier, so all 61 are candidates; the one whose signature verifies is found.
  const auto& ca = cross_ca();
  LeafOptions o;
  o.authority_key_id = false;
  const std::string leaf = ca.leaf_der(o);
  std::vector<std::string> certs{leaf};
  for (int i = 0; i < 60; ++i) certs.push_back(raccord::testing::TestCa::self_signed({"Raccord Cross CA"}).der());
  certs.push_back(ca.der());
  std::vector<std::string> reversed(certs.rbegin(), certs.rend());
  for (const auto& order : {certs, reversed}) {
    auto r = checker_->check(sheet_with({bundle(order)}), Protocol::Sftp, kNow, true);
    EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
    ASSERT_EQ(r.chains.size(), 1u);
    ASSERT_EQ(r.chains[0].links.size(), 3u);
    EXPECT_EQ(r.chains[0].links[1].fingerprint_sha256, fingerprint_of(ca.der()));
  }
}

// ---------------------------------------------------------------------------------------------
// F21: chain building; CERT_CHAINE_INCOMPLETE, CERT_AUTORITE_NON_RECONNUE, CERT_AUTOSIGNE

TEST_F(CertificatesTest, F21LeafOnlyIsChaineIncompleteNamingTheIssuer) {
  auto r = check({bundle({pki().leaf_der()})});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertChaineIncomplete}) << dump(r);
  const auto& d = r.diagnostics[0];
  EXPECT_EQ(d.field, "Certificats/Certificat[1]");
  EXPECT_EQ(d.line, 11);
  EXPECT_NE(d.message.find("Ajoutez le certificat intermédiaire « CN=Raccord Test Intermediate CA » au fichier PKCS#7"),
            std::string::npos)
      << d.message;
  EXPECT_NE(d.message.find("CN=client.exemple.fr"), std::string::npos) << d.message;
}

TEST_F(CertificatesTest, F21LeafAndRootWithoutIntermediateIsChaineIncomplete) {
  auto r = check({bundle({pki().leaf_der(), pki().root_der()})});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertChaineIncomplete}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("« CN=Raccord Test Intermediate CA »"), std::string::npos);
}

TEST_F(CertificatesTest, F21ExpiredLeafIsCertExpireForTheLeaf) {
  LeafOptions o;
  o.not_before = "2024-01-01T00:00:00Z";
  o.not_after = "2025-12-31T23:59:59Z";
  auto r = check_leaf(o);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertExpire}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("CN=client.exemple.fr"), std::string::npos);
  EXPECT_NE(r.diagnostics[0].message.find("31/12/2025"), std::string::npos) << r.diagnostics[0].message;
  EXPECT_NE(r.diagnostics[0].message.find("n° de série"), std::string::npos);
}

TEST_F(CertificatesTest, F21AttackerRootCopyingTheTrustedNameIsNotRecognised) {
  std::string leaf = pki().attacker_root().leaf_der();
  auto r = check({bundle({leaf, pki().attacker_root().der()})});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertAutoriteNonReconnue}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("CN=Raccord Test Root CA"), std::string::npos);
  EXPECT_NE(r.diagnostics[0].message.find("porte le nom d'une autorité reconnue mais n'est pas celle-ci"),
            std::string::npos)
      << r.diagnostics[0].message;
}

TEST_F(CertificatesTest, F21IntermediateInTheTrustStoreCompletesALeafOnlyBundle) {
  auto dir = temp_dir("with_intermediate");
  pki().write_trust_dir(dir);
  write_file(dir / "intermediaires.pem", pki().intermediate_pem());
  CertificatePolicy policy;
  policy.trust_dir = dir;
  CertificateChecker checker(policy);
  EXPECT_EQ(checker.trust_anchor_count(), 2);
  auto r = checker.check(sheet_with({bundle({pki().leaf_der()})}), Protocol::Sftp, kNow);
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  std::filesystem::remove_all(dir);
}

TEST_F(CertificatesTest, UntrustedRootIsAutoriteNonReconnue) {
  std::string leaf = pki().other_intermediate().leaf_der();
  auto r = check({bundle({leaf, pki().other_intermediate().der(), pki().other_root().der()})});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertAutoriteNonReconnue}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("CN=Raccord Other Root CA"), std::string::npos);
  EXPECT_NE(r.diagnostics[0].message.find("n'est pas une autorité reconnue"), std::string::npos);
  // Without its root, the same chain misses an issuer.
  r = check({bundle({leaf, pki().other_intermediate().der()})});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertChaineIncomplete}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("« CN=Raccord Other Root CA »"), std::string::npos);
}

TEST_F(CertificatesTest, SelfSignedLeafIsCertAutosigneOnly) {
  LeafOptions o;
  o.self_signed = true;
  auto r = check({bundle({pki().leaf_der(o)})});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertAutosigne}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("auto-signé"), std::string::npos);
  EXPECT_TRUE(r.certificates[0].self_signed);
}

TEST_F(CertificatesTest, MissingTrustDirectoryIsLoggedAndNothingIsRecognised) {
  CertificatePolicy policy;
  policy.trust_dir = temp_dir("absent");
  CertificateChecker checker(policy);
  EXPECT_EQ(checker.trust_anchor_count(), 0);
  ASSERT_FALSE(checker.trust_store_log().empty());
  EXPECT_TRUE(checker.trust_store_log().front().problem);
  auto r = checker.check(sheet_with({bundle({pki().leaf_der(), pki().intermediate_der(), pki().root_der()})}),
                         Protocol::Sftp, kNow);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertAutoriteNonReconnue}) << dump(r);
}

TEST_F(CertificatesTest, TrustDirectoryReadsEveryPemFileAndSkipsOthers) {
  auto dir = temp_dir("mixed");
  write_file(dir / "autorites.crt", pki().root_pem() + pki().other_root().pem());
  write_file(dir / "LISEZMOI.txt", "rien à voir\n");
  write_file(dir / ".cachee.pem", pki().sha1_root().pem());  // hidden: not loaded
  CertificatePolicy policy;
  policy.trust_dir = dir;
  CertificateChecker checker(policy);
  EXPECT_EQ(checker.trust_anchor_count(), 2);
  auto log = checker.trust_store_log();
  // A file without certificates is a problem (warning); a file read is information (issue 18: a
  // normal start logged "<4>... 1 certificat(s) de confiance").
  EXPECT_TRUE(std::any_of(log.begin(), log.end(),
                          [](auto& l) { return l.problem && l.text.find("LISEZMOI.txt") != std::string::npos; }));
  EXPECT_TRUE(std::any_of(log.begin(), log.end(), [](auto& l) {
    return !l.problem && l.text.find("autorites.crt : 2 certificat(s) de confiance") != std::string::npos;
  }));
  EXPECT_FALSE(std::any_of(log.begin(), log.end(),
                           [](auto& l) { return l.problem && l.text.find("autorites.crt") != std::string::npos; }));
  auto r =
      checker.check(sheet_with({bundle({pki().other_intermediate().leaf_der(), pki().other_intermediate().der()})}),
                    Protocol::Sftp, kNow);
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  // Reload after the files change.
  std::filesystem::remove(dir / "autorites.crt");
  std::vector<TrustStoreNote> lines;
  EXPECT_EQ(checker.reload_trust_store(lines), 0);
  EXPECT_FALSE(lines.empty());
  std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Validity: CERT_EXPIRE, CERT_PAS_ENCORE_VALIDE (F27), CERT_EXPIRE_BIENTOT

TEST_F(CertificatesTest, ExpiredIntermediateIsReportedByName) {
  const auto& inter = pki().expired_intermediate();
  LeafOptions o;
  o.not_before = "2024-01-01T00:00:00Z";
  auto r = check({bundle({inter.leaf_der(o), inter.der()})});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertExpire}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("CN=Raccord Expired Intermediate CA"), std::string::npos);
  EXPECT_NE(r.diagnostics[0].message.find("31/12/2024"), std::string::npos);
  // The same bundle was fine in 2024.
  r = check({bundle({inter.leaf_der(o), inter.der()})}, Protocol::Sftp, instant("2024-06-01T00:00:00Z"));
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
}

TEST_F(CertificatesTest, F27NotBeforeWithinClockSkewIsTolerated) {
  LeafOptions o;
  o.not_before = "2026-06-10T10:01:30Z";  // +90 s
  EXPECT_TRUE(check_leaf(o).diagnostics.empty());
  o.not_before = "2026-06-10T10:05:00Z";  // +300 s: the limit
  EXPECT_TRUE(check_leaf(o).diagnostics.empty());
  o.not_before = "2026-06-10T10:05:01Z";  // +301 s
  EXPECT_EQ(error_codes(check_leaf(o)), Codes{ErrorCode::CertPasEncoreValide});
}

TEST_F(CertificatesTest, F27NotBeforeNextMonthIsPasEncoreValide) {
  LeafOptions o;
  o.not_before = "2026-07-10T10:00:00Z";  // +30 days
  auto r = check_leaf(o);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertPasEncoreValide}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("10/07/2026"), std::string::npos) << r.diagnostics[0].message;
  EXPECT_NE(r.diagnostics[0].message.find("CN=client.exemple.fr"), std::string::npos);
  // Checked at that date, it is fine.
  EXPECT_TRUE(check_leaf(o, Protocol::Sftp, instant("2026-07-10T10:00:00Z")).diagnostics.empty());
}

TEST_F(CertificatesTest, NotYetValidIntermediateIsReported) {
  const auto& inter = pki().future_intermediate();
  auto r = check({bundle({inter.leaf_der(), inter.der()})});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertPasEncoreValide}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("CN=Raccord Future Intermediate CA"), std::string::npos);
}

TEST_F(CertificatesTest, ExpiryWarningWithinThirtyDays) {
  LeafOptions o;
  o.not_after = "2026-06-20T10:00:00Z";  // +10 days
  auto r = check_leaf(o);
  EXPECT_TRUE(error_codes(r).empty()) << dump(r);
  EXPECT_EQ(warning_codes(r), Codes{ErrorCode::CertExpireBientot});
  EXPECT_NE(r.diagnostics[0].message.find("20/06/2026"), std::string::npos);
  o.not_after = "2026-07-10T10:00:00Z";  // exactly 30 days
  EXPECT_EQ(warning_codes(check_leaf(o)), Codes{ErrorCode::CertExpireBientot});
  o.not_after = "2026-07-10T10:00:01Z";  // just over 30 days
  EXPECT_TRUE(check_leaf(o).diagnostics.empty());
  o.not_after = "2026-06-10T09:59:59Z";  // already expired: an error, no warning
  r = check_leaf(o);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertExpire});
  EXPECT_TRUE(warning_codes(r).empty());
}

// ---------------------------------------------------------------------------------------------
// F23: CERT_USAGE and CERT_SANS_EKU

TEST_F(CertificatesTest, F23ServerOnlyLeafInAClientRoleIsCertUsage) {
  LeafOptions o;
  o.client_auth = false;
  o.server_auth = true;
  for (std::optional<Protocol> p : {std::optional<Protocol>(Protocol::Sftp), std::optional<Protocol>()}) {
    auto r = check_leaf(o, p);
    EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertUsage}) << dump(r);
    EXPECT_NE(r.diagnostics[0].message.find("n'autorise pas l'authentification client"), std::string::npos)
        << r.diagnostics[0].message;
    EXPECT_EQ(r.diagnostics[0].field, "Certificats/Certificat[1]");
  }
}

TEST_F(CertificatesTest, F23ClientOrBothAreAcceptedForSftp) {
  LeafOptions o;
  EXPECT_TRUE(check_leaf(o).diagnostics.empty());
  o.server_auth = true;
  EXPECT_TRUE(check_leaf(o).diagnostics.empty());
  EXPECT_TRUE(check_leaf(o, Protocol::Pesit).diagnostics.empty());
}

TEST_F(CertificatesTest, F23LeafWithoutEkuIsAcceptedWithAWarning) {
  LeafOptions o;
  o.eku = false;
  for (Protocol p : {Protocol::Sftp, Protocol::Pesit, Protocol::As2}) {
    auto r = check_leaf(o, p);
    EXPECT_TRUE(error_codes(r).empty()) << dump(r);
    EXPECT_EQ(warning_codes(r), Codes{ErrorCode::CertSansEku});
  }
}

TEST_F(CertificatesTest, F23CaLikeLeafIsNotAPartnerCertificate) {
  LeafOptions o;
  o.ca = true;
  auto r = check_leaf(o);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertUsage}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("aucun certificat final"), std::string::npos);
}

TEST_F(CertificatesTest, F23PesitNeedsClientAndServer) {
  LeafOptions client;
  auto r = check_leaf(client, Protocol::Pesit);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertUsage}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("l'authentification serveur"), std::string::npos);
  LeafOptions server;
  server.client_auth = false;
  server.server_auth = true;
  r = check_leaf(server, Protocol::As2);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertUsage}) << dump(r);
  // Two server-only bundles: client missing, reported once on Certificats.
  r = check({pki().bundle_base64(server), pki().bundle_base64(server)}, Protocol::Pesit);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertUsage}) << dump(r);
  EXPECT_EQ(r.diagnostics[0].field, "Certificats");
  EXPECT_NE(r.diagnostics[0].message.find("Aucun des certificats"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// F24: CERT_SIGNATURE_FAIBLE

TEST_F(CertificatesTest, F24Sha1SignedLeafIsWeak) {
  LeafOptions o;
  o.digest = "sha1";
  auto r = check_leaf(o);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertSignatureFaible}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("CN=client.exemple.fr"), std::string::npos);
  EXPECT_NE(r.diagnostics[0].message.find("SHA1"), std::string::npos);
  // MD5 exists only with RSA: a self-signed RSA leaf (its own signature is checked, it is no anchor).
  LeafOptions md5;
  md5.rsa_bits = 2048;
  md5.digest = "md5";
  md5.self_signed = true;
  r = check_leaf(md5);
  EXPECT_EQ(error_codes(r), (Codes{ErrorCode::CertAutosigne, ErrorCode::CertSignatureFaible})) << dump(r);
  EXPECT_NE(r.diagnostics[1].message.find("MD5"), std::string::npos) << r.diagnostics[1].message;
}

TEST_F(CertificatesTest, F24Sha1SignedIntermediateIsWeakAndNamed) {
  const auto& inter = pki().sha1_intermediate();
  auto r = check({bundle({inter.leaf_der(), inter.der()})});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertSignatureFaible}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("CN=Raccord SHA1 Intermediate CA"), std::string::npos);
  EXPECT_EQ(r.diagnostics[0].message.find("CN=client.exemple.fr"), std::string::npos);
}

TEST_F(CertificatesTest, F24TrustedRootSelfSignatureInSha1IsNotChecked) {
  auto dir = temp_dir("sha1root");
  write_file(dir / "racine.pem", pki().sha1_root().pem());
  CertificatePolicy policy;
  policy.trust_dir = dir;
  CertificateChecker checker(policy);
  const auto& inter = pki().sha1_root_intermediate();
  auto r = checker.check(sheet_with({bundle({inter.leaf_der(), inter.der()})}), Protocol::Sftp, kNow);
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  std::filesystem::remove_all(dir);
}

TEST_F(CertificatesTest, F24UnrelatedSha1CertificateInTheBundleIsIgnored) {
  auto r = check({bundle({pki().leaf_der(), pki().intermediate_der(), pki().sha1_intermediate().der()})});
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
}

// ---------------------------------------------------------------------------------------------
// F25: CERT_CLE_FAIBLE

TEST_F(CertificatesTest, F25RsaKeySizeIsOurRule) {
  for (int bits : {1024, 2047}) {
    LeafOptions o;
    o.rsa_bits = bits;
    auto r = check_leaf(o);
    EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertCleFaible}) << bits << dump(r);
    EXPECT_NE(r.diagnostics[0].message.find("(" + std::to_string(bits) + " < 2048)"), std::string::npos)
        << r.diagnostics[0].message;
  }
  for (int bits : {2048, 4096}) {
    LeafOptions o;
    o.rsa_bits = bits;
    auto r = check_leaf(o);
    EXPECT_TRUE(r.diagnostics.empty()) << bits << dump(r);
    EXPECT_EQ(r.certificates[0].key_type, "RSA");
    EXPECT_EQ(r.certificates[0].key_bits, bits);
  }
}

TEST_F(CertificatesTest, F25MinimumIsConfigurable) {
  CertificatePolicy policy;
  policy.trust_dir = *trust_dir_;
  policy.min_rsa_bits = 1024;
  CertificateChecker lax(policy);
  LeafOptions o;
  o.rsa_bits = 1024;
  EXPECT_TRUE(lax.check(sheet_with({pki().bundle_base64(o)}), Protocol::Sftp, kNow).diagnostics.empty());
}

TEST_F(CertificatesTest, EcUnder256BitsIsWeakAndEd25519IsStrong) {
  LeafOptions o;
  o.ec_bits = 224;
  auto r = check_leaf(o);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertCleFaible}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("224 bits"), std::string::npos);
  o.ec_bits = 384;
  EXPECT_TRUE(check_leaf(o).diagnostics.empty());
  LeafOptions ed;
  ed.ed25519 = true;
  r = check_leaf(ed);
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  EXPECT_EQ(r.certificates[0].key_type, "ED25519");
}

// ---------------------------------------------------------------------------------------------
// Several findings at once, concurrency

TEST_F(CertificatesTest, ReportsEveryFindingOfALeaf) {
  LeafOptions o;
  o.rsa_bits = 1024;
  o.digest = "sha1";
  o.client_auth = false;
  o.server_auth = true;
  o.not_after = "2026-01-01T00:00:00Z";
  auto r = check({bundle({pki().leaf_der(o)})});
  auto codes = error_codes(r);
  std::sort(codes.begin(), codes.end());
  EXPECT_EQ(codes, (Codes{ErrorCode::CertChaineIncomplete, ErrorCode::CertExpire, ErrorCode::CertUsage,
                          ErrorCode::CertCleFaible, ErrorCode::CertSignatureFaible}))
      << dump(r);
}

TEST_F(CertificatesTest, CheckIsSafeFromSeveralThreads) {
  std::vector<SheetOperation> sheets{
      sheet_with({pki().bundle_base64()}),
      sheet_with({bundle({pki().leaf_der()})}),
      sheet_with({bundle({pki().attacker_root().leaf_der(), pki().attacker_root().der()})}),
  };
  std::vector<Codes> expected;
  for (const auto& s : sheets) expected.push_back(error_codes(checker_->check(s, Protocol::Sftp, kNow)));
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 15; ++i) {
        for (std::size_t k = 0; k < sheets.size(); ++k) {
          if (error_codes(checker_->check(sheets[k], Protocol::Sftp, kNow)) != expected[k]) ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// ---------------------------------------------------------------------------------------------
// CA cache (issue 3): a CA proved once is not verified again; verdicts identical cold and warm.

/// Everything a verdict says (code, severity, field, line, message), and the chains built.
std::string full_verdict(const CertificateReport& r) {
  std::string out = dump(r);
  for (const auto& d : r.diagnostics) out += d.is_error() ? "E" : "W";
  for (const auto& c : r.chains) {
    out += "\nchain " + std::to_string(c.bundle_index) + " end=" + std::to_string(static_cast<int>(c.end)) + " " +
           c.missing_issuer + ":";
    for (const auto& l : c.links) out += " " + l.fingerprint_sha256 + (l.from_trust_store ? "*" : "");
  }
  return out;
}

struct CacheCase {
  std::string name;
  SheetOperation sheet;
  Protocol protocol;
  Instant at;
};

std::vector<CacheCase> cache_cases() {
  const auto& inter = pki().intermediate();
  const auto& expired = pki().expired_intermediate();
  const auto& sha1 = pki().sha1_intermediate();
  LeafOptions old_leaf;  // valid 2024-01-01..2030: under the expired intermediate, fine in 2024 only
  old_leaf.not_before = "2024-01-01T00:00:00Z";
  LeafOptions expired_leaf;
  expired_leaf.not_before = "2024-01-01T00:00:00Z";
  expired_leaf.not_after = "2025-12-31T23:59:59Z";
  LeafOptions server;
  server.client_auth = false;
  server.server_auth = true;
  LeafOptions weak;
  weak.rsa_bits = 1024;
  const Instant in_2024 = instant("2024-06-01T00:00:00Z");
  std::string leaf = inter.leaf_der();
  const auto& cross = cross_ca();
  const auto cross_self = cross.self_signed_copy();
  const auto cross_old = cross.cross_signed_by(pki().root(), {"", "2020-01-01T00:00:00Z", "2024-12-31T23:59:59Z"});
  const std::string cross_leaf = cross.leaf_der();
  std::vector<CacheCase> cases{
      {"valide", sheet_with({bundle({leaf, inter.der()})}), Protocol::Sftp, kNow},
      {"valide_ordre_inverse", sheet_with({bundle({pki().root_der(), inter.der(), leaf})}), Protocol::Sftp, kNow},
      {"autre_feuille", sheet_with({bundle({inter.leaf_der(), inter.der()})}), Protocol::Sftp, kNow},
      {"feuille_expiree", sheet_with({bundle({inter.leaf_der(expired_leaf), inter.der()})}), Protocol::Sftp, kNow},
      {"serveur_seul", sheet_with({bundle({inter.leaf_der(server), inter.der()})}), Protocol::Sftp, kNow},
      {"rsa_1024", sheet_with({bundle({pki().leaf_der(weak), inter.der()})}), Protocol::Sftp, kNow},
      {"feuille_seule", sheet_with({bundle({leaf})}), Protocol::Sftp, kNow},
      {"intermediaire_expire_2024", sheet_with({bundle({expired.leaf_der(old_leaf), expired.der()})}), Protocol::Sftp,
       in_2024},
      {"intermediaire_expire_2026", sheet_with({bundle({expired.leaf_der(old_leaf), expired.der()})}), Protocol::Sftp,
       kNow},
      {"intermediaire_futur",
       sheet_with({bundle({pki().future_intermediate().leaf_der(), pki().future_intermediate().der()})}),
       Protocol::Sftp, kNow},
      {"intermediaire_sha1", sheet_with({bundle({sha1.leaf_der(), sha1.der()})}), Protocol::Sftp, kNow},
      {"racine_attaquante", sheet_with({bundle({pki().attacker_root().leaf_der(), pki().attacker_root().der()})}),
       Protocol::Sftp, kNow},
      {"intermediaire_et_racine_attaquante", sheet_with({bundle({leaf, inter.der(), pki().attacker_root().der()})}),
       Protocol::Sftp, kNow},
      {"racine_inconnue",
       sheet_with({bundle(
           {pki().other_intermediate().leaf_der(), pki().other_intermediate().der(), pki().other_root().der()})}),
       Protocol::Sftp, kNow},
      {"deux_feuilles", sheet_with({bundle({leaf, inter.leaf_der(server), inter.der()})}), Protocol::Pesit, kNow},
      // F20: several certificates of one CA (the cache must not serve a chain the bundle makes ambiguous).
      {"ca_croisee_seule", sheet_with({bundle({cross_leaf, cross.der()})}), Protocol::Sftp, kNow},
      {"ca_croisee_et_autosignee", sheet_with({bundle({cross_leaf, cross_self.der(), cross.der()})}), Protocol::Sftp,
       kNow},
      {"ca_autosignee_racine_et_croisee",
       sheet_with({bundle({cross_self.der(), pki().root_der(), cross_leaf, cross.der()})}), Protocol::Sftp, kNow},
      {"ca_autosignee_seule", sheet_with({bundle({cross_leaf, cross_self.der()})}), Protocol::Sftp, kNow},
      {"ca_ancienne_et_renouvelee", sheet_with({bundle({cross_leaf, cross_old.der(), cross.der()})}), Protocol::Sftp,
       kNow},
      {"ca_ancienne_et_autosignee", sheet_with({bundle({cross_leaf, cross_old.der(), cross_self.der()})}),
       Protocol::Sftp, kNow},
  };
  return cases;
}

TEST_F(CertificatesTest, CacheGivesTheSameVerdictAsAFullVerification) {
  CertificatePolicy policy;
  policy.trust_dir = *trust_dir_;
  CertificateChecker checker(policy);
  auto cases = cache_cases();
  // Cold: every case on an empty cache.
  std::vector<std::string> cold;
  for (const auto& c : cases) {
    checker.clear_cache();
    cold.push_back(full_verdict(checker.check(c.sheet, c.protocol, c.at, true)));
  }
  // Warm: after each case proved its authorities (at its own instant), every case again.
  std::uint64_t cached = 0;
  for (const auto& warm_up : cases) {
    checker.clear_cache();
    checker.check(warm_up.sheet, warm_up.protocol, warm_up.at);
    for (std::size_t i = 0; i < cases.size(); ++i) {
      EXPECT_EQ(full_verdict(checker.check(cases[i].sheet, cases[i].protocol, cases[i].at, true)), cold[i])
          << "après " << warm_up.name << " : " << cases[i].name;
    }
    cached += checker.cache_stats().cached_verifications;
  }
  EXPECT_GT(cached, 0u);  // the warm path did run
}

TEST_F(CertificatesTest, ExpiredIntermediateProvedEarlierStillFails) {
  const auto& expired = pki().expired_intermediate();
  LeafOptions o;
  o.not_before = "2024-01-01T00:00:00Z";
  CertificatePolicy policy;
  policy.trust_dir = *trust_dir_;
  CertificateChecker checker(policy);
  auto r = checker.check(sheet_with({bundle({expired.leaf_der(o), expired.der()})}), Protocol::Sftp,
                         instant("2024-06-01T00:00:00Z"));
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  EXPECT_EQ(checker.cache_stats().proved_authorities, 1u);
  // The intermediate was proved in 2024; in 2026 the cache serves it and it has expired.
  r = checker.check(sheet_with({bundle({expired.leaf_der(o), expired.der()})}), Protocol::Sftp, kNow);
  EXPECT_EQ(checker.cache_stats().cached_verifications, 1u);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertExpire}) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("CN=Raccord Expired Intermediate CA"), std::string::npos);
}

TEST_F(CertificatesTest, OneChainVerificationForManyLeavesUnderOneCa) {
  CertificatePolicy policy;
  policy.trust_dir = *trust_dir_;
  CertificateChecker checker(policy);
  constexpr int kLeaves = 40;
  for (int i = 0; i < kLeaves; ++i) {
    LeafOptions o;
    o.common_name = "client" + std::to_string(i) + ".exemple.fr";
    auto r = checker.check(sheet_with({pki().bundle_base64(o)}), Protocol::Sftp, kNow);
    ASSERT_TRUE(r.diagnostics.empty()) << dump(r);
  }
  auto stats = checker.cache_stats();
  EXPECT_EQ(stats.full_verifications, 1u);
  EXPECT_EQ(stats.cached_verifications, static_cast<std::uint64_t>(kLeaves - 1));
  EXPECT_EQ(stats.proved_authorities, 1u);
  // A leaf whose chain does not verify proves nothing and is always verified in full.
  checker.clear_cache();
  for (int i = 0; i < 3; ++i) checker.check(sheet_with({bundle({pki().leaf_der()})}), Protocol::Sftp, kNow);
  EXPECT_EQ(checker.cache_stats().full_verifications, 3u);
  EXPECT_EQ(checker.cache_stats().proved_authorities, 0u);
}

/// Fingerprints of the certificates decode_bundle (d2i_PKCS7, no cache) reads in `content`.
std::vector<std::string> fingerprints_decoded(const std::string& content) {
  std::vector<std::string> ders;
  std::string why;
  EXPECT_TRUE(decode_bundle(content, ders, why)) << why;
  std::vector<std::string> out;
  for (const auto& der : ders) {
    CertificateFacts facts;
    EXPECT_TRUE(read_certificate_facts(der, facts));
    out.push_back(facts.fingerprint_sha256);
  }
  return out;
}

std::vector<std::string> fingerprints_reported(const CertificateReport& r) {
  std::vector<std::string> out;
  for (const auto& c : r.certificates) out.push_back(c.fingerprint_sha256);
  return out;
}

// Issue 7: a bundle's CA is decoded once per decoding context, then reused; the certificates a
// check reads are still exactly those d2i_PKCS7 reads, in the same order, with the same verdict.
TEST_F(CertificatesTest, AuthorityDecodedOnceGivesTheCertificatesOfD2iPkcs7) {
  CertificatePolicy policy;
  policy.trust_dir = *trust_dir_;
  CertificateChecker checker(policy);
  for (int i = 0; i < 5; ++i) {
    LeafOptions o;
    o.common_name = "reuse" + std::to_string(i) + ".exemple.fr";
    const std::string content = bundle({pki().leaf_der(o), pki().intermediate_der()});
    auto r = checker.check(sheet_with({content}), Protocol::Sftp, kNow, true);
    EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
    EXPECT_EQ(fingerprints_reported(r), fingerprints_decoded(content));
    // CA first in the bundle: the order is the bundle's.
    const std::string reversed = bundle({pki().intermediate_der(), pki().leaf_der(o)});
    EXPECT_EQ(fingerprints_reported(checker.check(sheet_with({reversed}), Protocol::Sftp, kNow)),
              fingerprints_decoded(reversed));
  }
  EXPECT_GE(checker.cache_stats().reused_authority_decodings, 9u);  // the fast path did run
  checker.clear_cache();
  EXPECT_EQ(checker.cache_stats().reused_authority_decodings, 0u);
}

// Issue 7 regression: a SignedData whose certificate slot holds a SEQUENCE that is no certificate
// is refused as d2i_PKCS7 refuses it (CERT_FORMAT, the same message), with the CA cached or not.
TEST_F(CertificatesTest, CertificateSlotThatIsNoCertificateIsCertFormatWarmOrCold) {
  std::string leaf = pki().leaf_der();
  ASSERT_EQ(static_cast<unsigned char>(leaf[0]), 0x30);
  const std::size_t header = static_cast<unsigned char>(leaf[1]) < 0x80 ? 2 : 2 + (leaf[1] & 0x7f);
  ASSERT_EQ(static_cast<unsigned char>(leaf[header]), 0x30);  // TBSCertificate
  std::string broken = leaf;
  broken[header] = 0x31;  // a SET where the TBSCertificate SEQUENCE goes: no longer a certificate
  std::string der = TestPki::pkcs7_der({leaf, pki().intermediate_der()});
  const std::size_t at = der.find(leaf);
  ASSERT_NE(at, std::string::npos);
  der.replace(at, leaf.size(), broken);
  const std::string content = TestPki::base64(der);
  std::vector<std::string> ders;
  std::string why;
  ASSERT_FALSE(decode_bundle(content, ders, why));

  CertificatePolicy policy;
  policy.trust_dir = *trust_dir_;
  CertificateChecker checker(policy);
  for (const char* when : {"à froid", "autorité déjà décodée"}) {
    auto r = checker.check(sheet_with({content}), Protocol::Sftp, kNow);
    EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertFormat}) << when << "\n" << dump(r);
    ASSERT_FALSE(r.diagnostics.empty());
    EXPECT_EQ(r.diagnostics[0].message, why) << when;
    EXPECT_TRUE(r.certificates.empty()) << when;
    checker.check(sheet_with({pki().bundle_base64()}), Protocol::Sftp, kNow);  // the CA now kept decoded
  }
  EXPECT_GE(checker.cache_stats().reused_authority_decodings, 1u);
}

// ---------------------------------------------------------------------------------------------
// The issue 7 fast path on hand-made bundles (hostile tests): a SignedData read with certificates as
// ANY, authorities kept decoded per OpenSSL library context. For hand-made DER/BER bundles,
// CertificateChecker::check must read the certificates decode_bundle (d2i_PKCS7, no cache) reads, in
// the same order, and give the same verdict cold, warm, and on two threads.

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

struct HandmadeBundle {
  std::string name;
  std::string content;  // <Certificat> text
};

std::vector<HandmadeBundle> handmade_bundles() {
  const std::string leaf = pki().leaf_der();
  const std::string inter = pki().intermediate_der();
  const std::string root = pki().root_der();
  const std::string leaf_ber = ber(0x30, inner(leaf));
  const std::string inter_ber = ber(0x30, inner(inter));
  std::vector<HandmadeBundle> cases;
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
TEST_F(CertificatesTest, FastPathReadsWhatD2iPkcs7ReadsColdAndWarm) {
  CertificatePolicy policy;
  policy.trust_dir = *trust_dir_;
  CertificateChecker warm(policy);
  warm.check(sheet_with({pki().bundle_base64()}), Protocol::Sftp, kNow);  // the intermediate now kept decoded
  for (const HandmadeBundle& c : handmade_bundles()) {
    CertificateChecker cold(policy);
    const CertificateReport first = cold.check(sheet_with({c.content}), Protocol::Sftp, kNow);
    EXPECT_EQ(read_by_check(first), decoded(c.content)) << c.name;
    const CertificateReport again = cold.check(sheet_with({c.content}), Protocol::Sftp, kNow);
    EXPECT_EQ(verdict(again), verdict(first)) << c.name;
    const CertificateReport warmed = warm.check(sheet_with({c.content}), Protocol::Sftp, kNow);
    EXPECT_EQ(verdict(warmed), verdict(first)) << c.name;
  }
  EXPECT_GE(warm.cache_stats().reused_authority_decodings, 5u);  // the fast path did run
}

// More authorities in one bundle than a context keeps (64): the cache is emptied in the middle of
// the bundle; the certificates and the verdict stay those of a cold check.
TEST_F(CertificatesTest, BundleWithMoreAuthoritiesThanTheCacheKeeps) {
  CertificatePolicy policy;
  policy.trust_dir = *trust_dir_;
  std::vector<std::string> ders{pki().leaf_der(), pki().intermediate_der()};
  for (int i = 0; i < 70; ++i) {
    CaOptions o;
    o.common_name = "Autorité de trop " + std::to_string(i);
    ders.push_back(pki().other_root().issue_ca(o).der());
  }
  ders.push_back(pki().intermediate_der());  // and the intermediate once more, after the eviction
  const std::string content = bundle(ders);
  CertificateChecker checker(policy);
  const CertificateReport cold = checker.check(sheet_with({content}), Protocol::Sftp, kNow);
  EXPECT_EQ(read_by_check(cold), decoded(content));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(verdict(checker.check(sheet_with({content}), Protocol::Sftp, kNow)), verdict(cold)) << i;
  }
}

// Two threads checking the hand-made bundles at once on one checker (two decoding contexts, each with
// its own kept authorities): each verdict is the cold one.
TEST_F(CertificatesTest, TwoThreadsGiveTheColdVerdicts) {
  CertificatePolicy policy;
  policy.trust_dir = *trust_dir_;
  const std::vector<HandmadeBundle> cases = handmade_bundles();
  std::vector<std::string> expected;
  for (const HandmadeBundle& c : cases) {
    CertificateChecker cold(policy);
    expected.push_back(verdict(cold.check(sheet_with({c.content}), Protocol::Sftp, kNow)));
  }
  CertificateChecker shared(policy);
  std::atomic<int> mismatches{0};
  auto run = [&](std::size_t shift) {
    for (int round = 0; round < 3; ++round) {
      for (std::size_t k = 0; k < cases.size(); ++k) {
        const std::size_t i = (k + shift) % cases.size();
        if (verdict(shared.check(sheet_with({cases[i].content}), Protocol::Sftp, kNow)) != expected[i]) ++mismatches;
      }
    }
  };
  std::thread a(run, 0);
  std::thread b(run, cases.size() / 2);
  a.join();
  b.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(CertificatesTest, TrustStoreReloadEmptiesTheCache) {
  auto dir = temp_dir("reload_cache");
  pki().write_trust_dir(dir);
  CertificatePolicy policy;
  policy.trust_dir = dir;
  CertificateChecker checker(policy);
  const auto sheet = sheet_with({pki().bundle_base64()});
  EXPECT_TRUE(checker.check(sheet, Protocol::Sftp, kNow).diagnostics.empty());
  EXPECT_EQ(checker.cache_stats().proved_authorities, 1u);
  // The root leaves the trust directory: after the reload, the proved chain must not survive.
  std::filesystem::remove(dir / "root.pem");
  std::vector<TrustStoreNote> log;
  EXPECT_EQ(checker.reload_trust_store(log), 0);
  EXPECT_EQ(checker.cache_stats().proved_authorities, 0u);
  auto r = checker.check(sheet, Protocol::Sftp, kNow);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertChaineIncomplete}) << dump(r);
  EXPECT_EQ(checker.cache_stats().full_verifications, 2u);
  std::filesystem::remove_all(dir);
}

TEST_F(CertificatesTest, ChainsAreReportedOnRequest) {
  auto r = check({bundle({pki().root_der(), pki().leaf_der(), pki().intermediate_der()})});
  EXPECT_TRUE(r.chains.empty());
  r = checker_->check(sheet_with({bundle({pki().root_der(), pki().leaf_der(), pki().intermediate_der()})}),
                      Protocol::Sftp, kNow, true);
  ASSERT_EQ(r.chains.size(), 1u);
  const auto& c = r.chains[0];
  EXPECT_EQ(c.end, ChainEnd::Anchored);
  ASSERT_EQ(c.links.size(), 3u);
  EXPECT_EQ(c.links[0].subject, "CN=client.exemple.fr");
  EXPECT_EQ(c.links[1].subject, "CN=Raccord Test Intermediate CA");
  EXPECT_EQ(c.links[2].subject, "CN=Raccord Test Root CA");
  EXPECT_FALSE(c.links[1].from_trust_store);
  EXPECT_TRUE(c.links[2].from_trust_store);
  r = checker_->check(sheet_with({bundle({pki().leaf_der()})}), Protocol::Sftp, kNow, true);
  ASSERT_EQ(r.chains.size(), 1u);
  EXPECT_EQ(r.chains[0].end, ChainEnd::MissingIssuer);
  EXPECT_EQ(r.chains[0].missing_issuer, "CN=Raccord Test Intermediate CA");
}

}  // namespace
}  // namespace raccord::rules
