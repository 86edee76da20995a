// Detached CMS signatures of dépôts (rules/deposit_signature.cpp), from signatures made by the test PKI the
// way `openssl cms -sign -binary` makes them, at a fixed processing instant.
#include "rules/deposit_signature.hpp"

#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/pem.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>

#include "rules/openssl_ptr.hpp"
#include "tests/support/files.hpp"
#include "tests/support/test_pki.hpp"

namespace raccord::rules {
namespace {

using testing::TestPki;
using testing::TestSigner;

const Instant kNow = *parse_iso_instant("2026-01-03T12:00:00Z");

const std::string kDeposit =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Depot demandeur=\"alice\" mode=\"partiel\">\n</Depot>\n";

const TestSigner& signer() {
  static const TestSigner s = TestPki::instance().signer({.common_name = "signature.exemple.fr"});
  return s;
}

PinnedSigners pinned(const std::vector<const TestSigner*>& signers) {
  std::vector<std::string> ders;
  ders.reserve(signers.size());
  for (const auto* s : signers) ders.push_back(s->der());
  return parse_pinned_signers(TestPki::certificates_pem(ders), "/etc/raccord/comptes/acme.pem");
}

SignatureCheck verify(std::string_view deposit, std::string_view signature, const PinnedSigners& p, Instant now = kNow,
                      const RejectedSignatureLookup& rejected = {}) {
  return verify_deposit_signature(deposit, signature, p, now, "lot.xml", rejected);
}

void expect_refused(const SignatureCheck& c, std::string_view fragment) {
  ASSERT_FALSE(c.accepted());
  EXPECT_EQ(c.refusal->code, ErrorCode::SignatureInvalide);
  EXPECT_TRUE(c.refusal->is_error());
  EXPECT_EQ(c.refusal->field, "");
  EXPECT_EQ(c.refusal->line, 0);
  EXPECT_NE(c.refusal->message.find(fragment), std::string::npos) << c.refusal->message;
}

// ---- accepted ---------------------------------------------------------------------------------

TEST(DepositSignature, GoodDerSignatureOverTheExactBytesIsAccepted) {
  const auto c = verify(kDeposit, signer().sign(kDeposit), pinned({&signer()}));
  EXPECT_TRUE(c.accepted()) << c.refusal->message;
  EXPECT_EQ(c.signer_fingerprint, pinned({&signer()}).signers.at(0).fingerprint_sha256);
  EXPECT_EQ(c.replay_key.size(), 7U + 64U);
  EXPECT_EQ(c.replay_key.substr(0, 7), "sha256:");
}

TEST(DepositSignature, GoodPemSignatureIsAcceptedUnderBothPemNames) {
  const std::string pem = signer().sign(kDeposit, {.pem = true});
  ASSERT_EQ(pem.rfind("-----BEGIN CMS-----", 0), 0U);
  EXPECT_TRUE(verify(kDeposit, pem, pinned({&signer()})).accepted());
  std::string pkcs7 = pem;
  pkcs7.replace(0, 19, "-----BEGIN PKCS7-----");
  pkcs7.replace(pkcs7.find("-----END CMS-----"), 17, "-----END PKCS7-----");
  EXPECT_TRUE(verify(kDeposit, "\n" + pkcs7 + "\r\n", pinned({&signer()})).accepted());
}

TEST(DepositSignature, BinaryBytesCrlfAndBomAreSignedAsTheyAre) {
  for (const std::string& bytes :
       {std::string("\xEF\xBB\xBF<Depot/>\r\n"), std::string("<a>\r\n\r\n</a>"), std::string("\0\x01\xFF", 3)}) {
    EXPECT_TRUE(verify(bytes, signer().sign(bytes), pinned({&signer()})).accepted());
  }
}

TEST(DepositSignature, SignatureWithoutItsCertificateVerifiesWithThePinnedOne) {
  EXPECT_TRUE(verify(kDeposit, signer().sign(kDeposit, {.embed_certificate = false}), pinned({&signer()})).accepted());
}

TEST(DepositSignature, SignatureWithoutSignedAttributesIsAccepted) {
  EXPECT_TRUE(verify(kDeposit, signer().sign(kDeposit, {.signed_attributes = false}), pinned({&signer()})).accepted());
}

TEST(DepositSignature, SigningTimeIsNotChecked) {
  for (const char* when : {"2035-01-01T00:00:00Z", "2001-01-01T00:00:00Z"}) {
    EXPECT_TRUE(verify(kDeposit, signer().sign(kDeposit, {.signing_time = when}), pinned({&signer()})).accepted())
        << when;
  }
}

TEST(DepositSignature, AnyOfSeveralPinnedSignersIsAccepted) {  // a rollover
  const TestSigner next = TestPki::instance().signer({.common_name = "signature-2026.exemple.fr"});
  const auto both = pinned({&signer(), &next});
  EXPECT_TRUE(verify(kDeposit, signer().sign(kDeposit), both).accepted());
  EXPECT_TRUE(verify(kDeposit, next.sign(kDeposit), both).accepted());
}

TEST(DepositSignature, RsaAndSelfSignedSignersAreAcceptedWhenPinned) {  // no purpose nor issuer checked
  const TestSigner rsa = TestPki::instance().signer({.rsa_bits = 2048});
  const TestSigner self = TestPki::instance().signer({.eku = false, .self_signed = true});
  EXPECT_TRUE(verify(kDeposit, rsa.sign(kDeposit), pinned({&rsa})).accepted());
  EXPECT_TRUE(verify(kDeposit, self.sign(kDeposit), pinned({&self})).accepted());
}

// The sample account's signer (samples/pki/make-pki.sh): its `signataires` file pins it, and a dépôt signed with its
// published key the way docs/accounts.md says (openssl cms -sign -binary, DER, with or without -nocerts) is accepted
// until the certificate's end in 2035.
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

TEST(DepositSignature, SampleAccountSignerIsPinnedByTheSampleSignersFile) {
  const std::filesystem::path samples = std::filesystem::path(RACCORD_SOURCE_DIR) / "samples";
  const PinnedSigners p = load_pinned_signers(samples / "signataires" / "acme.pem");
  ASSERT_EQ(p.signers.size(), 1U);
  EXPECT_EQ(p.signers[0].not_after, *parse_iso_instant("2035-12-31T23:59:59Z"));
  const std::string cert_pem = testing::read_file(samples / "pki" / "certs" / "signature-acme.pem");
  const std::string key_pem = testing::read_file(samples / "pki" / "certs" / "signature-acme.key");
  BioPtr cert_bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  BioPtr key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(cert && key);
  for (const unsigned int nocerts : {0U, static_cast<unsigned int>(CMS_NOCERTS)}) {
    BioPtr data(BIO_new_mem_buf(kDeposit.data(), static_cast<int>(kDeposit.size())));
    CmsPtr cms(CMS_sign(cert.get(), key.get(), nullptr, data.get(), CMS_BINARY | CMS_DETACHED | nocerts));
    ASSERT_TRUE(cms);
    unsigned char* der = nullptr;
    const int len = i2d_CMS_ContentInfo(cms.get(), &der);
    ASSERT_GT(len, 0);
    const std::string p7s(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    const auto c = verify(kDeposit, p7s, p);
    EXPECT_TRUE(c.accepted()) << c.refusal->message;
    EXPECT_EQ(c.signer_fingerprint, p.signers[0].fingerprint_sha256);
    expect_refused(verify(kDeposit, p7s, p, *parse_iso_instant("2036-01-01T00:00:00Z")), "a expiré le");
  }
}

// ---- refused: the bytes -----------------------------------------------------------------------

TEST(DepositSignature, SignatureOfOtherBytesIsRefused) {
  std::string changed = kDeposit;
  changed[changed.find("alice")] = 'A';
  std::string crlf = kDeposit;
  crlf.insert(crlf.find('\n'), "\r");
  for (const std::string& other : {changed, crlf, kDeposit + "\n", kDeposit.substr(1), std::string()}) {
    expect_refused(verify(other, signer().sign(kDeposit), pinned({&signer()})), "ne correspond pas aux octets");
    expect_refused(verify(other, signer().sign(kDeposit, {.pem = true}), pinned({&signer()})),
                   "ne correspond pas aux octets");
  }
}

/// A detached DER signature of `bytes` by `by` with digest `md`, made as `openssl cms -sign -binary -md NAME
/// -outform DER` makes it (the test PKI signs with SHA-256 only).
std::string sign_with_digest(const TestSigner& by, std::string_view bytes, const EVP_MD* md) {
  const std::string cert_text = by.pem();
  BioPtr cert_pem(BIO_new_mem_buf(cert_text.data(), static_cast<int>(cert_text.size())));
  X509Ptr cert(PEM_read_bio_X509(cert_pem.get(), nullptr, nullptr, nullptr));
  const std::string key_text = by.key_pem();
  BioPtr key_pem(BIO_new_mem_buf(key_text.data(), static_cast<int>(key_text.size())));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(key_pem.get(), nullptr, nullptr, nullptr));
  if (!cert || !key) throw std::runtime_error("test signer unreadable");
  const unsigned int flags = CMS_BINARY | CMS_DETACHED | CMS_PARTIAL;
  CmsPtr cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, flags));
  BioPtr data(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  if (!cms || CMS_add1_signer(cms.get(), cert.get(), key.get(), md, flags) == nullptr ||
      CMS_final(cms.get(), data.get(), nullptr, flags) != 1) {
    throw std::runtime_error("CMS signature with another digest failed");
  }
  unsigned char* der = nullptr;
  const int len = i2d_CMS_ContentInfo(cms.get(), &der);
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

// A signature whose digest can be collided (MD5, SHA-1) proves nothing about who dropped the bytes: refused, as
// CERT_SIGNATURE_FAIBLE refuses them in a chain; SHA-384 and SHA-512 verify like the default SHA-256
// (hostile pass: `openssl cms -sign -md sha1` was INTEGRE).
TEST(DepositSignature, SignatureWithAWeakDigestIsRefusedAndStrongOnesAreAccepted) {
  const TestSigner rsa = TestPki::instance().signer({.rsa_bits = 2048});  // ECDSA has no MD5 form
  expect_refused(verify(kDeposit, sign_with_digest(signer(), kDeposit, EVP_sha1()), pinned({&signer()})),
                 "utilise l'empreinte SHA-1, trop faible");
  expect_refused(verify(kDeposit, sign_with_digest(rsa, kDeposit, EVP_sha1()), pinned({&rsa})),
                 "utilise l'empreinte SHA-1, trop faible");
  expect_refused(verify(kDeposit, sign_with_digest(rsa, kDeposit, EVP_md5()), pinned({&rsa})),
                 "utilise l'empreinte MD5, trop faible");
  for (const EVP_MD* md : {EVP_sha256(), EVP_sha384(), EVP_sha512()}) {
    for (const TestSigner* by : {&signer(), &rsa}) {
      const auto c = verify(kDeposit, sign_with_digest(*by, kDeposit, md), pinned({by}));
      EXPECT_TRUE(c.accepted()) << EVP_MD_get0_name(md) << ": " << (c.refusal ? c.refusal->message : "");
    }
  }
}

TEST(DepositSignature, TruncatedSignatureIsRefused) {
  const std::string der = signer().sign(kDeposit);
  for (std::size_t keep : {der.size() - 1, der.size() / 2, std::size_t{1}}) {
    expect_refused(verify(kDeposit, der.substr(0, keep), pinned({&signer()})), "n'est pas une signature CMS");
  }
  const std::string pem = signer().sign(kDeposit, {.pem = true});
  expect_refused(verify(kDeposit, pem.substr(0, pem.size() / 2), pinned({&signer()})), "n'est pas une signature CMS");
  expect_refused(verify(kDeposit, pem.substr(0, pem.find("-----END")), pinned({&signer()})),
                 "n'est pas une signature CMS");
}

TEST(DepositSignature, BytesAfterTheSignatureAreRefused) {
  expect_refused(verify(kDeposit, signer().sign(kDeposit) + "x", pinned({&signer()})), "n'est pas une signature CMS");
  expect_refused(verify(kDeposit, signer().sign(kDeposit, {.pem = true}) + "x", pinned({&signer()})),
                 "n'est pas une signature CMS");
}

TEST(DepositSignature, GarbageIsRefused) {
  const auto p = pinned({&signer()});
  expect_refused(verify(kDeposit, "pas une signature", p), "n'est pas une signature CMS");
  expect_refused(verify(kDeposit, kDeposit, p), "n'est pas une signature CMS");        // the dépôt renamed .p7s
  expect_refused(verify(kDeposit, signer().der(), p), "n'est pas une signature CMS");  // a certificate
  expect_refused(verify(kDeposit, "-----BEGIN CMS-----\nAAAA\n-----END CMS-----\n", p), "n'est pas une signature");
  expect_refused(verify(kDeposit, signer().pem(), p), "n'est pas une signature CMS");  // a PEM certificate
  // A certificates-only PKCS#7 (the <Certificat> bundle form): SignedData, detached, no SignerInfo.
  expect_refused(verify(kDeposit, TestPki::pkcs7_der({signer().der()}), p), "compte 0 signataires");
}

TEST(DepositSignature, CertificatesOnlyBundleIsRefusedAsNoSignerWhateverItsForm) {
  // The bundle's SignedData encapsulates an empty content: it is said to hold no signer, not to be attached.
  const auto p = pinned({&signer()});
  for (const std::string& bundle :
       {TestPki::pkcs7_der({signer().der()}), TestPki::pkcs7_pem({signer().der()}), TestPki::pkcs7_der({})}) {
    const auto c = verify(kDeposit, bundle, p);
    expect_refused(c, "compte 0 signataires : c'est un paquet de certificats");
    EXPECT_TRUE(c.replay_key.empty());
  }
}

TEST(DepositSignature, OtherCmsContentTypesAreRefusedAsNotASignature) {
  // ContentInfo { id-data, [0] OCTET STRING "hi" }: readable CMS, but not SignedData.
  const std::string data("\x30\x11\x06\x09\x2A\x86\x48\x86\xF7\x0D\x01\x07\x01\xA0\x04\x04\x02hi", 19);
  expect_refused(verify(kDeposit, data, pinned({&signer()})), "pas une signature (SignedData)");
}

TEST(DepositSignature, EveryPrefixOfASignatureIsRefusedAsUnreadable) {
  const auto p = pinned({&signer()});
  for (const bool pem : {false, true}) {
    const std::string whole = signer().sign(kDeposit, {.pem = pem});
    // A PEM prefix that holds the whole END line is the signature itself, its last line break dropped.
    const std::size_t complete = pem ? whole.find("-----END CMS-----") + 17 : whole.size();
    for (std::size_t keep = 1; keep < complete; ++keep) {
      const auto c = verify(kDeposit, whole.substr(0, keep), p);
      ASSERT_FALSE(c.accepted()) << "pem=" << pem << " keep=" << keep;
      expect_refused(c, "n'est pas une signature CMS");
    }
  }
}

TEST(DepositSignature, ArbitraryBytesAreRefusedWithoutCrashing) {
  const auto p = pinned({&signer()});
  const std::string der = signer().sign(kDeposit);
  std::vector<std::string> inputs;
  inputs.reserve(256 + 32);
  for (int b = 0; b < 256; ++b) inputs.emplace_back(1, static_cast<char>(b));  // every single byte
  // ASN.1 headers announcing more than there is, indefinite lengths, nested garbage.
  for (const std::string& h :
       {std::string("\x30\x80", 2), std::string("\x30\x84\xFF\xFF\xFF\xFF", 6), std::string("\x30\x82\x01\x00", 4),
        std::string("\x30\x00", 2), std::string("\x30\x80\x00\x00", 4), std::string("\x06\x09\x2A\x86\x48", 5)}) {
    inputs.push_back(h);
    inputs.push_back(h + std::string(300, '\0'));
  }
  // The signature with its outer tag or its content-type OID changed.
  for (const std::size_t at : {std::size_t{0}, std::size_t{6}, std::size_t{14}}) {
    std::string changed = der;
    changed[at] = static_cast<char>(changed[at] ^ 0x01);
    inputs.push_back(changed);
  }
  inputs.emplace_back("-----BEGIN CMS-----\n-----END CMS-----\n");
  inputs.emplace_back("-----BEGIN CMS-----\n");
  inputs.emplace_back("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  inputs.emplace_back(kDeposit + signer().sign(kDeposit));  // the dépôt and its signature in one file
  inputs.emplace_back("\xEF\xBB\xBF" + signer().sign(kDeposit, {.pem = true}));  // a BOM before the PEM
  for (const auto& in : inputs) {
    const auto c = verify(kDeposit, in, p);
    ASSERT_FALSE(c.accepted()) << ::testing::PrintToString(in);
    EXPECT_EQ(c.refusal->code, ErrorCode::SignatureInvalide);
    EXPECT_NE(c.refusal->message.find("openssl cms -sign"), std::string::npos) << c.refusal->message;
  }
}

TEST(DepositSignature, EmptyFileIsRefused) {
  expect_refused(verify(kDeposit, "", pinned({&signer()})), "lot.xml.p7s est vide");
}

TEST(DepositSignature, OversizedSignatureIsRefusedUnparsed) {
  expect_refused(verify(kDeposit, std::string(1024 * 1024 + 1, '\x30'), pinned({&signer()})), "plus que le maximum");
}

TEST(DepositSignature, AttachedSignatureIsRefusedEvenOverTheSameBytes) {
  expect_refused(verify(kDeposit, signer().sign(kDeposit, {.attached = true}), pinned({&signer()})),
                 "signature attachée");
  expect_refused(verify(kDeposit, signer().sign(kDeposit, {.pem = true, .attached = true}), pinned({&signer()})),
                 "signature attachée");
}

TEST(DepositSignature, TwoSignerInfosAreRefusedEvenWhenBothArePinned) {
  const TestSigner second = TestPki::instance().signer({.common_name = "second.exemple.fr"});
  const auto c = verify(kDeposit, signer().sign(kDeposit, {.second_signer = &second}), pinned({&signer(), &second}));
  expect_refused(c, "compte 2 signataires");
  EXPECT_TRUE(c.replay_key.empty());
}

// ---- refused: the signer ----------------------------------------------------------------------

TEST(DepositSignature, UnpinnedSignerIsRefusedWithItsFingerprint) {
  const TestSigner stranger = TestPki::instance().signer({.common_name = "intrus.exemple.fr"});
  const auto c = verify(kDeposit, stranger.sign(kDeposit), pinned({&signer()}));
  expect_refused(c, "n'est pas un signataire déclaré");
  EXPECT_NE(c.refusal->message.find("CN=intrus.exemple.fr"), std::string::npos);
  EXPECT_NE(c.refusal->message.find(c.signer_fingerprint), std::string::npos);
  EXPECT_FALSE(c.replay_key.empty());
}

TEST(DepositSignature, UnpinnedSignerWithoutEmbeddedCertificateIsRefused) {
  const TestSigner stranger = TestPki::instance().signer({.common_name = "intrus.exemple.fr"});
  expect_refused(verify(kDeposit, stranger.sign(kDeposit, {.embed_certificate = false}), pinned({&signer()})),
                 "n'est pas joint à la signature");
}

TEST(DepositSignature, SameNameAndIssuerButAnotherKeyIsRefused) {
  // A certificate an attacker had issued with the pinned one's subject: only the fingerprint counts.
  const TestSigner twin = TestPki::instance().signer({.common_name = "signature.exemple.fr"});
  expect_refused(verify(kDeposit, twin.sign(kDeposit), pinned({&signer()})), "n'est pas un signataire déclaré");
}

// A signature carries its signer's certificate (openssl cms -sign without -nocerts): when those bytes are the pinned
// certificate's, it is not decoded again (rules/deposit_signature.cpp, without_pinned_certificates); any other
// embedded certificate is decoded as before, so a broken one still makes the signature unreadable.
TEST(DepositSignature, EmbeddedCertificateOtherThanThePinnedBytesIsStillDecoded) {
  const auto p = pinned({&signer()});
  const std::string der = signer().sign(kDeposit);
  const std::size_t at = der.find(signer().der());
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(static_cast<unsigned char>(der[at + 4]), 0x30U);  // its TBSCertificate (after a 4-byte header)
  std::string broken = der;
  broken[at + 4] = '\x31';  // a SET where the TBSCertificate SEQUENCE is: the same lengths, no certificate
  expect_refused(verify(kDeposit, broken, p), "n'est pas une signature CMS");
  // Another readable certificate there (one byte of its signature value changed): the pinned one is still the
  // signer found first, as when every embedded certificate was decoded.
  std::string other = der;
  other[at + signer().der().size() - 1] = static_cast<char>(other[at + signer().der().size() - 1] ^ 0x01);
  const auto c = verify(kDeposit, other, p);
  EXPECT_TRUE(c.accepted()) << c.refusal->message;
  EXPECT_EQ(c.signer_fingerprint, p.signers.at(0).fingerprint_sha256);
}

TEST(DepositSignature, PinnedSignersBuiltByHandGiveTheSameVerdicts) {
  const PinnedSigners prepared = pinned({&signer()});
  PinnedSigners by_hand = prepared;
  by_hand.prepared.reset();
  const TestSigner stranger = TestPki::instance().signer({.common_name = "intrus.exemple.fr"});
  for (const std::string& signature :
       {signer().sign(kDeposit), signer().sign(kDeposit, {.embed_certificate = false}),
        signer().sign(kDeposit, {.pem = true}), signer().sign("<autre/>"), stranger.sign(kDeposit)}) {
    for (const Instant at : {kNow, *parse_iso_instant("2099-01-01T00:00:00Z")}) {
      const auto a = verify(kDeposit, signature, prepared, at);
      const auto b = verify(kDeposit, signature, by_hand, at);
      EXPECT_EQ(a.accepted(), b.accepted());
      EXPECT_EQ(a.refusal ? a.refusal->message : "", b.refusal ? b.refusal->message : "");
      EXPECT_EQ(a.signer_fingerprint, b.signer_fingerprint);
      EXPECT_EQ(a.replay_key, b.replay_key);
    }
  }
}

TEST(DepositSignature, ExpiredPinnedSignerIsRefusedFromTheSecondAfterItsEnd) {
  const TestSigner old =
      TestPki::instance().signer({.not_before = "2024-01-01T00:00:00Z", .not_after = "2026-01-03T12:00:00Z"});
  const std::string sig = old.sign(kDeposit);
  EXPECT_TRUE(verify(kDeposit, sig, pinned({&old}), kNow).accepted());
  const auto c = verify(kDeposit, sig, pinned({&old}), kNow + std::chrono::seconds(1));
  expect_refused(c, "a expiré le 03/01/2026");
  EXPECT_NE(c.refusal->message.find("renouvelez-le"), std::string::npos);
}

TEST(DepositSignature, NotYetValidSignerIsRefusedUntilItsStart) {
  const TestSigner next = TestPki::instance().signer({.not_before = "2026-01-03T12:00:01Z"});
  const std::string sig = next.sign(kDeposit);
  expect_refused(verify(kDeposit, sig, pinned({&next}), kNow), "n'est valide qu'à partir du 03/01/2026");
  EXPECT_TRUE(verify(kDeposit, sig, pinned({&next}), kNow + std::chrono::seconds(1)).accepted());
}

// A genuine signature refused for its signer's dates still verified over the bytes: it carries its replay key,
// kept with the REJETE dépôt, so that the pair dropped again once the signer is valid is a replay (hostile16:
// before, no key came with such a refusal and the replay was accepted). Other bytes never verified.
TEST(DepositSignature, SignatureRefusedForItsSignerDatesIsVerifiedWithItsReplayKey) {
  const TestSigner next = TestPki::instance().signer({.not_before = "2026-01-03T12:00:01Z"});
  const std::string sig = next.sign(kDeposit);
  const auto early = verify(kDeposit, sig, pinned({&next}), kNow);
  expect_refused(early, "n'est valide qu'à partir du");
  EXPECT_TRUE(early.verified);
  const auto later = verify(kDeposit, sig, pinned({&next}), kNow + std::chrono::seconds(1));
  ASSERT_TRUE(later.accepted());
  EXPECT_EQ(early.replay_key, later.replay_key);
  EXPECT_TRUE(later.verified);
  const auto other_bytes = verify(kDeposit + " ", sig, pinned({&next}), kNow);
  expect_refused(other_bytes, "n'est valide qu'à partir du");
  EXPECT_FALSE(other_bytes.verified);
}

// ---- replay -----------------------------------------------------------------------------------

TEST(DepositSignature, ReplayKeyIgnoresTheEncoding) {
  const std::string der = signer().sign(kDeposit);
  const auto from_der = verify(kDeposit, der, pinned({&signer()}));
  // The same signature as PEM: re-encode by hand (same SignerInfo).
  const std::string pem = "-----BEGIN CMS-----\n" + TestPki::base64(der) + "-----END CMS-----\n";
  const auto from_pem = verify(kDeposit, pem, pinned({&signer()}));
  ASSERT_TRUE(from_pem.accepted());
  EXPECT_EQ(from_der.replay_key, from_pem.replay_key);
}

TEST(DepositSignature, ReplayKeyIsTheSameForTheOtherEcdsaForm) {
  // (r, n - s) verifies as (r, s) does: a replay in that form must be the same signature for the record.
  for (const bool embedded : {true, false}) {
    const std::string sig = signer().sign(kDeposit, {.embed_certificate = embedded});
    const std::string mirrored = signer().other_ecdsa_form(sig);
    ASSERT_NE(sig, mirrored);
    const auto a = verify(kDeposit, sig, pinned({&signer()}));
    const auto b = verify(kDeposit, mirrored, pinned({&signer()}));
    ASSERT_TRUE(a.accepted());
    ASSERT_TRUE(b.accepted()) << b.refusal->message;
    EXPECT_EQ(a.replay_key, b.replay_key);
  }
  // Two signings of the same bytes are two signatures (ECDSA draws a new k each time).
  EXPECT_NE(verify(kDeposit, signer().sign(kDeposit), pinned({&signer()})).replay_key,
            verify(kDeposit, signer().sign(kDeposit), pinned({&signer()})).replay_key);
}

TEST(DepositSignature, RejectedSignatureIsRefusedAsAReplayAndANewSignatureIsNot) {
  const std::string sig = signer().sign(kDeposit);
  const auto first = verify(kDeposit, sig, pinned({&signer()}));
  ASSERT_TRUE(first.accepted());
  std::set<std::string> rejected{first.replay_key};
  const RejectedSignatureLookup lookup = [&](const std::string& key) { return rejected.count(key) > 0; };
  expect_refused(verify(kDeposit, sig, pinned({&signer()}), kNow + std::chrono::hours(24), lookup),
                 "a déjà accompagné un dépôt rejeté");
  expect_refused(verify(kDeposit, "\n-----BEGIN CMS-----\n" + TestPki::base64(sig) + "-----END CMS-----\n",
                        pinned({&signer()}), kNow, lookup),
                 "a déjà accompagné un dépôt rejeté");
  EXPECT_TRUE(verify(kDeposit, signer().sign(kDeposit), pinned({&signer()}), kNow, lookup).accepted());
}

// ---- pinned signers ---------------------------------------------------------------------------

TEST(PinnedSigners, ReadsEveryCertificateOnceWithItsFingerprintAndValidity) {
  const TestSigner next = TestPki::instance().signer(
      {.common_name = "suivant.exemple.fr", .not_before = "2026-06-01T00:00:00Z", .not_after = "2028-06-01T00:00:00Z"});
  const std::string text = "# signataires d'acme\n" + signer().pem() + "commentaire\n" + next.pem() + signer().pem();
  const PinnedSigners p = parse_pinned_signers(text, "acme.pem");
  ASSERT_EQ(p.signers.size(), 2U);
  EXPECT_EQ(p.signers[0].subject, "CN=signature.exemple.fr");
  EXPECT_EQ(p.signers[1].subject, "CN=suivant.exemple.fr");
  EXPECT_EQ(p.signers[1].not_before, *parse_iso_instant("2026-06-01T00:00:00Z"));
  EXPECT_EQ(p.signers[1].not_after, *parse_iso_instant("2028-06-01T00:00:00Z"));
  EXPECT_EQ(p.signers[0].fingerprint_sha256.size(), 64U);
  EXPECT_NE(p.signers[0].fingerprint_sha256, p.signers[1].fingerprint_sha256);
  EXPECT_EQ(p.find(p.signers[1].fingerprint_sha256), &p.signers[1]);
  EXPECT_EQ(p.find("00"), nullptr);
}

TEST(PinnedSigners, ArePreparedOnceAndSharedByTheirCopies) {
  const PinnedSigners p = pinned({&signer()});
  ASSERT_NE(p.prepared, nullptr);
  const PinnedSigners copy = p;  // the engine's channels share one
  EXPECT_EQ(copy.prepared, p.prepared);
  EXPECT_TRUE(verify(kDeposit, signer().sign(kDeposit), copy).accepted());
}

void expect_load_error(std::string_view text, std::string_view fragment) {
  try {
    parse_pinned_signers(text, "/etc/raccord/comptes/acme.pem");
    ADD_FAILURE() << "no error for: " << text;
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("/etc/raccord/comptes/acme.pem"), std::string::npos) << what;
    EXPECT_NE(what.find(fragment), std::string::npos) << what;
  }
}

TEST(PinnedSigners, NoCertificateAPrivateKeyOrABrokenBlockIsAnErrorNamingTheFile) {
  expect_load_error("", "ne contient aucun certificat");
  expect_load_error("# rien\n", "ne contient aucun certificat");
  expect_load_error(signer().pem() + signer().key_pem(), "PRIVATE KEY");
  expect_load_error(TestPki::crl_pem({TestPki::instance().intermediate().crl_der()}), "X509 CRL");
  expect_load_error("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "illisible");
  std::string cut = signer().pem();
  cut.resize(cut.find("-----END"));
  expect_load_error(cut, "mal formé");
}

TEST(PinnedSigners, LoadReadsTheFileAndNamesItWhenMissing) {
  const testing::TempDir dir;
  const auto file = dir.path() / "acme.pem";
  EXPECT_THROW(
      {
        try {
          load_pinned_signers(file);
        } catch (const std::runtime_error& e) {
          EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos);
          throw;
        }
      },
      std::runtime_error);
  std::ofstream(file, std::ios::binary) << signer().pem();
  EXPECT_EQ(load_pinned_signers(file).signers.size(), 1U);
  EXPECT_EQ(load_pinned_signers(file).file, file);
}

// The fault sweep's read:EIO:@signataires/acme.pem: a signers' file that is there but cannot be read was
// reported "ne contient aucun certificat" (read through std::ifstream, the error lost). It throws the
// system's error naming the file (rules::read_input_file). Real EIO: /proc/self/mem, linked.
TEST(PinnedSigners, AFileThatCannotBeReadIsNamedWithTheSystemsError) {
  const testing::TempDir dir;
  const auto file = dir.path() / "acme.pem";
  std::filesystem::create_symlink("/proc/self/mem", file);
  try {
    (void)load_pinned_signers(file);
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EIO) << e.what();
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace raccord::rules
