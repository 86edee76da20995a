// Tests of rules/certificates.cpp: every CERT_* code from sheets whose certificates come from the test PKI, at fixed
// instants (docs/reference.md §3.3, §4; docs/field-cases.md F19, F20, F21, F23, F24, F25, F27). The tests of the
// decoding, the facts, the chain building and the trust store follow their code (bundle_decoding_test,
// certificate_facts_test, chain_building_test, trust_store_test).
#include "rules/certificates.hpp"

#include <gtest/gtest.h>
#include <openssl/objects.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/rules/certificates_fixture.hpp"

namespace raccord::rules {
namespace {

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
  // A client certificate alone: the message asks for a server certificate, on the sheet's
  // certificates, not for another usage of Certificat[1] (issue 18: "ajoutez un certificat serveur").
  EXPECT_NE(r.diagnostics[0].message.find("ajoutez un certificat serveur"), std::string::npos) << dump(r);
  EXPECT_EQ(r.diagnostics[0].message.find("n'autorise pas"), std::string::npos) << dump(r);
  EXPECT_EQ(r.diagnostics[0].field, "Certificats");
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
  expected.reserve(sheets.size());
  for (const auto& s : sheets) expected.push_back(error_codes(checker_->check(s, Protocol::Sftp, kNow)));
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  threads.reserve(4);
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

// ---------------------------------------------------------------------------------------------
// CERT_EXPIRE_AVANT_PERIODE and the warning window counted from du (docs/reference.md §4).

LeafOptions ending(const std::string& not_after) {
  LeafOptions o;
  o.not_after = not_after;
  return o;
}

SheetOperation edi_sheet_from(const std::string& content, const std::string& du) {
  SheetOperation sheet = sheet_with({content});
  sheet.kind = SheetKind::Edi;
  sheet.has_period = true;
  sheet.period_from = Field{du, 7, true};
  return sheet;
}

TEST_F(CertificatesTest, LeafEndingBeforeDuIsExpireAvantPeriode) {
  LeafOptions o;
  o.not_after = "2026-07-31T23:59:59Z";  // valid now (2026-06-10), ends the day before du
  auto r = checker_->check(edi_sheet_from(pki().bundle_base64(o), "2026-08-01"), Protocol::Sftp, kNow);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertExpireAvantPeriode}) << dump(r);
  EXPECT_TRUE(warning_codes(r).empty()) << dump(r);  // not CERT_EXPIRE_BIENTOT as well
  const std::string& m = r.diagnostics.at(0).message;
  EXPECT_NE(m.find("CN=client.exemple.fr"), std::string::npos) << m;
  EXPECT_NE(m.find("31/07/2026"), std::string::npos) << m;
  EXPECT_NE(m.find("01/08/2026"), std::string::npos) << m;
  EXPECT_EQ(r.diagnostics[0].field, "Certificats/Certificat[1]");
  // Ending on du itself (00:00 UTC) or after it: no such error; an API sheet has no period.
  o.not_after = "2026-08-01T00:00:00Z";
  r = checker_->check(edi_sheet_from(pki().bundle_base64(o), "2026-08-01"), Protocol::Sftp, kNow);
  EXPECT_TRUE(error_codes(r).empty()) << dump(r);
  SheetOperation api = edi_sheet_from(pki().bundle_base64(ending("2026-07-31T23:59:59Z")), "2026-08-01");
  api.kind = SheetKind::Api;
  EXPECT_TRUE(error_codes(checker_->check(api, std::nullopt, kNow)).empty());
  // A bad or absent du is the content rules' business.
  EXPECT_TRUE(
      error_codes(checker_->check(edi_sheet_from(pki().bundle_base64(ending("2026-07-31T23:59:59Z")), "2026-13-01"),
                                  Protocol::Sftp, kNow))
          .empty());
}

