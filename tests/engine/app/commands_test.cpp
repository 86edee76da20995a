// Command-line tests of the real `raccord` binary (docs/reference.md §2, §5.1, §7; samples/README.md;
// docs/field-cases.md F01, F04). Each test runs the binary in its own temporary working directory and looks at what it
// leaves there.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/command.hpp"
#include "tests/support/files.hpp"
#include "tests/support/xml_check.hpp"

namespace {

namespace fs = std::filesystem;

using raccord::testing::CommandRun;
using raccord::testing::entry_names;
using raccord::testing::raccord_command_line;
using raccord::testing::read_file;
using raccord::testing::run_command;
using raccord::testing::shell_quote;
using raccord::testing::write_file;
using raccord::testing::xmllint_file;
using raccord::testing::XmllintResult;

const fs::path kSamples = fs::path(RACCORD_SOURCE_DIR) / "samples";

/// Regular files under `dir`, at any depth (0 when it is missing).
std::size_t regular_files_under(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

// The value of attribute `name` on the root <Accuse> element of an accusé.
std::string root_attribute(const std::string& xml, const std::string& name) {
  const auto start = xml.find("<Accuse");
  if (start == std::string::npos) return "<no Accuse>";
  const auto end = xml.find('>', start);
  const std::string tag = xml.substr(start, end - start);
  const std::string key = " " + name + "=\"";
  const auto a = tag.find(key);
  if (a == std::string::npos) return "";
  const auto b = tag.find('"', a + key.size());
  return tag.substr(a + key.size(), b - a - key.size());
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Every path under `dir` (recursive), relative, with regular files' sizes: a snapshot to compare.
std::set<std::string> snapshot(const fs::path& dir) {
  std::set<std::string> entries;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    std::string line = fs::relative(e.path(), dir).string();
    if (e.is_regular_file()) line += " " + std::to_string(e.file_size());
    entries.insert(line);
  }
  return entries;
}

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("raccord-app-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(work());
    fs::create_directories(dir_ / "cap");
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  fs::path work() const { return dir_ / "work"; }
  fs::path var() const { return work() / "var"; }
  fs::path outbox() const { return var() / "outbox"; }
  fs::path inbox() const { return var() / "inbox"; }

  // Runs `raccord ARGS` in `cwd` (default: work()) with RACCORD_CONFIG / RACCORD_NOW unset unless `env` sets them.
  CommandRun raccord(const std::string& args, const std::string& env = "", const fs::path& cwd = {}) {
    return run_command(raccord_command_line(args, cwd.empty() ? work() : cwd, env), dir_ / "cap");
  }

  // A small config next to the working directory: the samples' trust store, a short settle period.
  fs::path fast_config(int settle_ms = 100, const std::string& extra = "") {
    fs::path p = dir_ / "fast.ini";
    write_file(p, "[inbox]\nsettle_ms = " + std::to_string(settle_ms) +
                      "\n[certificates]\ntrust_dir = " + (kSamples / "trust").string() + "\n" + extra);
    return p;
  }

  void init_store(const fs::path& config) {
    const CommandRun r = raccord("init --support support.n1 --config " + shell_quote(config.string()));
    ASSERT_EQ(r.code, 0) << r.out << r.err;
  }

  void copy_sample(const std::string& name) {
    fs::copy_file(kSamples / "depots" / name, inbox() / name, fs::copy_options::overwrite_existing);
  }

  // Every accusé in outbox/ validates against samples/xsd/accuse.xsd (docs/reference.md §5.1).
  void expect_accuses_valid() {
    for (const auto& name : entry_names(outbox(), "ACK_")) {
      const XmllintResult lint = xmllint_file(outbox() / name, kSamples / "xsd" / "accuse.xsd");
      EXPECT_TRUE(lint.ok()) << name << " does not validate against accuse.xsd:\n" << lint.log;
    }
  }

  // The accusé of dépôt `stem` at `compact` instant (its exact docs/reference.md §5.1 name).
  std::string accuse(const std::string& stem, const std::string& compact, const std::string& suffix = "") {
    const fs::path p = outbox() / ("ACK_" + stem + "_" + compact + suffix + ".xml");
    EXPECT_TRUE(fs::exists(p)) << p;
    return read_file(p);
  }

  fs::path dir_;
};

// ---------------------------------------------------------------------------------------------------------------
// Usage and help (docs/reference.md §7: every command has --help; --help creates nothing).

TEST_F(CommandsTest, HelpDescribesTheCommands) {
  const CommandRun r = raccord("--help");
  EXPECT_EQ(r.code, 0) << r.err;
  for (const char* word : {"raccord", "init", "process", "check", "--config", "--now"}) {
    EXPECT_TRUE(contains(r.out, word)) << word << "\n" << r.out;
  }
  EXPECT_FALSE(fs::exists(var()));
}

TEST_F(CommandsTest, EachCommandHasHelp) {
  const std::map<std::string, std::vector<std::string>> expected{
      {"init", {"--support", "store", "--config", "--now"}},
      {"process", {"inbox", "outbox", "--config", "--now"}},
      {"check", {"FILE", "blanc", "--config", "--now"}},
  };
  for (const auto& [command, words] : expected) {
    const CommandRun r = raccord(command + " --help");
    EXPECT_EQ(r.code, 0) << command << ": " << r.err;
    for (const auto& w : words) EXPECT_TRUE(contains(r.out, w)) << command << " --help lacks " << w << "\n" << r.out;
  }
  EXPECT_FALSE(fs::exists(var()));
  EXPECT_TRUE(fs::is_empty(work()));
}

TEST_F(CommandsTest, UsageErrorsExitWith2) {
  EXPECT_EQ(raccord("").code, 2);            // no command
  EXPECT_EQ(raccord("frobnicate").code, 2);  // unknown command
  EXPECT_EQ(raccord("process --no-such-option").code, 2);
  EXPECT_EQ(raccord("check").code, 2);                     // FILE required
  const CommandRun missing = raccord("check absent.xml");  // FILE must exist
  EXPECT_EQ(missing.code, 2) << missing.out << missing.err;
  EXPECT_EQ(raccord("process --now hier").code, 2);  // not an ISO 8601 instant
  EXPECT_EQ(raccord("process", "RACCORD_NOW=hier").code, 2);
  EXPECT_FALSE(fs::exists(var()));
}

// A configuration that cannot be used is a usage error: 2 (README "Commandes").
TEST_F(CommandsTest, BadConfigExitsWith2AndNamesTheKey) {
  const fs::path bad = dir_ / "bad.ini";
  write_file(bad, "[nightly]\ntime = 25:00\n");
  const CommandRun r = raccord("process --config " + shell_quote(bad.string()));
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "nightly.time")) << r.err;
  EXPECT_FALSE(fs::exists(var()));
  const CommandRun missing = raccord("init --config absent.ini");
  EXPECT_EQ(missing.code, 2);
  EXPECT_FALSE(fs::exists(var()));
}

TEST_F(CommandsTest, UnknownConfigKeyIsLoggedAndIgnored) {
  const fs::path cfg = dir_ / "typo.ini";
  write_file(cfg, "[inbox]\nsettle = 10\n");
  const CommandRun r = raccord("init --config " + shell_quote(cfg.string()));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "inbox.settle")) << r.err;
  EXPECT_TRUE(fs::exists(var() / "raccord.db"));
}

