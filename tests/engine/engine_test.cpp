// Dépôt-driven tests of engine/engine.cpp (Engine::process_pass, process_claimed): dépôt-level
// codes and error/ quarantine, DOUBLON and DEPOT_IDENTIFIANT_REUTILISE, crash leftovers in
// inbox/.work/, archive dates in engine.timezone and accusé names (docs/reference.md §2, §3, §4, §5.1).
#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include "files/atomic_file.hpp"
#include "tests/support/engine_fixture.hpp"
#include "tests/support/tcp_proxy.hpp"
#include "tests/support/test_pki.hpp"

namespace raccord::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::string one_sheet(const std::string& identifier, const SheetSpec& spec = sftp_sheet()) {
  return depot_xml(sheet_xml(spec), "identifiant=\"" + identifier + "\"");
}

ino_t inode_of(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

// ---------------------------------------------------------------------------------------------
// Dépôt-level codes: REJETE, no operation, the original in error/ with NAME.reason.txt.

struct UnreadableCase {
  std::string name;
  std::string bytes;
  std::string code;
  int line;                 // expected ligne (0: not asserted)
  bool column;              // colonne expected
  long long max_bytes = 0;  // inbox.max_bytes for this case (0: default)
};
void PrintTo(const UnreadableCase& c, std::ostream* os) {  // NOLINT(readability-identifier-naming): GoogleTest's name
  *os << c.name;
}

class UnreadableTest : public EngineTest, public ::testing::WithParamInterface<UnreadableCase> {};

TEST_P(UnreadableTest, IsRejectedAndQuarantined) {
  const UnreadableCase& c = GetParam();
  if (c.max_bytes > 0) config_.max_bytes = c.max_bytes;
  start();
  const ParsedAck ack = process("depot.xml", c.bytes);
  EXPECT_EQ(ack.statut, "REJETE") << ack.xml;
  EXPECT_EQ(ack.fichier, "depot.xml");
  EXPECT_THAT(ack.operations, IsEmpty());
  ASSERT_THAT(ack.error_codes(), ElementsAre(c.code)) << ack.xml;
  if (c.line > 0) {
    EXPECT_EQ(ack.errors[0].ligne, c.line) << ack.xml;
  }
  EXPECT_EQ(ack.errors[0].colonne > 0, c.column) << ack.xml;
  EXPECT_FALSE(ack.errors[0].message.empty());
  EXPECT_EQ(ack.name, "ACK_depot_20261129T100000Z.xml");
  // The original, byte for byte, in error/ with its reason; nothing in the archive or the inbox.
  EXPECT_EQ(read_file(error_dir() / "depot.xml"), c.bytes);
  const std::string reason = read_file(error_dir() / "depot.xml.reason.txt");
  EXPECT_NE(reason.find(c.code), std::string::npos) << reason;
  EXPECT_FALSE(fs::exists(archive_day()));
  EXPECT_THAT(files_in(inbox()), IsEmpty());
  EXPECT_THAT(files_in(work()), IsEmpty());
  EXPECT_THAT(files_in(outbox()), ElementsAre(ack.name));
  EXPECT_EQ(count("SELECT COUNT(*) FROM deposits WHERE status = 'REJETE' AND destination = 'error'"), 1);
}

const std::string kHead = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

INSTANTIATE_TEST_SUITE_P(
    Spec4, UnreadableTest,
    ::testing::Values(
        UnreadableCase{"XmlMalforme",
                       kHead + "<Depot xmlns=\"urn:raccord:depot:1\" demandeur=\"support.n1\">\n"
                               "  <Utilisateur login=\"a.b\" email=\"a.b@exemple.fr\">\n</Depot>\n",
                       "XML_MALFORME", 4, true},
        UnreadableCase{"EncodageInvalide",
                       kHead + "<Depot xmlns=\"urn:raccord:depot:1\" demandeur=\"support.n1\">\n"
                               "  <Utilisateur login=\"a.b\" email=\"caf\xC3\x28@exemple.fr\"/>\n</Depot>\n",
                       "ENCODAGE_INVALIDE", 3, true},
        UnreadableCase{"DtdInterdite",
                       kHead + "<!DOCTYPE Depot [<!ENTITY x \"y\">]>\n<Depot xmlns=\"urn:raccord:depot:1\"/>\n",
                       "DTD_INTERDITE", 2, false},
        UnreadableCase{"FichierVide", "", "FICHIER_VIDE", 0, false},
        UnreadableCase{"FichierTropVolumineux",
                       depot_xml(user_xml("a.b") + user_xml("c.d") + user_xml("e.f") + user_xml("g.h")),
                       "FICHIER_TROP_VOLUMINEUX", 0, false, 200},
        UnreadableCase{"SchemaInvalideEspaceDeNoms", kHead + "<Depot xmlns=\"urn:autre:1\">\n</Depot>\n",
                       "SCHEMA_INVALIDE", 2, false},
        UnreadableCase{"SchemaInvalideRacine", kHead + "<Lot xmlns=\"urn:raccord:depot:1\">\n</Lot>\n",
                       "SCHEMA_INVALIDE", 2, false},
        UnreadableCase{"SchemaInvalideMode",
                       kHead + "\n<Depot xmlns=\"urn:raccord:depot:1\" mode=\"tout\">\n</Depot>\n", "SCHEMA_INVALIDE",
                       3, false}),
    [](const ::testing::TestParamInfo<UnreadableCase>& p) { return p.param.name; });

TEST_F(EngineTest, MaxBytesBoundaryIsAccepted) {
  const std::string xml = depot_xml(user_xml("a.b"), "identifiant=\"LIMITE\"");
  config_.max_bytes = static_cast<long long>(xml.size());
  start();
  EXPECT_EQ(process("limite.xml", xml).statut, "INTEGRE");
}

// docs/field-cases.md F07: the size is checked before reading; memory stays bounded. The address space is
// limited to what the test process uses plus 128 MiB while a 300 MiB (sparse) dépôt is processed:
// reading it whole would throw std::bad_alloc.
TEST_F(EngineTest, TooLargeDepotIsRefusedWithoutBeingReadIntoMemory) {
  config_.max_bytes = 1024LL * 1024;
  start();
  const std::uintmax_t size = 300ull * 1024 * 1024;
  {
    std::ofstream out(inbox() / ".enorme.xml.part", std::ios::binary);
    out << "<?xml version=\"1.0\"?>\n";
  }
  fs::resize_file(inbox() / ".enorme.xml.part", size);
  fs::rename(inbox() / ".enorme.xml.part", inbox() / "enorme.xml");

  std::ifstream statm("/proc/self/statm");
  std::uint64_t pages = 0;
  statm >> pages;
  ASSERT_GT(pages, 0u);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_AS, &saved), 0);
  rlimit limited = saved;
  limited.rlim_cur =
      static_cast<rlim_t>(pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)) + 128ull * 1024 * 1024);
  ASSERT_EQ(::setrlimit(RLIMIT_AS, &limited), 0);
  PassSummary summary;
  bool threw = false;
  try {
    summary = engine().process_pass();
  } catch (const std::exception&) {
    threw = true;
  }
  ::setrlimit(RLIMIT_AS, &saved);
  ASSERT_FALSE(threw) << "the dépôt was read into memory";
  ASSERT_EQ(summary.acknowledgements.size(), 1u);
  const ParsedAck ack = read_ack(summary.acknowledgements[0]);
  EXPECT_EQ(ack.statut, "REJETE");
  EXPECT_THAT(ack.error_codes(), ElementsAre("FICHIER_TROP_VOLUMINEUX"));
  EXPECT_NE(ack.errors.at(0).message.find(std::to_string(size)), std::string::npos) << ack.errors[0].message;
  EXPECT_EQ(ack.sha256.size(), 64u);
  EXPECT_NE(ack.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");  // not of ""
  EXPECT_EQ(fs::file_size(error_dir() / "enorme.xml"), size);
  EXPECT_TRUE(fs::exists(error_dir() / "enorme.xml.reason.txt"));
}

TEST_F(EngineTest, OperationLevelSchemaErrorIsArchivedNotQuarantined) {
  start();
  const std::string xml =
      depot_xml("  <Utilisateur demandeur=\"support.n1\" login=\"a.b\" email=\"a@exemple.fr\" x=\"1\"/>\n");
  const ParsedAck ack = process("schema.xml", xml);
  EXPECT_EQ(ack.statut, "REJETE");
  EXPECT_THAT(ack.errors, IsEmpty());
  ASSERT_EQ(ack.operations.size(), 1u);
  EXPECT_THAT(ack.operations[0].error_codes(), ElementsAre("SCHEMA_INVALIDE"));
  EXPECT_EQ(read_file(archive_day() / "schema.xml"), xml);
  EXPECT_THAT(files_in(error_dir()), IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// Exactly once (docs/reference.md §2, §3): DOUBLON, REJETE bytes processed anew, identifiant reuse.

TEST_F(EngineTest, SameBytesAfterIntegreAreDoublon) {
  start();
  setup_world();
  const std::string xml = one_sheet("LOT-1");
  const ParsedAck first = process("lot.xml", xml);
  ASSERT_EQ(first.statut, "INTEGRE") << first.xml;
  const ParsedAck second = process("lot.xml", xml);
  EXPECT_EQ(second.statut, "DOUBLON");
  EXPECT_EQ(second.original, first.name);
  EXPECT_EQ(second.sha256, first.sha256);
  EXPECT_EQ(second.identifiant, "LOT-1");
  EXPECT_THAT(second.errors, IsEmpty());
  EXPECT_NE(second.name, first.name);
  EXPECT_EQ(second.name, "ACK_lot_20261129T100000Z_2.xml");
  // Nothing applied twice; both originals archived (the second with a suffix).
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM history"), 1);
  EXPECT_THAT(files_in(archive_day()),
              ElementsAre("00_decision.xml", "00_espace.xml", "00_referentiel.xml", "lot.xml", "lot.xml.1"));
  EXPECT_EQ(read_file(archive_day() / "lot.xml.1"), xml);
  EXPECT_THAT(files_in(error_dir()), IsEmpty());

  // A third time under another name: DOUBLON again, still naming the first accusé.
  drop_file(inbox(), "copie.xml", xml);
  const PassSummary summary = engine().process_pass();
  EXPECT_EQ(summary.doublon, 1);
  EXPECT_EQ(read_ack(summary.acknowledgements.at(0)).original, first.name);
}

// Issue 18 item 1: a stalled upload (the writer keeps the dépôt open, nothing changes for longer than
// the quiet period) is left in inbox/ by the pass, answered by nothing, and taken once closed.
TEST_F(EngineTest, PassLeavesADepotHeldOpenForWritingAndTakesItOnceClosed) {
  start();
  setup_world();
  const std::string xml = depot_xml(sheet_xml(sftp_sheet()), "identifiant=\"LOT-LENT\"");
  drop_file(inbox(), "a_lent.xml", xml.substr(0, xml.size() / 2));
  const int writer = ::open((inbox() / "a_lent.xml").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(writer, 0);
  const PassSummary during = engine().process_pass();
  EXPECT_EQ(during.processed, 0);
  EXPECT_EQ(during.held_open, 1);
  EXPECT_TRUE(std::filesystem::exists(inbox() / "a_lent.xml"));
  EXPECT_THAT(files_in(error_dir()), IsEmpty());
  const std::string rest = xml.substr(xml.size() / 2);
  ASSERT_EQ(::write(writer, rest.data(), rest.size()), static_cast<ssize_t>(rest.size()));
  ::close(writer);
  const PassSummary after = engine().process_pass();
  EXPECT_EQ(after.processed, 1);
  EXPECT_EQ(after.held_open, 0);
  EXPECT_EQ(read_ack(after.acknowledgements.at(0)).statut, "INTEGRE");
}

TEST_F(EngineTest, SameBytesAfterPartialIntegreAreDoublon) {
  start();
  setup_world();
  SheetSpec bad = sftp_sheet();
  bad.demandeur = kOutsider;
  const std::string xml =
      depot_xml(sheet_xml(sftp_sheet()) + sheet_xml(bad), "identifiant=\"LOT-P\" mode=\"partielle\"");
  const ParsedAck first = process("partiel.xml", xml);
  ASSERT_EQ(first.statut, "INTEGRE_PARTIEL");
  const ParsedAck second = process("partiel.xml", xml);
  EXPECT_EQ(second.statut, "DOUBLON");
  EXPECT_EQ(second.original, first.name);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 1);
}

TEST_F(EngineTest, SameBytesAfterRejeteAreProcessedAnew) {
  start();
  setup_world();
  LeafOptions later;
  later.not_before = "2026-12-15T00:00:00Z";
  SheetSpec spec = sftp_sheet();
  spec.certificates = {TestPki::instance().bundle_base64(later)};
  const std::string xml = one_sheet("LOT-CERT", spec);
  const ParsedAck first = process("cert.xml", xml);
  ASSERT_EQ(first.statut, "REJETE");
  EXPECT_THAT(first.operations.at(0).error_codes(), ElementsAre("CERT_PAS_ENCORE_VALIDE"));

  // Same bytes, same day: processed again (not DOUBLON), rejected again.
  const ParsedAck again = process("cert.xml", xml);
  EXPECT_EQ(again.statut, "REJETE");
  EXPECT_EQ(again.original, "");

  // Same bytes once the certificate has become valid, same identifiant: integrated.
  start("2026-12-20T09:00:00Z");
  const ParsedAck valid = process("cert.xml", xml);
  EXPECT_EQ(valid.statut, "INTEGRE") << valid.xml;
  EXPECT_EQ(valid.operations.at(0).etat, "ENVOYEE");
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 1);
  EXPECT_EQ(valid.name, "ACK_cert_20261220T090000Z.xml");
  EXPECT_TRUE(fs::exists(archive_day("2026/12/20") / "cert.xml"));
}

TEST_F(EngineTest, IdentifiantOfAnIntegratedDepotCannotBeReused) {
  start();
  setup_world();
  const ParsedAck first = process("a.xml", one_sheet("LOT-7"));
  ASSERT_EQ(first.statut, "INTEGRE");
  SheetSpec other = api_sheet();
  const std::string xml = one_sheet("LOT-7", other);
  const ParsedAck reused = process("b.xml", xml);
  EXPECT_EQ(reused.statut, "REJETE");
  EXPECT_EQ(reused.identifiant, "LOT-7");
  EXPECT_THAT(reused.operations, IsEmpty());
  ASSERT_THAT(reused.error_codes(), ElementsAre("DEPOT_IDENTIFIANT_REUTILISE"));
  EXPECT_EQ(reused.errors[0].champ, "@identifiant");
  EXPECT_EQ(reused.errors[0].ligne, line_of(xml, "<Depot"));
  EXPECT_NE(reused.errors[0].message.find(first.name), std::string::npos) << reused.errors[0].message;
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 1);
  // Archived, not quarantined.
  EXPECT_EQ(read_file(archive_day() / "b.xml"), xml);
  EXPECT_THAT(files_in(error_dir()), IsEmpty());
}

