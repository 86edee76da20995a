#include "engine/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

namespace raccord {
namespace {

namespace fs = std::filesystem;

// A fresh temporary directory, removed at the end of the test.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("raccord-config-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "etc");
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write_ini(const std::string& text, const std::string& name = "etc/raccord.ini") {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

  // Loads `text` and expects a ConfigError whose message names `key` and the raw value.
  void expect_error(const std::string& text, const std::string& key, const std::string& value) {
    const fs::path p = write_ini(text);
    try {
      (void)load_config(p, dir_);
      ADD_FAILURE() << "ConfigError expected for:\n" << text;
    } catch (const std::runtime_error& e) {  // ConfigError, or AccountConfigError for a [compte.NAME] section
      const std::string what = e.what();
      EXPECT_NE(what.find(key), std::string::npos) << what;
      EXPECT_NE(what.find(value), std::string::npos) << what;
    }
  }

  fs::path dir_;
};

TEST_F(ConfigTest, DefaultsWithNoFile) {
  const Config c = load_config(std::nullopt, dir_);
  EXPECT_EQ(c.environment, Environment::Production);
  EXPECT_EQ(c.code_prefix, "VFE");
  EXPECT_EQ(c.timezone, "Europe/Paris");
  EXPECT_EQ(c.root, dir_ / "var");
  EXPECT_EQ(c.settle_ms, 2000);
  EXPECT_EQ(c.rescan_s, 30);
  EXPECT_EQ(c.max_bytes, 67108864);
  EXPECT_EQ(c.store_backend, Backend::Sqlite);
  EXPECT_EQ(c.store_connection, "");
  EXPECT_EQ(c.effective_connection(), (dir_ / "var" / "raccord.db").string());
  EXPECT_EQ(c.min_rsa_bits, 2048);
  EXPECT_EQ(c.expiry_warning_days, 30);
  EXPECT_EQ(c.clock_skew_s, 300);
  EXPECT_EQ(c.nightly_time, (NightlyTime{2, 0}));
  EXPECT_EQ(c.outbox_retention_days, 90);
  EXPECT_EQ(c.archive_retention_days, 365);
  EXPECT_EQ(c.aife.sftp_address, "192.168.131.22");
  EXPECT_EQ(c.aife.sftp_port, 6321);
  EXPECT_EQ(c.aife.as2_identifiant, "CTAIFEP");
  EXPECT_EQ(c.aife.as2_address, "93.92.105.71");
  EXPECT_EQ(c.aife.as2_port, 24000);
  EXPECT_EQ(c.aife.as2_path, "/");
  EXPECT_EQ(c.aife.pesit_address, "93.92.105.72");
  EXPECT_EQ(c.aife.pesit_port, 5100);
  EXPECT_FALSE(c.source.has_value());
  EXPECT_TRUE(c.warnings.empty());
  // paths.rules: installed, else source tree, else empty (seed); trust_dir follows it.
  if (c.rules_dir.empty()) {
    EXPECT_TRUE(c.trust_dir.empty());
  } else {
    EXPECT_EQ(c.trust_dir, c.rules_dir / "trust");
  }
}

TEST_F(ConfigTest, EmptyFileGivesTheDefaults) {
  const fs::path p = write_ini("; rien\n");
  const Config c = load_config(p, dir_);
  EXPECT_EQ(c.source, p);
  EXPECT_EQ(c.root, dir_ / "var");  // the default root stays relative to cwd, not to the file
  EXPECT_EQ(c.settle_ms, 2000);
  EXPECT_EQ(c.code_prefix, "VFE");
  EXPECT_TRUE(c.warnings.empty());
}

TEST_F(ConfigTest, EveryKeyIsRead) {
  const fs::path p = write_ini(
      "[engine]\n"
      "environment = qualification\n"
      "code_prefix = ABC\n"
      "timezone = America/Cayenne\n"
      "[paths]\n"
      "root = /srv/raccord\n"
      "rules = /opt/raccord/rules\n"
      "[inbox]\n"
      "settle_ms = 0\n"
      "rescan_s = 5\n"
      "max_bytes = 1024\n"
      "[store]\n"
      "backend = postgresql\n"
      "connection = host=db.example.com port=5432 dbname=raccord user=raccord\n"
      "[certificates]\n"
      "trust_dir = /etc/raccord/trust\n"
      "min_rsa_bits = 3072\n"
      "expiry_warning_days = 45\n"
      "clock_skew_s = 60\n"
      "[nightly]\n"
      "time = 23:45\n"
      "[outbox]\n"
      "retention_days = 30\n"
      "[archive]\n"
      "retention_days = 730\n"
      "[aife]\n"
      "sftp_address = 192.0.2.1\n"
      "sftp_port = 22\n"
      "as2_identifiant = AIFETEST\n"
      "as2_address = 192.0.2.2\n"
      "as2_port = 4080\n"
      "as2_path = /as2/in\n"
      "pesit_address = 192.0.2.3\n"
      "pesit_port = 6000\n");
  const Config c = load_config(p, dir_);
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();
  EXPECT_EQ(c.environment, Environment::Qualification);
  EXPECT_EQ(c.code_prefix, "ABC");
  EXPECT_EQ(c.timezone, "America/Cayenne");
  EXPECT_EQ(c.root, fs::path("/srv/raccord"));
  EXPECT_EQ(c.rules_dir, fs::path("/opt/raccord/rules"));
  EXPECT_EQ(c.settle_ms, 0);
  EXPECT_EQ(c.rescan_s, 5);
  EXPECT_EQ(c.max_bytes, 1024);
  EXPECT_EQ(c.store_backend, Backend::Postgresql);
  EXPECT_EQ(c.store_connection, "host=db.example.com port=5432 dbname=raccord user=raccord");
  EXPECT_EQ(c.effective_connection(), c.store_connection);
  EXPECT_EQ(c.trust_dir, fs::path("/etc/raccord/trust"));
  EXPECT_EQ(c.min_rsa_bits, 3072);
  EXPECT_EQ(c.expiry_warning_days, 45);
  EXPECT_EQ(c.clock_skew_s, 60);
  EXPECT_EQ(c.nightly_time, (NightlyTime{23, 45}));
  EXPECT_EQ(c.outbox_retention_days, 30);
  EXPECT_EQ(c.archive_retention_days, 730);
  EXPECT_EQ(c.aife.sftp_address, "192.0.2.1");
  EXPECT_EQ(c.aife.sftp_port, 22);
  EXPECT_EQ(c.aife.as2_identifiant, "AIFETEST");
  EXPECT_EQ(c.aife.as2_address, "192.0.2.2");
  EXPECT_EQ(c.aife.as2_port, 4080);
  EXPECT_EQ(c.aife.as2_path, "/as2/in");
  EXPECT_EQ(c.aife.pesit_address, "192.0.2.3");
  EXPECT_EQ(c.aife.pesit_port, 6000);
}

// docs/reference.md §7 (issue 18, item 7): an AIFE key left at its default is an example value; one warning per
// protocol whose side has such a key, naming them, their example values and where they come from.
bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(ConfigTest, AifeSidesLeftAtTheirDefaultsAreWarnedOncePerProtocol) {
  const Config none = load_config(std::nullopt, dir_);
  const std::vector<std::string> w = aife_example_warnings(none);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_TRUE(has(w[0], "PESIT") && has(w[0], "aife.pesit_address = 93.92.105.72") &&
              has(w[0], "aife.pesit_port = 5100") && has(w[0], "inventées par le projet"))
      << w[0];
  EXPECT_TRUE(has(w[1], "SFTP") && has(w[1], "aife.sftp_address = 192.168.131.22") &&
              has(w[1], "aife.sftp_port = 6321") && has(w[1], "les valeurs d'exemple du guide"))
      << w[1];
  EXPECT_TRUE(has(w[2], "AS2") && has(w[2], "aife.as2_identifiant = CTAIFEP") &&
              has(w[2], "aife.as2_address = 93.92.105.71") && has(w[2], "aife.as2_port = 24000") &&
              has(w[2], "aife.as2_path = /") && has(w[2], "les valeurs d'exemple du guide"))
      << w[2];
  for (const auto& line : w) {
    EXPECT_TRUE(has(line, "ParametresAIFE")) << line;
    EXPECT_TRUE(has(line, "--config")) << line;                     // no file: says where the values go
    EXPECT_FALSE(has(line, "PESIT") && has(line, "SFTP")) << line;  // one protocol per line
  }
}

TEST_F(ConfigTest, AifeSideIsConfiguredOnlyWhenEveryKeyIsWritten) {
  // A file without [aife]: the three sides, and the file named as the place to write them.
  const fs::path bare = write_ini("[inbox]\nsettle_ms = 100\n");
  const auto all = aife_example_warnings(load_config(bare, dir_));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_TRUE(has(all[0], "[aife] de " + bare.string())) << all[0];

  // SFTP written whole (the port with its default value: written is configured); AS2 half written;
  // PeSIT with only its port: both still warned, naming only the keys left out.
  const fs::path p = write_ini(
      "[aife]\n"
      "sftp_address = 198.51.100.7\n"
      "sftp_port = 6321\n"
      "as2_identifiant = CTAIFEP\n"
      "as2_address = 198.51.100.8\n"
      "pesit_port = 5100\n");
  const Config c = load_config(p, dir_);
  EXPECT_TRUE(c.warnings.empty());
  const auto w = aife_example_warnings(c);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_TRUE(has(w[0], "PESIT") && has(w[0], "aife.pesit_address = 93.92.105.72")) << w[0];
  EXPECT_FALSE(has(w[0], "pesit_port")) << w[0];
  EXPECT_TRUE(has(w[0], "inventée par le projet") && has(w[0], " est ")) << w[0];  // one key: singular
  EXPECT_TRUE(has(w[1], "AS2") && has(w[1], "aife.as2_port = 24000") && has(w[1], "aife.as2_path = /")) << w[1];
  EXPECT_FALSE(has(w[1], "as2_identifiant") || has(w[1], "as2_address")) << w[1];

  // Every key written, in any case (INI keys are case-insensitive): nothing to say.
  const fs::path full = write_ini(
      "[AIFE]\n"
      "SFTP_ADDRESS = 198.51.100.7\nsftp_port = 22\n"
      "as2_identifiant = CTAIFEP\nas2_address = 198.51.100.8\nas2_port = 24000\nas2_path = /\n"
      "pesit_address = 198.51.100.9\npesit_port = 5100\n");
  EXPECT_TRUE(aife_example_warnings(load_config(full, dir_)).empty());
}

// The shipped configurations leave the [aife] keys out, so that an installation warns until the
// operator writes the AIFE's values.
TEST_F(ConfigTest, ShippedConfigurationsLeaveTheAifeExamplesOut) {
  for (const char* shipped : {"systemd/raccord.ini", "samples/raccord.ini"}) {
    SCOPED_TRACE(shipped);
    const Config c = load_config(fs::path(RACCORD_SOURCE_DIR) / shipped, dir_);
    EXPECT_EQ(aife_example_warnings(c).size(), 3u);
  }
}

TEST_F(ConfigTest, RelativePathsAreRelativeToTheFilesDirectory) {
  const fs::path p = write_ini(
      "[paths]\nroot = data\nrules = ../regles\n"
      "[store]\nconnection = db/raccord.sqlite\n"
      "[certificates]\ntrust_dir = ./trust\n");
  const Config c = load_config(p, dir_ / "elsewhere");
  EXPECT_EQ(c.root, dir_ / "etc" / "data");
  EXPECT_EQ(c.rules_dir, dir_ / "regles");
  EXPECT_EQ(c.store_connection, (dir_ / "etc" / "db" / "raccord.sqlite").string());
  EXPECT_EQ(c.effective_connection(), (dir_ / "etc" / "db" / "raccord.sqlite").string());
  EXPECT_EQ(c.trust_dir, dir_ / "etc" / "trust");
}

TEST_F(ConfigTest, TrustDirDefaultsToTheRulesTrustFolder) {
  const fs::path p = write_ini("[paths]\nrules = regles\n[inbox]\nsettle_ms = 10\n");
  const Config c = load_config(p, dir_);
  EXPECT_EQ(c.rules_dir, dir_ / "etc" / "regles");
  EXPECT_EQ(c.trust_dir, dir_ / "etc" / "regles" / "trust");
}

TEST_F(ConfigTest, RootFromTheFileGivesTheDefaultStore) {
  const fs::path p = write_ini("[paths]\nroot = ../var2\n");
  const Config c = load_config(p, dir_);
  EXPECT_EQ(c.root, dir_ / "var2");
  EXPECT_EQ(c.effective_connection(), (dir_ / "var2" / "raccord.db").string());
}

TEST_F(ConfigTest, ConfigFileNameIsRelativeToCwd) {
  write_ini("[inbox]\nsettle_ms = 123\n");
  const Config c = load_config(fs::path("etc/raccord.ini"), dir_);
  EXPECT_EQ(c.settle_ms, 123);
  EXPECT_EQ(c.source, dir_ / "etc" / "raccord.ini");
}

// Issue 20 (fault sweep: EIO on reading raccord.ini): Poco's INI reader looped for ever on a stream
// in error (the pass never ended). A read that fails is the machine's failure: std::system_error
// naming the file (exit 1), never a ConfigError (exit 2), never a shorter file. Real EIO:
// /proc/self/mem (offset 0 is not mapped) linked as the configuration.
TEST_F(ConfigTest, AConfigurationThatCannotBeReadThrowsNamingIt) {
  const fs::path link = dir_ / "etc" / "raccord.ini";
  fs::create_symlink("/proc/self/mem", link);
  try {
    (void)load_config(link, dir_);
    ADD_FAILURE() << "std::system_error attendu";
  } catch (const ConfigError& e) {
    ADD_FAILURE() << "erreur de la machine prise pour une erreur de configuration : " << e.what();
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EIO) << e.what();
    EXPECT_NE(std::string(e.what()).find(link.string()), std::string::npos) << e.what();
  }
}

TEST_F(ConfigTest, MissingFileIsAConfigError) {
  EXPECT_THROW((void)load_config(dir_ / "absent.ini", dir_), ConfigError);
  EXPECT_THROW((void)load_config(dir_ / "etc", dir_), ConfigError);  // a directory
}

TEST_F(ConfigTest, SectionsAndKeysAreCaseInsensitive) {
  const fs::path p = write_ini("[ENGINE]\nEnvironment = qualification\n[Inbox]\nSETTLE_MS = 50\n");
  const Config c = load_config(p, dir_);
  EXPECT_EQ(c.environment, Environment::Qualification);
  EXPECT_EQ(c.settle_ms, 50);
  EXPECT_TRUE(c.warnings.empty());
}

TEST_F(ConfigTest, UnknownKeysAreWarnedAboutAndIgnored) {
  const fs::path p = write_ini(
      "[engine]\ncolour = blue\nenvironment = qualification\n"
      "[inbox]\nsettle = 10\n"
      "[mystery]\nx = 1\n");
  const Config c = load_config(p, dir_);
  EXPECT_EQ(c.environment, Environment::Qualification);
  EXPECT_EQ(c.settle_ms, 2000);
  ASSERT_EQ(c.warnings.size(), 3u);
  std::string all;
  for (const auto& w : c.warnings) all += w + "\n";
  EXPECT_NE(all.find("engine.colour"), std::string::npos) << all;
  EXPECT_NE(all.find("inbox.settle"), std::string::npos) << all;
  EXPECT_NE(all.find("mystery.x"), std::string::npos) << all;
}

// Poco turns a line without "=" into a key and "[engine" into a section: a file it would misread
// is a configuration error naming the line (hostile finding: "[engine" alone was accepted and the
// whole file silently ignored).
TEST_F(ConfigTest, LineWithoutEqualsOrUnclosedSectionIsAConfigError) {
  for (const char* text : {"[inbox]\nsettle_ms 10\n", "[engine\nenvironment = qualification\n", "[engine",
                           "[inbox]\n  settle_ms\n", "[engine]\n]\n"}) {
    const fs::path p = write_ini(text);
    try {
      (void)load_config(p, dir_);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("ligne"), std::string::npos) << text;
    }
  }
  // Comments (";" and "#"), blank lines and indented keys stay valid.
  const Config c = load_config(write_ini("; c\n# c\n\n[inbox]\n  settle_ms = 10\r\n"), dir_);
  EXPECT_EQ(c.settle_ms, 10);
}