// Issue 18 item 8: an operator read "<4>certificats : …/root.pem : 1 certificat(s) de confiance" in
// the journal at every start. A normal start is logged at info level ("<6>"); a trust directory
// holding a file without certificates is still a warning.
TEST_F(CommandsTest, NormalStartUpLinesAreInformationAndProblemsWarnings) {
  const fs::path config = fast_config();
  init_store(config);
  const CommandRun r = raccord("process --config " + shell_quote(config.string()));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const std::string trusted = (kSamples / "trust" / "root.pem").string() + " : 1 certificat(s) de confiance";
  EXPECT_TRUE(contains(r.err, "<6>certificats : " + trusted)) << r.err;
  EXPECT_FALSE(contains(r.err, "<4>certificats : " + trusted)) << r.err;
  EXPECT_TRUE(contains(r.err, "<6>catalogue des flux")) << r.err;
  EXPECT_TRUE(contains(r.err, "<6>magasin de confiance")) << r.err;

  const fs::path trust = dir_ / "trust";
  fs::create_directories(trust);
  fs::copy_file(kSamples / "trust" / "root.pem", trust / "root.pem");
  write_file(trust / "LISEZMOI.txt", "pas un certificat\n");
  const fs::path mixed = dir_ / "mixed.ini";
  write_file(mixed, "[certificates]\ntrust_dir = " + trust.string() + "\n");
  const CommandRun problem = raccord("process --config " + shell_quote(mixed.string()));
  ASSERT_EQ(problem.code, 0) << problem.out << problem.err;
  EXPECT_TRUE(contains(problem.err, "<4>certificats : " + (trust / "LISEZMOI.txt").string() + " ignoré"))
      << problem.err;
  EXPECT_TRUE(contains(problem.err, "<6>certificats : " + (trust / "root.pem").string() + " : 1 certificat(s)"))
      << problem.err;
}

// docs/accounts.md "Who may change what is trusted": init, process and nightly stop at start with exit 1, the path
// named with the command that fixes it, before anything is created; once fixed they start.
TEST_F(CommandsTest, TrustWritableByOthersStopsTheStartWith1NamingThePath) {
  const fs::path trust = dir_ / "trust";
  fs::create_directories(trust);
  fs::copy_file(kSamples / "trust" / "root.pem", trust / "root.pem");
  const fs::path signers = dir_ / "acme.pem";
  fs::copy_file(kSamples / "signataires" / "acme.pem", signers);
  for (const fs::path& p : {trust, trust / "root.pem", signers}) {
    fs::permissions(p, fs::perms::group_write | fs::perms::others_write, fs::perm_options::remove);
  }
  const fs::path cfg = dir_ / "trust.ini";
  write_file(cfg, "[certificates]\ntrust_dir = " + trust.string() +
                      "\n[compte.acme]\nlogins = j.dupont\nsignataires = " + signers.string() + "\n");
  const std::string config = " --config " + shell_quote(cfg.string());
  for (const fs::path& p : {trust, trust / "root.pem", signers}) {
    const auto before = fs::status(p).permissions();
    fs::permissions(p, fs::perms::group_write, fs::perm_options::add);
    for (const char* command : {"init --support support.n1", "process", "nightly"}) {
      const CommandRun r = raccord(command + config);
      EXPECT_EQ(r.code, 1) << command << ": " << r.out << r.err;
      EXPECT_TRUE(contains(r.err, p.string() + " est modifiable par son groupe")) << command << ": " << r.err;
      EXPECT_TRUE(contains(r.err, "chmod go-w " + p.string())) << r.err;
      EXPECT_FALSE(fs::exists(var())) << command;
    }
    fs::permissions(p, before);
  }
  const CommandRun r = raccord("init --support support.n1" + config);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  // Commands that only read (check, cert, trust audit) are not stopped by it.
  fs::permissions(trust, fs::perms::group_write, fs::perm_options::add);
  copy_sample("01_referentiel.xml");
  const CommandRun check = raccord("check" + config + " " + shell_quote((inbox() / "01_referentiel.xml").string()));
  EXPECT_FALSE(contains(check.err, "est modifiable par")) << check.err;
  EXPECT_TRUE(contains(check.out, "01_referentiel.xml")) << check.out << check.err;
}

// ---------------------------------------------------------------------------------------------------------------
// init

TEST_F(CommandsTest, InitCreatesTheLayoutAndTheStore) {
  const CommandRun r = raccord("init --support support.n1");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  for (const char* d : {"inbox", "inbox/.work", "archive", "error", "outbox"}) {
    EXPECT_TRUE(fs::is_directory(var() / d)) << d;
  }
  EXPECT_TRUE(fs::is_regular_file(var() / "raccord.db"));
  EXPECT_TRUE(contains(r.out, "support.n1")) << r.out;
  // Idempotent.
  const CommandRun again = raccord("init --support support.n1");
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_TRUE(fs::is_empty(var() / "inbox" / ".work"));
  EXPECT_TRUE(fs::is_empty(var() / "outbox"));
}

TEST_F(CommandsTest, InitFailsWith1WhenTheRootCannotBeCreated) {
  write_file(dir_ / "plainfile", "x");
  const fs::path cfg = dir_ / "root.ini";
  write_file(cfg, "[paths]\nroot = " + (dir_ / "plainfile" / "var").string() + "\n");
  const CommandRun r = raccord("init --config " + shell_quote(cfg.string()));
  EXPECT_EQ(r.code, 1) << r.out << r.err;
}

TEST_F(CommandsTest, ConfigIsAcceptedBeforeOrAfterTheCommandAndFromTheEnvironment) {
  const fs::path a = dir_ / "a.ini";
  const fs::path b = dir_ / "b.ini";
  write_file(a, "[paths]\nroot = root_a\n");
  write_file(b, "[paths]\nroot = root_b\n");
  EXPECT_EQ(raccord("init --config " + shell_quote(a.string())).code, 0);       // after the command
  EXPECT_TRUE(fs::exists(dir_ / "root_a" / "raccord.db"));                      // relative to the file's directory
  EXPECT_EQ(raccord("--config " + shell_quote(b.string()) + " init").code, 0);  // before it
  EXPECT_TRUE(fs::exists(dir_ / "root_b" / "raccord.db"));
  fs::remove_all(dir_ / "root_a");
  fs::remove_all(dir_ / "root_b");
  EXPECT_EQ(raccord("init", "RACCORD_CONFIG=" + shell_quote(a.string())).code, 0);  // environment
  EXPECT_TRUE(fs::exists(dir_ / "root_a" / "raccord.db"));
  EXPECT_EQ(raccord("init --config " + shell_quote(b.string()), "RACCORD_CONFIG=" + shell_quote(a.string())).code, 0);
  EXPECT_TRUE(fs::exists(dir_ / "root_b" / "raccord.db"));  // the command line wins
  EXPECT_FALSE(fs::exists(var()));
}