TEST_F(CertificatesTest, ExpiryWarningCountsFromDuWhenLater) {
  LeafOptions o;
  o.not_after = "2026-09-15T00:00:00Z";  // 97 days after now, 15 days after du
  auto r = checker_->check(edi_sheet_from(pki().bundle_base64(o), "2026-09-01"), Protocol::Sftp, kNow);
  EXPECT_TRUE(error_codes(r).empty()) << dump(r);
  EXPECT_EQ(warning_codes(r), Codes{ErrorCode::CertExpireBientot}) << dump(r);
  EXPECT_NE(r.diagnostics.at(0).message.find("01/09/2026"), std::string::npos) << r.diagnostics[0].message;
  // du in the past: counted from now (no warning, 97 days away).
  EXPECT_TRUE(
      checker_->check(edi_sheet_from(pki().bundle_base64(o), "2026-01-01"), Protocol::Sftp, kNow).diagnostics.empty());
  // du 31 days before the end: no warning; 30 days: the warning.
  EXPECT_TRUE(
      checker_->check(edi_sheet_from(pki().bundle_base64(o), "2026-08-15"), Protocol::Sftp, kNow).diagnostics.empty());
  EXPECT_EQ(warning_codes(checker_->check(edi_sheet_from(pki().bundle_base64(o), "2026-08-16"), Protocol::Sftp, kNow)),
            Codes{ErrorCode::CertExpireBientot});
}

// ---------------------------------------------------------------------------------------------
// Revocation (docs/revocation.md): CERT_REVOQUE and CERT_REVOCATION_INCONNUE from CRL files.

const Instant kCrlNow = instant("2026-01-03T10:00:00Z");  // the test PKI's default CRLs are current then

using raccord::testing::CrlEntry;
using raccord::testing::CrlOptions;

CrlOptions listing(std::vector<CrlEntry> entries) {
  CrlOptions o;
  o.entries = std::move(entries);
  return o;
}

class RevocationCheckTest : public CertificatesTest {
 protected:
  void SetUp() override {
    crl_dir_ = temp_dir("crl");
    std::filesystem::create_directories(crl_dir_);
    leaf_ = pki().leaf_der();
    leaf_serial_ = TestPki::serial_hex(leaf_);
    intermediate_serial_ = TestPki::serial_hex(pki().intermediate_der());
  }
  void TearDown() override { std::filesystem::remove_all(crl_dir_); }

  void write_crl(const std::string& name, const std::string& der) {
    write_file(crl_dir_ / name, TestPki::crl_pem({der}));
  }
  /// The policy of these tests: the test PKI's trust store, this test's crl_dir, revocation `mode`.
  CertificatePolicy revocation_policy(RevocationMode mode) const {
    CertificatePolicy policy;
    policy.trust_dir = *trust_dir_;
    policy.crl_dir = crl_dir_;
    policy.revocation = mode;
    return policy;
  }
  CertificateReport check_with(RevocationMode mode, const std::string& leaf_der, Instant at = kCrlNow) {
    const CertificateChecker checker(revocation_policy(mode));
    return checker.check(sheet_with({bundle({leaf_der, pki().intermediate_der()})}), Protocol::Sftp, at);
  }

  std::filesystem::path crl_dir_;
  std::string leaf_;
  std::string leaf_serial_;
  std::string intermediate_serial_;
};

TEST_F(RevocationCheckTest, RevokedLeafIsCertRevoqueNamingCertificateAndCrl) {
  write_crl("root.crl", pki().root().crl_der());
  write_crl("inter.crl", pki().intermediate().crl_der(listing({CrlEntry{leaf_serial_, "2025-06-01T00:00:00Z", 1}})));
  for (RevocationMode mode : {RevocationMode::Souple, RevocationMode::Stricte}) {
    auto r = check_with(mode, leaf_);
    EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertRevoque}) << dump(r);
    EXPECT_TRUE(warning_codes(r).empty()) << dump(r);
    const std::string& m = r.diagnostics.at(0).message;
    for (const std::string& part :
         {std::string("CN=client.exemple.fr"), leaf_serial_, std::string("CN=Raccord Test Intermediate CA"),
          std::string("01/01/2026"), std::string("08/01/2026"), std::string("compromission de la clé"),
          std::string("nouveau certificat")}) {
      EXPECT_NE(m.find(part), std::string::npos) << part << " in " << m;
    }
  }
  // Another leaf of the same CA is good; with revocation = aucune the revoked one passes (main's behaviour).
  EXPECT_TRUE(check_with(RevocationMode::Souple, pki().leaf_der()).diagnostics.empty());
  EXPECT_TRUE(check_with(RevocationMode::Aucune, leaf_).diagnostics.empty());
}