TEST_F(EngineTest, IdentifiantOfARejectedDepotMayBeResentCorrected) {
  start();
  setup_world();
  SheetSpec bad = sftp_sheet();
  bad.contact_email = "pas-un-email";
  ASSERT_EQ(process("v1.xml", one_sheet("LOT-9", bad)).statut, "REJETE");
  const ParsedAck corrected = process("v2.xml", one_sheet("LOT-9"));
  EXPECT_EQ(corrected.statut, "INTEGRE") << corrected.xml;
  EXPECT_THAT(corrected.errors, IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// Crash leftovers in inbox/.work/ (docs/reference.md §2 "Exactly once"): one dépôt file, one accusé.

TEST_F(EngineTest, LeftoverInWorkIsProcessedAtTheNextPass) {
  start();
  setup_world();
  const std::string xml = one_sheet("LOT-W");
  drop_file(work(), "reprise.xml", xml);  // claimed by an engine that died before processing it
  const PassSummary summary = engine().process_pass();
  EXPECT_EQ(summary.processed, 1);
  EXPECT_EQ(summary.integre, 1);
  ASSERT_EQ(summary.acknowledgements.size(), 1u);
  const ParsedAck ack = read_ack(summary.acknowledgements[0]);
  EXPECT_EQ(ack.statut, "INTEGRE");
  EXPECT_EQ(ack.fichier, "reprise.xml");
  EXPECT_THAT(files_in(work()), IsEmpty());
  EXPECT_EQ(read_file(archive_day() / "reprise.xml"), xml);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 1);
}

TEST_F(EngineTest, LeftoverWhoseTransactionWasCommittedIsNotAppliedTwice) {
  start();
  setup_world();
  const std::string xml = one_sheet("LOT-C");
  const ParsedAck first = process("commit.xml", xml);
  ASSERT_EQ(first.statut, "INTEGRE");
  const fs::path archived = archive_day() / "commit.xml";
  const ino_t inode = inode_of(archived);
  ASSERT_NE(inode, 0u);
  const std::int64_t deposits = count("SELECT COUNT(*) FROM deposits");

  // Simulate a crash after the commit, before the accusé and the archive move: the same file
  // (same inode) back in .work/, its accusé gone.
  fs::rename(archived, work() / "commit.xml");
  ASSERT_EQ(inode_of(work() / "commit.xml"), inode);
  fs::remove(outbox() / first.name);

  const PassSummary summary = engine().process_pass();
  EXPECT_EQ(summary.processed, 1);
  EXPECT_EQ(summary.doublon, 0);
  ASSERT_EQ(summary.acknowledgements.size(), 1u);
  EXPECT_EQ(summary.acknowledgements[0], first.name);  // the recorded accusé, rewritten
  EXPECT_EQ(read_file(outbox() / first.name), first.xml);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM history"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM deposits"), deposits);
  EXPECT_THAT(files_in(work()), IsEmpty());
  EXPECT_EQ(inode_of(archive_day() / "commit.xml"), inode);
  // One dépôt file, one accusé.
  std::vector<std::string> acks;
  for (const auto& n : files_in(outbox())) {
    if (n.rfind("ACK_commit_", 0) == 0) acks.push_back(n);
  }
  EXPECT_THAT(acks, ElementsAre(first.name));
}