// docs/reference.md §7 (README "Codes de sortie"): a configuration that cannot be used is a usage error, exit 2 for
// every command, never the code of one of its answers (cert: 1 "not acceptable"; check: 1 "not INTEGRE";
// show: 1 "unknown code") nor of a failure; nothing is created. Each command through the real binary,
// with --config naming a missing file, RACCORD_CONFIG naming it, and a config file holding an unknown
// engine.timezone or an invalid value.
TEST_F(CommandsTest, ABrokenConfigurationIsAUsageErrorForEveryCommand) {
  const fs::path deposit = kSamples / "depots" / "01_referentiel.xml";
  const fs::path bundle = kSamples / "pki" / "certs" / "api-client.p7b";
  const std::vector<std::string> commands{
      "init",
      "init --support support.n1",
      "process",
      "daemon",
      "nightly",
      "nightly --date 2026-12-01",
      "check " + shell_quote(deposit.string()),
      "search --demandeur support.n1",
      "show VFE001",
      "cert " + shell_quote(bundle.string()),
      "cert " + shell_quote(bundle.string()) + " --protocole API --date 2026-06-10 --format xml",
  };
  const fs::path missing = dir_ / "absent.ini";
  const fs::path bad_zone = dir_ / "zone.ini";
  write_file(bad_zone, "[paths]\nroot = var\n[engine]\ntimezone = Europe/Pariss\n");
  const fs::path bad_value = dir_ / "value.ini";
  write_file(bad_value, "[paths]\nroot = var\n[store]\nbackend = oracle\n");
  struct Broken {
    std::string label, option, env, says;
  };
  const std::vector<Broken> broken{
      {"--config absent", "--config " + shell_quote(missing.string()), "", "absent.ini"},
      {"RACCORD_CONFIG absent", "", "RACCORD_CONFIG=" + shell_quote(missing.string()), "absent.ini"},
      {"engine.timezone inconnu", "--config " + shell_quote(bad_zone.string()), "", "engine.timezone"},
      {"store.backend invalide", "--config " + shell_quote(bad_value.string()), "", "store.backend"},
  };
  for (const auto& command : commands) {
    for (const auto& b : broken) {
      SCOPED_TRACE(command + " / " + b.label);
      const CommandRun r = raccord(command + " " + b.option, b.env);
      EXPECT_EQ(r.code, 2) << r.out << r.err;
      EXPECT_TRUE(contains(r.err, b.says)) << r.err;
      EXPECT_FALSE(fs::exists(var()));
      EXPECT_FALSE(fs::exists(dir_ / "var"));
    }
  }
}

// docs/reference.md §7: `init --support LOGIN` creates the support user, or makes an existing user support. An
// ordinary user created by a dépôt, then named by init --support: afterwards the directory (support
// only, docs/reference.md §3.1) accepts his upserts, and init says what it did.
TEST_F(CommandsTest, InitSupportMakesAnExistingUserSupport) {
  const fs::path config = fast_config();
  init_store(config);
  const std::string head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  write_file(inbox() / "a_user.xml",
             head +
                 "<Depot xmlns=\"urn:raccord:depot:1\" demandeur=\"support.n1\">\n"
                 "  <Utilisateur login=\"j.dupont\" email=\"j.dupont@exemple.fr\"/>\n</Depot>\n");
  const std::string by_dupont = head +
                                "<Depot xmlns=\"urn:raccord:depot:1\" demandeur=\"j.dupont\">\n"
                                "  <Utilisateur login=\"k.autre\" email=\"k.autre@exemple.fr\"/>\n</Depot>\n";
  write_file(inbox() / "b_before.xml", by_dupont);
  const std::string cfg = " --config " + shell_quote(config.string());
  ASSERT_EQ(raccord("process --now 2026-11-30T10:00:00Z" + cfg).code, 0);
  EXPECT_EQ(root_attribute(accuse("a_user", "20261130T100000Z"), "statut"), "INTEGRE");
  const std::string before = accuse("b_before", "20261130T100000Z");
  EXPECT_EQ(root_attribute(before, "statut"), "REJETE");
  EXPECT_TRUE(contains(before, "DROIT_INSUFFISANT")) << before;

  const CommandRun made = raccord("init --support j.dupont" + cfg);
  EXPECT_EQ(made.code, 0) << made.out << made.err;
  EXPECT_TRUE(contains(made.out, "Utilisateur support : j.dupont (utilisateur existant, rendu support)")) << made.out;
  const CommandRun again = raccord("init --support j.dupont" + cfg);
  EXPECT_EQ(again.code, 0) << again.out << again.err;
  EXPECT_TRUE(contains(again.out, "Utilisateur support : j.dupont (déjà support)")) << again.out;

  write_file(inbox() / "c_after.xml", by_dupont);
  ASSERT_EQ(raccord("process --now 2026-11-30T11:00:00Z" + cfg).code, 0);
  const std::string after = accuse("c_after", "20261130T110000Z");
  EXPECT_EQ(root_attribute(after, "statut"), "INTEGRE") << after;
  const CommandRun created = raccord("init --support nouveau.support" + cfg);
  EXPECT_EQ(created.code, 0) << created.err;
  EXPECT_TRUE(contains(created.out, "Utilisateur support : nouveau.support (créé)")) << created.out;

  // Siblings (hostile findings): a login is trimmed like every dépôt value, so " j.dupont " is the
  // existing user, never a new unusable one; a login with nothing left is a usage error.
  const CommandRun padded = raccord("init --support ' j.dupont '" + cfg);
  EXPECT_EQ(padded.code, 0) << padded.err;
  EXPECT_TRUE(contains(padded.out, "Utilisateur support : j.dupont (déjà support)")) << padded.out;
  for (const char* blank : {"''", "'   '"}) {
    const CommandRun refused = raccord(std::string("init --support ") + blank + cfg);
    EXPECT_EQ(refused.code, 2) << blank << refused.out << refused.err;
  }
  EXPECT_EQ(raccord("show VFE001 --now garbage" + cfg).code, 2);  // every command refuses a bad --now
}

// ---------------------------------------------------------------------------------------------------------------
// process on the repository's samples (samples/README.md "Ce que montre chaque exemple, et l'accusé attendu").