TEST_F(ConfigTest, MaxBytesAbove2Pow31) {
  const fs::path p = write_ini("[inbox]\nmax_bytes = 4294967296\n");
  EXPECT_EQ(load_config(p, dir_).max_bytes, 4294967296LL);
}

TEST_F(ConfigTest, ValuesAreTrimmedAndNotExpanded) {
  // A libpq string or a path holding "${...}" is kept as written (docs/toolchain.md #20).
  const fs::path p = write_ini(
      "[store]\nbackend = postgresql\nconnection = password=a${HOME}b dbname=x\n"
      "[aife]\nas2_path =   /${x}/in   \n");
  const Config c = load_config(p, dir_);
  EXPECT_EQ(c.store_connection, "password=a${HOME}b dbname=x");
  EXPECT_EQ(c.aife.as2_path, "/${x}/in");
}

TEST_F(ConfigTest, InvalidEnvironment) {
  expect_error("[engine]\nenvironment = prod\n", "engine.environment", "prod");
  expect_error("[engine]\nenvironment = Production\n", "engine.environment", "Production");
}

TEST_F(ConfigTest, InvalidCodePrefix) {
  expect_error("[engine]\ncode_prefix = vf1\n", "engine.code_prefix", "vf1");
  expect_error("[engine]\ncode_prefix = vfe\n", "engine.code_prefix", "vfe");
  expect_error("[engine]\ncode_prefix = VF\n", "engine.code_prefix", "VF");
  expect_error("[engine]\ncode_prefix = VFEE\n", "engine.code_prefix", "VFEE");
  expect_error("[engine]\ncode_prefix = VÉE\n", "engine.code_prefix", "VÉE");
}