TEST_F(EngineTest, LeftoverWhoseAccuseWasAlreadyWrittenGetsNoSecondOne) {
  start();
  setup_world();
  const ParsedAck first = process("deja.xml", one_sheet("LOT-D"));
  ASSERT_EQ(first.statut, "INTEGRE");
  fs::rename(archive_day() / "deja.xml", work() / "deja.xml");  // crash between accusé and archive
  const PassSummary summary = engine().process_pass();
  EXPECT_EQ(summary.processed, 1);
  std::vector<std::string> acks;
  for (const auto& n : files_in(outbox())) {
    if (n.rfind("ACK_deja_", 0) == 0) acks.push_back(n);
  }
  EXPECT_THAT(acks, ElementsAre(first.name));
  EXPECT_EQ(read_file(outbox() / first.name), first.xml);
  EXPECT_TRUE(fs::exists(archive_day() / "deja.xml"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 1);
}

TEST_F(EngineTest, LeftoverAndANewDepotOfTheSameNameAreBothAnswered) {
  start();
  const std::string old_xml = depot_xml(user_xml("a.b"), "identifiant=\"ANCIEN\"");
  const std::string new_xml = depot_xml(user_xml("c.d"), "identifiant=\"NOUVEAU\"");
  drop_file(work(), "meme.xml", old_xml);
  drop_file(inbox(), "meme.xml", new_xml);
  const PassSummary summary = engine().process_pass();
  EXPECT_EQ(summary.processed, 2);
  EXPECT_EQ(summary.integre, 2);
  ASSERT_EQ(summary.acknowledgements.size(), 2u);
  EXPECT_EQ(read_ack(summary.acknowledgements[0]).identifiant, "ANCIEN");  // leftovers first
  EXPECT_EQ(read_ack(summary.acknowledgements[1]).identifiant, "NOUVEAU");
  EXPECT_EQ(summary.acknowledgements[1], "ACK_meme_20261129T100000Z_2.xml");
  EXPECT_EQ(read_file(archive_day() / "meme.xml"), old_xml);
  EXPECT_EQ(read_file(archive_day() / "meme.xml.1"), new_xml);
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login IN ('a.b', 'c.d')"), 2);
}

// Reading ahead (docs/design.md "Reading ahead"): when a group commits, the group after it is already claimed
// (in .work/, being read on the worker), and every dépôt is still answered once, in order.
TEST_F(EngineTest, TheNextGroupIsClaimedAndReadWhileAGroupIsAnswered) {
  start();
  const int n = static_cast<int>(engine().group_deposits()) + 3;
  for (int i = 0; i < n; ++i) {
    drop_file(inbox(), "d" + std::to_string(1000 + i) + ".xml",
              depot_xml(user_xml("u" + std::to_string(1000 + i)), "identifiant=\"L" + std::to_string(i) + "\""));
  }
  std::vector<std::size_t> claimed_at_commit;
  engine().set_before_commit([&] {
    std::size_t in_work = 0;
    for (const auto& e : fs::directory_iterator(work())) in_work += e.is_regular_file() ? 1 : 0;
    claimed_at_commit.push_back(in_work);
  });
  const PassSummary summary = engine().process_pass();
  EXPECT_EQ(summary.processed, n);
  EXPECT_EQ(summary.integre, n);
  // The first group's commit: its full group and the 3 of the group after; the second's: its own 3.
  EXPECT_EQ(claimed_at_commit, (std::vector<std::size_t>{engine().group_deposits() + 3, 3}));
  ASSERT_EQ(summary.acknowledgements.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) EXPECT_EQ(read_ack(summary.acknowledgements[i]).identifiant, "L" + std::to_string(i));
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login LIKE 'u1%'"), n);
}

// A failure after a group is claimed and read ahead (here the hook asked between groups; in the field, claiming,
// loading or listing the next dépôts): the group is still answered before the failure goes on, as in sequence it
// would have been — no claimed group is left in .work/ for a later pass to take as a leftover (review of the
// reading ahead: a pread failing in the next group stranded the healthy group before it).
TEST_F(EngineTest, AFailureAfterAGroupIsClaimedStillAnswersThatGroup) {
  start();
  for (int i = 0; i < 3; ++i) {
    drop_file(inbox(), "d" + std::to_string(i) + ".xml", depot_xml(user_xml("v" + std::to_string(i))));
  }
  int asked = 0;  // asked before the first claim, then after the group is claimed and read ahead
  engine().set_interruption([&asked]() -> bool {
    if (++asked == 2) throw std::runtime_error("panne simulée entre deux groupes");
    return false;
  });
  EXPECT_THROW(engine().process_pass(), std::runtime_error);
  engine().set_interruption(nullptr);
  EXPECT_TRUE(fs::is_empty(work()));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(fs::exists(archive_day() / ("d" + std::to_string(i) + ".xml"))) << i;
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login IN ('v0', 'v1', 'v2')"), 3);
  std::size_t accuses = 0;
  for (const auto& e : fs::directory_iterator(outbox())) accuses += e.path().filename().string().starts_with("ACK_");
  EXPECT_EQ(accuses, 3u);
  EXPECT_EQ(engine().process_pass().processed, 0);  // nothing left for later
}

TEST_F(EngineTest, LeftoverOfAQuarantinedDepotGoesBackToError) {
  start();
  const std::string bytes = kHead + "<Depot xmlns=\"urn:raccord:depot:1\">\n  <oops>\n</Depot>\n";
  const ParsedAck first = process("casse.xml", bytes);
  ASSERT_EQ(first.statut, "REJETE");
  fs::rename(error_dir() / "casse.xml", work() / "casse.xml");
  fs::remove(error_dir() / "casse.xml.reason.txt");
  fs::remove(outbox() / first.name);
  const PassSummary summary = engine().process_pass();
  EXPECT_EQ(summary.processed, 1);
  EXPECT_EQ(summary.acknowledgements.at(0), first.name);
  EXPECT_EQ(read_file(error_dir() / "casse.xml"), bytes);
  EXPECT_NE(read_file(error_dir() / "casse.xml.reason.txt").find("XML_MALFORME"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Archive dates, accusé names, order, what is a dépôt (docs/reference.md §2, §5.1).

TEST_F(EngineTest, ArchiveDateIsTheProcessingDateInEuropeParis) {
  start("2026-11-29T23:30:00Z");  // 00:30 on 30 November in Paris
  const ParsedAck ack = process("nuit.xml", depot_xml(user_xml("a.b"), "identifiant=\"NUIT\""));
  EXPECT_EQ(ack.statut, "INTEGRE");
  EXPECT_EQ(ack.name, "ACK_nuit_20261129T233000Z.xml");
  EXPECT_EQ(ack.recu, "2026-11-29T23:30:00Z");
  EXPECT_EQ(ack.traite, "2026-11-29T23:30:00Z");
  EXPECT_TRUE(fs::exists(archive_day("2026/11/30") / "nuit.xml"));
  EXPECT_FALSE(fs::exists(archive_day("2026/11/29")));
}

TEST_F(EngineTest, AccuseNameGetsASuffixWhenTaken) {
  start();
  files::create_file_atomically(outbox(), "ACK_pris_20261129T100000Z.xml", "occupé");
  const ParsedAck first = process("pris.xml", depot_xml(user_xml("a.b"), "identifiant=\"P1\""));
  EXPECT_EQ(first.name, "ACK_pris_20261129T100000Z_2.xml");
  const ParsedAck second = process("pris.xml", depot_xml(user_xml("c.d"), "identifiant=\"P2\""));
  EXPECT_EQ(second.name, "ACK_pris_20261129T100000Z_3.xml");
  EXPECT_EQ(read_file(outbox() / "ACK_pris_20261129T100000Z.xml"), "occupé");
  EXPECT_THAT(files_in(archive_day()), ElementsAre("pris.xml", "pris.xml.1"));
}

TEST_F(EngineTest, DepotsOfOnePassAreTakenInNameOrder) {
  start();
  // 02 needs the user created by 01; 10 sorts after 02 by bytes.
  StructureSpec s;
  s.managers = {{"n.ordre", "principal"}};
  s.technical_users.clear();
  drop_file(inbox(), "10_espace.xml", depot_xml(activation_xml("n.ordre", kAcme)));
  drop_file(inbox(), "02_structure.xml", depot_xml(structure_xml(s)));
  drop_file(inbox(), "01_utilisateur.xml", depot_xml(user_xml("n.ordre")));
  const PassSummary summary = engine().process_pass();
  EXPECT_EQ(summary.processed, 3);
  EXPECT_EQ(summary.integre, 3);
  ASSERT_EQ(summary.acknowledgements.size(), 3u);
  EXPECT_EQ(read_ack(summary.acknowledgements[0]).fichier, "01_utilisateur.xml");
  EXPECT_EQ(read_ack(summary.acknowledgements[1]).fichier, "02_structure.xml");
  EXPECT_EQ(read_ack(summary.acknowledgements[2]).fichier, "10_espace.xml");
}

// Issue 21 (figure 9): on PostgreSQL a one-sheet dépôt waits for the server only where the engine reads an
// answer: the claim's reads (the same bytes, the same identifiant and the accusé's first name, one query), the
// requester with the structure and the rights (one query), the code's number with the version's id (one
// query) and the dépôt's record: four; the savepoints and the other writes ride on those (pipeline mode).
// Counted between a pass of one dépôt and a pass of five, which share the passes' and groups' own round
// trips. Seven before the requester's and the ids' queries were folded.
TEST_F(EngineTest, OneSheetDepotWaitsForTheServerOnlyForWhatItReads) {
  if (!postgres_requested()) GTEST_SKIP() << "round trips: PostgreSQL only (RACCORD_TEST_BACKEND=postgresql)";
  start();
  setup_world();
  ASSERT_EQ(process("a_chauffe.xml", one_sheet("LOT-CHAUFFE")).statut, "INTEGRE");  // each text prepared once
  auto pass_round_trips = [&](int depots, const std::string& stem) {
    for (int i = 0; i < depots; ++i) {
      drop_file(inbox(), fmt::format("{}_{}.xml", stem, i), one_sheet(fmt::format("LOT-{}-{}", stem, i)));
    }
    const std::uint64_t before = db().round_trips();
    const PassSummary summary = engine().process_pass();
    EXPECT_EQ(summary.integre, depots) << stem;
    return db().round_trips() - before;
  };
  const std::uint64_t one = pass_round_trips(1, "b");
  const std::uint64_t five = pass_round_trips(5, "c");
  ASSERT_GT(five, one);
  EXPECT_EQ((five - one) % 4, 0u) << one << " " << five;
  EXPECT_LE((five - one) / 4, 4u) << one << " " << five;
  EXPECT_EQ(count("SELECT COUNT(*) FROM deposits WHERE status = 'INTEGRE' AND identifier LIKE 'LOT-%'"), 7);
}

// Group commit (issue 7): more dépôts than one group holds, answered each once and in name order,
// a byte-identical copy DOUBLON even inside the same transaction, a malformed one quarantined.
TEST_F(EngineTest, ManyDepotsOfOnePassAreAnsweredAcrossGroups) {
  start();
  const std::size_t n = engine().group_deposits() + 6;
  for (std::size_t i = 0; i < n; ++i) {
    drop_file(inbox(), fmt::format("u{:03}.xml", i), depot_xml(user_xml(fmt::format("user.{}", i))));
  }
  drop_file(inbox(), "u001_copie.xml", depot_xml(user_xml("user.1")));  // the bytes of u001.xml
  drop_file(inbox(), "u002_casse.xml", "<Depot");
  const PassSummary summary = engine().process_pass();
  EXPECT_EQ(summary.processed, static_cast<int>(n + 2));
  EXPECT_EQ(summary.integre, static_cast<int>(n));
  EXPECT_EQ(summary.doublon, 1);
  EXPECT_EQ(summary.rejete, 1);
  ASSERT_EQ(summary.acknowledgements.size(), n + 2);
  EXPECT_EQ(read_ack(summary.acknowledgements[0]).fichier, "u000.xml");
  EXPECT_EQ(read_ack(summary.acknowledgements[2]).fichier, "u001_copie.xml");
  EXPECT_EQ(read_ack(summary.acknowledgements[2]).statut, "DOUBLON");
  EXPECT_EQ(read_ack(summary.acknowledgements[4]).fichier, "u002_casse.xml");
  EXPECT_EQ(read_ack(summary.acknowledgements[4]).statut, "REJETE");
  EXPECT_EQ(files_in(outbox()).size(), n + 2);
  EXPECT_EQ(files_in(archive_day()).size(), n + 1);
  EXPECT_THAT(files_in(error_dir()), ElementsAre("u002_casse.xml", "u002_casse.xml.reason.txt"));
  EXPECT_THAT(files_in(inbox()), IsEmpty());
  EXPECT_THAT(files_in(work()), IsEmpty());
  EXPECT_EQ(count("SELECT COUNT(*) FROM deposits"), static_cast<std::int64_t>(n + 2));
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login LIKE 'user.%'"), static_cast<std::int64_t>(n));
}

// A group whose transaction fails in the store for one dépôt (here a trigger refusing its record) is
// taken again one dépôt at a time: the dépôts before it are answered, it stays in .work/ with those
// after it, and the next pass answers them once the store accepts them.
// On both backends (a trigger of each: PostgreSQL's fails the whole transaction at once).
TEST_F(EngineTest, GroupFailingInTheStoreIsTakenAgainOneByOne) {
  start();
  if (postgres_requested()) {
    db().execute(
        "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.file_name = 'b_poison.xml' "
        "THEN RAISE EXCEPTION 'refus du test'; END IF; RETURN NEW; END $$");
    db().execute("CREATE TRIGGER poison BEFORE INSERT ON deposits FOR EACH ROW EXECUTE FUNCTION poison()");
  } else {
    db().execute(
        "CREATE TRIGGER poison BEFORE INSERT ON deposits WHEN NEW.file_name = 'b_poison.xml' "
        "BEGIN SELECT RAISE(ABORT, 'refus du test'); END");
  }
  // a.xml also searches: its export is written inside the group's transaction, which fails (hostile
  // finding 3: the failed attempt's export stayed, and the retry wrote a second one).
  drop_file(
      inbox(), "a.xml",
      depot_xml(user_xml("user.a") + "  <Recherche demandeur=\"support.n1\" type=\"EDI\" reference=\"req-a\"/>\n"));
  drop_file(inbox(), "b_poison.xml", depot_xml(user_xml("user.b")));
  drop_file(inbox(), "c.xml", depot_xml(user_xml("user.c")));
  EXPECT_THROW(engine().process_pass(), StoreError);
  EXPECT_THAT(files_in(outbox()), ElementsAre("ACK_a_20261129T100000Z.xml", "EXPORT_EDI_req-a_20261129T100000Z.csv"));
  EXPECT_EQ(read_ack("ACK_a_20261129T100000Z.xml").statut, "INTEGRE");
  EXPECT_THAT(files_in(archive_day()), ElementsAre("a.xml"));
  EXPECT_THAT(files_in(work()), ElementsAre("b_poison.xml", "c.xml"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login IN ('user.b', 'user.c')"), 0);

  db().execute(postgres_requested() ? "DROP TRIGGER poison ON deposits" : "DROP TRIGGER poison");
  const PassSummary summary = engine().process_pass();
  EXPECT_EQ(summary.processed, 2);
  EXPECT_EQ(summary.integre, 2);
  EXPECT_THAT(files_in(archive_day()), ElementsAre("a.xml", "b_poison.xml", "c.xml"));
  EXPECT_THAT(files_in(work()), IsEmpty());
  EXPECT_EQ(count("SELECT COUNT(*) FROM deposits"), 3);
}

/// Every entry of `dir`, hidden ones included.
std::set<std::string> all_entries(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

/// The value of attribute `name` of the first element carrying it in `xml` ("" when absent).
std::string first_attribute(const std::string& xml, const std::string& name) {
  const std::string key = " " + name + "=\"";
  const auto at = xml.find(key);
  if (at == std::string::npos) return {};
  const auto begin = at + key.size();
  return xml.substr(begin, xml.find('"', begin) - begin);
}

// Exports are written under a temporary and published only once their dépôt committed (hostile
// finding 7, docs/design.md "Exports"): two Recherches of one dépôt and one of another dépôt of the
// group with one reference get the name, "_2", "_3", each named by its accusé; the Recherche of a
// "complete" dépôt rolled back leaves no export; no temporary is left.
TEST_F(EngineTest, ExportsArePublishedOnlyForCommittedRecherches) {
  start();
  const std::string search = "  <Recherche demandeur=\"support.n1\" type=\"EDI\" reference=\"req\"/>\n";
  drop_file(inbox(), "e1.xml", depot_xml(user_xml("user.e1") + search));
  drop_file(inbox(), "e2.xml", depot_xml(search + user_xml("user.e2") + search));
  drop_file(inbox(), "e3_complete.xml",
            depot_xml(search + "  <Recherche demandeur=\"support.n1\" type=\"AUTRE\"/>\n", R"(mode="complete")"));
  const PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, 3);
  EXPECT_EQ(summary.integre, 2);
  EXPECT_EQ(summary.rejete, 1);
  const std::set<std::string> expected{"EXPORT_EDI_req_20261129T100000Z.csv", "EXPORT_EDI_req_20261129T100000Z_2.csv",
                                       "EXPORT_EDI_req_20261129T100000Z_3.csv"};
  std::set<std::string> exports;
  for (const auto& n : files_in(outbox())) {
    if (n.starts_with("EXPORT_")) exports.insert(n);
  }
  EXPECT_EQ(exports, expected);
  std::set<std::string> named;
  for (const auto& ack_name : summary.acknowledgements) {
    const ParsedAck ack = read_ack(ack_name);
    for (auto at = ack.xml.find(" export=\""); at != std::string::npos; at = ack.xml.find(" export=\"", at + 1)) {
      named.insert(first_attribute(ack.xml.substr(at), "export"));
    }
    if (ack.fichier == "e3_complete.xml") {
      EXPECT_EQ(ack.statut, "REJETE");
    }
  }
  EXPECT_EQ(named, expected);
  for (const auto& n : all_entries(outbox())) EXPECT_NE(n.front(), '.') << n;
  EXPECT_EQ(count("SELECT COUNT(*) FROM exports"), 3);
}

// No export outlives a transaction attempt that does not commit (docs/design.md "Exports"): the
// group's COMMIT fails twice for a transient reason (the Recherche staged its export each time), then
// commits: one export, under the first name, the one its accusé names, and no temporary left. When
// every attempt fails, the pass stops with nothing in outbox/, hidden or not.
TEST_F(EngineTest, ExportsOfAttemptsRolledBackForATransientFailureAreNeverLeftBehind) {
  start();
  const std::string search = "  <Recherche demandeur=\"support.n1\" type=\"EDI\" reference=\"req\"/>\n";
  drop_file(inbox(), "r1.xml", depot_xml(search));
  int failures_left = 2;
  engine().set_before_commit([&failures_left] {
    if (failures_left > 0) {
      --failures_left;
      throw StoreError("base occupée (test)", true);
    }
  });
  const PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, 1);
  EXPECT_EQ(failures_left, 0);
  EXPECT_THAT(all_entries(outbox()),
              ::testing::UnorderedElementsAre("ACK_r1_20261129T100000Z.xml", "EXPORT_EDI_req_20261129T100000Z.csv",
                                              "metrics.prom"));
  EXPECT_EQ(first_attribute(read_ack(summary.acknowledgements[0]).xml, "export"),
            "EXPORT_EDI_req_20261129T100000Z.csv");
  EXPECT_EQ(count("SELECT COUNT(*) FROM exports"), 1);

  drop_file(inbox(), "r2.xml", depot_xml(search));
  engine().set_before_commit([] { throw StoreError("base occupée (test)", true); });
  EXPECT_THROW(engine().process_pass(), StoreError);
  engine().set_before_commit(nullptr);
  EXPECT_THAT(all_entries(outbox()),
              ::testing::UnorderedElementsAre("ACK_r1_20261129T100000Z.xml", "EXPORT_EDI_req_20261129T100000Z.csv",
                                              "metrics.prom"));
  EXPECT_THAT(files_in(work()), ElementsAre("r2.xml"));  // answered at the next pass
  EXPECT_EQ(count("SELECT COUNT(*) FROM exports"), 1);
}

// Start-up recovery of outbox/ (hostile finding 7): the temporaries of dead processes of this host go,
// except the recorded temporary of an export whose dépôt committed before a crash, which is published
// under its recorded name; those of live processes and of other hosts stay.
TEST_F(EngineTest, StartUpRemovesTemporariesOfDeadProcessesAndPublishesCommittedExports) {
  start();
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);  // `child` is now the pid of a dead process
  const std::string host = files::host_name();
  const std::string committed_name = "EXPORT_EDI_y_20261129T100000Z.csv";
  const std::string orphan = files::detail::temporary_name("EXPORT_EDI_x_20261129T100000Z.csv", host, child, 1);
  const std::string committed = files::detail::temporary_name(committed_name, host, child, 2);
  const std::string live = files::detail::temporary_name("ACK_z_20261129T100000Z.xml", host, ::getpid(), 3);
  const std::string other_host = files::detail::temporary_name("ACK_w_20261129T100000Z.xml", "autre-hote", child, 4);
  for (const auto& n : {orphan, committed, live, other_host}) write_file(outbox() / n, "contenu de " + n);
  db().execute("INSERT INTO exports (name, temporary, ack_name) VALUES ($1, $2, 'ACK_y_20261129T100000Z.xml')",
               {committed_name, committed});
  ASSERT_EQ(count("SELECT COUNT(*) FROM exports"), 1);
  start();  // a new engine on the same root and store: its start-up
  const auto entries = all_entries(outbox());
  EXPECT_FALSE(entries.contains(orphan));
  EXPECT_FALSE(entries.contains(committed));
  EXPECT_TRUE(entries.contains(live));
  EXPECT_TRUE(entries.contains(other_host));
  ASSERT_TRUE(entries.contains(committed_name));
  EXPECT_EQ(read_file(outbox() / committed_name), "contenu de " + committed);
}

// ---------------------------------------------------------------------------------------------
// One group of dépôts (issue 7, hostile tests): the dépôts of a group read first, the certificates of
// all their sheets checked ahead over several dépôts (engine/engine.cpp, engine/certificates_ahead.cpp), one
// instant per group.

/// A sheet `reference` whose leaf certificate is valid, or expired (CERT_EXPIRE) when `expired`.
std::string sheet_with_leaf(const std::string& reference, bool expired) {
  LeafOptions leaf;
  leaf.common_name = reference + ".exemple.fr";
  if (expired) leaf.not_after = "2026-06-30T00:00:00Z";
  SheetSpec spec = sftp_sheet();
  spec.reference = reference;
  spec.certificates = {TestPki::instance().bundle_base64(leaf)};
  return sheet_xml(spec);
}

// One pass, one group: a partial dépôt, its byte copy (DOUBLON), a broken one, a "complete" dépôt
// rolled back by one bad certificate, a dépôt of 300 sheets (more than the look-ahead window of
// 256) with a bad certificate at rank 281, and a too-large one. Every accusé is right, each dépôt
// has exactly one, and the certificate verdicts land on their own sheets.
TEST_F(EngineTest, MixedGroupAnswersEachDepotOnceWithItsOwnCertificateVerdicts) {
  config_.max_bytes = 1 << 20;
  start();
  setup_world();
  const std::string partial =
      depot_xml(sheet_with_leaf("a-0", false) + sheet_with_leaf("a-1", true) + sheet_with_leaf("a-2", false),
                R"(identifiant="G-A" mode="partielle")");
  drop_file(inbox(), "g1_a.xml", partial);
  drop_file(inbox(), "g2_a_copie.xml", partial);
  drop_file(inbox(), "g3_casse.xml", "<Depot xmlns=\"urn:raccord:depot:1\">\n<FicheEDI");
  drop_file(inbox(), "g4_complete.xml",
            depot_xml(sheet_with_leaf("d-0", false) + sheet_with_leaf("d-1", true) + sheet_with_leaf("d-2", false),
                      R"(identifiant="G-D" mode="complete")"));
  std::string many;
  for (int i = 0; i < 300; ++i) many += sheet_with_leaf("e-" + std::to_string(i), i == 280);
  drop_file(inbox(), "g5_nombreuses.xml", depot_xml(many, R"(identifiant="G-E" mode="partielle")"));
  drop_file(inbox(), "g5b_copie.xml", depot_xml(many, R"(identifiant="G-E" mode="partielle")"));
  drop_file(inbox(), "g6_trop_gros.xml", depot_xml("<!--" + std::string(std::size_t{1} << 20, 'x') + "-->\n"));
  drop_file(
      inbox(), "g7_apres.xml",
      depot_xml(sheet_with_leaf("f-0", true) + sheet_with_leaf("f-1", false), R"(identifiant="G-F" mode="partielle")"));

  const PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, 8);
  ASSERT_EQ(summary.acknowledgements.size(), 8u);
  std::vector<ParsedAck> acks;
  for (const auto& name : summary.acknowledgements) acks.push_back(read_ack(name));
  EXPECT_EQ(acks[0].fichier, "g1_a.xml");
  EXPECT_EQ(acks[0].statut, "INTEGRE_PARTIEL") << acks[0].xml;
  ASSERT_EQ(acks[0].operations.size(), 3u);
  EXPECT_THAT(acks[0].operations[0].error_codes(), IsEmpty());
  EXPECT_THAT(acks[0].operations[1].error_codes(), ElementsAre("CERT_EXPIRE"));
  EXPECT_THAT(acks[0].operations[2].error_codes(), IsEmpty());
  EXPECT_EQ(acks[1].statut, "DOUBLON");
  EXPECT_EQ(acks[1].original, acks[0].name);
  EXPECT_EQ(acks[2].statut, "REJETE");
  EXPECT_THAT(acks[2].error_codes(), ElementsAre("XML_MALFORME"));
  EXPECT_EQ(acks[3].statut, "REJETE") << acks[3].xml;
  ASSERT_EQ(acks[3].operations.size(), 3u);
  EXPECT_THAT(acks[3].operations[1].error_codes(), ElementsAre("CERT_EXPIRE"));
  EXPECT_THAT(acks[3].operations[0].error_codes(), IsEmpty());
  EXPECT_THAT(acks[3].operations[2].error_codes(), IsEmpty());
  EXPECT_EQ(acks[4].statut, "INTEGRE_PARTIEL");
  ASSERT_EQ(acks[4].operations.size(), 300u);
  for (std::size_t i = 0; i < 300; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(acks[4].operations[i].reference, "e-" + std::to_string(i));
    if (i == 280) {
      EXPECT_THAT(acks[4].operations[i].error_codes(), ElementsAre("CERT_EXPIRE"));
    } else {
      EXPECT_THAT(acks[4].operations[i].error_codes(), IsEmpty());
    }
  }
  EXPECT_EQ(acks[5].statut, "DOUBLON");  // 300 sheets checked ahead, never taken
  EXPECT_EQ(acks[6].statut, "REJETE");
  EXPECT_THAT(acks[6].error_codes(), ElementsAre("FICHIER_TROP_VOLUMINEUX"));
  EXPECT_EQ(acks[7].statut, "INTEGRE_PARTIEL");
  ASSERT_EQ(acks[7].operations.size(), 2u);
  EXPECT_THAT(acks[7].operations[0].error_codes(), ElementsAre("CERT_EXPIRE"));
  EXPECT_THAT(acks[7].operations[1].error_codes(), IsEmpty());
  // One instant for the group.
  for (const auto& a : acks) EXPECT_EQ(a.traite, acks[0].traite) << a.name;
  // Effects applied once: 2 (g1) + 0 (g4 rolled back) + 299 (g5) + 1 (g7) sheets, 7 dépôts recorded.
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 2 + 299 + 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM deposits WHERE file_name LIKE 'g%'"), 8);
  EXPECT_THAT(files_in(work()), IsEmpty());
  EXPECT_THAT(files_in(inbox()), IsEmpty());
  EXPECT_EQ(files_in(outbox()).size(), 3u + 8u);  // setup_world's three accusés and the group's eight
}

// Leftovers in .work/ after a crash: one already committed (answered from its record, its sheets
// checked ahead but never taken) between two never processed: each new one gets the verdicts of
// its own sheets, the committed one its recorded accusé, and nothing is applied twice.
TEST_F(EngineTest, LeftoverGroupMixingRecordedAndNewDepotsKeepsEachSheetsVerdict) {
  config_.max_bytes = 1 << 20;
  start();
  setup_world();
  const ParsedAck first =
      process("l1_fait.xml",
              depot_xml(sheet_with_leaf("l1-0", false) + sheet_with_leaf("l1-1", true) + sheet_with_leaf("l1-2", false),
                        R"(identifiant="L-1" mode="partielle")"));
  ASSERT_EQ(first.statut, "INTEGRE_PARTIEL");
  fs::rename(archive_day() / "l1_fait.xml", work() / "l1_fait.xml");
  fs::remove(outbox() / first.name);
  drop_file(work(), "l0_neuf.xml",
            depot_xml(sheet_with_leaf("l0-0", false) + sheet_with_leaf("l0-1", false),
                      R"(identifiant="L-0" mode="partielle")"));
  drop_file(work(), "l2_neuf.xml",
            depot_xml(sheet_with_leaf("l2-0", true) + sheet_with_leaf("l2-1", false),
                      R"(identifiant="L-2" mode="partielle")"));
  const std::int64_t sheets = count("SELECT COUNT(*) FROM sheets");
  const PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, 3);
  std::vector<ParsedAck> acks;
  for (const auto& name : summary.acknowledgements) acks.push_back(read_ack(name));
  ASSERT_EQ(acks.size(), 3u);
  EXPECT_EQ(acks[0].fichier, "l0_neuf.xml");
  EXPECT_EQ(acks[0].statut, "INTEGRE") << acks[0].xml;
  EXPECT_EQ(acks[1].xml, first.xml);
  EXPECT_EQ(acks[2].fichier, "l2_neuf.xml");
  EXPECT_EQ(acks[2].statut, "INTEGRE_PARTIEL") << acks[2].xml;
  ASSERT_EQ(acks[2].operations.size(), 2u);
  EXPECT_THAT(acks[2].operations[0].error_codes(), ElementsAre("CERT_EXPIRE"));
  EXPECT_THAT(acks[2].operations[1].error_codes(), IsEmpty());
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), sheets + 3);
  EXPECT_THAT(files_in(work()), IsEmpty());
}