TEST_F(CommandsTest, ProcessTheSamplesGivesTheDocumentedAccuses) {
  const fs::path config = kSamples / "raccord.ini";
  const std::string now = "2026-11-30T10:00:00Z";
  const std::string compact = "20261130T100000Z";
  ASSERT_EQ(raccord("init --support support.n1", "RACCORD_CONFIG=" + shell_quote(config.string())).code, 0);
  std::vector<std::string> samples;
  for (const auto& n : entry_names(kSamples / "depots")) {
    if (n.size() > 4 && n.substr(n.size() - 4) == ".xml") samples.push_back(n);
  }
  ASSERT_EQ(samples.size(), 17u);
  for (const auto& n : samples) copy_sample(n);

  const CommandRun r = raccord("process --config " + shell_quote(config.string()) + " --now " + now);
  ASSERT_EQ(r.code, 0) << r.out << r.err;

  const std::map<std::string, std::string> expected{
      {"01_referentiel", "INTEGRE"},
      {"02_espace", "INTEGRE"},
      {"03_decision", "INTEGRE"},
      {"04_fiche_sftp", "INTEGRE"},
      {"05_fiche_as2", "INTEGRE"},
      {"06_fiche_pesit", "INTEGRE"},
      {"07_fiche_api", "INTEGRE"},
      {"08_brouillon", "INTEGRE"},
      {"09_lot_partiel", "INTEGRE_PARTIEL"},
      {"10_recherche", "INTEGRE"},
      {"90_rejet_certificat_expire", "REJETE"},
      {"91_rejet_complet", "REJETE"},
      {"92_rejet_doctype", "REJETE"},
      {"93_rejet_malforme", "REJETE"},
      {"94_rejet_droits", "REJETE"},
      {"95_rejet_autorite", "REJETE"},
      {"96_rejet_revoque", "REJETE"},
  };
  // Exactly one accusé per dépôt, under its docs/reference.md §5.1 name.
  EXPECT_EQ(entry_names(outbox(), "ACK_").size(), expected.size());
  std::map<std::string, std::string> ack;
  for (const auto& [stem, status] : expected) {
    ack[stem] = accuse(stem, compact);
    EXPECT_EQ(root_attribute(ack[stem], "statut"), status) << stem << ":\n" << ack[stem];
    EXPECT_EQ(root_attribute(ack[stem], "fichier"), stem + ".xml");
    EXPECT_EQ(root_attribute(ack[stem], "traite"), now);
    EXPECT_EQ(root_attribute(ack[stem], "sha256").size(), 64u);
  }
  // The details samples/README.md promises.
  EXPECT_EQ(root_attribute(ack["01_referentiel"], "mode"), "complete");
  EXPECT_TRUE(contains(ack["02_espace"], "demande=\"ABO-000001\"")) << ack["02_espace"];
  for (const auto& [stem, protocol] : std::map<std::string, std::string>{
           {"04_fiche_sftp", "SFTP"}, {"05_fiche_as2", "AS2"}, {"06_fiche_pesit", "PESIT"}}) {
    EXPECT_TRUE(contains(ack[stem], "etat=\"ENVOYEE\"")) << stem;
    EXPECT_TRUE(contains(ack[stem], "codeAppli=\"VFE")) << stem;
    EXPECT_TRUE(contains(ack[stem], "ParametresAIFE protocole=\"" + protocol + "\"")) << stem << "\n" << ack[stem];
  }
  EXPECT_TRUE(contains(ack["05_fiche_as2"], "CTAIFEP"));
  EXPECT_TRUE(contains(ack["05_fiche_as2"], "24000"));
  EXPECT_TRUE(contains(ack["07_fiche_api"], "etat=\"ENVOYEE\""));
  EXPECT_TRUE(contains(ack["08_brouillon"], "etat=\"BROUILLON\""));
  EXPECT_TRUE(contains(ack["08_brouillon"], "<Avertissement code=\"CONTACT_INCOMPLET\"")) << ack["08_brouillon"];
  EXPECT_TRUE(contains(ack["08_brouillon"], "<Avertissement code=\"CERT_ABSENT\"")) << ack["08_brouillon"];
  EXPECT_TRUE(contains(ack["09_lot_partiel"], "code=\"SIRET_INVALIDE\""));
  EXPECT_TRUE(contains(ack["09_lot_partiel"], "code=\"PORT_INVALIDE\""));
  EXPECT_TRUE(contains(ack["90_rejet_certificat_expire"], "code=\"CERT_EXPIRE\""));
  EXPECT_TRUE(contains(ack["90_rejet_certificat_expire"], "Certificats/Certificat[1]"));
  EXPECT_TRUE(contains(ack["91_rejet_complet"], "code=\"CODE_INTERFACE_INCONNU\""));
  EXPECT_TRUE(contains(ack["91_rejet_complet"], "code=\"EMAIL_INVALIDE\""));
  EXPECT_FALSE(contains(ack["91_rejet_complet"], "statut=\"ACCEPTEE\""));
  EXPECT_TRUE(contains(ack["92_rejet_doctype"], "code=\"DTD_INTERDITE\""));
  EXPECT_FALSE(contains(ack["92_rejet_doctype"], "<Operation"));
  EXPECT_TRUE(contains(ack["93_rejet_malforme"], "code=\"XML_MALFORME\""));
  EXPECT_TRUE(contains(ack["94_rejet_droits"], "code=\"DROIT_INSUFFISANT\""));
  EXPECT_TRUE(contains(ack["95_rejet_autorite"], "code=\"CERT_AUTORITE_NON_RECONNUE\""));
  // The samples' CRLs (samples/crl): the revoked leaf refused, every other status known.
  EXPECT_TRUE(contains(ack["96_rejet_revoque"], "code=\"CERT_REVOQUE\"")) << ack["96_rejet_revoque"];
  EXPECT_TRUE(contains(ack["96_rejet_revoque"], "Certificats/Certificat[1]"));
  for (const auto& [stem, status] : expected) {
    EXPECT_FALSE(contains(ack[stem], "CERT_REVOCATION_INCONNUE")) << stem << ":\n" << ack[stem];
  }
  EXPECT_TRUE(fs::exists(outbox() / ("EXPORT_EDI_req-edi-acme_" + compact + ".csv"))) << "10_recherche";
  EXPECT_TRUE(fs::exists(outbox() / ("EXPORT_API_req-api_" + compact + ".xml"))) << "10_recherche";

  // Originals: 92 and 93 in error/ with their reason, every other one in archive/2026/11/30/.
  const fs::path archive = var() / "archive" / "2026" / "11" / "30";
  for (const auto& [stem, status] : expected) {
    const std::string name = stem + ".xml";
    const bool quarantined = stem == "92_rejet_doctype" || stem == "93_rejet_malforme";
    EXPECT_EQ(fs::exists(var() / "error" / name), quarantined) << name;
    EXPECT_EQ(fs::exists(var() / "error" / (name + ".reason.txt")), quarantined) << name;
    EXPECT_EQ(fs::exists(archive / name), !quarantined) << name;
    EXPECT_EQ(read_file((quarantined ? var() / "error" : archive) / name), read_file(kSamples / "depots" / name));
  }
  EXPECT_TRUE(entry_names(inbox(), "0").empty());
  EXPECT_TRUE(entry_names(inbox(), "9").empty());
  // Nothing left claimed (the sample account's inbox/.work/acme/ folder stays, empty).
  EXPECT_EQ(regular_files_under(inbox() / ".work"), 0U);
  expect_accuses_valid();

  // The samples' trust store after the story: anchors, CRLs and the stored sheets' authorities all current
  // (docs/revocation.md "The samples' CRLs"): exit 0.
  const CommandRun audit = raccord("trust audit --config " + shell_quote(config.string()) + " --now " + now);
  EXPECT_EQ(audit.code, 0) << audit.out << audit.err;
  EXPECT_TRUE(contains(audit.out, "Bilan : tout est à jour.")) << audit.out;

  // A second run of the same dépôts (F04): applied bytes answer DOUBLON and name the original accusé; rejected
  // bytes are processed anew.
  for (const auto& n : samples) copy_sample(n);
  const CommandRun second = raccord("process --config " + shell_quote(config.string()) + " --now 2026-11-30T11:00:00Z");
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_EQ(entry_names(outbox(), "ACK_").size(), 2 * expected.size());
  for (const auto& [stem, status] : expected) {
    const std::string again = accuse(stem, "20261130T110000Z");
    if (status == "INTEGRE" || status == "INTEGRE_PARTIEL") {
      EXPECT_EQ(root_attribute(again, "statut"), "DOUBLON") << stem << "\n" << again;
      std::string original = "ACK_";
      original.append(stem).append("_").append(compact).append(".xml");
      EXPECT_EQ(root_attribute(again, "original"), original) << stem;
    } else {
      EXPECT_EQ(root_attribute(again, "statut"), "REJETE") << stem;
    }
    // Nothing is overwritten: the second original gets a suffix after the whole name.
    const bool quarantined = stem == "92_rejet_doctype" || stem == "93_rejet_malforme";
    EXPECT_TRUE(fs::exists((quarantined ? var() / "error" : archive) / (stem + ".xml.1"))) << stem;
  }
  expect_accuses_valid();
}

