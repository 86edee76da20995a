// Tests of `raccord cert` (engine/app/cert_command.cpp; docs/reference.md §7, §3.3, §4; docs/field-cases.md F19-F27)
// through the real binary, on files written from the test PKI, with a --config whose certificates.trust_dir holds the
// test root. Every check runs at a fixed --date or --now.
#include "engine/app/cert_command.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/command.hpp"
#include "tests/support/files.hpp"
#include "tests/support/test_pki.hpp"

namespace {

namespace fs = std::filesystem;
using raccord::testing::CommandRun;
using raccord::testing::LeafOptions;
using raccord::testing::raccord_command_line;
using raccord::testing::run_command;
using raccord::testing::TestPki;
using raccord::testing::write_file;

const TestPki& pki() {
  return TestPki::instance();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The "Verdict ..." section of the text output (everything from that line on).
std::string verdict_of(const std::string& out) {
  const auto at = out.find("\nVerdict ");
  return at == std::string::npos ? std::string("<pas de verdict>") : out.substr(at);
}

class CertCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("raccord-cert-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "work");
    fs::create_directories(dir_ / "capture");
    pki().write_trust_dir(dir_ / "conf" / "confiance");
    write_file(dir_ / "conf" / "raccord.ini",
               "[engine]\ntimezone = Europe/Paris\n[certificates]\ntrust_dir = confiance\n");
  }
  void TearDown() override {
    // `cert` creates nothing: the working directory stays empty.
    EXPECT_TRUE(fs::is_empty(dir_ / "work")) << "raccord cert a créé des fichiers";
    if (!HasFailure()) fs::remove_all(dir_);
  }

  /// Writes `bytes` as files/<name> and returns its path.
  fs::path file(const std::string& name, const std::string& bytes) {
    write_file(dir_ / "files" / name, bytes);
    return dir_ / "files" / name;
  }

  /// Runs `raccord cert ARGS --config <ini>` in the empty work directory.
  /// (stdout and stderr are captured in dir_/capture, outside the work directory).
  CommandRun cert(const std::vector<std::string>& args, bool with_config = true) {
    std::vector<std::string> words{"cert"};
    words.insert(words.end(), args.begin(), args.end());
    if (with_config) words.insert(words.end(), {"--config", (dir_ / "conf" / "raccord.ini").string()});
    return run_command(raccord_command_line(words, dir_ / "work"), dir_ / "capture");
  }

  /// `raccord cert FILE --date 2026-06-10 [--protocole P]` on a PKCS#7 DER file of `ders`.
  CommandRun judge(const std::vector<std::string>& ders, const std::string& protocol = "SFTP",
                   const std::string& date = "2026-06-10") {
    return cert({file("bundle.p7b", TestPki::pkcs7_der(ders)).string(), "--date", date, "--protocole", protocol});
  }

  fs::path dir_;
};

std::string dump(const CommandRun& o) {
  return "code " + std::to_string(o.code) + "\n--- stdout\n" + o.out + "--- stderr\n" + o.err;
}

TEST_F(CertCommandTest, ValidBundleIsAcceptableAndEveryCertificateIsDescribed) {
  LeafOptions o;
  o.server_auth = true;
  const std::string leaf = pki().leaf_der(o);
  auto r = judge({leaf, pki().intermediate_der(), pki().root_der()});
  EXPECT_EQ(r.code, 0) << dump(r);
  for (const char* part :
       {"Contenu : PKCS#7 (3 certificat(s))", "Sujet : CN=client.exemple.fr",
        "Émetteur : CN=Raccord Test Intermediate CA", "N° de série : ", "Validité : du 01/01/2025 au 31/12/2030",
        "Clé : EC 256 bits", "Signature : ecdsa-with-SHA256", "Usages : clientAuth, serverAuth",
        "Empreinte SHA-256 : ", "Chaîne de « CN=client.exemple.fr » : aboutit à une autorité de confiance",
        "→ CN=Raccord Test Intermediate CA", "→ CN=Raccord Test Root CA", "[autorité de confiance]",
        "Verdict SFTP au 10/06/2026 12:00:00 (Europe/Paris) : ACCEPTABLE", "Aucune erreur ni aucun avertissement."}) {
    EXPECT_TRUE(contains(r.out, part)) << part << "\n" << dump(r);
  }
  EXPECT_TRUE(contains(r.out, "Usages : aucun (ni clientAuth ni serverAuth)")) << r.out;  // the CAs
}

TEST_F(CertCommandTest, F19F20DerPemAndAnyOrderGiveTheSameVerdict) {
  LeafOptions o;
  o.not_after = "2026-06-20T00:00:00Z";  // a warning, so that the verdict says something
  const std::string leaf = pki().leaf_der(o);
  const std::string inter = pki().intermediate_der();
  const std::string root = pki().root_der();
  auto reference = judge({leaf, inter});
  ASSERT_EQ(reference.code, 0) << dump(reference);
  ASSERT_TRUE(contains(reference.out, "AVERTISSEMENT CERT_EXPIRE_BIENTOT")) << dump(reference);
  const std::vector<std::pair<std::string, std::string>> files{
      {"pem.p7b", TestPki::pkcs7_pem({leaf, inter})},
      {"der_nomme.pem", TestPki::pkcs7_der({leaf, inter})},
      {"inverse.p7b", TestPki::pkcs7_der({root, inter, leaf})},
      {"inverse_pem.txt", TestPki::pkcs7_pem({inter, root, leaf})},
      {"base64.b64", TestPki::base64(TestPki::pkcs7_der({inter, leaf}))},
  };
  for (const auto& [name, bytes] : files) {
    auto r = cert({file(name, bytes).string(), "--date", "2026-06-10"});
    EXPECT_EQ(r.code, 0) << name << dump(r);
    EXPECT_EQ(verdict_of(r.out), verdict_of(reference.out)) << name;
  }
}

/// The chains and the verdict of the text output (everything from the first "Chaîne de" line on).
std::string chains_and_verdict_of(const std::string& out) {
  const auto at = out.find("\nChaîne de ");
  return at == std::string::npos ? std::string("<pas de chaîne>") : out.substr(at);
}

// F20: a CA shipped both cross-signed by the trusted root and self-signed (same name, same key), in
// every order of the bundle: the same chain (to the trusted root) and the same verdict; the order
// pyca/cryptography writes, [leaf, self-signed CA, cross-signed CA], used to be refused. Without a
// path to a trusted root (the other form cross-signed by an unknown root), every order gives
// CERT_AUTORITE_NON_RECONNUE and the same chain.
TEST_F(CertCommandTest, F20CrossSignedCaGivesTheSameChainAndVerdictInEveryOrder) {
  const auto ca = pki().root().issue_ca({"Raccord Cross CA"});
  const auto self = ca.self_signed_copy();
  const auto by_other = ca.cross_signed_by(pki().other_root());
  const std::string leaf = ca.leaf_der();
  struct Family {
    std::vector<std::string> certs;
    int exit_code;
    std::string expected;
  };
  for (const Family& family : {Family{{leaf, ca.der(), self.der()}, 0, "→ CN=Raccord Test Root CA"},
                               Family{{leaf, by_other.der(), self.der()}, 1, "ERREUR CERT_AUTORITE_NON_RECONNUE"}}) {
    std::vector<std::size_t> index{0, 1, 2};
    std::string reference;
    do {
      const std::vector<std::string> order{family.certs[index[0]], family.certs[index[1]], family.certs[index[2]]};
      auto r = judge(order);
      EXPECT_EQ(r.code, family.exit_code) << dump(r);
      EXPECT_TRUE(contains(r.out, family.expected)) << dump(r);
      const std::string seen = chains_and_verdict_of(r.out);
      if (reference.empty()) reference = seen;
      EXPECT_EQ(seen, reference) << "ordre " << index[0] << index[1] << index[2];
    } while (std::next_permutation(index.begin(), index.end()));
  }
}

struct CodeCase {
  const char* name;
  std::vector<std::string> ders;
  std::string protocol;
  int exit_code;
  std::string code;    // the code expected in the verdict
  std::string detail;  // a piece of its message
};

TEST_F(CertCommandTest, EveryCertCodeThroughTheCommand) {
  const auto& inter = pki().intermediate();
  LeafOptions valid_2024;
  valid_2024.not_before = "2024-01-01T00:00:00Z";
  LeafOptions self_signed;
  self_signed.self_signed = true;
  LeafOptions server_only;
  server_only.client_auth = false;
  server_only.server_auth = true;
  LeafOptions rsa1024;
  rsa1024.rsa_bits = 1024;
  LeafOptions soon;
  soon.not_after = "2026-06-20T10:00:00Z";
  LeafOptions no_eku;
  no_eku.eku = false;
  LeafOptions sha1_leaf;
  sha1_leaf.digest = "sha1";
  const std::vector<CodeCase> cases{
      {"feuille seule",
       {pki().leaf_der()},
       "SFTP",
       1,
       "ERREUR CERT_CHAINE_INCOMPLETE",
       "Ajoutez le certificat intermédiaire « CN=Raccord Test Intermediate CA » au fichier PKCS#7"},
      {"racine attaquante",
       {pki().attacker_root().leaf_der(), pki().attacker_root().der()},
       "SFTP",
       1,
       "ERREUR CERT_AUTORITE_NON_RECONNUE",
       "porte le nom d'une autorité reconnue"},
      {"racine inconnue",
       {pki().other_intermediate().leaf_der(), pki().other_intermediate().der(), pki().other_root().der()},
       "SFTP",
       1,
       "ERREUR CERT_AUTORITE_NON_RECONNUE",
       "n'est pas une autorité reconnue"},
      {"auto-signé", {pki().leaf_der(self_signed)}, "SFTP", 1, "ERREUR CERT_AUTOSIGNE", "est auto-signé"},
      {"intermédiaire expiré, feuille valide",
       {pki().expired_intermediate().leaf_der(valid_2024), pki().expired_intermediate().der()},
       "SFTP",
       1,
       "ERREUR CERT_EXPIRE",
       "Le certificat d'autorité « CN=Raccord Expired Intermediate CA »"},
      {"intermédiaire futur",
       {pki().future_intermediate().leaf_der(), pki().future_intermediate().der()},
       "SFTP",
       1,
       "ERREUR CERT_PAS_ENCORE_VALIDE",
       "n'est valide qu'à partir du 01/01/2031"},
      {"serveur seul en SFTP",
       {inter.leaf_der(server_only), inter.der()},
       "SFTP",
       1,
       "ERREUR CERT_USAGE",
       "n'autorise pas l'authentification client"},
      {"client seul en PESIT",
       {inter.leaf_der(), inter.der()},
       "PESIT",
       1,
       "ERREUR CERT_USAGE",
       "l'authentification serveur"},
      {"client seul en API", {inter.leaf_der(), inter.der()}, "api", 0, "ACCEPTABLE", "Verdict API"},
      {"RSA 1024", {pki().leaf_der(rsa1024), inter.der()}, "SFTP", 1, "ERREUR CERT_CLE_FAIBLE", "(1024 < 2048)"},
      {"intermédiaire SHA-1",
       {pki().sha1_intermediate().leaf_der(), pki().sha1_intermediate().der()},
       "AS2",
       1,
       "ERREUR CERT_SIGNATURE_FAIBLE",
       "CN=Raccord SHA1 Intermediate CA"},
      {"feuille SHA-1", {inter.leaf_der(sha1_leaf), inter.der()}, "SFTP", 1, "ERREUR CERT_SIGNATURE_FAIBLE", "SHA1"},
      {"expire bientôt",
       {inter.leaf_der(soon), inter.der()},
       "SFTP",
       0,
       "AVERTISSEMENT CERT_EXPIRE_BIENTOT",
       "expire bientôt, le 20/06/2026"},
      {"sans EKU",
       {inter.leaf_der(no_eku), inter.der()},
       "PESIT",
       0,
       "AVERTISSEMENT CERT_SANS_EKU",
       "pas d'extension d'usage étendu"},
  };
  for (const auto& c : cases) {
    auto r = judge(c.ders, c.protocol);
    EXPECT_EQ(r.code, c.exit_code) << c.name << "\n" << dump(r);
    EXPECT_TRUE(contains(r.out, c.code)) << c.name << "\n" << dump(r);
    EXPECT_TRUE(contains(r.out, c.detail)) << c.name << "\n" << dump(r);
    EXPECT_EQ(contains(r.out, ": NON ACCEPTABLE"), c.exit_code == 1) << c.name;
  }
}

TEST_F(CertCommandTest, ExpiredIntermediateFailsWhileTheLeafIsValid) {
  LeafOptions o;
  o.not_before = "2024-01-01T00:00:00Z";
  const auto& expired = pki().expired_intermediate();
  const auto bundle = file("b.p7b", TestPki::pkcs7_der({expired.leaf_der(o), expired.der()})).string();
  auto r = cert({bundle, "--date", "2026-06-10"});
  EXPECT_EQ(r.code, 1) << dump(r);
  EXPECT_TRUE(contains(r.out, "a expiré le 31/12/2024")) << r.out;
  EXPECT_FALSE(contains(r.out, "Le certificat « CN=client.exemple.fr »")) << r.out;  // the leaf is not blamed
  r = cert({bundle, "--date", "2024-06-01"});
  EXPECT_EQ(r.code, 0) << dump(r);
}

TEST_F(CertCommandTest, F19BareCertificatesAreInspectedButRefused) {
  const std::string leaf = pki().leaf_der();
  for (const auto& [name, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"chaine.pem", TestPki::certificates_pem({leaf, pki().intermediate_der()})}, {"feuille.cer", leaf}}) {
    auto r = cert({file(name, bytes).string(), "--date", "2026-06-10"});
    EXPECT_EQ(r.code, 1) << name << dump(r);
    EXPECT_TRUE(contains(r.out, "Contenu : certificats X.509 seuls, sans structure PKCS#7")) << r.out;
    EXPECT_TRUE(contains(r.out, "ERREUR CERT_FORMAT")) << r.out;
    EXPECT_TRUE(contains(r.out, "openssl crl2pkcs7 -nocrl")) << r.out;
    EXPECT_TRUE(contains(r.out, "Sujet : CN=client.exemple.fr")) << r.out;
  }
  // The leaf alone, once bundled, would also miss its intermediate: both are said.
  auto r = cert({file("seul.cer", leaf).string(), "--date", "2026-06-10"});
  EXPECT_TRUE(contains(r.out, "ERREUR CERT_CHAINE_INCOMPLETE")) << r.out;
}