// F20 through a dépôt: a CA shipped both cross-signed by the trusted root and self-signed (same name,
// same key), in every order of the bundle, one sheet per order: every sheet gets the same verdict
// (pyca/cryptography writes the order that used to fail). Beside them, the same CA shipped
// self-signed and cross-signed by an unknown root: CERT_AUTORITE_NON_RECONNUE in every order.
TEST_F(EngineTest, CertificateOrderOfABundleNeverChangesASheetsVerdict) {
  start();
  setup_world();
  const TestCa& root = TestPki::instance().root();
  const TestCa ca = root.issue_ca({"Raccord Cross CA"});
  const TestCa self = ca.self_signed_copy();
  const TestCa by_other = ca.cross_signed_by(TestPki::instance().other_root());
  LeafOptions leaf_options;
  leaf_options.common_name = "croise.exemple.fr";
  const std::string leaf = ca.leaf_der(leaf_options);
  std::string sheets;
  int made = 0;
  for (const std::vector<std::string>& certs : {std::vector<std::string>{leaf, ca.der(), self.der()},
                                                std::vector<std::string>{leaf, by_other.der(), self.der()}}) {
    std::vector<std::size_t> index{0, 1, 2};
    do {
      SheetSpec spec = sftp_sheet();
      spec.reference = "ordre-" + std::to_string(made++);
      spec.certificates = {TestPki::base64(TestPki::pkcs7_der({certs[index[0]], certs[index[1]], certs[index[2]]}))};
      sheets += sheet_xml(spec);
    } while (std::next_permutation(index.begin(), index.end()));
  }
  const std::int64_t before = count("SELECT COUNT(*) FROM sheets");
  const ParsedAck ack = process("ordre.xml", depot_xml(sheets, R"(identifiant="ORDRE" mode="partielle")"));
  EXPECT_EQ(ack.statut, "INTEGRE_PARTIEL") << ack.xml;
  ASSERT_EQ(ack.operations.size(), 12u) << ack.xml;
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_THAT(ack.operations[i].error_codes(), IsEmpty()) << "ordre " << i << "\n" << ack.xml;
  }
  for (std::size_t i = 6; i < 12; ++i) {
    EXPECT_THAT(ack.operations[i].error_codes(), ElementsAre("CERT_AUTORITE_NON_RECONNUE")) << "ordre " << i << "\n"
                                                                                            << ack.xml;
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), before + 6);
}

TEST_F(EngineTest, OtherEntriesAreLeftAloneAndNeverAnswered) {
  start();
  const std::string xml = depot_xml(user_xml("a.b"));
  for (const char* name : {"lot.xml.part", "lot.xml.filepart", ".cache.xml", "~$lot.xml", "notes.txt"}) {
    drop_file(inbox(), name, xml);
  }
  fs::create_directory(inbox() / "dossier.xml");
  fs::create_symlink(inbox() / "notes.txt", inbox() / "lien.xml");
  drop_file(inbox(), "VRAI.XML", xml);  // any case
  const PassSummary summary = engine().process_pass();
  EXPECT_EQ(summary.processed, 1);
  EXPECT_EQ(read_ack(summary.acknowledgements.at(0)).fichier, "VRAI.XML");
  EXPECT_TRUE(fs::exists(inbox() / "lot.xml.part"));
  EXPECT_TRUE(fs::exists(inbox() / "lot.xml.filepart"));
  EXPECT_TRUE(fs::exists(inbox() / ".cache.xml"));
  EXPECT_TRUE(fs::exists(inbox() / "~$lot.xml"));
  EXPECT_TRUE(fs::is_directory(inbox() / "dossier.xml"));
  EXPECT_TRUE(fs::is_symlink(inbox() / "lien.xml"));
  EXPECT_EQ(files_in(outbox()).size(), 1u);
}

// Sender accounts (docs/accounts.md): inbox/NAME/ is a channel of its own.
class SenderChannelTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    if (IsSkipped()) return;
    config_.accounts = {SenderAccount{"acme", {kSubscriber, kManager}, std::nullopt, SignatureRequirement::None, {}},
                        SenderAccount{"beta", {kSubscriber}, std::nullopt, SignatureRequirement::None, {}}};
  }
  fs::path account_inbox(const std::string& name) const { return inbox() / name; }
  fs::path account_outbox(const std::string& name) const { return outbox() / name; }
  /// One pass that must answer exactly one dépôt, dropped as inbox/ACCOUNT/NAME; its accusé.
  ParsedAck process_in(const std::string& account, const std::string& name, std::string_view xml) {
    drop_file(account_inbox(account), name, xml);
    const PassSummary summary = engine().process_pass();
    EXPECT_EQ(summary.processed, 1) << name;
    if (summary.acknowledgements.size() != 1) return {};
    const std::string text = read_file(account_outbox(account) / summary.acknowledgements.front());
    EXPECT_FALSE(text.empty()) << "no accusé in outbox/" << account << "/";
    return parse_ack(text, summary.acknowledgements.front());
  }
};

TEST_F(SenderChannelTest, FoldersAreCreatedAndADepotIsAnsweredInTheAccountsOwnOutbox) {
  start();
  for (const auto& dir : {account_inbox("acme"), work() / "acme", account_outbox("acme"), account_inbox("beta")}) {
    struct stat st {};
    ASSERT_EQ(::lstat(dir.c_str(), &st), 0) << dir;
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << dir;
    EXPECT_EQ(st.st_mode & 07777, 0750u) << dir;
  }
  setup_world();
  const std::string xml = one_sheet("LOT-A");
  const ParsedAck ack = process_in("acme", "lot.xml", xml);
  EXPECT_EQ(ack.statut, "INTEGRE") << ack.xml;
  EXPECT_EQ(ack.compte, "acme");
  EXPECT_EQ(read_file(archive_day() / "lot.xml"), xml);
  // Never in outbox/ itself nor in another account's folder.
  for (const auto& n : files_in(outbox())) EXPECT_EQ(n.find("ACK_lot"), std::string::npos) << n;
  EXPECT_THAT(files_in(account_outbox("beta")), IsEmpty());
  // A dépôt of inbox/ itself carries no compte.
  EXPECT_EQ(process("root.xml", one_sheet("LOT-R", api_sheet())).compte, "");
}

TEST_F(SenderChannelTest, ExistingFoldersKeepTheirModeAndAnAccountFolderThatIsALinkStopsTheStart) {
  fs::create_directories(account_inbox("acme"));
  fs::permissions(account_inbox("acme"), fs::perms(0770));
  start();
  EXPECT_EQ(static_cast<unsigned>(fs::status(account_inbox("acme")).permissions()) & 0777u, 0770u);
  engine_.reset();
  fs::create_directories(tmp_ / "ailleurs");
  fs::remove(account_inbox("beta"));  // created empty by the first start
  fs::create_directory_symlink(tmp_ / "ailleurs", account_inbox("beta"));
  try {
    start();
    ADD_FAILURE() << "start accepted inbox/beta/ as a symbolic link";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("beta"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("lien symbolique"), std::string::npos) << e.what();
  }
}

TEST_F(SenderChannelTest, SameIdentifiantInTwoChannelsIsIntegratedInEach) {
  start();
  setup_world();
  SheetSpec a = sftp_sheet();
  a.reference = "ref-acme";
  SheetSpec b = sftp_sheet();
  b.reference = "ref-beta";
  SheetSpec r = sftp_sheet();
  r.reference = "ref-root";
  EXPECT_EQ(process_in("acme", "a.xml", one_sheet("LOT-X", a)).statut, "INTEGRE");
  EXPECT_EQ(process_in("beta", "b.xml", one_sheet("LOT-X", b)).statut, "INTEGRE");
  EXPECT_EQ(process("r.xml", one_sheet("LOT-X", r)).statut, "INTEGRE");
  // Within one channel it is still held once.
  SheetSpec again = sftp_sheet();
  again.reference = "ref-acme-2";
  const ParsedAck reused = process_in("acme", "a2.xml", one_sheet("LOT-X", again));
  EXPECT_EQ(reused.statut, "REJETE");
  EXPECT_THAT(reused.error_codes(), ElementsAre("DEPOT_IDENTIFIANT_REUTILISE"));
}

TEST_F(SenderChannelTest, SameBytesThroughTwoChannelsAreAppliedOnceAndOnlyTheSameChannelLearnsTheOriginal) {
  start();
  setup_world();
  const std::string xml = one_sheet("LOT-D");
  const ParsedAck first = process_in("acme", "d.xml", xml);
  ASSERT_EQ(first.statut, "INTEGRE");
  const ParsedAck other = process_in("beta", "d.xml", xml);
  EXPECT_EQ(other.statut, "DOUBLON");
  EXPECT_EQ(other.original, "");
  EXPECT_EQ(other.xml.find(first.name), std::string::npos) << other.xml;
  const ParsedAck root_copy = process("d.xml", xml);
  EXPECT_EQ(root_copy.statut, "DOUBLON");
  EXPECT_EQ(root_copy.original, "");
  const ParsedAck same = process_in("acme", "d-copie.xml", xml);
  EXPECT_EQ(same.statut, "DOUBLON");
  EXPECT_EQ(same.original, first.name);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 1);
}