// samples/README.md: 10_recherche (two Recherche by support.n1 and g.martin) is INTEGRE and writes
// outbox/EXPORT_EDI_req-edi-acme_<instant>.csv and outbox/EXPORT_API_req-api_<instant>.xml (docs/reference.md §3.4,
// §5.2).
TEST_F(CommandsTest, SamplesRechercheWritesItsExports) {
  const fs::path config = fast_config();
  init_store(config);
  for (const char* n : {"01_referentiel.xml", "02_espace.xml", "03_decision.xml", "04_fiche_sftp.xml",
                        "07_fiche_api.xml", "10_recherche.xml"}) {
    copy_sample(n);
  }
  const CommandRun r = raccord("process --now 2026-11-30T10:00:00Z --config " + shell_quote(config.string()));
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string ack = accuse("10_recherche", "20261130T100000Z");
  EXPECT_EQ(root_attribute(ack, "statut"), "INTEGRE") << ack;
  EXPECT_TRUE(fs::exists(outbox() / "EXPORT_EDI_req-edi-acme_20261130T100000Z.csv")) << "no EDI export";
  EXPECT_TRUE(fs::exists(outbox() / "EXPORT_API_req-api_20261130T100000Z.xml")) << "no API export";
  expect_accuses_valid();
}

// ---------------------------------------------------------------------------------------------------------------
// check (docs/reference.md §7: dry run; 0 when all would be INTEGRE, 1 otherwise; changes and creates nothing).

TEST_F(CommandsTest, CheckWithoutAStoreCreatesNothing) {
  const fs::path config = fast_config();
  const CommandRun r = raccord("check --config " + shell_quote(config.string()) + " " +
                               shell_quote((kSamples / "depots" / "01_referentiel.xml").string()));
  EXPECT_EQ(r.code, 1) << r.out << r.err;  // support.n1 unknown in an empty store
  EXPECT_TRUE(contains(r.out, "<Accuse")) << r.out;
  EXPECT_TRUE(contains(r.out, "REJETE")) << r.out;
  EXPECT_FALSE(fs::exists(var()));
  EXPECT_TRUE(fs::is_empty(work()));
  // Also with the default config and --now.
  const CommandRun d = raccord("check --now 2026-11-30T10:00:00Z " +
                               shell_quote((kSamples / "depots" / "92_rejet_doctype.xml").string()));
  EXPECT_EQ(d.code, 1);
  EXPECT_TRUE(contains(d.out, "DTD_INTERDITE")) << d.out;
  EXPECT_FALSE(fs::exists(var()));
}

// Issue 18 item 5: on a workstation without the store, `check` answered UTILISATEUR_INCONNU for
// everything and said nothing. It now says on stderr that it checks against an empty store and how to
// point it at the real one; with the store given by --config it says nothing of the kind. Exit codes of
// docs/reference.md §7: 0 when every dépôt would be INTEGRE, 1 otherwise, 2 for usage.
TEST_F(CommandsTest, CheckWithoutAStoreSaysItChecksAgainstAnEmptyOne) {
  const std::string depot = shell_quote((kSamples / "depots" / "01_referentiel.xml").string());
  const CommandRun bare = raccord("check " + depot);
  EXPECT_EQ(bare.code, 1) << bare.out << bare.err;
  EXPECT_TRUE(contains(bare.out, "UTILISATEUR_INCONNU")) << bare.out;
  EXPECT_TRUE(contains(bare.err, "aucun store à " + (var() / "raccord.db").string())) << bare.err;
  EXPECT_TRUE(contains(bare.err, "store VIDE")) << bare.err;
  EXPECT_TRUE(contains(bare.err, "--config")) << bare.err;
  EXPECT_TRUE(contains(bare.err, "store.connection")) << bare.err;
  EXPECT_FALSE(fs::exists(var()));

  const fs::path config = fast_config();
  init_store(config);
  const CommandRun real = raccord("check --config " + shell_quote(config.string()) + " " + depot);
  EXPECT_EQ(real.code, 0) << real.out << real.err;  // support.n1 exists in the real store: INTEGRE
  EXPECT_FALSE(contains(real.err, "aucun store")) << real.err;
  EXPECT_FALSE(contains(real.err, "store VIDE")) << real.err;
  EXPECT_EQ(raccord("check --config " + shell_quote(config.string()) + " absent.xml").code, 2);
}

TEST_F(CommandsTest, CheckAnswersWithoutChangingTheStore) {
  const fs::path config = fast_config();
  init_store(config);
  const std::string cfg = " --config " + shell_quote(config.string()) + " --now 2026-11-30T10:00:00Z ";
  const auto before = snapshot(work());
  const CommandRun ok = raccord("check" + cfg + shell_quote((kSamples / "depots" / "01_referentiel.xml").string()));
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_TRUE(contains(ok.out, "statut=\"INTEGRE\"")) << ok.out;
  const CommandRun ko = raccord("check" + cfg + shell_quote((kSamples / "depots" / "01_referentiel.xml").string()) +
                                " " + shell_quote((kSamples / "depots" / "93_rejet_malforme.xml").string()));
  EXPECT_EQ(ko.code, 1) << ko.out;
  EXPECT_TRUE(contains(ko.out, "XML_MALFORME")) << ko.out;
  // Nothing written, nothing recorded: processing 01 afterwards integrates it (not DOUBLON).
  EXPECT_EQ(snapshot(work()), before);
  EXPECT_TRUE(fs::is_empty(outbox()));
  EXPECT_TRUE(fs::is_empty(var() / "archive"));
  EXPECT_TRUE(fs::exists(kSamples / "depots" / "01_referentiel.xml"));
  copy_sample("01_referentiel.xml");
  ASSERT_EQ(raccord("process" + cfg).code, 0);
  EXPECT_EQ(root_attribute(accuse("01_referentiel", "20261130T100000Z"), "statut"), "INTEGRE");
  expect_accuses_valid();
}

// check --compte NAME (docs/reference.md §2.1, §7): the dépôts checked as dropped through sender account NAME,
// whose logins alone may act (DEMANDEUR_NON_AUTORISE otherwise, exit 1); an account the configuration
// does not define is a usage error (exit 2, naming it and the accounts defined); without --compte,
// unchanged. Nothing is written, nothing recorded, no audit line (a dry run).
TEST_F(CommandsTest, CheckAsASenderAccountRefusesTheDemandeursItLacks) {
  const fs::path config = fast_config(100,
                                      "[compte.acme]\nlogins = g.martin, j.dupont\n[compte.exploitation]\nlogins = "
                                      "support.n1\n");
  init_store(config);
  const std::string cfg = " --config " + shell_quote(config.string()) + " --now 2026-11-30T10:00:00Z ";
  const std::string referential = shell_quote((kSamples / "depots" / "01_referentiel.xml").string());
  const auto before = snapshot(work());

  const CommandRun spoofed = raccord("check --compte acme" + cfg + referential);  // support.n1 acts
  EXPECT_EQ(spoofed.code, 1) << spoofed.out << spoofed.err;
  EXPECT_TRUE(contains(spoofed.out, "statut=\"REJETE\"")) << spoofed.out;
  EXPECT_TRUE(contains(spoofed.out, "DEMANDEUR_NON_AUTORISE")) << spoofed.out;
  EXPECT_TRUE(contains(spoofed.out, "« support.n1 » n'est pas un des utilisateurs du compte d'envoi « acme »"))
      << spoofed.out;
  EXPECT_FALSE(contains(spoofed.out, "UTILISATEUR_INCONNU")) << spoofed.out;  // no other rule ran
  EXPECT_FALSE(contains(spoofed.err, "refus d'identité")) << spoofed.err;     // a dry run audits nothing

  const CommandRun own = raccord("check" + cfg + "--compte exploitation " + referential);
  EXPECT_EQ(own.code, 0) << own.out << own.err;
  EXPECT_TRUE(contains(own.out, "statut=\"INTEGRE\"")) << own.out;
  const CommandRun inbox_itself = raccord("check" + cfg + referential);
  EXPECT_EQ(inbox_itself.code, 0) << inbox_itself.out << inbox_itself.err;

  const CommandRun unknown = raccord("check --compte inconnu" + cfg + referential);
  EXPECT_EQ(unknown.code, 2) << unknown.out << unknown.err;
  EXPECT_TRUE(contains(unknown.err, "« inconnu »")) << unknown.err;
  EXPECT_TRUE(contains(unknown.err, "acme, exploitation")) << unknown.err;
  EXPECT_FALSE(contains(unknown.out, "<Accuse")) << unknown.out;
  const CommandRun none = raccord("check --compte acme --now 2026-11-30T10:00:00Z " + referential);  // no account
  EXPECT_EQ(none.code, 2) << none.out << none.err;
  EXPECT_TRUE(contains(none.err, "n'en définit aucun")) << none.err;

  EXPECT_EQ(snapshot(work()), before);
  EXPECT_EQ(regular_files_under(outbox()), 0U);  // the accounts' folders, created by init, stay empty
  const CommandRun help = raccord("check --help");
  EXPECT_TRUE(contains(help.out, "--compte")) << help.out;
}

