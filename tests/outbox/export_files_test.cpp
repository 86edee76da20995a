// Tests of outbox/export_files.cpp (docs/reference.md §5.2, docs/design.md "Exports"): an export written at
// once is named free of the folder and of the names recorded elsewhere and never replaces one; a
// staged export lives under a hidden temporary until its dépôt commits, and no temporary outlives an
// attempt that does not commit (rolled back, COMMIT refused, COMMIT's answer lost and not recorded),
// while those of a COMMIT whose outcome is unknown stay for the start-up recovery.
#include "outbox/export_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "outbox/export_writer.hpp"
#include "tests/support/dates.hpp"
#include "tests/support/files.hpp"

namespace raccord::outbox {
namespace {

namespace fs = std::filesystem;
using raccord::testing::civil_date;
using raccord::testing::entry_names;
using raccord::testing::instant;
using raccord::testing::read_file;
using raccord::testing::TempDir;
using raccord::testing::write_file;

const std::string kName = "EXPORT_EDI_req_20261130T081500Z.csv";
const std::string kName2 = "EXPORT_EDI_req_20261130T081500Z_2.csv";
const std::string kName3 = "EXPORT_EDI_req_20261130T081500Z_3.csv";

ExportRequest request(ExportFormat format = ExportFormat::Csv) {
  return ExportRequest{SheetKind::Edi, format, "req", instant("2026-11-30T08:15:00Z")};
}

SearchRow row(const std::string& code_appli) {
  SearchRow r;
  r.partner_siret = "11111111800001";
  r.raison_sociale = "Béta Transports";
  r.protocol = "SFTP";
  r.code_appli = code_appli;
  r.interface_code = "FSO1100A";
  r.period_from = civil_date("2026-12-01");
  r.state = SheetState::Envoyee;
  return r;
}

RowSource rows_of(std::vector<SearchRow> rows) {
  return [rows = std::move(rows)](const std::function<void(const SearchRow&)>& visit) {
    for (const auto& r : rows) visit(r);
  };
}

const RowSource kFailing = [](const std::function<void(const SearchRow&)>& visit) {
  visit(row("VFE001"));
  throw std::runtime_error("lecture du store interrompue");
};

/// The hidden entries of `dir` (temporaries).
std::vector<std::string> hidden(const fs::path& dir) {
  return entry_names(dir, ".");
}

class ExportFilesTest : public ::testing::Test {
 protected:
  fs::path dir() const { return dir_.path(); }
  TempDir dir_{"raccord-exports"};
};

TEST_F(ExportFilesTest, WriteExportNamesTheFileFreeAndNeverReplacesOne) {
  std::set<std::string> recorded;
  const auto taken = [&recorded](const std::string& n) { return recorded.contains(n); };
  const std::string first = write_export(dir(), request(), taken, rows_of({row("VFE007")}));
  EXPECT_EQ(first, kName);
  EXPECT_EQ(read_file(dir() / first), "\xEF\xBB\xBF" + std::string(export_csv_header(SheetKind::Edi)) +
                                          "\r\n11111111800001 - Béta Transports;SFTP;VFE007;FSO1100A;01/12/2026;;"
                                          "Envoyée\r\n");
  recorded.insert(kName2);  // recorded by another engine's commit, not published yet
  EXPECT_EQ(write_export(dir(), request(), taken, rows_of({row("VFE008")})), kName3);
  EXPECT_EQ(write_export(dir(), request(ExportFormat::Xml), {}, rows_of({})), "EXPORT_EDI_req_20261130T081500Z.xml");
  EXPECT_NE(read_file(dir() / first).find("VFE007"), std::string::npos);  // never replaced
  EXPECT_EQ(entry_names(dir()), (std::vector<std::string>{kName, "EXPORT_EDI_req_20261130T081500Z.xml", kName3}));
}

TEST_F(ExportFilesTest, WriteExportLeavesNothingWhenTheRowsFail) {
  EXPECT_THROW(write_export(dir(), request(), {}, kFailing), std::runtime_error);
  EXPECT_TRUE(entry_names(dir()).empty());
}

TEST_F(ExportFilesTest, StagedExportsAreHiddenUntilPublishedAndNamedApart) {
  StagedExports staged(dir());
  write_file(dir() / kName, "déjà là");
  const std::string a = staged.stage(request(), {}, rows_of({row("VFE001")}));
  const std::string b = staged.stage(
      request(), [](const std::string& n) { return n == kName3; }, rows_of({}));
  EXPECT_EQ(a, kName2);
  EXPECT_EQ(b, "EXPORT_EDI_req_20261130T081500Z_4.csv");  // not the folder's, not a's, not recorded
  EXPECT_EQ(entry_names(dir(), "EXPORT_"), std::vector<std::string>{kName});
  ASSERT_EQ(hidden(dir()).size(), 2u);
  EXPECT_EQ(hidden(dir()), (std::vector<std::string>{std::min(staged.temporary_of(a), staged.temporary_of(b)),
                                                     std::max(staged.temporary_of(a), staged.temporary_of(b))}));
  EXPECT_NE(read_file(dir() / staged.temporary_of(a)).find("VFE001"), std::string::npos);
  EXPECT_THROW(staged.temporary_of(kName), std::out_of_range);
  // Committed: a is published by the caller from its record; b, rolled back inside the attempt, goes.
  const std::string temporary_a = staged.temporary_of(a);
  staged.committing({a, "EXPORT_EDI_autre_20261130T081500Z.csv"});
  staged.settle(true);
  staged.discard_staged();
  EXPECT_EQ(hidden(dir()), std::vector<std::string>{temporary_a});
  EXPECT_TRUE(Outbox(dir()).publish_export(a, temporary_a));
  EXPECT_TRUE(hidden(dir()).empty());
  EXPECT_EQ(entry_names(dir(), "EXPORT_"), (std::vector<std::string>{kName, kName2}));
}

TEST_F(ExportFilesTest, NoStagedExportOutlivesAnAttemptThatDoesNotCommit) {
  {
    StagedExports staged(dir());
    // Attempt 1 rolled back (a transient failure): its exports go before attempt 2 stages again.
    staged.stage(request(), {}, rows_of({row("VFE001")}));
    staged.discard_staged();
    EXPECT_TRUE(hidden(dir()).empty());
    // Attempt 2: its COMMIT is refused (outcome known): the committing export goes too.
    const std::string name = staged.stage(request(), {}, rows_of({row("VFE001")}));
    EXPECT_EQ(name, kName);  // the name of the rolled-back attempt is free again
    staged.committing({name});
    staged.settle(false);
    EXPECT_TRUE(hidden(dir()).empty());
    // A failed stage (the store failing under the rows) leaves nothing either.
    EXPECT_THROW(staged.stage(request(), {}, kFailing), std::runtime_error);
    EXPECT_TRUE(hidden(dir()).empty());
    // Attempt 3 ends by an exception: destruction removes what it staged.
    staged.stage(request(), {}, rows_of({}));
    EXPECT_EQ(hidden(dir()).size(), 1u);
  }
  EXPECT_TRUE(entry_names(dir()).empty());
}

TEST_F(ExportFilesTest, ExportsOfACommitWhoseAnswerWasLostStayUntilTheStoreTells) {
  {
    StagedExports staged(dir());
    const std::string a = staged.stage(request(), {}, rows_of({row("VFE001")}));
    const std::string b = staged.stage(request(), {}, rows_of({row("VFE002")}));
    staged.stage(request(), {}, rows_of({}));  // an operation rolled back: never committing
    const std::string temporary_a = staged.temporary_of(a);
    const std::string temporary_b = staged.temporary_of(b);
    staged.committing({a, b});
    // COMMIT's answer lost: the next attempt drops what it did not commit, never the committing ones.
    staged.discard_staged();
    EXPECT_EQ(hidden(dir()),
              (std::vector<std::string>{std::min(temporary_a, temporary_b), std::max(temporary_a, temporary_b)}));
    // The store names a (its dépôt committed), not b: b goes, a is left to the caller.
    staged.settle([&temporary_a](const std::string& t) { return t == temporary_a; });
    EXPECT_EQ(hidden(dir()), std::vector<std::string>{temporary_a});
  }
  EXPECT_EQ(entry_names(dir()).size(), 1u);  // left for its publication (or the start-up recovery)
  {
    // A process that gives up while the outcome is unknown leaves the committing ones to the recovery.
    StagedExports staged(dir());
    const std::string c = staged.stage(request(), {}, rows_of({}));
    staged.committing({c});
    staged.stage(request(), {}, rows_of({}));  // staged, never committing: goes on destruction
  }
  EXPECT_EQ(hidden(dir()).size(), 2u);
}

}  // namespace
}  // namespace raccord::outbox
