// Tests of rules/trust_store.cpp: the trust directory read into the store (every PEM file, hidden and
// unreadable files skipped, reload), an intermediate configured there, and the CA cache emptied by a
// reload (issue 3).
#include "rules/trust_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "rules/certificate_facts.hpp"
#include "tests/rules/certificates_fixture.hpp"

namespace raccord::rules {
namespace {

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
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(lines.back().problem);  // the directory is now empty
  std::filesystem::remove_all(dir);
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

TEST_F(CertificatesTest, LoadTrustStoreKeepsEveryCertificateWithItsFingerprint) {
  auto dir = temp_dir("load");
  write_file(dir / "b_racine.pem", pki().root_pem());
  write_file(dir / "a_autorites.pem", pki().intermediate_pem() + pki().other_root().pem());
  write_file(dir / "vide.pem", "");
  const LoadedTrustStore loaded = load_trust_store(dir);
  EXPECT_EQ(loaded.anchors, 3);
  ASSERT_NE(loaded.state, nullptr);
  ASSERT_EQ(loaded.state->certs.size(), 3u);
  for (const auto& c : loaded.state->certs) EXPECT_EQ(c.fingerprint, fingerprint(c.cert.get()));
  for (const auto& der : {pki().root_der(), pki().intermediate_der(), pki().other_root().der()}) {
    EXPECT_EQ(loaded.state->fingerprints.count(fingerprint(parse_x509(der).get())), 1u);
  }
  EXPECT_EQ(loaded.state->cache.size(), 0u);
  // One line per file, in name order; the file without certificates is skipped.
  ASSERT_EQ(loaded.log.size(), 3u);
  EXPECT_NE(loaded.log[0].text.find("a_autorites.pem : 2 certificat(s) de confiance"), std::string::npos)
      << loaded.log[0].text;
  EXPECT_NE(loaded.log[1].text.find("b_racine.pem : 1 certificat(s) de confiance"), std::string::npos)
      << loaded.log[1].text;
  EXPECT_NE(loaded.log[2].text.find("vide.pem ignoré"), std::string::npos) << loaded.log[2].text;
  EXPECT_FALSE(loaded.log[0].problem);  // information, logged at info level (issue 18)
  EXPECT_FALSE(loaded.log[1].problem);
  EXPECT_TRUE(loaded.log[2].problem);  // the operator has something to fix: a warning
  // A missing directory: an empty store, and the log says so.
  const LoadedTrustStore none = load_trust_store(dir / "absente");
  EXPECT_EQ(none.anchors, 0);
  ASSERT_NE(none.state, nullptr);
  EXPECT_TRUE(none.state->certs.empty());
  ASSERT_EQ(none.log.size(), 1u);
  EXPECT_NE(none.log[0].text.find("répertoire de confiance absent"), std::string::npos) << none.log[0].text;
  EXPECT_TRUE(none.log[0].problem);
  std::filesystem::remove_all(dir);
}

// Issue 20 (fault sweep: EIO on reading trust/root.pem): a trust file that cannot be read made an
// empty store, and every sheet was rejected CERT_AUTORITE_NON_RECONNUE, committed, exit 0. Now the
// load throws, naming the file, and a reload keeps the store it had. The read error is real: EIO from
// /proc/self/mem (offset 0 is not mapped), linked into the trust directory.
TEST_F(CertificatesTest, ATrustFileThatCannotBeReadStopsTheLoadNamingIt) {
  auto dir = temp_dir("unreadable");
  pki().write_trust_dir(dir);
  CertificatePolicy policy;
  policy.trust_dir = dir;
  CertificateChecker checker(policy);
  ASSERT_EQ(checker.trust_anchor_count(), 1);
  std::filesystem::create_symlink("/proc/self/mem", dir / "z_illisible.pem");
  try {
    (void)load_trust_store(dir);
    ADD_FAILURE() << "std::system_error attendu";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EIO) << e.what();
    EXPECT_NE(std::string(e.what()).find("z_illisible.pem"), std::string::npos) << e.what();
  }
  std::vector<TrustStoreNote> log;
  EXPECT_THROW(checker.reload_trust_store(log), std::system_error);
  EXPECT_EQ(checker.trust_anchor_count(), 1);  // the store loaded before is kept
  EXPECT_THROW(CertificateChecker{policy}, std::system_error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace raccord::rules