// docs/reference.md §7: `process` exits non-zero only when the engine itself fails; the dépôt then waits in inbox/.
TEST_F(CommandsTest, ProcessFailsWith1WhenTheStoreCannotBeOpened) {
  const fs::path config = fast_config(100, "[store]\nconnection = " + (dir_ / "absent" / "raccord.db").string() + "\n");
  fs::create_directories(inbox());
  copy_sample("94_rejet_droits.xml");
  const CommandRun r = raccord("process --now 2026-11-30T10:00:00Z --config " + shell_quote(config.string()));
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.err, "store")) << r.err;
  EXPECT_TRUE(fs::exists(inbox() / "94_rejet_droits.xml"));
  EXPECT_TRUE(entry_names(outbox(), "ACK_").empty());
}

// ---------------------------------------------------------------------------------------------------------------
// --now and RACCORD_NOW (docs/reference.md §7: the command line wins over the environment).

TEST_F(CommandsTest, NowSetsTheAccuseInstantAndTheArchiveDate) {
  const fs::path config = fast_config();
  init_store(config);
  const std::string cfg = " --config " + shell_quote(config.string());
  copy_sample("94_rejet_droits.xml");
  ASSERT_EQ(raccord("process" + cfg, "RACCORD_NOW=2026-11-30T10:00:00Z").code, 0);
  EXPECT_EQ(root_attribute(accuse("94_rejet_droits", "20261130T100000Z"), "traite"), "2026-11-30T10:00:00Z");
  EXPECT_TRUE(fs::exists(var() / "archive" / "2026" / "11" / "30" / "94_rejet_droits.xml"));

  copy_sample("94_rejet_droits.xml");
  ASSERT_EQ(raccord("process --now 2026-12-02T08:00:00Z" + cfg, "RACCORD_NOW=2026-11-30T10:00:00Z").code, 0);
  EXPECT_EQ(root_attribute(accuse("94_rejet_droits", "20261202T080000Z"), "traite"), "2026-12-02T08:00:00Z");
  EXPECT_TRUE(fs::exists(var() / "archive" / "2026" / "12" / "02" / "94_rejet_droits.xml"));

  // --now before the command name; 23:30Z on the 29th is already the 30th in Paris (engine.timezone).
  copy_sample("94_rejet_droits.xml");
  ASSERT_EQ(raccord("--now 2026-11-29T23:30:00Z process" + cfg).code, 0);
  accuse("94_rejet_droits", "20261129T233000Z");
  EXPECT_TRUE(fs::exists(var() / "archive" / "2026" / "11" / "30" / "94_rejet_droits.xml.1"));

  // An instant with an offset is the same UTC instant.
  copy_sample("94_rejet_droits.xml");
  ASSERT_EQ(raccord("process --now 2026-12-03T11:00:00+01:00" + cfg).code, 0);
  EXPECT_EQ(root_attribute(accuse("94_rejet_droits", "20261203T100000Z"), "traite"), "2026-12-03T10:00:00Z");
  EXPECT_EQ(entry_names(outbox(), "ACK_").size(), 4u);
  expect_accuses_valid();
}

TEST_F(CommandsTest, SameInstantTwiceGetsASuffixedAccuseName) {
  const fs::path config = fast_config();
  init_store(config);
  const std::string args = "process --now 2026-11-30T10:00:00Z --config " + shell_quote(config.string());
  copy_sample("93_rejet_malforme.xml");
  ASSERT_EQ(raccord(args).code, 0);
  copy_sample("93_rejet_malforme.xml");
  ASSERT_EQ(raccord(args).code, 0);
  accuse("93_rejet_malforme", "20261130T100000Z");
  accuse("93_rejet_malforme", "20261130T100000Z", "_2");
  EXPECT_TRUE(fs::exists(var() / "error" / "93_rejet_malforme.xml"));
  EXPECT_TRUE(fs::exists(var() / "error" / "93_rejet_malforme.xml.1"));
  expect_accuses_valid();
}

// ---------------------------------------------------------------------------------------------------------------
// Business dates and instants (issue "defects found in operation" 2 and 10; docs/design.md "Business dates and
// instants", "The nightly run's date", "Retention").

// At 30/11/2026, `nightly --date 2027-12-31` (a typo for 2026) removed the accusés and originals of the day and
// recorded every date up to 2027, so that the real 02/12 was "déjà exécutée". A date after the business today, or
// before the store's creation, is a usage error that changes nothing.
TEST_F(CommandsTest, NightlyDateAfterTodayOrBeforeTheStoreChangesNothing) {
  const fs::path config = fast_config(100, "[outbox]\nretention_days = 30\n[archive]\nretention_days = 30\n");
  const std::string cfg = " --config " + shell_quote(config.string());
  ASSERT_EQ(raccord("init --now 2026-11-29T08:00:00Z" + cfg).code, 0);
  copy_sample("94_rejet_droits.xml");
  copy_sample("93_rejet_malforme.xml");
  ASSERT_EQ(raccord("process --now 2026-11-30T10:00:00Z" + cfg).code, 0);
  const auto outbox_before = snapshot(outbox());
  const auto archive_before = snapshot(var() / "archive");
  ASSERT_EQ(entry_names(outbox(), "ACK_").size(), 2u);
  ASSERT_FALSE(archive_before.empty());
  for (const char* date : {"2027-12-31", "2026-12-01", "9999-12-31", "2026-11-28", "1970-01-01", "0026-11-30",
                           "10000-01-01", "1969-12-31"}) {
    const CommandRun r = raccord("nightly --now 2026-11-30T10:05:00Z --date " + std::string(date) + cfg);
    EXPECT_EQ(r.code, 2) << date << "\n" << r.out << r.err;
    EXPECT_TRUE(contains(r.err, date)) << r.err;
    EXPECT_EQ(snapshot(outbox()), outbox_before) << date;
    EXPECT_EQ(snapshot(var() / "archive"), archive_before) << date;
  }
  // Nothing was recorded: the real 02/12 runs (no catch-up, no "déjà exécutée").
  const CommandRun real = raccord("nightly --now 2026-12-02T01:00:00Z --date 2026-12-02" + cfg);
  EXPECT_EQ(real.code, 0) << real.out << real.err;
  EXPECT_TRUE(contains(real.out, "Nuit du 2026-12-02")) << real.out;
  EXPECT_FALSE(contains(real.out, "Nuit du 2026-12-01")) << real.out;
  EXPECT_TRUE(fs::exists(outbox() / "ACK_94_rejet_droits_20261130T100000Z.xml"));
  EXPECT_TRUE(fs::exists(var() / "archive/2026/11/30"));
  // --now back before the store's creation: its own date may still run, no earlier one.
  EXPECT_EQ(raccord("nightly --now 2026-11-20T10:00:00Z --date 2026-11-19" + cfg).code, 2);
  EXPECT_EQ(raccord("nightly --now 2026-11-20T10:00:00Z" + cfg).code, 0);
}