TEST_F(RevocationCheckTest, RevokedIntermediateIsCertRevoque) {
  write_crl("root.crl", pki().root().crl_der(listing({CrlEntry{intermediate_serial_, "2025-12-01T00:00:00Z", 5}})));
  write_crl("inter.crl", pki().intermediate().crl_der());
  auto r = check_with(RevocationMode::Souple, leaf_);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertRevoque}) << dump(r);
  const std::string& m = r.diagnostics.at(0).message;
  EXPECT_NE(m.find("certificat d'autorité"), std::string::npos) << m;
  EXPECT_NE(m.find("CN=Raccord Test Intermediate CA"), std::string::npos) << m;
  EXPECT_NE(m.find(intermediate_serial_), std::string::npos) << m;
  EXPECT_NE(m.find("CN=Raccord Test Root CA"), std::string::npos) << m;
}

TEST_F(RevocationCheckTest, ListedInAStaleCrlIsStillRevoked) {
  write_crl("root.crl", pki().root().crl_der());
  CrlOptions stale_listing = listing({CrlEntry{leaf_serial_}});
  stale_listing.this_update = "2025-07-01T00:00:00Z";
  stale_listing.next_update = "2025-07-08T00:00:00Z";
  write_crl("inter.crl", pki().intermediate().crl_der(stale_listing));
  EXPECT_EQ(error_codes(check_with(RevocationMode::Souple, leaf_)), Codes{ErrorCode::CertRevoque});
  // Not listed in that stale CRL: unknown, never good, never revoked.
  auto r = check_with(RevocationMode::Souple, pki().leaf_der());
  EXPECT_TRUE(error_codes(r).empty()) << dump(r);
  EXPECT_EQ(warning_codes(r), Codes{ErrorCode::CertRevocationInconnue}) << dump(r);
}

TEST_F(RevocationCheckTest, UnknownIsAWarningWhenSoupleAndAnErrorWhenStricte) {
  write_crl("root.crl", pki().root().crl_der());  // no CRL of the intermediate: its leaves are unknown
  auto r = check_with(RevocationMode::Souple, leaf_);
  EXPECT_TRUE(error_codes(r).empty()) << dump(r);
  EXPECT_EQ(warning_codes(r), Codes{ErrorCode::CertRevocationInconnue}) << dump(r);
  EXPECT_NE(r.diagnostics.at(0).message.find("CN=client.exemple.fr"), std::string::npos);
  EXPECT_NE(r.diagnostics.at(0).message.find("raccord trust refresh"), std::string::npos);
  r = check_with(RevocationMode::Stricte, leaf_);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertRevocationInconnue}) << dump(r);
  EXPECT_NE(r.diagnostics.at(0).message.find("aucune CRL de l'autorité « CN=Raccord Test Intermediate CA »"),
            std::string::npos)
      << r.diagnostics.at(0).message;
  EXPECT_TRUE(check_with(RevocationMode::Aucune, leaf_).diagnostics.empty());
}

TEST_F(RevocationCheckTest, ABadlySignedCrlNeverRevokesNorProvesGood) {
  write_crl("root.crl", pki().root().crl_der());
  CrlOptions forged = listing({CrlEntry{leaf_serial_}});
  forged.stranger_key = true;
  write_crl("forged.crl", pki().intermediate().crl_der(forged));
  auto r = check_with(RevocationMode::Stricte, leaf_);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertRevocationInconnue}) << dump(r);
}