TEST_F(CertCommandTest, UnreadableContentIsCertFormat) {
  for (const auto& [name, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"vide.p7b", TestPki::pkcs7_der({})}, {"cle.pem", TestPki::private_key_pem()}, {"texte.p7b", "bonjour"}}) {
    auto r = cert({file(name, bytes).string(), "--date", "2026-06-10"});
    EXPECT_EQ(r.code, 1) << name << dump(r);
    EXPECT_TRUE(contains(r.out, "ERREUR CERT_FORMAT")) << name << r.out;
    EXPECT_TRUE(contains(r.out, "Contenu : illisible")) << name << r.out;
  }
}

TEST_F(CertCommandTest, DateIsNoonInTheEngineZoneAndNowIsTheDefault) {
  const auto& inter = pki().intermediate();
  LeafOptions o;
  o.not_after = "2026-06-10T10:30:00Z";  // after 12:00 Paris (10:00Z): still valid at --date 2026-06-10
  const auto still = file("a.p7b", TestPki::pkcs7_der({inter.leaf_der(o), inter.der()})).string();
  auto r = cert({still, "--date", "2026-06-10"});
  EXPECT_EQ(r.code, 0) << dump(r);
  o.not_after = "2026-06-10T09:30:00Z";  // before noon Paris
  const auto gone = file("b.p7b", TestPki::pkcs7_der({inter.leaf_der(o), inter.der()})).string();
  r = cert({gone, "--date", "2026-06-10"});
  EXPECT_EQ(r.code, 1) << dump(r);
  EXPECT_TRUE(contains(r.out, "ERREUR CERT_EXPIRE")) << r.out;
  // Without --date: the --now instant.
  r = cert({gone, "--now", "2026-06-10T09:00:00Z"});
  EXPECT_EQ(r.code, 0) << dump(r);
  r = cert({gone, "--now", "2026-06-10T09:45:00Z"});
  EXPECT_EQ(r.code, 1) << dump(r);
}