// An instant of year 10000 (here once its offset is applied) wrote ACK_…_100000101T005959Z.xml and archived under
// archive/10000/. Every business instant and date read from the command line is in the years 1970-9999.
TEST_F(CommandsTest, InstantsAndDatesOutsideTheYears1970To9999AreUsageErrors) {
  const fs::path config = fast_config();
  const std::string cfg = " --config " + shell_quote(config.string());
  ASSERT_EQ(raccord("init --support support.n1 --now 2026-11-29T08:00:00Z" + cfg).code, 0);
  copy_sample("94_rejet_droits.xml");
  for (const char* now : {"9999-12-31T23:59:59-01:00", "9999-12-31T23:30:00Z", "1969-12-31T23:59:59Z",
                          "1970-01-01T00:30:00+01:00", "0026-11-30T10:00:00Z", "9999-12-31T23:59:60Z"}) {
    const CommandRun flag = raccord("process --now " + std::string(now) + cfg);
    EXPECT_EQ(flag.code, 2) << now << "\n" << flag.out << flag.err;
    EXPECT_TRUE(contains(flag.err, now)) << flag.err;
    const CommandRun env = raccord("process" + cfg, "RACCORD_NOW=" + shell_quote(now));
    EXPECT_EQ(env.code, 2) << now << "\n" << env.out << env.err;
    EXPECT_EQ(raccord("nightly --now " + std::string(now) + cfg).code, 2) << now;
  }
  EXPECT_TRUE(fs::is_empty(outbox()));
  EXPECT_TRUE(fs::exists(inbox() / "94_rejet_droits.xml"));
  EXPECT_FALSE(fs::exists(var() / "archive/10000"));
  // The last instants of the range are accepted (Paris: 22:59:59Z is still 31/12/9999).
  const CommandRun last = raccord("process --now 9999-12-31T23:59:59+01:00" + cfg);
  ASSERT_EQ(last.code, 0) << last.err;
  accuse("94_rejet_droits", "99991231T225959Z");
  EXPECT_TRUE(fs::exists(var() / "archive/9999/12/31/94_rejet_droits.xml"));
  // Sibling parsers: search and cert dates.
  for (const char* option : {"--soumis-depuis 1969-12-31", "--soumis-jusqua 0026-01-01"}) {
    const CommandRun r = raccord("search --demandeur support.n1 " + std::string(option) + cfg);
    EXPECT_EQ(r.code, 2) << option << "\n" << r.out << r.err;
    EXPECT_TRUE(contains(r.err, std::string(option).substr(std::string(option).find(' ') + 1))) << r.err;
  }
  const CommandRun cert = raccord("cert " + shell_quote(config.string()) + " --date 1969-12-31" + cfg);
  EXPECT_EQ(cert.code, 2) << cert.out << cert.err;
  EXPECT_TRUE(contains(cert.err, "1969-12-31")) << cert.err;
}

// ---------------------------------------------------------------------------------------------------------------
// What is (not) a dépôt, and when it is taken (docs/reference.md §2; docs/field-cases.md F01).

TEST_F(CommandsTest, OtherInboxEntriesAreLeftAlone) {
  const fs::path config = fast_config();
  init_store(config);
  const std::string body = read_file(kSamples / "depots" / "94_rejet_droits.xml");
  for (const char* name : {"lot.xml.part", "lot.xml.filepart", "lot.tmp", ".cache.xml", "~$lot.xml", "notes.txt"}) {
    write_file(inbox() / name, body);
  }
  fs::create_directories(inbox() / "dossier.xml");
  write_file(dir_ / "outside.xml", body);
  fs::create_symlink(dir_ / "outside.xml", inbox() / "lien.xml");
  const CommandRun r = raccord("process --now 2026-11-30T10:00:00Z --config " + shell_quote(config.string()));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::is_empty(outbox())) << entry_names(outbox()).front();
  for (const char* name : {"lot.xml.part", "lot.xml.filepart", "lot.tmp", ".cache.xml", "~$lot.xml", "notes.txt",
                           "dossier.xml", "lien.xml"}) {
    EXPECT_TRUE(fs::exists(fs::symlink_status(inbox() / name))) << name;
  }
  EXPECT_TRUE(fs::is_symlink(inbox() / "lien.xml"));
  EXPECT_TRUE(fs::is_empty(var() / "archive"));
  EXPECT_TRUE(fs::is_empty(var() / "error"));
}

TEST_F(CommandsTest, UppercaseExtensionIsADepot) {
  const fs::path config = fast_config();
  init_store(config);
  fs::copy_file(kSamples / "depots" / "93_rejet_malforme.xml", inbox() / "LOT.XML");
  ASSERT_EQ(raccord("process --now 2026-11-30T10:00:00Z --config " + shell_quote(config.string())).code, 0);
  EXPECT_EQ(root_attribute(accuse("LOT", "20261130T100000Z"), "statut"), "REJETE");
}