TEST_F(ConfigTest, InvalidNightlyTime) {
  expect_error("[nightly]\ntime = 25:00\n", "nightly.time", "25:00");
  expect_error("[nightly]\ntime = 24:00\n", "nightly.time", "24:00");
  expect_error("[nightly]\ntime = 02:60\n", "nightly.time", "02:60");
  expect_error("[nightly]\ntime = 2:00\n", "nightly.time", "2:00");
  expect_error("[nightly]\ntime = 0200\n", "nightly.time", "0200");
  expect_error("[nightly]\ntime = 02h00\n", "nightly.time", "02h00");
  expect_error("[nightly]\ntime = -2:00\n", "nightly.time", "-2:00");
}

TEST_F(ConfigTest, NightlyTimeBounds) {
  EXPECT_EQ(load_config(write_ini("[nightly]\ntime = 00:00\n"), dir_).nightly_time, (NightlyTime{0, 0}));
  EXPECT_EQ(load_config(write_ini("[nightly]\ntime = 23:59\n"), dir_).nightly_time, (NightlyTime{23, 59}));
}

TEST_F(ConfigTest, InvalidNumbers) {
  expect_error("[inbox]\nsettle_ms = -1\n", "inbox.settle_ms", "-1");
  expect_error("[inbox]\nsettle_ms = deux\n", "inbox.settle_ms", "deux");
  expect_error("[inbox]\nsettle_ms = 12abc\n", "inbox.settle_ms", "12abc");
  expect_error("[inbox]\nsettle_ms = 1.5\n", "inbox.settle_ms", "1.5");
  expect_error("[inbox]\nsettle_ms =\n", "inbox.settle_ms", "");
  expect_error("[inbox]\nrescan_s = 0\n", "inbox.rescan_s", "0");
  expect_error("[inbox]\nmax_bytes = 0\n", "inbox.max_bytes", "0");
  expect_error("[inbox]\nmax_bytes = 99999999999999999999999\n", "inbox.max_bytes", "99999999999999999999999");
  expect_error("[certificates]\nmin_rsa_bits = big\n", "certificates.min_rsa_bits", "big");
  expect_error("[certificates]\nexpiry_warning_days = -3\n", "certificates.expiry_warning_days", "-3");
  expect_error("[certificates]\nclock_skew_s = x\n", "certificates.clock_skew_s", "x");
  expect_error("[outbox]\nretention_days = 0\n", "outbox.retention_days", "0");
  expect_error("[archive]\nretention_days = -1\n", "archive.retention_days", "-1");
  expect_error("[aife]\nsftp_port = 70000\n", "aife.sftp_port", "70000");
  expect_error("[aife]\nas2_port = 0\n", "aife.as2_port", "0");
  expect_error("[aife]\npesit_port = port\n", "aife.pesit_port", "port");
}