TEST_F(RevocationCheckTest, ADeltaCrlRevokesButNeverProvesGood) {
  write_crl("root.crl", pki().root().crl_der());
  CrlOptions delta = listing({CrlEntry{leaf_serial_}});
  delta.crl_number = 2;
  delta.delta_base = 1;
  write_crl("delta.crl", pki().intermediate().crl_der(delta));
  EXPECT_EQ(error_codes(check_with(RevocationMode::Souple, leaf_)), Codes{ErrorCode::CertRevoque});
  EXPECT_EQ(error_codes(check_with(RevocationMode::Stricte, pki().leaf_der())),
            Codes{ErrorCode::CertRevocationInconnue});
}

TEST_F(RevocationCheckTest, AChainNotReachingAnAnchorGetsNoRevocationCode) {
  const auto& other = pki().other_intermediate();
  const std::string leaf = other.leaf_der();
  write_crl("other.crl", other.crl_der(listing({CrlEntry{TestPki::serial_hex(leaf)}})));
  const CertificatePolicy policy = revocation_policy(RevocationMode::Stricte);
  const CertificateChecker checker(policy);
  auto r = checker.check(sheet_with({bundle({leaf, other.der(), pki().other_root().der()})}), Protocol::Sftp, kCrlNow);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertAutoriteNonReconnue}) << dump(r);
}

TEST_F(RevocationCheckTest, CrlsAreReadAgainOnReload) {
  write_crl("root.crl", pki().root().crl_der());
  write_crl("inter.crl", pki().intermediate().crl_der());
  const CertificatePolicy policy = revocation_policy(RevocationMode::Souple);
  CertificateChecker checker(policy);
  const auto sheet = sheet_with({bundle({leaf_, pki().intermediate_der()})});
  EXPECT_TRUE(checker.check(sheet, Protocol::Sftp, kCrlNow).diagnostics.empty());
  CrlOptions newer = listing({CrlEntry{leaf_serial_}});
  newer.this_update = "2026-01-02T00:00:00Z";
  newer.crl_number = 2;
  write_crl("inter.crl", pki().intermediate().crl_der(newer));
  EXPECT_TRUE(checker.check(sheet, Protocol::Sftp, kCrlNow).diagnostics.empty());  // not read yet
  std::vector<TrustStoreNote> log;
  EXPECT_EQ(checker.reload_crls(log), 2u);
  EXPECT_EQ(error_codes(checker.check(sheet, Protocol::Sftp, kCrlNow)), Codes{ErrorCode::CertRevoque});
}