TEST_F(SenderChannelTest, FileNotOwnedByTheAccountsOwnerIsRefusedBeforeBeingReadAndQuarantined) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown needs root";
  config_.accounts[0].owner_uid = 4242;
  start();
  setup_world();
  const std::string xml = one_sheet("LOT-O");
  drop_file(account_inbox("acme"), "o.xml", xml);
  ASSERT_EQ(::chown((account_inbox("acme") / "o.xml").c_str(), 4343, 4343), 0);
  PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, 1);
  const ParsedAck refused = parse_ack(read_file(account_outbox("acme") / summary.acknowledgements.at(0)));
  EXPECT_EQ(refused.statut, "REJETE");
  EXPECT_EQ(refused.compte, "acme");
  EXPECT_EQ(refused.identifiant, "");  // never parsed
  ASSERT_THAT(refused.error_codes(), ElementsAre("COMPTE_NON_AUTORISE"));
  EXPECT_NE(refused.errors[0].message.find("4343"), std::string::npos) << refused.errors[0].message;
  EXPECT_EQ(read_file(error_dir() / "o.xml"), xml);
  EXPECT_TRUE(fs::exists(error_dir() / "o.xml.reason.txt"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 0);
  // The same bytes owned by the account's owner: integrated (never the DOUBLON of a refusal).
  drop_file(account_inbox("acme"), "o2.xml", xml);
  ASSERT_EQ(::chown((account_inbox("acme") / "o2.xml").c_str(), 4242, 4242), 0);
  summary = engine().process_pass();
  ASSERT_EQ(summary.processed, 1);
  EXPECT_EQ(parse_ack(read_file(account_outbox("acme") / summary.acknowledgements.at(0))).statut, "INTEGRE");
}

TEST_F(SenderChannelTest, FileWithAHardLinkKeptBySenderIsRefused) {
  start();
  setup_world();
  const std::string xml = one_sheet("LOT-L");
  drop_file(account_inbox("acme"), "l.xml", xml);
  fs::create_hard_link(account_inbox("acme") / "l.xml", tmp_ / "gardé.xml");
  const PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, 1);
  const ParsedAck refused = parse_ack(read_file(account_outbox("acme") / summary.acknowledgements.at(0)));
  EXPECT_EQ(refused.statut, "REJETE");
  EXPECT_THAT(refused.error_codes(), ElementsAre("COMPTE_NON_AUTORISE"));
  EXPECT_TRUE(fs::exists(error_dir() / "l.xml"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 0);
  // Audited: raccord_refus_identite_total{compte="acme",code="COMPTE_NON_AUTORISE"} (docs/accounts.md).
  EXPECT_EQ(count("SELECT value FROM metric_counters WHERE name = 'refus_identite:acme:COMPTE_NON_AUTORISE'"), 1);
  // inbox/ itself has no such rule: a hard link there is taken as before.
  drop_file(inbox(), "l.xml", xml);
  fs::create_hard_link(inbox() / "l.xml", tmp_ / "gardé2.xml");
  EXPECT_EQ(engine().process_pass().integre, 1);
}

TEST_F(SenderChannelTest, LinksAndFoldersOfNoAccountAreLeftAlone) {
  start();
  const std::string xml = depot_xml(user_xml("a.b"));
  drop_file(tmp_, "ailleurs.xml", xml);
  fs::create_symlink(tmp_ / "ailleurs.xml", account_inbox("acme") / "lien.xml");
  fs::create_directories(inbox() / "ghost");
  drop_file(inbox() / "ghost", "g.xml", xml);
  const PassSummary summary = engine().process_pass();
  EXPECT_EQ(summary.processed, 0);
  EXPECT_TRUE(fs::is_symlink(account_inbox("acme") / "lien.xml"));
  EXPECT_TRUE(fs::exists(inbox() / "ghost" / "g.xml"));
  EXPECT_FALSE(fs::exists(work() / "ghost"));
}

TEST_F(SenderChannelTest, LeftoverInTheAccountsWorkFolderIsAnsweredInItsOutbox) {
  start();
  setup_world();
  drop_file(work() / "acme", "reste.xml", one_sheet("LOT-W"));
  const PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, 1);
  const ParsedAck ack = parse_ack(read_file(account_outbox("acme") / summary.acknowledgements.at(0)));
  EXPECT_EQ(ack.statut, "INTEGRE");
  EXPECT_EQ(ack.compte, "acme");
  EXPECT_FALSE(fs::exists(work() / "acme" / "reste.xml"));
}

TEST_F(SenderChannelTest, OneChannelsBacklogNeverStarvesAnotherChannelsSingleDepot) {
  start();
  const std::size_t backlog = 3 * engine().group_deposits() + 5;
  for (std::size_t i = 0; i < backlog; ++i) {
    drop_file(inbox(), fmt::format("a{:04}.xml", i), depot_xml(user_xml(fmt::format("u.{}", i))));
  }
  drop_file(account_inbox("beta"), "seul.xml", depot_xml(user_xml("seul")));
  const PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, static_cast<int>(backlog + 1));
  const auto it = std::find_if(summary.acknowledgements.begin(), summary.acknowledgements.end(),
                               [](const std::string& n) { return n.starts_with("ACK_seul"); });
  // Round-robin by group: inbox/'s first group, then beta's dépôt — never after the whole backlog.
  EXPECT_EQ(static_cast<std::size_t>(it - summary.acknowledgements.begin()), engine().group_deposits());
}

// Signed dépôts (docs/accounts.md "Signed dépôts"): account "signe" takes F.xml with F.xml.p7s, a detached
// CMS signature by the pinned signer; account "acme" (signature = aucune) never reads a .p7s.
class SignedChannelTest : public SenderChannelTest {
 protected:
  void SetUp() override {
    SenderChannelTest::SetUp();
    if (IsSkipped()) return;
    signers_file_ = tmp_ / "signataires.pem";
    std::ofstream(signers_file_) << signer().pem();
    fs::permissions(signers_file_, fs::perms(0640));
    config_.accounts.push_back(
        SenderAccount{"signe", {kSubscriber, kManager}, std::nullopt, SignatureRequirement::Required, signers_file_});
  }
  static const TestSigner& signer() {
    static const TestSigner s = TestPki::instance().signer({.common_name = "signature.exemple.fr"});
    return s;
  }
  fs::path signed_inbox() const { return account_inbox("signe"); }
  /// Drops `signature` as inbox/signe/NAME.p7s, then `xml` as inbox/signe/NAME (the order the sender follows).
  void drop_signed(const std::string& name, std::string_view xml, std::string_view signature) {
    drop_file(signed_inbox(), name + ".p7s", signature);
    drop_file(signed_inbox(), name, xml);
  }
  /// One pass that answers exactly one dépôt of "signe"; its accusé.
  ParsedAck pass_one() {
    const PassSummary summary = engine().process_pass();
    EXPECT_EQ(summary.processed, 1);
    if (summary.acknowledgements.size() != 1) return {};
    return parse_ack(read_file(account_outbox("signe") / summary.acknowledgements.front()),
                     summary.acknowledgements.front());
  }
  std::int64_t refusals(const std::string& code) {
    return count("SELECT COALESCE(SUM(value), 0) FROM metric_counters WHERE name = $1",
                 {std::string("refus_identite:signe:") + code});
  }
  fs::path signers_file_;
};

TEST_F(SignedChannelTest, SignedDepotIsIntegratedAndItsSignatureGoesBesideItUnderItsFinalName) {
  start();
  setup_world();
  const std::string xml = one_sheet("LOT-S1");
  const std::string p7s = signer().sign(xml);
  drop_signed("lot.xml", xml, p7s);
  const ParsedAck ack = pass_one();
  EXPECT_EQ(ack.statut, "INTEGRE") << ack.xml;
  EXPECT_EQ(ack.compte, "signe");
  EXPECT_EQ(read_file(archive_day() / "lot.xml"), xml);
  EXPECT_EQ(read_file(archive_day() / "lot.xml.p7s"), p7s);
  EXPECT_THAT(files_in(work() / "signe"), IsEmpty());
  EXPECT_THAT(files_in(signed_inbox()), IsEmpty());
  // The name taken in archive/: lot.xml.1 and lot.xml.1.p7s, a PEM signature this time.
  SheetSpec other = sftp_sheet();
  other.reference = "ref-s2";
  const std::string xml2 = one_sheet("LOT-S2", other);
  const std::string pem = signer().sign(xml2, {.pem = true});
  drop_signed("lot.xml", xml2, pem);
  EXPECT_EQ(pass_one().statut, "INTEGRE");
  EXPECT_EQ(read_file(archive_day() / "lot.xml.1"), xml2);
  EXPECT_EQ(read_file(archive_day() / "lot.xml.1.p7s"), pem);
  EXPECT_EQ(read_file(archive_day() / "lot.xml.p7s"), p7s);
  EXPECT_THAT(files_in(work() / "signe"), IsEmpty());
}

TEST_F(SignedChannelTest, DepotWithoutItsSignatureIsRefusedAbsentAndALateSignatureIsLeftAlone) {
  start();
  setup_world();
  const std::string xml = one_sheet("LOT-A1");
  drop_file(signed_inbox(), "seul.xml", xml);
  const ParsedAck ack = pass_one();
  EXPECT_EQ(ack.statut, "REJETE");
  EXPECT_EQ(ack.identifiant, "");  // never parsed
  EXPECT_THAT(ack.error_codes(), ElementsAre("SIGNATURE_ABSENTE"));
  EXPECT_EQ(read_file(error_dir() / "seul.xml"), xml);
  EXPECT_TRUE(fs::exists(error_dir() / "seul.xml.reason.txt"));
  EXPECT_EQ(refusals("SIGNATURE_ABSENTE"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 0);
  // The signature dropped after its dépôt was taken: too late, left alone, never answered.
  drop_file(signed_inbox(), "seul.xml.p7s", signer().sign(xml));
  EXPECT_EQ(engine().process_pass().processed, 0);
  EXPECT_TRUE(fs::exists(signed_inbox() / "seul.xml.p7s"));
  EXPECT_FALSE(fs::exists(error_dir() / "seul.xml.p7s"));
}

TEST_F(SignedChannelTest, SignatureThatDoesNotHoldIsRefusedInvalidAndGoesToErrorWithItsDepot) {
  start();
  setup_world();
  const TestSigner unpinned = TestPki::instance().signer({.common_name = "inconnu.exemple.fr"});
  const TestSigner expired = TestPki::instance().signer(
      {.common_name = "perime.exemple.fr", .not_before = "2024-01-01T00:00:00Z", .not_after = "2026-06-30T23:59:59Z"});
  // The expired one is pinned too: only its validity at the processing instant refuses it.
  std::ofstream(signers_file_) << signer().pem() << expired.pem();
  start();
  struct Case {
    std::string name;
    std::string xml;
    std::string p7s;
  };
  const std::string xml = one_sheet("LOT-I1");
  std::string tampered = xml;
  tampered.replace(tampered.find("LOT-I1"), 6, "LOT-I9");
  const std::vector<Case> cases{
      {"altere.xml", tampered, signer().sign(xml)},            // other bytes than signed
      {"inconnu.xml", xml, unpinned.sign(xml)},                // a signer nobody pinned
      {"perime.xml", xml, expired.sign(xml)},                  // pinned, expired at the instant
      {"tronque.xml", xml, signer().sign(xml).substr(0, 40)},  // truncated
      {"attache.xml", xml, signer().sign(xml, {.attached = true})},
  };
  for (const Case& c : cases) {
    drop_signed(c.name, c.xml, c.p7s);
    const ParsedAck ack = pass_one();
    EXPECT_EQ(ack.statut, "REJETE") << c.name;
    EXPECT_THAT(ack.error_codes(), ElementsAre("SIGNATURE_INVALIDE")) << c.name;
    EXPECT_EQ(read_file(error_dir() / c.name), c.xml) << c.name;
    EXPECT_EQ(read_file(error_dir() / (c.name + ".p7s")), c.p7s) << c.name;
  }
  EXPECT_EQ(refusals("SIGNATURE_INVALIDE"), static_cast<std::int64_t>(cases.size()));
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 0);
  EXPECT_THAT(files_in(work() / "signe"), IsEmpty());
}

TEST_F(SignedChannelTest, SignatureOfARejectedDepotIsNeverAcceptedAgain) {
  start();
  // No world yet: the sheet names a structure that does not exist, the dépôt is REJETE.
  const std::string xml = one_sheet("LOT-R1");
  const std::string p7s = signer().sign(xml);
  drop_signed("rejoue.xml", xml, p7s);
  const ParsedAck first = pass_one();
  ASSERT_EQ(first.statut, "REJETE") << first.xml;
  EXPECT_EQ(count("SELECT COUNT(*) FROM refused_signatures"), 1);
  // The world is there now; the same bytes and the same signature dropped again: refused as a replay.
  setup_world();
  drop_signed("rejoue.xml", xml, p7s);
  const ParsedAck replay = pass_one();
  EXPECT_EQ(replay.statut, "REJETE") << replay.xml;
  EXPECT_THAT(replay.error_codes(), ElementsAre("SIGNATURE_INVALIDE"));
  EXPECT_EQ(read_file(error_dir() / "rejoue.xml"), xml);
  EXPECT_EQ(read_file(error_dir() / "rejoue.xml.p7s"), p7s);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 0);
  // Signed again by the sender: a new signature, integrated.
  drop_signed("rejoue.xml", xml, signer().sign(xml, {.signing_time = "2026-11-29T09:00:00Z"}));
  EXPECT_EQ(pass_one().statut, "INTEGRE");
}