TEST_F(ConfigTest, InlineCommentAfterAValueIsAnError) {
  // Poco keeps "; comment" in the value (docs/toolchain.md #20): the value is then invalid, never half-read.
  expect_error("[inbox]\nsettle_ms = 2000 ; deux secondes\n", "inbox.settle_ms", "2000 ; deux secondes");
  expect_error("[engine]\nenvironment = production ; prod\n", "engine.environment", "production ; prod");
  expect_error("[engine]\ncode_prefix = VFE ; préfixe\n", "engine.code_prefix", "VFE ; préfixe");
  expect_error("[nightly]\ntime = 02:00 ; nuit\n", "nightly.time", "02:00 ; nuit");
}

TEST_F(ConfigTest, InvalidBackend) {
  expect_error("[store]\nbackend = mysql\n", "store.backend", "mysql");
  expect_error("[store]\nbackend = SQLite\n", "store.backend", "SQLite");
}

// files.umask (issue 8): strict octal, never a mask that lets others write.

TEST_F(ConfigTest, UmaskDefaultsTo0027) {
  EXPECT_EQ(load_config(std::nullopt, dir_).file_umask, 0027u);
  EXPECT_EQ(load_config(write_ini(""), dir_).file_umask, 0027u);
}

TEST_F(ConfigTest, UmaskIsReadAsOctal) {
  EXPECT_EQ(load_config(write_ini("[files]\numask = 0077\n"), dir_).file_umask, 0077u);
  EXPECT_EQ(load_config(write_ini("[files]\numask = 027\n"), dir_).file_umask, 0027u);
  EXPECT_EQ(load_config(write_ini("[files]\numask = 0022\n"), dir_).file_umask, 0022u);
  EXPECT_EQ(load_config(write_ini("[files]\numask = 7\n"), dir_).file_umask, 07u);
  EXPECT_EQ(load_config(write_ini("[FILES]\nUMASK =   0777  \n"), dir_).file_umask, 0777u);
  EXPECT_TRUE(load_config(write_ini("[files]\numask = 0027\n"), dir_).warnings.empty());
  EXPECT_EQ(parse_umask("0027"), 0027u);
  EXPECT_EQ(parse_umask("0002"), 0002u);
}

