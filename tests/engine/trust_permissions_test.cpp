// Who may change what decides trust (engine/trust_permissions.cpp), on real files and directories whose mode and
// owner each test sets.
#include "engine/trust_permissions.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace raccord {
namespace {

namespace fs = std::filesystem;

// docs/accounts.md "Who may change what is trusted": certificates.trust_dir (and the files in it), the CRL
// directory (and its files) and every account's `signataires` file are writable by root or the engine alone.
class TrustPermissionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("raccord-trustperm-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "etc");
    umask_ = ::umask(022);  // the tests set each mode themselves
    fs::create_directories(dir_ / "etc" / "trust");
    std::ofstream(dir_ / "etc" / "trust" / "racine.pem") << "-----BEGIN CERTIFICATE-----\n";
    std::ofstream(dir_ / "etc" / "trust" / ".cache") << "x";
    fs::create_directories(dir_ / "var" / "crl");
    std::ofstream(dir_ / "var" / "crl" / "ABCD.crl") << "x";
    std::ofstream(dir_ / "etc" / "acme.pem") << "-----BEGIN CERTIFICATE-----\n";
    for (const char* p : {"etc/trust", "var/crl"}) fs::permissions(dir_ / p, fs::perms(0750));
    for (const char* p : {"etc/trust/racine.pem", "var/crl/ABCD.crl", "etc/acme.pem"}) {
      fs::permissions(dir_ / p, fs::perms(0640));
    }
    std::ofstream(dir_ / "etc" / "raccord.ini")
        << ("[paths]\nroot = ../var\n[certificates]\ntrust_dir = trust\n"
            "[compte.acme]\nlogins = alice\nsignature = obligatoire\nsignataires = acme.pem\n"
            "[compte.globex]\nlogins = bob\n");
    config_ = load_config(dir_ / "etc" / "raccord.ini", dir_);
  }

  /// The message of the TrustPermissionError that check_trust_permissions throws, or "" when it passes.
  std::string refusal(unsigned engine_uid = ::geteuid()) const {
    try {
      check_trust_permissions(config_, engine_uid);
      return "";
    } catch (const TrustPermissionError& e) {
      return e.what();
    }
  }

  void TearDown() override {
    ::umask(umask_);
    fs::remove_all(dir_);
  }

  fs::path dir_;
  Config config_;
  mode_t umask_ = 022;
};

TEST_F(TrustPermissionsTest, OwnerOnlyWritableTrustIsAccepted) {
  EXPECT_EQ(refusal(), "");
  // Read by all (0755 / 0644, the packaged /usr/share/raccord/rules/trust) is fine: only writing decides.
  fs::permissions(dir_ / "etc" / "trust", fs::perms(0755));
  fs::permissions(dir_ / "etc" / "acme.pem", fs::perms(0644));
  EXPECT_EQ(refusal(), "");
  // Missing directories decide nothing (logged by the code that reads them).
  fs::remove_all(dir_ / "etc" / "trust");
  fs::remove_all(dir_ / "var" / "crl");
  EXPECT_EQ(refusal(), "");
}

TEST_F(TrustPermissionsTest, GroupOrOthersWritableIsRefusedNamingThePathAndTheFix) {
  const std::vector<fs::path> decisive = {dir_ / "etc" / "trust", dir_ / "etc" / "trust" / "racine.pem",
                                          dir_ / "var" / "crl", dir_ / "var" / "crl" / "ABCD.crl",
                                          dir_ / "etc" / "acme.pem"};
  for (const auto& path : decisive) {
    const auto before = fs::status(path).permissions();
    for (const fs::perms extra : {fs::perms::group_write, fs::perms::others_write}) {
      fs::permissions(path, before | extra);
      const std::string what = refusal();
      EXPECT_NE(what.find(path.string() + " est modifiable par"), std::string::npos) << path << ": " << what;
      EXPECT_NE(what.find("chmod go-w " + path.string()), std::string::npos) << what;
      fs::permissions(path, before);
    }
  }
  EXPECT_EQ(refusal(), "");
}

TEST_F(TrustPermissionsTest, ForeignOwnerIsRefusedNamingThePathAndTheFix) {
  if (::geteuid() != 0) {
    // Not root: every file is the test user's; an engine said to run as another uid refuses the first one.
    const std::string what = refusal(::geteuid() + 1);
    EXPECT_NE(what.find((dir_ / "etc" / "trust").string() + " appartient à l'uid"), std::string::npos) << what;
    GTEST_SKIP() << "chown to another uid needs root";
  }
  for (const fs::path& path : {dir_ / "etc" / "trust", dir_ / "etc" / "trust" / "racine.pem", dir_ / "var" / "crl",
                               dir_ / "var" / "crl" / "ABCD.crl", dir_ / "etc" / "acme.pem"}) {
    ASSERT_EQ(::chown(path.c_str(), 4242, static_cast<gid_t>(-1)), 0) << path;
    const std::string what = refusal();
    EXPECT_NE(what.find(path.string() + " appartient à l'uid 4242"), std::string::npos) << path << ": " << what;
    EXPECT_NE(what.find("chown root " + path.string()), std::string::npos) << what;
    EXPECT_EQ(refusal(4242), "") << "the engine's own uid may own it";
    ASSERT_EQ(::chown(path.c_str(), 0, static_cast<gid_t>(-1)), 0);
  }
  EXPECT_EQ(refusal(), "");
}

TEST_F(TrustPermissionsTest, HiddenFilesOfTrustDirAndOtherFoldersAreNotJudged) {
  // Hidden files of trust_dir and crl_dir are never read; inbox/ and the rest of the root are not trust.
  fs::permissions(dir_ / "etc" / "trust" / ".cache", fs::perms(0666));
  std::ofstream(dir_ / "var" / "crl" / ".ABCD.crl.tmp") << "x";
  fs::permissions(dir_ / "var" / "crl" / ".ABCD.crl.tmp", fs::perms(0666));
  fs::create_directories(dir_ / "var" / "inbox");
  fs::permissions(dir_ / "var" / "inbox", fs::perms(0777));
  EXPECT_EQ(refusal(), "");
}

TEST_F(TrustPermissionsTest, SymbolicLinksAreJudgedByTheirTarget) {
  const fs::path target = dir_ / "elsewhere.pem";
  std::ofstream(target) << "-----BEGIN CERTIFICATE-----\n";
  fs::permissions(target, fs::perms(0666));
  fs::create_symlink(target, dir_ / "etc" / "trust" / "lien.pem");
  EXPECT_NE(refusal().find("lien.pem est modifiable par tous les utilisateurs (droits 0666)"), std::string::npos)
      << refusal();
  fs::permissions(target, fs::perms(0644));
  EXPECT_EQ(refusal(), "");
}

}  // namespace
}  // namespace raccord