// metrics.prom's CRL ages (docs/reference.md §5.4): the CRLs verified with the trust store's certificates, and
// with the authorities the checks proved (chains verified to an anchor); those stay known across a reload of the
// CRLs, not of the trust store.
TEST_F(RevocationCheckTest, NewestVerifiedCrlsAreTheTrustStoresAndTheProvedAuthoritiesAcrossACrlReload) {
  write_crl("root.crl", pki().root().crl_der());
  write_crl("inter.crl", pki().intermediate().crl_der());
  CertificatePolicy policy = revocation_policy(RevocationMode::Souple);
  CertificateChecker checker(policy);
  const auto issuers = [&checker] {
    std::vector<std::string> out;
    for (const auto& [issuer, crl] : checker.newest_verified_crls(kCrlNow))
      out.push_back(issuer + " " + crl.crl_number);
    return out;
  };
  EXPECT_EQ(issuers(), (std::vector<std::string>{"CN=Raccord Test Root CA 1"}));
  EXPECT_TRUE(checker.check(sheet_with({bundle({leaf_, pki().intermediate_der()})}), Protocol::Sftp, kCrlNow)
                  .diagnostics.empty());
  EXPECT_EQ(issuers(), (std::vector<std::string>{"CN=Raccord Test Intermediate CA 1", "CN=Raccord Test Root CA 1"}));
  // What the engine records of it: the intermediate (not the anchor), PEM, with the anchor its chain ended at.
  const std::vector<RecordedAuthority> recorded = checker.proved_authorities();
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].fingerprint.size(), 64u);
  EXPECT_EQ(recorded[0].pem.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  EXPECT_NE(recorded[0].anchor_fingerprint, recorded[0].fingerprint);
  {  // Another checker (another process) that checked nothing names it from the record, while its anchor is trusted.
    const CertificateChecker other(policy);
    const auto names = [&other](const std::vector<RecordedAuthority>& r) {
      std::vector<std::string> out;
      for (const auto& [issuer, crl] : other.newest_verified_crls(kCrlNow, r)) out.push_back(issuer);
      return out;
    };
    EXPECT_EQ(names({}), (std::vector<std::string>{"CN=Raccord Test Root CA"}));
    EXPECT_EQ(names(recorded),
              (std::vector<std::string>{"CN=Raccord Test Intermediate CA", "CN=Raccord Test Root CA"}));
    std::vector<RecordedAuthority> untrusted = recorded;
    untrusted[0].anchor_fingerprint = std::string(64, 'A');
    EXPECT_EQ(names(untrusted), (std::vector<std::string>{"CN=Raccord Test Root CA"}));
    std::vector<RecordedAuthority> garbage = recorded;
    garbage[0].pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    EXPECT_EQ(names(garbage), (std::vector<std::string>{"CN=Raccord Test Root CA"}));
  }
  CrlOptions newer;
  newer.this_update = "2026-01-02T00:00:00Z";
  newer.crl_number = 2;
  write_crl("inter.crl", pki().intermediate().crl_der(newer));
  std::vector<TrustStoreNote> log;
  ASSERT_EQ(checker.reload_crls(log), 2u);
  EXPECT_EQ(issuers(), (std::vector<std::string>{"CN=Raccord Test Intermediate CA 2", "CN=Raccord Test Root CA 1"}));
  // A reload of the trust store forgets the proved authorities.
  ASSERT_GE(checker.reload_trust_store(log), 1);
  EXPECT_EQ(issuers(), (std::vector<std::string>{"CN=Raccord Test Root CA 1"}));
  policy.revocation = RevocationMode::Aucune;
  EXPECT_TRUE(CertificateChecker(policy).newest_verified_crls(kCrlNow).empty());
}