TEST_F(ConfigTest, UmaskThatIsNotOctalIsAConfigError) {
  expect_error("[files]\numask = 0028\n", "files.umask", "0028");
  expect_error("[files]\numask = 27a\n", "files.umask", "27a");
  expect_error("[files]\numask = 0x1f\n", "files.umask", "0x1f");
  expect_error("[files]\numask = -027\n", "files.umask", "-027");
  expect_error("[files]\numask = +027\n", "files.umask", "+027");
  expect_error("[files]\numask = 0 27\n", "files.umask", "0 27");
  expect_error("[files]\numask = 00027\n", "files.umask", "00027");  // more than 4 digits
  expect_error("[files]\numask =\n", "files.umask", "");
  expect_error("[files]\numask = 0027 ; groupe\n", "files.umask", "0027 ; groupe");
  expect_error("[files]\numask = 1027\n", "files.umask", "1027");  // special bits: not a mode mask
  try {
    (void)parse_umask("0o27");
    ADD_FAILURE() << "ConfigError expected";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("octal"), std::string::npos) << e.what();
  }
}

TEST_F(ConfigTest, UmaskThatLetsOthersWriteIsRefused) {
  for (const char* raw : {"0", "0000", "0020", "0025", "0075", "0771"}) {
    SCOPED_TRACE(raw);
    expect_error(std::string("[files]\numask = ") + raw + "\n", "files.umask", raw);
    try {
      (void)parse_umask(raw);
      ADD_FAILURE() << "ConfigError expected";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("modifiables par tous"), std::string::npos) << e.what();
    }
  }
}

