// Tests of outbox/quarantine_reason.cpp (docs/reference.md §2 "Where originals go"): the reason text of a
// dépôt refused at dépôt level, and NAME.reason.txt written beside the quarantined original (a final
// newline added once, the name cut to fit NAME_MAX, an earlier reason replaced, no temporary left).
#include "outbox/quarantine_reason.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "files/atomic_file.hpp"
#include "tests/support/dates.hpp"
#include "tests/support/files.hpp"

namespace raccord::outbox {
namespace {

namespace fs = std::filesystem;
using raccord::testing::entry_names;
using raccord::testing::read_file;
using raccord::testing::TempDir;
using raccord::testing::utc;

TEST(QuarantineReasonTest, SaysWhichDepotWasRefusedWhenAndWhy) {
  Acknowledgement ack;
  ack.file_name = "casse.xml";
  ack.sha256 = "9f2c";
  ack.processed = utc(2026, 11, 29, 10, 0, 0);
  Diagnostic malformed = Diagnostic::error(ErrorCode::XmlMalforme, "", 3, "Balise non fermée : fermez <Depot>.");
  malformed.column = 14;
  ack.deposit_errors.push_back(malformed);
  ack.deposit_errors.push_back(Diagnostic::error(ErrorCode::SchemaInvalide, "Depot", 1, "Attribut manquant."));
  EXPECT_EQ(quarantine_reason(ack),
            "Dépôt « casse.xml » refusé le 2026-11-29T10:00:00Z (SHA-256 9f2c).\n"
            "XML_MALFORME ligne 3 colonne 14 : Balise non fermée : fermez <Depot>.\n"
            "SCHEMA_INVALIDE ligne 1 : Attribut manquant.\n");
}

TEST(QuarantineReasonTest, IsWrittenBesideTheQuarantinedOriginal) {
  TempDir error_dir("raccord-error");
  EXPECT_EQ(write_quarantine_reason(error_dir.path(), "vide.xml", "FICHIER_VIDE : le fichier est vide."),
            error_dir.path() / "vide.xml.reason.txt");
  write_quarantine_reason(error_dir.path(), "vide.xml.1", "FICHIER_VIDE : le fichier est vide.\n");
  EXPECT_EQ(read_file(error_dir.path() / "vide.xml.reason.txt"), "FICHIER_VIDE : le fichier est vide.\n");
  EXPECT_EQ(read_file(error_dir.path() / "vide.xml.1.reason.txt"), "FICHIER_VIDE : le fichier est vide.\n");
  write_quarantine_reason(error_dir.path(), "vide.xml", "");
  EXPECT_EQ(read_file(error_dir.path() / "vide.xml.reason.txt"), "\n");
  // A 250-byte name: the reason file's name is cut to fit, its suffix kept whole.
  // Built by append: GCC 12 at -O2 warns (-Warray-bounds) on `std::string(246, 'n') + ".xml"`.
  std::string long_name(246, 'n');
  long_name += ".xml";
  const fs::path written = write_quarantine_reason(error_dir.path(), long_name, "XML_MALFORME : test.");
  EXPECT_EQ(written.filename().string(), files::fit_name(long_name, ".reason.txt"));
  EXPECT_LE(written.filename().string().size(), files::kMaxNameBytes);
  EXPECT_TRUE(written.filename().string().ends_with(".reason.txt"));
  EXPECT_EQ(read_file(written), "XML_MALFORME : test.\n");
  EXPECT_EQ(entry_names(error_dir.path(), ".").size(), 0u);  // no temporary left
}

// Issue 20: the reason file is written first and reserves the name; a reason file left by an attempt
// of the same dépôt that stopped before its move (same text: instant and SHA-256) is taken again;
// another dépôt's reason file is never replaced.
TEST(QuarantineReasonTest, ReservingANameWritesTheReasonFirstAndNeverReplacesAnother) {
  TempDir error_dir("raccord-error");
  const std::string mine = "Dépôt « lot.xml » refusé le 2026-11-29T10:00:00Z (SHA-256 aa).";
  EXPECT_TRUE(reserve_quarantine_name(error_dir.path(), "lot.xml", mine));
  EXPECT_EQ(read_file(error_dir.path() / "lot.xml.reason.txt"), mine + "\n");
  EXPECT_TRUE(reserve_quarantine_name(error_dir.path(), "lot.xml", mine + "\n"));  // the same dépôt again
  const std::string other = "Dépôt « lot.xml » refusé le 2026-11-29T10:00:00Z (SHA-256 bb).\n";
  EXPECT_FALSE(reserve_quarantine_name(error_dir.path(), "lot.xml", other));
  EXPECT_EQ(read_file(error_dir.path() / "lot.xml.reason.txt"), mine + "\n");
  EXPECT_TRUE(reserve_quarantine_name(error_dir.path(), "lot.xml.1", other));
  EXPECT_EQ(entry_names(error_dir.path(), ".").size(), 0u);  // no temporary left
}

}  // namespace
}  // namespace raccord::outbox