// Issue 17, figure 8: the engine reads the CRLs on a thread of their own (CrlLoading::Background). Every
// answer is the one of CRLs read at once: the first check waits for the whole store (20,000 entries here:
// a check taking a store half read would find the leaf good), the lines go to the sink once, and a reload
// or a checker never asked anything wait for the load too.
TEST_F(RevocationCheckTest, CrlsReadInTheBackgroundAnswerAsCrlsReadAtOnce) {
  write_crl("root.crl", pki().root().crl_der());
  CrlOptions big = listing({});
  big.filler_entries = 20'000;
  big.entries.push_back(CrlEntry{leaf_serial_, "2025-06-01T00:00:00Z", 1});  // listed last
  write_crl("inter.crl", pki().intermediate().crl_der(big));
  write_file(crl_dir_ / "notes.txt", "pas une CRL");
  const CertificatePolicy policy = revocation_policy(RevocationMode::Stricte);
  const auto sheet = sheet_with({bundle({leaf_, pki().intermediate_der()})});
  const auto other = sheet_with({bundle({pki().leaf_der(), pki().intermediate_der()})});
  std::mutex mutex;
  std::vector<std::vector<TrustStoreNote>> sinks;
  const auto sink = [&](std::vector<TrustStoreNote> notes) {
    const std::lock_guard lock(mutex);
    sinks.push_back(std::move(notes));
  };
  {
    CertificateChecker checker(policy, CertificateChecker::CrlLoading::Background, sink);
    for (const auto& note : checker.trust_store_log()) EXPECT_EQ(note.text.find("CRL"), std::string::npos) << note.text;
    std::vector<CertificateReport> reports(4);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < reports.size(); ++i) {
      threads.emplace_back([&, i] { reports[i] = checker.check(i % 2 == 0 ? sheet : other, Protocol::Sftp, kCrlNow); });
    }
    for (auto& t : threads) t.join();
    for (std::size_t i = 0; i < reports.size(); ++i) {
      if (i % 2 == 0) {
        EXPECT_EQ(error_codes(reports[i]), Codes{ErrorCode::CertRevoque}) << dump(reports[i]);
      } else {
        EXPECT_TRUE(reports[i].diagnostics.empty()) << dump(reports[i]);
      }
    }
    EXPECT_EQ(checker.crls()->size(), 2u);
    {
      const std::lock_guard lock(mutex);
      ASSERT_EQ(sinks.size(), 1u);
      std::string text;
      for (const auto& note : sinks[0]) text += (note.problem ? "! " : "  ") + note.text + "\n";
      EXPECT_NE(text.find("  CRL : " + (crl_dir_ / "inter.crl").string() + " : 1 CRL"), std::string::npos) << text;
      EXPECT_NE(text.find("! CRL : " + (crl_dir_ / "notes.txt").string() + " ignoré"), std::string::npos) << text;
    }
    std::vector<TrustStoreNote> log;
    EXPECT_EQ(checker.reload_crls(log), 2u);
    EXPECT_EQ(error_codes(checker.check(sheet, Protocol::Sftp, kCrlNow)), Codes{ErrorCode::CertRevoque});
  }
  {
    // A reload while the load runs waits for it, then reads the directory again; its lines are its own.
    CertificateChecker checker(policy, CertificateChecker::CrlLoading::Background, sink);
    std::vector<TrustStoreNote> log;
    EXPECT_EQ(checker.reload_crls(log), 2u);
    EXPECT_EQ(error_codes(checker.check(sheet, Protocol::Sftp, kCrlNow)), Codes{ErrorCode::CertRevoque});
  }
  { const CertificateChecker never_asked(policy, CertificateChecker::CrlLoading::Background, sink); }
  const std::lock_guard lock(mutex);
  EXPECT_EQ(sinks.size(), 3u);
}

}  // namespace
}  // namespace raccord::rules

namespace raccord::rules {

// Issue 17: RFC 5280 strictness, each kind from a certificate of the test PKI.

namespace {

bool mentions(const CertificateReport& r, ErrorCode code, const std::string& text) {
  for (const auto& d : r.diagnostics) {
    if (d.code == code && d.message.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_F(CertificatesTest, DsaLeafKeyIsWeak) {
  LeafOptions o;
  o.dsa = true;
  auto r = check_leaf(o);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertCleFaible}) << dump(r);
  EXPECT_TRUE(mentions(r, ErrorCode::CertCleFaible, "DSA")) << dump(r);
}

TEST_F(CertificatesTest, DsaSignatureOfTheChainIsWeak) {
  CaOptions dsa_ca{"Raccord DSA Intermediate CA"};
  dsa_ca.dsa = true;
  const auto ca = pki().root().issue_ca(dsa_ca);
  auto r = check({bundle({ca.leaf_der(), ca.der()})});
  // The leaf is DSA-signed; the CA holds a DSA key.
  EXPECT_EQ(error_codes(r), (Codes{ErrorCode::CertSignatureFaible, ErrorCode::CertCleFaible})) << dump(r);
  EXPECT_TRUE(mentions(r, ErrorCode::CertSignatureFaible, "DSA")) << dump(r);
}

TEST_F(CertificatesTest, CaWithoutCriticalBasicConstraintsIsNotConformant) {
  CaOptions o{"Raccord Lax Intermediate CA"};
  o.basic_constraints_critical = false;
  const auto ca = pki().root().issue_ca(o);
  auto r = check({bundle({ca.leaf_der(), ca.der()})});
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertNonConforme}) << dump(r);
  EXPECT_TRUE(mentions(r, ErrorCode::CertNonConforme, "Raccord Lax Intermediate CA")) << dump(r);
  EXPECT_TRUE(mentions(r, ErrorCode::CertNonConforme, "basicConstraints")) << dump(r);
}

TEST_F(CertificatesTest, CaWithoutSubjectKeyIdentifierIsNotConformant) {
  CaOptions o{"Raccord NoSkid Intermediate CA"};
  o.subject_key_id = false;
  const auto ca = pki().root().issue_ca(o);
  LeafOptions leaf;
  leaf.authority_key_id = false;  // nothing to name: the CA has no key identifier
  auto r = check({bundle({ca.leaf_der(leaf), ca.der()})});
  EXPECT_TRUE(mentions(r, ErrorCode::CertNonConforme, "subjectKeyIdentifier")) << dump(r);
  EXPECT_TRUE(mentions(r, ErrorCode::CertNonConforme, "authorityKeyIdentifier")) << dump(r);
}

TEST_F(CertificatesTest, KeyCertSignOnALeafIsNotConformant) {
  LeafOptions o;
  o.key_cert_sign = true;
  auto r = check_leaf(o);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertNonConforme}) << dump(r);
  EXPECT_TRUE(mentions(r, ErrorCode::CertNonConforme, "keyCertSign")) << dump(r);
}