TEST_F(CertCommandTest, XmlFormat) {
  auto path = file("b.p7b", TestPki::pkcs7_der({pki().leaf_der(), pki().intermediate_der()})).string();
  auto r = cert({path, "--date", "2026-06-10", "--format", "xml", "--protocole", "PESIT"});
  EXPECT_EQ(r.code, 1) << dump(r);
  for (const char* part :
       {"<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "<Certificats fichier=", "contenu=\"PKCS7\"",
        "<Certificat rang=\"1\" sujet=\"CN=client.exemple.fr\"", "<Certificat rang=\"2\"", "<Chaine fin=\"ANCREE\">",
        "confiance=\"true\"", "<Verdict protocole=\"PESIT\" instant=\"2026-06-10T10:00:00Z\" acceptable=\"false\">",
        "<Erreur code=\"CERT_USAGE\">", "</Certificats>"}) {
    EXPECT_TRUE(contains(r.out, part)) << part << "\n" << r.out;
  }
  r = cert({file("c.p7b", TestPki::pkcs7_der({pki().leaf_der()})).string(), "--format", "xml", "--date", "2026-06-10"});
  EXPECT_TRUE(
      contains(r.out, "<Chaine fin=\"EMETTEUR_MANQUANT\" emetteurManquant=\"CN=Raccord Test Intermediate CA\">"))
      << r.out;
}