// The pair refused because its pinned signer was not yet valid, dropped again once it is: a replay of the
// signature of a REJETE dépôt, never applied at that later, more favourable moment (hostile16: it was INTEGRE).
TEST_F(SignedChannelTest, SignatureRefusedBeforeItsSignerWasValidIsNeverAcceptedLater) {
  const TestSigner next = TestPki::instance().signer({.common_name = "prochain.exemple.fr",
                                                      .not_before = "2026-12-01T00:00:00Z",
                                                      .not_after = "2027-12-31T23:59:59Z"});
  std::ofstream(signers_file_) << signer().pem() << next.pem();
  start();
  setup_world();
  const std::string xml = one_sheet("LOT-V1");
  const std::string p7s = next.sign(xml);
  drop_signed("avance.xml", xml, p7s);
  const ParsedAck early = pass_one();
  ASSERT_EQ(early.statut, "REJETE") << early.xml;
  EXPECT_THAT(early.error_codes(), ElementsAre("SIGNATURE_INVALIDE"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM refused_signatures"), 1);
  start("2026-12-02T10:00:00Z");
  drop_signed("avance.xml", xml, p7s);
  const ParsedAck replay = pass_one();
  EXPECT_EQ(replay.statut, "REJETE") << replay.xml;
  EXPECT_THAT(replay.error_codes(), ElementsAre("SIGNATURE_INVALIDE"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 0);
}

// A .p7s larger than inbox.max_bytes was answered "est vide" (hostile16): one over the signature cap is refused
// for its size, one under it is read and judged like any other.
TEST_F(SignedChannelTest, OversizedSignatureIsRefusedForItsSizeNeverAsEmpty) {
  config_.max_bytes = 100000;
  start();
  const std::string xml = one_sheet("LOT-G1");
  drop_signed("enorme.xml", xml, std::string(std::size_t{2} * 1024 * 1024, '\0'));
  const ParsedAck huge = pass_one();
  ASSERT_THAT(huge.error_codes(), ElementsAre("SIGNATURE_INVALIDE")) << huge.xml;
  EXPECT_THAT(huge.errors[0].message, HasSubstr("fait 2097152 octets, plus que le maximum de 1048576"));
  drop_signed("gros.xml", xml, std::string(200000, 'x'));
  const ParsedAck big = pass_one();
  ASSERT_THAT(big.error_codes(), ElementsAre("SIGNATURE_INVALIDE")) << big.xml;
  EXPECT_THAT(big.errors[0].message, HasSubstr("n'est pas une signature CMS"));
  EXPECT_THAT(big.errors[0].message, Not(HasSubstr("vide")));
}

TEST_F(SignedChannelTest, SignatureHeldOpenByAWriterKeepsItsDepotWaiting) {
  start();
  setup_world();
  const std::string xml = one_sheet("LOT-W1");
  const std::string p7s = signer().sign(xml);
  drop_file(signed_inbox(), "attend.xml.p7s", p7s);
  const int writer = ::open((signed_inbox() / "attend.xml.p7s").c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(writer, 0);
  drop_file(signed_inbox(), "attend.xml", xml);
  PassSummary summary = engine().process_pass();
  EXPECT_EQ(summary.processed, 0);
  EXPECT_EQ(summary.held_open, 1);
  EXPECT_EQ(summary.left_for_later, 1);
  EXPECT_TRUE(fs::exists(signed_inbox() / "attend.xml"));
  EXPECT_TRUE(fs::exists(signed_inbox() / "attend.xml.p7s"));
  ::close(writer);
  EXPECT_EQ(pass_one().statut, "INTEGRE");
  EXPECT_EQ(read_file(archive_day() / "attend.xml.p7s"), p7s);
}

TEST_F(SignedChannelTest, SignatureStillChangingKeepsItsDepotWaitingUntilItSettles) {
  config_.settle_ms = 200;
  start();
  setup_world();
  const std::string xml = one_sheet("LOT-C1");
  const std::string p7s = signer().sign(xml);
  drop_file(signed_inbox(), "change.xml", xml);
  // Written in place by appends, each closed (no writer holds it between two): still growing while the pass
  // samples it, so the settle rule alone keeps the dépôt waiting.
  const fs::path path = signed_inbox() / "change.xml.p7s";
  std::ofstream(path, std::ios::binary) << p7s.substr(0, 16);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (std::size_t i = 16; i < p7s.size(); i += 8) {
      std::ofstream(path, std::ios::binary | std::ios::app) << p7s.substr(i, 8);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    done = true;
  });
  const PassSummary summary = engine().process_pass();
  const bool finished_before = done;
  writer.join();
  ASSERT_FALSE(finished_before) << "the writer ended before the pass: make it slower";
  EXPECT_EQ(summary.held_open, 0);
  EXPECT_EQ(summary.processed, 0);
  EXPECT_TRUE(fs::exists(signed_inbox() / "change.xml"));
  EXPECT_EQ(pass_one().statut, "INTEGRE");
}

TEST_F(SignedChannelTest, StraySignatureAndSignaturesOfAnUnsignedAccountAreLeftAlone) {
  start();
  setup_world();
  drop_file(signed_inbox(), "orphelin.xml.p7s", signer().sign("rien"));
  drop_file(account_inbox("acme"), "libre.xml.p7s", "pas une signature");
  fs::permissions(account_inbox("acme") / "libre.xml.p7s", fs::perms::none);  // never opened
  drop_file(account_inbox("acme"), "libre.xml", one_sheet("LOT-U1"));
  const PassSummary summary = engine().process_pass();
  EXPECT_EQ(summary.processed, 1);
  EXPECT_EQ(summary.unopenable, 0);
  EXPECT_EQ(summary.integre, 1);
  EXPECT_TRUE(fs::exists(signed_inbox() / "orphelin.xml.p7s"));
  EXPECT_TRUE(fs::exists(account_inbox("acme") / "libre.xml.p7s"));
  EXPECT_FALSE(fs::exists(archive_day() / "libre.xml.p7s"));
  EXPECT_EQ(engine().process_pass().processed, 0);
}

TEST_F(SignedChannelTest, CrashBetweenTheClaimRenamesTakesTheSignatureFromTheInbox) {
  start();
  setup_world();
  const std::string xml = one_sheet("LOT-K1");
  const std::string p7s = signer().sign(xml);
  // The state a crash after the dépôt's rename leaves: the dépôt in .work/signe/, its .p7s in inbox/signe/.
  drop_file(work() / "signe", "coupe.xml", xml);
  drop_file(signed_inbox(), "coupe.xml.p7s", p7s);
  const ParsedAck ack = pass_one();
  EXPECT_EQ(ack.statut, "INTEGRE") << ack.xml;
  EXPECT_EQ(read_file(archive_day() / "coupe.xml"), xml);
  EXPECT_EQ(read_file(archive_day() / "coupe.xml.p7s"), p7s);
  EXPECT_THAT(files_in(work() / "signe"), IsEmpty());
  EXPECT_THAT(files_in(signed_inbox()), IsEmpty());
  // Both renames done: the .p7s from .work/signe/.
  SheetSpec other = sftp_sheet();
  other.reference = "ref-k2";
  const std::string xml2 = one_sheet("LOT-K2", other);
  const std::string p7s2 = signer().sign(xml2);
  drop_file(work() / "signe", "fini.xml.p7s", p7s2);
  drop_file(work() / "signe", "fini.xml", xml2);
  EXPECT_EQ(pass_one().statut, "INTEGRE");
  EXPECT_EQ(read_file(archive_day() / "fini.xml.p7s"), p7s2);
  EXPECT_THAT(files_in(work() / "signe"), IsEmpty());
}

TEST_F(SignedChannelTest, CrashBetweenTheTwoMovesFinishesTheSignaturesMoveOnce) {
  start();
  setup_world();
  const std::string xml = one_sheet("LOT-M1");
  const std::string p7s = signer().sign(xml);
  // A first lot.xml is archived already: the signed one is lot.xml.1.
  drop_file(archive_day(), "lot.xml", "autre");
  drop_signed("lot.xml", xml, p7s);
  // The engine stops right after the dépôt's move (the hook throws, as a crash would stop it there).
  struct Stop {};
  inbox::InboxDirectory box(root(), std::nullopt, "signe");
  box.set_signature_required(true);
  auto claimed = box.claim("lot.xml");
  ASSERT_TRUE(claimed.has_value());
  ASSERT_NE(claimed->signature(), nullptr);
  box.set_between_signature_moves([](const fs::path&) { throw Stop{}; });
  EXPECT_THROW(box.archive(*claimed, CivilDate{std::chrono::year(2026), std::chrono::month(11), std::chrono::day(29)}),
               Stop);
  claimed.reset();
  EXPECT_EQ(read_file(archive_day() / "lot.xml.1"), xml);
  EXPECT_TRUE(fs::exists(work() / "signe" / "lot.xml.p7s"));
  // The next pass finishes the move from the files alone: lot.xml.1.p7s, nothing answered again.
  EXPECT_EQ(engine().process_pass().processed, 0);
  EXPECT_EQ(read_file(archive_day() / "lot.xml.1.p7s"), p7s);
  EXPECT_FALSE(fs::exists(archive_day() / "lot.xml.p7s"));
  EXPECT_THAT(files_in(work() / "signe"), IsEmpty());
  EXPECT_EQ(engine().process_pass().processed, 0);
  EXPECT_EQ(read_file(archive_day() / "lot.xml.1.p7s"), p7s);
}

TEST_F(SignedChannelTest, SameSignedBytesAgainAreADoublonWithTheirSignatureArchived) {
  start();
  setup_world();
  const std::string xml = one_sheet("LOT-D1");
  const std::string p7s = signer().sign(xml);
  drop_signed("d.xml", xml, p7s);
  const ParsedAck first = pass_one();
  ASSERT_EQ(first.statut, "INTEGRE");
  drop_signed("d2.xml", xml, p7s);
  const ParsedAck again = pass_one();
  EXPECT_EQ(again.statut, "DOUBLON");
  EXPECT_EQ(again.original, first.name);
  EXPECT_EQ(read_file(archive_day() / "d2.xml.p7s"), p7s);
  // Unsigned, the same bytes are refused before DOUBLON is looked at (the order of the outcomes).
  drop_file(signed_inbox(), "d3.xml", xml);
  const ParsedAck unsigned_copy = pass_one();
  EXPECT_EQ(unsigned_copy.statut, "REJETE");
  EXPECT_THAT(unsigned_copy.error_codes(), ElementsAre("SIGNATURE_ABSENTE"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 1);
}

TEST_F(SignedChannelTest, SignatureWithAHardLinkKeptBySenderRefusesItsDepot) {
  start();
  setup_world();
  const std::string xml = one_sheet("LOT-H1");
  drop_signed("h.xml", xml, signer().sign(xml));
  fs::create_hard_link(signed_inbox() / "h.xml.p7s", tmp_ / "garde.p7s");
  const ParsedAck ack = pass_one();
  EXPECT_EQ(ack.statut, "REJETE");
  EXPECT_THAT(ack.error_codes(), ElementsAre("COMPTE_NON_AUTORISE"));
  EXPECT_NE(ack.errors.at(0).message.find("h.xml.p7s"), std::string::npos) << ack.errors.at(0).message;
  EXPECT_TRUE(fs::exists(error_dir() / "h.xml.p7s"));
}

// The audit line of a COMPTE_NON_AUTORISE caused by the .p7s alone names the .p7s and its owner (hostile16: it
// named the dépôt and the dépôt's owner, the account's own, which sent the operator looking at the wrong file).
TEST_F(SignedChannelTest, AuditOfASignatureNotOwnedByTheAccountNamesTheSignatureAndItsOwner) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown needs root";
  config_.accounts.back().owner_uid = 4242;
  start();
  setup_world();
  const std::string xml = one_sheet("LOT-P1");
  drop_signed("p.xml", xml, signer().sign(xml));
  ASSERT_EQ(::chown((signed_inbox() / "p.xml").c_str(), 4242, 4242), 0);
  ASSERT_EQ(::chown((signed_inbox() / "p.xml.p7s").c_str(), 4343, 4343), 0);
  ::testing::internal::CaptureStderr();
  const ParsedAck ack = pass_one();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(ack.error_codes(), ElementsAre("COMPTE_NON_AUTORISE"));
  EXPECT_THAT(log, HasSubstr("refus d'identité COMPTE_NON_AUTORISE : compte signe, fichier p.xml.p7s, uid 4343"));
}

TEST_F(SignedChannelTest, CheckUsesTheSignatureBesideTheFile) {
  start();
  setup_world();
  const std::string xml = one_sheet("LOT-V1");
  drop_file(tmp_, "verif.xml", xml);
  const SenderAccount* account = &engine().config().accounts.back();
  ASSERT_EQ(account->name, "signe");
  auto answers = engine().check({tmp_ / "verif.xml"}, account);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_THAT(parse_ack(answers[0].ack_content).error_codes(), ElementsAre("SIGNATURE_ABSENTE"));
  drop_file(tmp_, "verif.xml.p7s", signer().sign(xml));
  answers = engine().check({tmp_ / "verif.xml"}, account);
  EXPECT_EQ(answers.at(0).status, DepositStatus::Integre) << answers[0].ack_content;
}

// A FIFO named like the signature (or the dépôt) never keeps check waiting for a writer (hostile16: it waited
// until one came, then answered "est vide"): as process, the signature is absent; a FIFO dépôt is refused. A
// helper plays the writer that the fixed check never waits for, so that the test ends either way.
TEST_F(SignedChannelTest, CheckNeverWaitsOnAFifo) {
  start();
  setup_world();
  const std::string xml = one_sheet("LOT-F1");
  drop_file(tmp_, "fifo.xml", xml);
  ASSERT_EQ(::mkfifo((tmp_ / "fifo.xml.p7s").c_str(), 0600), 0);
  ASSERT_EQ(::mkfifo((tmp_ / "tube.xml").c_str(), 0600), 0);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done && std::chrono::steady_clock::now() < deadline) {
      for (const char* name : {"fifo.xml.p7s", "tube.xml"}) {
        const int fd = ::open((tmp_ / name).c_str(), O_WRONLY | O_NONBLOCK);  // only once a reader waits
        if (fd >= 0) ::close(fd);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  const SenderAccount* account = &engine().config().accounts.back();
  const auto answers = engine().check({tmp_ / "fifo.xml"}, account);
  EXPECT_THROW((void)engine().check({tmp_ / "tube.xml"}, account), std::runtime_error);
  done = true;
  writer.join();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_THAT(parse_ack(answers[0].ack_content).error_codes(), ElementsAre("SIGNATURE_ABSENTE"))
      << answers[0].ack_content;
}

TEST_F(EngineTest, AccuseEchoesIdentifiantModeAndReferences) {
  start();
  setup_world();
  SheetSpec spec = as2_sheet();
  spec.reference = "as2-prod";
  const std::string xml = depot_xml(sheet_xml(spec), "identifiant=\"LOT-2026-0042\" mode=\"partielle\"");
  const ParsedAck ack = process("lot42.xml", xml);
  EXPECT_EQ(ack.statut, "INTEGRE");
  EXPECT_EQ(ack.fichier, "lot42.xml");
  EXPECT_EQ(ack.identifiant, "LOT-2026-0042");
  EXPECT_EQ(ack.mode, "partielle");
  EXPECT_EQ(ack.sha256.size(), 64u);
  ASSERT_EQ(ack.operations.size(), 1u);
  EXPECT_EQ(ack.operations[0].rang, 1);
  EXPECT_EQ(ack.operations[0].type, "FicheEDI");
  EXPECT_EQ(ack.operations[0].reference, "as2-prod");
  EXPECT_EQ(ack.operations[0].aife_protocole, "AS2");
  EXPECT_NE(ack.xml.find("<Identifiant>CTAIFEP</Identifiant>"), std::string::npos) << ack.xml;
  EXPECT_EQ(count("SELECT COUNT(*) FROM deposits WHERE file_name = 'lot42.xml' AND status = 'INTEGRE' AND "
                  "identifier = 'LOT-2026-0042' AND sha256 = $1",
                  {ack.sha256}),
            1);
}

// ---------------------------------------------------------------------------------------------
// Two engines on one store (docs/reference.md §2, §3, §3.2, §8): engine A holds its transaction open just
// before its COMMIT (Engine::set_before_commit) while engine B works on the same rows; A commits once
// B waits for A's locks (PostgreSQL, seen in pg_stat_activity) or has finished. SQLite serialises
// writers (BEGIN IMMEDIATE): there B waits for A's commit in its busy timeout.

/// `<FicheEDI demandeur action codeAppli><Partenaire/></FicheEDI>` (supprimer, desactiver).
std::string sheet_action_xml(const std::string& action, const std::string& code_appli) {
  return "  <FicheEDI demandeur=\"" + std::string(kSubscriber) + "\" action=\"" + action + "\" codeAppli=\"" +
         code_appli + "\">\n    <Partenaire>" + kAcme + "</Partenaire>\n  </FicheEDI>\n";
}

class TwoEnginesTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    if (IsSkipped()) return;
    start();
    setup_world();
    other_ = std::make_unique<Engine>(config_, BusinessClock(instant(kNow)));
    other_->open();
  }
  void TearDown() override {
    other_.reset();
    EngineTest::TearDown();
  }

  struct Race {
    ParsedAck first;                     // engine A's, committed first
    ParsedAck second;                    // engine B's
    bool second_finished_first = false;  // B finished while A was held before its COMMIT
  };

  /// Engine A processes `a` (dropped as inbox/NAME_A) up to its COMMIT and holds it there; engine B
  /// then processes `b`; A commits when B waits for a lock A holds or B has finished.
  Race race(const std::string& name_a, const std::string& a, const std::string& name_b, const std::string& b) {
    std::promise<void> reached;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    bool first_attempt = true;
    engine().set_before_commit([&] {
      if (!first_attempt) return;
      first_attempt = false;
      reached.set_value();
      released.wait();
    });
    PassSummary summary_a;
    PassSummary summary_b;
    std::atomic<bool> b_done{false};
    drop_file(inbox(), name_a, a);
    std::thread thread_a([&] { summary_a = engine().process_names({name_a}); });
    reached.get_future().wait();
    drop_file(inbox(), name_b, b);
    std::thread thread_b([&] {
      summary_b = other_->process_names({name_b});
      b_done = true;
    });
    if (postgres_requested()) {
      auto monitor = open_database(config_.store_backend, config_.store_connection);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (!b_done && std::chrono::steady_clock::now() < deadline &&
             monitor->query_one("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                                "wait_event_type = 'Lock'")
                     ->integer(0) == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    const bool second_finished_first = b_done;
    release.set_value();
    thread_a.join();
    thread_b.join();
    engine().set_before_commit(nullptr);
    Race r;
    r.second_finished_first = second_finished_first;
    EXPECT_EQ(summary_a.acknowledgements.size(), 1u);
    EXPECT_EQ(summary_b.acknowledgements.size(), 1u);
    if (summary_a.acknowledgements.size() == 1) r.first = read_ack(summary_a.acknowledgements[0]);
    if (summary_b.acknowledgements.size() == 1) r.second = read_ack(summary_b.acknowledgements[0]);
    return r;
  }

  /// The statut and error codes of a one-operation accusé, e.g. "REJETEE TRANSITION_INTERDITE".
  static std::string verdict(const ParsedAck& ack) {
    if (ack.operations.size() != 1) return ack.statut + " " + ::testing::PrintToString(ack.error_codes());
    std::string out = ack.operations[0].statut;
    for (const auto& c : ack.operations[0].error_codes()) out += " " + c;
    return out;
  }

  std::unique_ptr<Engine> other_;
};

TEST_F(TwoEnginesTest, SameIdentifiantWithOtherBytesIsIntegratedOnce) {
  const Race r = race("a.xml", one_sheet("LOT-1"), "b.xml", one_sheet("LOT-1", api_sheet()));
  EXPECT_EQ(r.first.statut, "INTEGRE") << r.first.xml;
  EXPECT_EQ(r.second.statut, "REJETE") << r.second.xml;
  EXPECT_THAT(r.second.error_codes(), ElementsAre("DEPOT_IDENTIFIANT_REUTILISE"));
  EXPECT_THAT(r.second.operations, IsEmpty());
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM deposits WHERE identifier = 'LOT-1' AND status = 'INTEGRE'"), 1);
  // The loser is archived with its accusé, like any DEPOT_IDENTIFIANT_REUTILISE.
  EXPECT_THAT(files_in(archive_day()), ::testing::IsSupersetOf({"a.xml", "b.xml"}));
  EXPECT_THAT(files_in(work()), IsEmpty());
  // After the REJETE the identifiant stays the first dépôt's; a REJETE never holds it.
  SheetSpec bad = sftp_sheet();
  bad.contact_email = "pas-un-email";
  EXPECT_EQ(process("c.xml", one_sheet("LOT-2", bad)).statut, "REJETE");
  EXPECT_EQ(process("d.xml", one_sheet("LOT-2", api_sheet())).statut, "INTEGRE");
}

// Two engines on unrelated dépôts (new sheets, one-sheet dépôts as back-offices send them) never wait
// for each other (issue 21): B answers and commits its dépôt while A is held just before its COMMIT.
// The metrics.prom counters were updated in each dépôt's transaction, so B waited at its first dépôt
// for A's COMMIT on their rows, and two engines ran one after the other (engine/metrics.hpp
// DepositCounters). A status of each kind: INTEGRE, REJETE (DOUBLON of nothing shared), INTEGRE_PARTIEL.
TEST_F(TwoEnginesTest, UnrelatedDepotsDoNotWaitForEachOther) {
  if (!postgres_requested()) GTEST_SKIP() << "SQLite serialises writers (BEGIN IMMEDIATE)";
  SheetSpec bad = sftp_sheet();
  bad.contact_email = "pas-un-email";
  const std::vector<std::pair<std::string, std::string>> cases{
      {one_sheet("LOT-1"), one_sheet("LOT-2", api_sheet())},
      {one_sheet("LOT-3", api_sheet()), one_sheet("LOT-4", bad)},
      {one_sheet("LOT-5", bad), one_sheet("LOT-6")},
  };
  int n = 0;
  for (const auto& [a, b] : cases) {
    ++n;
    const Race r = race("a" + std::to_string(n) + ".xml", a, "b" + std::to_string(n) + ".xml", b);
    EXPECT_TRUE(r.second_finished_first) << "case " << n << ": engine B waited for engine A";
    EXPECT_EQ(r.first.statut.empty(), false);
    EXPECT_EQ(r.second.statut.empty(), false);
  }
  // The counters hold every dépôt of both engines.
  EXPECT_EQ(count("SELECT SUM(value) FROM metric_counters WHERE name LIKE 'depots_%'"),
            count("SELECT COUNT(*) FROM deposits"));
}

TEST_F(TwoEnginesTest, ValiderAndRefuserOfOneRequestGiveOneDecision) {
  ASSERT_EQ(
      process("01_demande.xml", depot_xml(subscription_request_xml(kOutsider, kAcme), R"(identifiant="ESP-0002")"))
          .operations.at(0)
          .demande,
      "ABO-000002");
  const Race r = race("a.xml", depot_xml(decision_xml(kManager, "ABO-000002", "valider"), R"(identifiant="D-A")"),
                      "b.xml", depot_xml(decision_xml(kManager, "ABO-000002", "refuser"), R"(identifiant="D-B")"));
  EXPECT_EQ(verdict(r.first), "ACCEPTEE") << r.first.xml;
  EXPECT_EQ(verdict(r.second), "REJETEE ABONNEMENT_INCONNU") << r.second.xml;
  const auto row = sql("SELECT status FROM subscriptions WHERE id = 'ABO-000002'");
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0].text(0), "VALIDEE");
}

TEST_F(TwoEnginesTest, TwoValiderOfOneRequestGiveOneDecision) {
  ASSERT_EQ(
      process("01_demande.xml", depot_xml(subscription_request_xml(kOutsider, kAcme), R"(identifiant="ESP-0002")"))
          .operations.at(0)
          .demande,
      "ABO-000002");
  const Race r = race("a.xml", depot_xml(decision_xml(kManager, "ABO-000002", "refuser"), R"(identifiant="D-A")"),
                      "b.xml", depot_xml(decision_xml(kManager, "ABO-000002", "refuser"), R"(identifiant="D-B")"));
  EXPECT_EQ(verdict(r.first), "ACCEPTEE") << r.first.xml;
  EXPECT_EQ(verdict(r.second), "REJETEE ABONNEMENT_INCONNU") << r.second.xml;
  EXPECT_EQ(sql("SELECT status FROM subscriptions WHERE id = 'ABO-000002'").at(0).text(0), "REFUSEE");
}

struct SheetRaceCase {
  std::string name;
  std::string setup_action;  // soumettre (ENVOYEE) or enregistrer (BROUILLON)
  bool activate;             // then ACTIVEE (as the nightly run would)
  std::string first;         // engine A's action
  std::string second;        // engine B's action
  std::string second_verdict;
  std::string final_state;
};
void PrintTo(const SheetRaceCase& c, std::ostream* os) {  // NOLINT(readability-identifier-naming): GoogleTest's name
  *os << c.name;
}

class SheetRaceTest : public TwoEnginesTest, public ::testing::WithParamInterface<SheetRaceCase> {};

TEST_P(SheetRaceTest, SecondTransitionSeesTheFirst) {
  const SheetRaceCase& c = GetParam();
  SheetSpec spec = sftp_sheet();
  spec.action = c.setup_action;
  const ParsedAck created = process("00_fiche.xml", depot_xml(sheet_xml(spec), R"(identifiant="F-0")"));
  ASSERT_EQ(created.statut, "INTEGRE") << created.xml;
  const std::string code = created.operations.at(0).code_appli;
  if (c.activate) activate_by_sql(code);
  auto operation = [&](const std::string& action) {
    if (action == "soumettre") {
      SheetSpec s = sftp_sheet();
      s.code_appli = code;
      return sheet_xml(s);
    }
    return sheet_action_xml(action, code);
  };
  const Race r = race("a.xml", depot_xml(operation(c.first), R"(identifiant="F-A")"), "b.xml",
                      depot_xml(operation(c.second), R"(identifiant="F-B")"));
  EXPECT_EQ(verdict(r.first), "ACCEPTEE") << r.first.xml;
  EXPECT_EQ(verdict(r.second), c.second_verdict) << r.second.xml;
  EXPECT_EQ(state_of(code), c.final_state);
  const auto rows = history(code);
  ASSERT_EQ(rows.size(), c.second_verdict == "ACCEPTEE" ? 3u : 2u);
  if (c.second_verdict == "ACCEPTEE") {  // B's transition starts from A's result, never from what A changed
    ASSERT_EQ(r.first.operations.size(), 1u);
    EXPECT_EQ(rows[2], std::string(kSubscriber) + ":" + r.first.operations[0].etat + ">" + c.final_state);
  }
}

INSTANTIATE_TEST_SUITE_P(
    TwoEngines, SheetRaceTest,
    ::testing::Values(SheetRaceCase{"DesactiverTwice", "soumettre", true, "desactiver", "desactiver",
                                    "REJETEE TRANSITION_INTERDITE", "DESACTIVEE"},
                      SheetRaceCase{"SoumettreThenDesactiver", "soumettre", true, "soumettre", "desactiver", "ACCEPTEE",
                                    "DESACTIVEE"},
                      SheetRaceCase{"SoumettreTwiceOnDraft", "enregistrer", false, "soumettre", "soumettre",
                                    "REJETEE TRANSITION_INTERDITE", "ENVOYEE"},
                      SheetRaceCase{"SupprimerThenSoumettreDraft", "enregistrer", false, "supprimer", "soumettre",
                                    "REJETEE FICHE_INCONNUE", "BROUILLON"},
                      SheetRaceCase{"SupprimerDraftTwice", "enregistrer", false, "supprimer", "supprimer",
                                    "REJETEE FICHE_INCONNUE", "BROUILLON"},
                      SheetRaceCase{"SoumettreThenSupprimerDraft", "enregistrer", false, "soumettre", "supprimer",
                                    "REJETEE TRANSITION_INTERDITE", "ENVOYEE"}),
    [](const ::testing::TestParamInfo<SheetRaceCase>& p) { return p.param.name; });

TEST_F(TwoEnginesTest, RequestsAndSheetsCreatedAtOnceGetDistinctIds) {
  const Race requests = race("a.xml", depot_xml(subscription_request_xml(kOutsider, kAcme), R"(identifiant="R-A")"),
                             "b.xml", depot_xml(subscription_request_xml(kOutsider, kAcme), R"(identifiant="R-B")"));
  ASSERT_EQ(requests.first.operations.size(), 1u);
  ASSERT_EQ(requests.second.operations.size(), 1u);
  EXPECT_EQ(requests.first.operations[0].statut, "ACCEPTEE");
  EXPECT_EQ(requests.second.operations[0].statut, "ACCEPTEE");
  EXPECT_NE(requests.first.operations[0].demande, requests.second.operations[0].demande);
  EXPECT_EQ(count("SELECT COUNT(DISTINCT id) FROM subscriptions"), 3);

  const Race sheets = race("c.xml", one_sheet("S-A"), "d.xml", one_sheet("S-B", api_sheet()));
  ASSERT_EQ(sheets.first.operations.size(), 1u);
  ASSERT_EQ(sheets.second.operations.size(), 1u);
  EXPECT_EQ(sheets.second.operations[0].statut, "ACCEPTEE") << sheets.second.xml;
  EXPECT_NE(sheets.first.operations[0].code_appli, sheets.second.operations[0].code_appli);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 2);
}

// ---------------------------------------------------------------------------------------------
// A COMMIT whose answer is lost (docs/reference.md §2 "Exactly once"): the connection is cut by a proxy on
// loopback after the server committed and before the engine read the answer. The engine's retry
// finds its own record (the file it still holds in .work/) and writes the recorded accusé.

TEST_F(EngineTest, CommitWhoseAnswerIsLostIsAnsweredFromItsOwnRecord) {
  if (!postgres_requested()) GTEST_SKIP() << "a network cut between the engine and PostgreSQL";
  PgCommitCutProxy proxy(port_of(config_.store_connection));
  config_.store_connection = proxy.through(config_.store_connection);
  start();
  setup_world();
  const std::string xml = depot_xml(subscription_request_xml(kOutsider, kAcme) + sheet_xml(sftp_sheet()) +
                                        "  <Recherche demandeur=\"support.n1\" type=\"EDI\" reference=\"req-cut\"/>\n",
                                    R"(identifiant="LOT-CUT")");
  proxy.arm_commit_cut();
  drop_file(inbox(), "02_espace.xml", xml);
  const PassSummary summary = engine().process_pass();
  EXPECT_EQ(proxy.cuts(), 1);
  EXPECT_EQ(summary.processed, 1);
  EXPECT_EQ(summary.integre, 1);
  EXPECT_EQ(summary.doublon, 0);
  ASSERT_EQ(summary.acknowledgements.size(), 1u);
  const ParsedAck ack = read_ack(summary.acknowledgements[0]);
  EXPECT_EQ(ack.statut, "INTEGRE") << ack.xml;
  EXPECT_EQ(ack.original, "");
  ASSERT_EQ(ack.operations.size(), 3u);
  EXPECT_EQ(ack.operations[0].demande, "ABO-000002");
  EXPECT_EQ(ack.operations[1].code_appli, "VFE001");
  // One record, one accusé, the original archived once; the sheet and request applied once.
  EXPECT_EQ(count("SELECT COUNT(*) FROM deposits WHERE file_name = '02_espace.xml'"), 1);
  EXPECT_EQ(sql("SELECT ack_name FROM deposits WHERE file_name = '02_espace.xml'").at(0).text(0), ack.name);
  EXPECT_EQ(count("SELECT COUNT(*) FROM subscriptions"), 2);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 1);
  std::vector<std::string> accuses;
  for (const auto& f : files_in(outbox())) {
    if (f.starts_with("ACK_02_espace")) accuses.push_back(f);
  }
  EXPECT_THAT(accuses, ElementsAre(ack.name));
  // The search's export, written before the COMMIT and named by the recorded accusé, stays.
  EXPECT_NE(ack.xml.find("EXPORT_EDI_req-cut_20261129T100000Z.csv"), std::string::npos) << ack.xml;
  EXPECT_TRUE(fs::exists(outbox() / "EXPORT_EDI_req-cut_20261129T100000Z.csv"));
  EXPECT_EQ(read_file(archive_day() / "02_espace.xml"), xml);
  EXPECT_THAT(files_in(work()), IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// Empty and blank values (docs/design.md "Empty values"): an optional value written empty or blank
// is absent everywhere; a required one is its operation's SCHEMA_INVALIDE.

/// `text` with the first `from` replaced by `to` (ADD_FAILURE when absent).
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  if (at == std::string::npos) {
    ADD_FAILURE() << "« " << from << " » absent de " << text;
    return text;
  }
  return text.replace(at, from.size(), to);
}

// The issue's input `<Utilisateur login="no.mail" email=""/>` and every other required value
// written empty or blank: REJETEE with SCHEMA_INVALIDE on its field and line, nothing stored; the
// good operation of the `partielle` dépôt is applied and the original archived.
TEST_F(EngineTest, RequiredValuesWrittenEmptyOrBlankAreSchemaInvalideOnTheirOperation) {
  start();
  setup_world();
  const std::string xml = depot_xml(
      "  <Utilisateur login=\"bon.un\" email=\"b@exemple.fr\"/>\n"                                         // line 3
      "  <Utilisateur login=\"no.mail\" email=\"\"/>\n"                                                    // 4
      "  <Utilisateur login=\"no.mail2\" email=\"   \"/>\n"                                                // 5
      "  <Utilisateur login=\" \" email=\"x@exemple.fr\"/>\n"                                              // 6
      "  <Structure siret=\"\" raisonSociale=\"Sans SIRET\"/>\n"                                           // 7
      "  <Structure siret=\"12345678200036\" raisonSociale=\"\t\"/>\n"                                     // 8
      "  <ActivationEspace demandeur=\"g.martin\" structure=\"\"/>\n"                                      // 9
      "  <DemandeAbonnement demandeur=\"x.durand\" structure=\" \" consultation=\"true\"/>\n"              // 10
      "  <DecisionAbonnement demandeur=\"g.martin\" demande=\"\" decision=\"valider\"/>\n"                 // 11
      "  <FicheEDI demandeur=\"j.dupont\" action=\"soumettre\"><Partenaire>  </Partenaire></FicheEDI>\n",  // 12
      "demandeur=\"support.n1\" mode=\"partielle\" identifiant=\"VIDES-1\"");
  const ParsedAck ack = process("vides.xml", xml);
  EXPECT_EQ(ack.statut, "INTEGRE_PARTIEL") << ack.xml;
  EXPECT_THAT(ack.errors, IsEmpty());
  ASSERT_EQ(ack.operations.size(), 10u) << ack.xml;
  EXPECT_EQ(ack.operations[0].statut, "ACCEPTEE");
  const std::vector<std::pair<std::string, int>> expected{
      {"@email", 4},     {"@email", 5},      {"@login", 6},    {"@siret", 7},     {"@raisonSociale", 8},
      {"@structure", 9}, {"@structure", 10}, {"@demande", 11}, {"Partenaire", 12}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const AckOperation& op = ack.operations[i + 1];
    SCOPED_TRACE(expected[i].first);
    EXPECT_EQ(op.statut, "REJETEE");
    ASSERT_THAT(op.error_codes(), ElementsAre("SCHEMA_INVALIDE"));
    EXPECT_EQ(op.diagnostics[0].champ, expected[i].first);
    EXPECT_EQ(op.diagnostics[0].ligne, expected[i].second);
    EXPECT_NE(op.diagnostics[0].message.find("vide"), std::string::npos) << op.diagnostics[0].message;
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login = 'bon.un'"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login LIKE 'no.mail%' OR TRIM(login) = '' OR email = ''"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM structures WHERE TRIM(siret) = '' OR siret = '12345678200036'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM subscriptions WHERE login = 'x.durand'"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheets"), 0);
  EXPECT_EQ(read_file(archive_day() / "vides.xml"), xml);
  EXPECT_THAT(files_in(error_dir()), IsEmpty());
}

// Optional values written empty or blank are absent: the sheet is ENVOYEE without an end date, a
// fax, a comment, a reference or a certificate name, and the store holds NULL for each, never ''
// (which the nightly run read as an end date, tests/engine/nightly_test.cpp).
TEST_F(EngineTest, OptionalValuesWrittenEmptyOrBlankAreStoredAsAbsent) {
  start();
  setup_world();
  SheetSpec spec = sftp_sheet();
  std::string sheet = sheet_xml(spec);
  sheet = replaced(sheet, "<Commentaires>Fiche de test.</Commentaires>", "<Commentaires>  </Commentaires>");
  sheet = replaced(sheet, "au=\"2099-06-30\"", "au=\"\"");
  sheet = replaced(sheet, "action=\"soumettre\"", "action=\"soumettre\" reference=\" \" codeAppli=\"\"");
  sheet = replaced(sheet, "email=\"j.dupont@exemple.fr\"/>", "email=\"j.dupont@exemple.fr\" fax=\"  \"/>");
  sheet = replaced(sheet, "nom=\"certificat_1.p7b\"", "nom=\"\"");
  const std::string request =
      "  <DemandeAbonnement demandeur=\"x.durand\" structure=\"12345678200010\" consultation=\"true\" "
      "modification=\"\" date=\" \"><Commentaire>\n</Commentaire></DemandeAbonnement>\n";
  const ParsedAck ack = process("optionnels.xml", depot_xml(sheet + request, "identifiant=\"OPT-1\""));
  ASSERT_EQ(ack.statut, "INTEGRE") << ack.xml;
  ASSERT_EQ(ack.operations.size(), 2u);
  EXPECT_EQ(ack.operations[0].etat, "ENVOYEE");
  EXPECT_THAT(ack.operations[0].error_codes(), IsEmpty()) << ack.xml;
  EXPECT_TRUE(ack.operations[0].reference.empty());
  EXPECT_EQ(ack.xml.find("reference="), std::string::npos) << ack.xml;
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheet_versions WHERE period_from = '2026-12-01' AND period_to IS NULL AND "
                  "contact_fax IS NULL AND comments IS NULL AND network_identifier IS NULL"),
            1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM sheet_bundles WHERE name IS NULL"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM subscriptions WHERE login = 'x.durand' AND modification = 0 AND "
                  "requested_on IS NULL AND comment IS NULL"),
            1);
}