TEST_F(CertificatesTest, SerialZeroOrOverTwentyOctetsIsNotConformant) {
  for (const std::string& serial : std::vector<std::string>{"0", "01" + std::string(40, '2')}) {  // zero; 21 octets
    LeafOptions o;
    o.serial_hex = serial;
    auto r = check_leaf(o);
    EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertNonConforme}) << serial << "\n" << dump(r);
    EXPECT_TRUE(mentions(r, ErrorCode::CertNonConforme, "numéro de série")) << dump(r);
  }
  LeafOptions twenty;
  twenty.serial_hex = "01" + std::string(38, '2');  // 20 octets: allowed
  EXPECT_TRUE(error_codes(check_leaf(twenty)).empty());
}

TEST_F(CertificatesTest, ExtensionThatDoesNotDecodeIsNotConformant) {
  // x509-limbo's webpki::malformed-aia, and its siblings: extensions whose syntax RFC 5280 gives and
  // OpenSSL knows, but that OpenSSL's verification does not decode itself (one it decodes, such as
  // crlDistributionPoints, makes the certificate invalid for the verification already).
  const std::vector<std::pair<int, std::string>> extensions{{NID_info_access, "authorityInfoAccess"},
                                                            {NID_certificate_policies, "certificatePolicies"},
                                                            {NID_sinfo_access, "subjectInfoAccess"}};
  for (const auto& [nid, name] : extensions) {
    LeafOptions o;
    o.malformed_extensions = {nid};
    auto r = check_leaf(o);
    EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertNonConforme}) << name << "\n" << dump(r);
    EXPECT_TRUE(mentions(r, ErrorCode::CertNonConforme, "« " + name + " »")) << dump(r);
  }
  // Two at once: one message naming both.
  LeafOptions both;
  both.malformed_extensions = {NID_info_access, NID_certificate_policies};
  auto r = check_leaf(both);
  EXPECT_TRUE(mentions(r, ErrorCode::CertNonConforme, "« authorityInfoAccess », « certificatePolicies »")) << dump(r);
}

TEST_F(CertificatesTest, CaWhoseEkuExcludesClientAuthMakesTheLeafUnusableForIt) {
  CaOptions o{"Raccord Server Only Intermediate CA"};
  o.eku = "serverAuth";
  const auto ca = pki().root().issue_ca(o);
  auto r = check({bundle({ca.leaf_der(), ca.der()})}, Protocol::Sftp);
  EXPECT_EQ(error_codes(r), Codes{ErrorCode::CertUsage}) << dump(r);
  EXPECT_TRUE(mentions(r, ErrorCode::CertUsage, "Raccord Server Only Intermediate CA")) << dump(r);
  // The same CA with clientAuth in its EKU: accepted.
  CaOptions both{"Raccord Client Intermediate CA"};
  both.eku = "serverAuth,clientAuth";
  const auto ok = pki().root().issue_ca(both);
  EXPECT_TRUE(error_codes(check({bundle({ok.leaf_der(), ok.der()})}, Protocol::Sftp)).empty());
}

}  // namespace raccord::rules