// Revocation keys (issue 17; docs/revocation.md).
TEST_F(ConfigTest, RevocationKeysDefaults) {
  const Config c = load_config(std::nullopt, dir_);
  EXPECT_TRUE(c.crl_dir.empty());
  EXPECT_EQ(c.effective_crl_dir(), dir_ / "var" / "crl");
  EXPECT_FALSE(c.crl_allow_private);
  EXPECT_EQ(c.revocation, rules::RevocationMode::Souple);
  EXPECT_EQ(c.crl_max_age_days, 10);
  EXPECT_EQ(c.crl_grace_h, 24);
  const rules::CrlSettings s = c.crl_settings();
  EXPECT_EQ(s.clock_skew_s, 300);
  EXPECT_EQ(s.max_age_days, 10);
  EXPECT_EQ(s.grace_h, 24);
  // The default follows paths.root.
  const Config rooted = load_config(write_ini("[paths]\nroot = /srv/raccord\n"), dir_);
  EXPECT_EQ(rooted.effective_crl_dir(), fs::path("/srv/raccord/crl"));
}

TEST_F(ConfigTest, RevocationKeysAreRead) {
  const fs::path p = write_ini(
      "[certificates]\n"
      "crl_dir = ../crl\n"
      "crl_allow_private = true\n"
      "revocation = stricte\n"
      "crl_max_age_days = 3\n"
      "crl_grace_h = 0\n"
      "clock_skew_s = 60\n");
  const Config c = load_config(p, dir_);
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();
  EXPECT_EQ(c.effective_crl_dir(), dir_ / "crl");  // relative to the file's directory (etc/)
  EXPECT_TRUE(c.crl_allow_private);
  EXPECT_EQ(c.revocation, rules::RevocationMode::Stricte);
  EXPECT_EQ(c.crl_max_age_days, 3);
  EXPECT_EQ(c.crl_grace_h, 0);
  EXPECT_EQ(c.crl_settings().clock_skew_s, 60);
  EXPECT_EQ(load_config(write_ini("[certificates]\nrevocation = aucune\ncrl_allow_private = false\n"), dir_).revocation,
            rules::RevocationMode::Aucune);
}

