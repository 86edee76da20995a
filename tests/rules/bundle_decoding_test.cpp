// Tests of rules/bundle_decoding.cpp: decode_bundle (docs/reference.md §3.3, docs/field-cases.md F19), and the issue 7
// fast path that keeps a bundle's authorities decoded per OpenSSL library context, seen through
// CertificateChecker::check.
#include "rules/bundle_decoding.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "rules/certificate_facts.hpp"
#include "tests/rules/certificates_fixture.hpp"

namespace raccord::rules {
namespace {

// ---------------------------------------------------------------------------------------------
// decode_bundle (docs/reference.md §3.3, docs/field-cases.md F19)

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
    out += std::string(to_code(d.code)) + (d.is_error() ? " E " : " W ") + d.field + ":" + std::to_string(d.line) +
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

// ---------------------------------------------------------------------------------------------
// decode_certificates in a decoding context (issue 7)

TEST(DecodeCertificates, AnAuthorityIsDecodedOncePerContext) {
  DecodingContextPool pool;
  {
    DecodingContextPool::Lease lease(pool);
    LeafOptions a;
    a.common_name = "a.exemple.fr";
    LeafOptions b;
    b.common_name = "b.exemple.fr";
    const std::string leaf_b = pki().leaf_der(b);
    std::vector<X509Ptr> first;
    std::vector<X509Ptr> second;
    std::string why;
    ASSERT_TRUE(decode_certificates(bundle({pki().leaf_der(a), pki().intermediate_der()}), first, why, nullptr,
                                    &lease.context()))
        << why;
    ASSERT_TRUE(decode_certificates(bundle({leaf_b, pki().intermediate_der()}), second, why, nullptr, &lease.context()))
        << why;
    ASSERT_EQ(first.size(), 2u);
    ASSERT_EQ(second.size(), 2u);
    EXPECT_EQ(second[1].get(), first[1].get());  // the intermediate: the object decoded the first time
    EXPECT_NE(second[0].get(), first[0].get());
    EXPECT_EQ(der_of(second[1].get()), pki().intermediate_der());
    EXPECT_EQ(der_of(second[0].get()), leaf_b);
    EXPECT_EQ(pool.reused_authority_decodings(), 1u);
  }
  pool.clear_idle();
  EXPECT_EQ(pool.reused_authority_decodings(), 0u);
}

}  // namespace
}  // namespace raccord::rules