// identifiant="" (or blank) is no identifiant: two different dépôts so written are both applied,
// neither refused as DEPOT_IDENTIFIANT_REUTILISE, and the accusés carry none.
TEST_F(EngineTest, IdentifiantWrittenEmptyOrBlankIsNoIdentifiant) {
  start();
  const std::vector<std::pair<std::string, std::string>> depots{
      {"sans_id_1.xml", depot_xml(user_xml("v.un"), "identifiant=\"\"")},
      {"sans_id_2.xml", depot_xml(user_xml("v.deux"), "identifiant=\"\"")},
      {"sans_id_3.xml", depot_xml(user_xml("v.trois"), "identifiant=\"   \" mode=\"\"")},
  };
  for (const auto& [name, xml] : depots) {
    const ParsedAck ack = process(name, xml);
    EXPECT_EQ(ack.statut, "INTEGRE") << ack.xml;
    EXPECT_EQ(ack.xml.find("identifiant="), std::string::npos) << ack.xml;
    EXPECT_EQ(ack.mode, "complete");
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login IN ('v.un', 'v.deux', 'v.trois')"), 3);
  EXPECT_EQ(count("SELECT COUNT(*) FROM deposits WHERE identifier IS NULL AND status = 'INTEGRE'"), 3);
}

// ---------------------------------------------------------------------------------------------
// The accusé's cap (docs/reference.md §5.1): at most 1,000 Erreur and Avertissement, the first in document
// order, whoever found them (the reader or the rules); the others counted in erreursOmises.

// 600 operations refused by the reader, then 600 refused by the rules (an unknown demandeur): the
// accusé lists the reader's 600 then the rules' first 400, in document order; 200 are counted.
TEST_F(EngineTest, CapTakesTheFirstThousandFindingsOfReaderAndRulesInDocumentOrder) {
  start();
  std::string ops;
  for (int i = 0; i < 600; ++i) ops += "<Inconnue/>\n";
  for (int i = 0; i < 600; ++i) ops += user_xml("u" + std::to_string(i), false, "personne");
  const ParsedAck ack = process("mixte.xml", depot_xml(ops, R"(mode="partielle")"));
  EXPECT_EQ(ack.statut, "REJETE");
  ASSERT_EQ(ack.operations.size(), 1200u);
  std::vector<std::string> listed;
  for (const AckOperation& op : ack.operations) {
    EXPECT_EQ(op.statut, "REJETEE");
    for (const auto& code : op.error_codes()) listed.push_back(code);
  }
  ASSERT_EQ(listed.size(), 1000u);
  EXPECT_EQ(std::count(listed.begin(), listed.begin() + 600, "SCHEMA_INVALIDE"), 600);
  EXPECT_EQ(std::count(listed.begin() + 600, listed.end(), "UTILISATEUR_INCONNU"), 400);
  EXPECT_THAT(ack.operations[999].error_codes(), ElementsAre("UTILISATEUR_INCONNU"));
  EXPECT_THAT(ack.operations[1000].diagnostics, IsEmpty());
  EXPECT_EQ(ack.erreurs_omises, "200");
}

// The rules' findings first, then the reader's: the reader kept the details of its own first 1,000
// (all 800 here), the dépôt's budget lists 400 + 600 and counts 200; one decision, in
// apply_deposit's DiagnosticBudget (the accusé writer lists what it is given, no more than 1,000).
TEST_F(EngineTest, CapCountsTheRulesFindingsBeforeTheReadersInDocumentOrder) {
  start();
  std::string ops;
  for (int i = 0; i < 400; ++i) ops += user_xml("r" + std::to_string(i), false, "personne");
  for (int i = 0; i < 800; ++i) ops += "<Inconnue/>\n";
  const ParsedAck ack = process("regles_puis_schema.xml", depot_xml(ops, R"(mode="partielle")"));
  EXPECT_EQ(ack.statut, "REJETE");
  ASSERT_EQ(ack.operations.size(), 1200u);
  std::vector<std::string> listed;
  for (const AckOperation& op : ack.operations) {
    EXPECT_EQ(op.statut, "REJETEE");
    for (const auto& code : op.error_codes()) listed.push_back(code);
  }
  ASSERT_EQ(listed.size(), 1000u);
  EXPECT_EQ(std::count(listed.begin(), listed.begin() + 400, "UTILISATEUR_INCONNU"), 400);
  EXPECT_EQ(std::count(listed.begin() + 400, listed.end(), "SCHEMA_INVALIDE"), 600);
  EXPECT_THAT(ack.operations[999].error_codes(), ElementsAre("SCHEMA_INVALIDE"));
  EXPECT_THAT(ack.operations[1000].diagnostics, IsEmpty());
  EXPECT_EQ(ack.erreurs_omises, "200");
}

// An error past the cap is only counted, and still rejects its operation: neither the reader's
// (an unknown attribute) nor the rules' (an unknown demandeur) lets it through; the accepted
// operation after them is applied.
TEST_F(EngineTest, AnErrorPastTheCapStillRejectsItsOperation) {
  start();
  std::string ops;
  for (int i = 0; i < 1000; ++i) ops += "<Inconnue/>\n";
  ops += R"(<Utilisateur demandeur="support.n1" login="schema" email="s@exemple.fr" bizarre="1"/>)";
  ops += "\n" + user_xml("regle", false, "personne") + user_xml("bonne");
  const ParsedAck ack = process("au_dela.xml", depot_xml(ops, R"(mode="partielle")"));
  EXPECT_EQ(ack.statut, "INTEGRE_PARTIEL");
  ASSERT_EQ(ack.operations.size(), 1003u);
  EXPECT_EQ(ack.operations[1000].statut, "REJETEE");
  EXPECT_THAT(ack.operations[1000].diagnostics, IsEmpty());
  EXPECT_EQ(ack.operations[1001].statut, "REJETEE");
  EXPECT_THAT(ack.operations[1001].diagnostics, IsEmpty());
  EXPECT_EQ(ack.operations[1002].statut, "ACCEPTEE");
  EXPECT_EQ(ack.erreurs_omises, "2");
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login IN ('schema', 'regle')"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login = 'bonne'"), 1);
}

// complete mode: 1,500 users then one unknown operation; every operation becomes REJETEE, none is
// applied, and the accusé is the one recorded.
TEST_F(EngineTest, CompleteDepotRolledBackAfterManyAcceptedOperationsListsThemAllRejected) {
  start();
  std::string ops;
  for (int i = 0; i < 1500; ++i) ops += user_xml("c" + std::to_string(i));
  ops += "<Inconnue/>\n";
  const ParsedAck ack = process("complet.xml", depot_xml(ops, R"(mode="complete")"));
  EXPECT_EQ(ack.statut, "REJETE");
  ASSERT_EQ(ack.operations.size(), 1501u);
  for (const AckOperation& op : ack.operations) EXPECT_EQ(op.statut, "REJETEE");
  EXPECT_THAT(ack.operations.back().error_codes(), ElementsAre("SCHEMA_INVALIDE"));
  EXPECT_EQ(ack.erreurs_omises, "");
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login LIKE 'c%'"), 0);
  const auto stored = sql("SELECT ack_content FROM deposits WHERE ack_name = $1", {ack.name});
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_TRUE(stored[0].text(0) == ack.xml);
}

}  // namespace
}  // namespace raccord::testing