TEST_F(ConfigTest, InvalidRevocationKeysNameTheKey) {
  expect_error("[certificates]\nrevocation = strict\n", "certificates.revocation", "strict");
  expect_error("[certificates]\nrevocation = Souple\n", "certificates.revocation", "Souple");
  expect_error("[certificates]\nrevocation =\n", "certificates.revocation", "«  »");
  expect_error("[certificates]\ncrl_allow_private = oui\n", "certificates.crl_allow_private", "oui");
  expect_error("[certificates]\ncrl_allow_private = 1\n", "certificates.crl_allow_private", "1");
  expect_error("[certificates]\ncrl_max_age_days = 0\n", "certificates.crl_max_age_days", "0");
  expect_error("[certificates]\ncrl_max_age_days = dix\n", "certificates.crl_max_age_days", "dix");
  expect_error("[certificates]\ncrl_grace_h = -1\n", "certificates.crl_grace_h", "-1");
  expect_error("[certificates]\ncrl_grace_h = 8761\n", "certificates.crl_grace_h", "8761");
}

// Sender accounts (docs/accounts.md): each [compte.NAME] section is read whole, sorted by name.
TEST_F(ConfigTest, AccountSectionsAreRead) {
  std::ofstream(dir_ / "etc" / "signataires.pem") << "-----BEGIN CERTIFICATE-----\n";
  const Config c = load_config(write_ini("[compte.zeta-2]\nlogins = z1\n"
                                         "[compte.acme_1]\nlogins = alice , bob,,\nproprietaire = 4242\n"
                                         "signature = obligatoire\nsignataires = signataires.pem\n"
                                         "[compte.b]\nlogins=x\nsignature = aucune\n"),
                               dir_);
  ASSERT_EQ(c.accounts.size(), 3U);
  EXPECT_EQ(c.accounts[0].name, "acme_1");
  EXPECT_EQ(c.accounts[0].logins, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(c.accounts[0].owner_uid, 4242U);
  EXPECT_EQ(c.accounts[0].signature, SignatureRequirement::Required);
  EXPECT_EQ(c.accounts[0].signers_file, dir_ / "etc" / "signataires.pem");
  EXPECT_EQ(c.accounts[1].name, "b");
  EXPECT_EQ(c.accounts[1].signature, SignatureRequirement::None);
  EXPECT_FALSE(c.accounts[1].owner_uid.has_value());
  EXPECT_EQ(c.accounts[2].name, "zeta-2");
  ASSERT_NE(c.account("b"), nullptr);
  EXPECT_TRUE(c.account("acme_1")->allows("bob"));
  EXPECT_FALSE(c.account("acme_1")->allows("Bob"));
  EXPECT_EQ(c.account("inconnu"), nullptr);
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_TRUE(load_config(write_ini("[engine]\n"), dir_).accounts.empty());
}

// A signers file with signature = aucune is read by nobody: a warning says so (hostile pass: it was silent).
TEST_F(ConfigTest, SignersOfAnAccountWithoutSignatureAreIgnoredWithAWarning) {
  std::ofstream(dir_ / "etc" / "signataires.pem") << "-----BEGIN CERTIFICATE-----\n";
  const Config c = load_config(write_ini("[compte.acme]\nlogins = alice\nsignataires = signataires.pem\n"), dir_);
  ASSERT_EQ(c.warnings.size(), 1U);
  EXPECT_NE(c.warnings[0].find("compte.acme.signataires"), std::string::npos) << c.warnings[0];
  EXPECT_NE(c.warnings[0].find("signature = aucune"), std::string::npos) << c.warnings[0];
}

TEST_F(ConfigTest, AccountOwnerByUserName) {
  const Config c = load_config(write_ini("[compte.a]\nlogins = x\nproprietaire = daemon\n"), dir_);
  ASSERT_EQ(c.accounts.size(), 1U);
  ASSERT_TRUE(c.accounts[0].owner_uid.has_value());
  EXPECT_NE(*c.accounts[0].owner_uid, 0U);
}

// Each bad key of an account section stops the load, the key named.
// docs/accounts.md: an invalid account section stops the start with exit 1, not the usage code 2 of the
// other configuration errors: its own error type.
TEST_F(ConfigTest, InvalidAccountSectionIsAnAccountConfigErrorNotAUsageError) {
  EXPECT_THROW((void)load_config(write_ini("[compte.Acme]\nlogins = x\n"), dir_), AccountConfigError);
  EXPECT_THROW((void)load_config(write_ini("[compte.a]\nlogins = x\nproprietaire = 0\n"), dir_), AccountConfigError);
  // An uid out of range is an account's value too (hostile16: it was the usage error, exit 2).
  for (const char* uid : {"4294967295", "4294967296", "99999999999999999999"}) {
    EXPECT_THROW(
        (void)load_config(write_ini(std::string("[compte.a]\nlogins = x\nproprietaire = ") + uid + "\n"), dir_),
        AccountConfigError)
        << uid;
  }
  EXPECT_THROW((void)load_config(write_ini("[engine]\ntimezone = Nulle/Part\n"), dir_), ConfigError);
}

TEST_F(ConfigTest, InvalidAccountSectionsNameTheKey) {
  expect_error("[compte.Acme]\nlogins = x\n", "[compte.Acme]", "nom de compte invalide");
  expect_error("[compte._a]\nlogins = x\n", "[compte._a]", "nom de compte invalide");
  expect_error("[compte.a.b]\nlogins = x\n", "[compte.a.b]", "nom de compte invalide");
  expect_error("[compte.]\nlogins = x\n", "[compte.]", "nom de compte invalide");
  expect_error("[compte." + std::string(33, 'a') + "]\nlogins = x\n", "[compte.a", "nom de compte invalide");
  expect_error("[compte.a]\n", "compte.a.logins", "obligatoire");
  expect_error("[compte.a]\nlogins = , ,\n", "compte.a.logins", "obligatoire");
  expect_error("[compte.a]\nlogins = x\nproprio = 12\n", "compte.a.proprio", "inconnue");
  expect_error("[compte.a]\nlogins = x\nproprietaire = 0\n", "compte.a.proprietaire", "« 0 »");
  expect_error("[compte.a]\nlogins = x\nproprietaire = root\n", "compte.a.proprietaire", "« root »");
  expect_error("[compte.a]\nlogins = x\nproprietaire = 65534\n", "compte.a.proprietaire", "65534");
  expect_error("[compte.a]\nlogins = x\nproprietaire = personne-ici-xyz\n", "compte.a.proprietaire",
               "personne-ici-xyz");
  expect_error("[compte.a]\nlogins = x\nproprietaire = -5\n", "compte.a.proprietaire", "-5");
  expect_error("[compte.a]\nlogins = x\nsignature = oui\n", "compte.a.signature", "oui");
  expect_error("[compte.a]\nlogins = x\nsignature = obligatoire\n", "compte.a.signataires", "obligatoire");
  expect_error("[compte.a]\nlogins = x\nsignataires = absent.pem\n", "compte.a.signataires", "absent.pem");
}

}  // namespace
}  // namespace raccord