TEST_F(CommandsTest, GrowingFileIsNotTakenUntilItStops) {
  const fs::path config = fast_config(500);
  init_store(config);
  const fs::path growing = inbox() / "growing.xml";
  std::atomic<bool> stop{false};
  write_file(growing,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<Depot xmlns=\"urn:raccord:depot:1\" identifiant=\"LENT-1\" demandeur=\"support.n1\">\n");
  // A slow writer (F01): one more line every 100 ms while `process` runs, the end of the dépôt only afterwards.
  std::thread writer([&] {
    int n = 0;
    while (!stop.load()) {
      {
        std::ofstream out(growing, std::ios::binary | std::ios::app);
        out << "  <!-- morceau " << ++n << " -->\n";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::ofstream out(growing, std::ios::binary | std::ios::app);
    out << "  <Utilisateur login=\"l.lent\" email=\"l.lent@example.com\"/>\n</Depot>\n";
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  const CommandRun during = raccord("process --now 2026-11-30T10:00:00Z --config " + shell_quote(config.string()));
  stop = true;
  writer.join();
  ASSERT_EQ(during.code, 0) << during.err;
  EXPECT_TRUE(entry_names(outbox(), "ACK_growing").empty()) << "a growing file was taken";
  EXPECT_TRUE(fs::exists(growing));
  EXPECT_TRUE(fs::is_empty(inbox() / ".work"));

  const CommandRun after = raccord("process --now 2026-11-30T10:01:00Z --config " + shell_quote(config.string()));
  ASSERT_EQ(after.code, 0) << after.err;
  const std::string ack = accuse("growing", "20261130T100100Z");
  EXPECT_EQ(root_attribute(ack, "statut"), "INTEGRE") << ack;
  EXPECT_FALSE(contains(ack, "XML_MALFORME"));
  EXPECT_FALSE(fs::exists(growing));
  EXPECT_TRUE(fs::exists(var() / "archive" / "2026" / "11" / "30" / "growing.xml"));
  expect_accuses_valid();
}

TEST_F(CommandsTest, EmptyInboxIsAQuietPass) {
  const fs::path config = fast_config();
  init_store(config);
  const CommandRun r = raccord("process --config " + shell_quote(config.string()));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "0 dépôt(s)")) << r.out;
  EXPECT_TRUE(fs::is_empty(outbox()));
}

// docs/reference.md §7 (issue 18, item 7): the accusés carried the AIFE example values (PeSIT 93.92.105.72:5100 made
// up by the project, the guide's example SFTP address) and nothing said so. init and process now say
// it once on stderr, as a warning, for each protocol whose AIFE side is not written in the configuration.
int occurrences(const std::string& text, const std::string& part) {
  int n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

TEST_F(CommandsTest, InitAndProcessSayOnceWhichAifeSidesAreExampleValues) {
  const fs::path config = fast_config();
  for (const char* command : {"init --support support.n1", "process"}) {
    SCOPED_TRACE(command);
    const CommandRun r = raccord(std::string(command) + " --config " + shell_quote(config.string()));
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_EQ(occurrences(r.err, "<4>côté AIFE PESIT non configuré"), 1) << r.err;
    EXPECT_EQ(occurrences(r.err, "<4>côté AIFE SFTP non configuré"), 1) << r.err;
    EXPECT_EQ(occurrences(r.err, "<4>côté AIFE AS2 non configuré"), 1) << r.err;
    EXPECT_EQ(occurrences(r.err, "côté AIFE"), 3) << r.err;
    EXPECT_TRUE(contains(r.err, "93.92.105.72") && contains(r.err, "192.168.131.22")) << r.err;
    EXPECT_TRUE(contains(r.err, config.string())) << r.err;  // where to write the real values
  }
  // The SFTP side written (its port with the default value): only PeSIT and AS2 are still examples.
  const fs::path sftp = fast_config(100, "[aife]\nsftp_address = 198.51.100.7\nsftp_port = 6321\n");
  const CommandRun some = raccord("process --config " + shell_quote(sftp.string()));
  ASSERT_EQ(some.code, 0) << some.err;
  EXPECT_EQ(occurrences(some.err, "côté AIFE"), 2) << some.err;
  EXPECT_FALSE(contains(some.err, "côté AIFE SFTP")) << some.err;
  // Every side written: not a word.
  const fs::path all = fast_config(100,
                                   "[aife]\nsftp_address = 198.51.100.7\nsftp_port = 22\nas2_identifiant = CTAIFEP\n"
                                   "as2_address = 198.51.100.8\nas2_port = 24000\nas2_path = /\n"
                                   "pesit_address = 198.51.100.9\npesit_port = 5100\n");
  const CommandRun none = raccord("process --config " + shell_quote(all.string()));
  ASSERT_EQ(none.code, 0) << none.err;
  EXPECT_FALSE(contains(none.err, "AIFE")) << none.err;
}

// ---------------------------------------------------------------------------------------------------------------
// files.umask (issue 8): whatever the caller's umask, nothing the engine creates is open to "others".

class UmaskTest : public CommandsTest {
 protected:
  // Runs `raccord ARGS` with the process umask `caller` (the shell and the binary inherit it).
  CommandRun raccord_with_umask(mode_t caller, const std::string& args) {
    const mode_t previous = ::umask(caller);
    CommandRun r = raccord(args);
    ::umask(previous);
    return r;
  }

  // Every directory and file under var/ (var/ itself included) with a right beyond `allowed`, as
  // "path mode" lines; empty when all are closed. The originals moved to archive/ and error/ were
  // created by whoever dropped them: they are only held to 0640 (inbox/ takes away the rest).
  std::vector<std::string> too_open(mode_t allowed) const {
    std::vector<std::string> out;
    auto check = [&](const fs::path& p) {
      struct stat st {};
      if (::lstat(p.c_str(), &st) != 0) return;
      const mode_t mode = st.st_mode & 07777;
      const std::string rel = fs::relative(p, var()).string();
      const bool original = S_ISREG(st.st_mode) && p.extension() == ".xml" &&
                            (rel.rfind("archive/", 0) == 0 || rel.rfind("error/", 0) == 0);
      if ((mode & ~(original ? mode_t{0640} : allowed)) != 0) {
        char octal[8];
        std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
        out.push_back(fs::relative(p, work()).string() + " " + octal);
      }
    };
    check(var());
    for (const auto& e : fs::recursive_directory_iterator(var())) check(e.path());
    return out;
  }
};

TEST_F(UmaskTest, DefaultUmaskClosesDirectoriesAndStoreToOthersEvenUnderUmask0022) {
  const fs::path config = fast_config();
  ASSERT_EQ(raccord_with_umask(0022, "init --support support.n1 --config " + shell_quote(config.string())).code, 0);
  copy_sample("01_referentiel.xml");
  copy_sample("92_rejet_doctype.xml");
  const CommandRun r =
      raccord_with_umask(0022, "process --config " + shell_quote(config.string()) + " --now 2026-11-30T10:00:00Z");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  ASSERT_FALSE(entry_names(outbox(), "ACK_01_referentiel_").empty());
  ASSERT_TRUE(fs::exists(var() / "error" / "92_rejet_doctype.xml"));
  ASSERT_TRUE(fs::exists(var() / "archive" / "2026" / "11" / "30" / "01_referentiel.xml"));
  ASSERT_TRUE(fs::exists(var() / "raccord.db"));
  // Directories 0750 at most (files.umask 0027), files 0640 at most; nothing for others.
  EXPECT_EQ(too_open(0750), std::vector<std::string>{});
  for (const char* d : {"", "inbox", "inbox/.work", "outbox", "archive", "archive/2026/11/30", "error"}) {
    struct stat st {};
    ASSERT_EQ(::stat((var() / d).c_str(), &st), 0) << d;
    EXPECT_EQ(st.st_mode & 0777, 0750u) << d;
  }
  for (const auto& name : entry_names(var(), "raccord.db")) {  // the store, its -wal and -shm
    struct stat st {};
    ASSERT_EQ(::stat((var() / name).c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_mode & 0007, 0u) << name;
    EXPECT_EQ(st.st_mode & 0137, 0u) << name;  // 0640 at most
  }
}

TEST_F(UmaskTest, ConfiguredUmaskIsAppliedBeforeAnythingIsCreated) {
  const fs::path config = fast_config(100, "[files]\numask = 0077\n");
  ASSERT_EQ(raccord_with_umask(0022, "init --config " + shell_quote(config.string())).code, 0);
  copy_sample("01_referentiel.xml");
  ASSERT_EQ(raccord_with_umask(0022, "process --config " + shell_quote(config.string())).code, 0);
  EXPECT_EQ(too_open(0700), std::vector<std::string>{});
  struct stat st {};
  ASSERT_EQ(::stat(outbox().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(UmaskTest, UmaskThatLetsOthersWriteIsRefusedWith2AndCreatesNothing) {
  const fs::path config = fast_config(100, "[files]\numask = 0020\n");
  const CommandRun r = raccord("init --config " + shell_quote(config.string()));
  EXPECT_EQ(r.code, 2);  // a configuration error is a usage error
  EXPECT_TRUE(contains(r.err, "files.umask")) << r.err;
  EXPECT_TRUE(contains(r.err, "0020")) << r.err;
  EXPECT_FALSE(fs::exists(var()));
  const fs::path not_octal = fast_config(100, "[files]\numask = 0o27\n");
  const CommandRun r2 = raccord("init --config " + shell_quote(not_octal.string()));
  EXPECT_EQ(r2.code, 2);
  EXPECT_TRUE(contains(r2.err, "octal")) << r2.err;
  EXPECT_FALSE(fs::exists(var()));
}

}  // namespace