TEST_F(CertCommandTest, UsageErrorsExitWithTwo) {
  auto path = file("b.p7b", TestPki::pkcs7_der({pki().leaf_der(), pki().intermediate_der()})).string();
  EXPECT_EQ(cert({path, "--protocole", "FTP"}).code, 2);
  EXPECT_EQ(cert({path, "--date", "2026-02-30"}).code, 2);
  EXPECT_EQ(cert({path, "--date", "10/06/2026"}).code, 2);
  EXPECT_EQ(cert({path, "--format", "json"}).code, 2);
  EXPECT_EQ(cert({(dir_ / "absent.p7b").string()}).code, 2);
  EXPECT_EQ(cert({(dir_ / "files").string()}).code, 2);  // a directory
  EXPECT_EQ(cert({}).code, 2);
  if (::geteuid() != 0) {  // root reads anything
    ::chmod(path.c_str(), 0);
    auto r = cert({path});
    EXPECT_EQ(r.code, 2) << dump(r);
    EXPECT_TRUE(contains(r.err, "Impossible de lire")) << r.err;
    ::chmod(path.c_str(), 0644);
  }
  auto help = cert({"--help"}, false);
  EXPECT_EQ(help.code, 0);
  EXPECT_TRUE(contains(help.out, "<Certificats")) << help.out;
}

TEST_F(CertCommandTest, WithoutTrustDirectoryNothingIsRecognised) {
  write_file(dir_ / "conf" / "vide.ini", "[certificates]\ntrust_dir = absent\n");
  auto path = file("b.p7b", TestPki::pkcs7_der({pki().leaf_der(), pki().intermediate_der(), pki().root_der()}));
  auto r = cert({path.string(), "--date", "2026-06-10", "--config", (dir_ / "conf" / "vide.ini").string()}, false);
  EXPECT_EQ(r.code, 1) << dump(r);
  EXPECT_TRUE(contains(r.out, "ERREUR CERT_AUTORITE_NON_RECONNUE")) << r.out;
  EXPECT_TRUE(contains(r.err, "répertoire de confiance absent")) << r.err;
}

}  // namespace
