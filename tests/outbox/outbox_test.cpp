// Tests of outbox/outbox.cpp (docs/reference.md §2 outbox/ and "Atomic outputs", §5.1 "_2" names): the accusé
// name chosen free of the folder and of the names recorded elsewhere, accusés never replacing one
// already there, an export published once from its temporary (or reported lost), the temporaries of
// dead processes of this host found for the start-up recovery and no others, and the reports and
// metrics.prom written whole.
#include "outbox/outbox.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>

#include "files/atomic_file.hpp"
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

class OutboxTest : public ::testing::Test {
 protected:
  TempDir dir_{"raccord-outbox"};
  Outbox outbox_{dir_.path()};
};

TEST_F(OutboxTest, AcknowledgementNameSkipsNamesInTheFolderAndNamesRecordedElsewhere) {
  const Instant at = instant("2026-11-29T22:10:04Z");
  std::set<std::string> recorded;
  const auto taken = [&recorded](const std::string& n) { return recorded.contains(n); };
  EXPECT_EQ(outbox_.acknowledgement_name("lot42.xml", at, taken), "ACK_lot42_20261129T221004Z.xml");
  write_file(dir_.path() / "ACK_lot42_20261129T221004Z.xml", "premier");
  EXPECT_EQ(outbox_.acknowledgement_name("lot42.xml", at, taken), "ACK_lot42_20261129T221004Z_2.xml");
  recorded.insert("ACK_lot42_20261129T221004Z_2.xml");  // recorded by a commit, not written yet
  EXPECT_EQ(outbox_.acknowledgement_name("lot42.XML", at, taken), "ACK_lot42_20261129T221004Z_3.xml");
  EXPECT_EQ(outbox_.acknowledgement_name("lot42.xml", at, {}), "ACK_lot42_20261129T221004Z_2.xml");
  // Only chooses: nothing is written.
  EXPECT_EQ(entry_names(dir_.path()), std::vector<std::string>{"ACK_lot42_20261129T221004Z.xml"});
}

TEST_F(OutboxTest, AcknowledgementsAreWrittenWholeAndNeverReplaceOneAlreadyThere) {
  write_file(dir_.path() / "ACK_a_20261129T100000Z.xml", "écrit avant une interruption");
  const std::vector<bool> created =
      outbox_.write_acknowledgements({{"ACK_a_20261129T100000Z.xml", "<a/>"}, {"ACK_b_20261129T100000Z.xml", "<b/>"}});
  EXPECT_EQ(created, (std::vector<bool>{false, true}));
  EXPECT_EQ(read_file(dir_.path() / "ACK_a_20261129T100000Z.xml"), "écrit avant une interruption");
  EXPECT_EQ(read_file(dir_.path() / "ACK_b_20261129T100000Z.xml"), "<b/>");
  EXPECT_EQ(entry_names(dir_.path()),
            (std::vector<std::string>{"ACK_a_20261129T100000Z.xml", "ACK_b_20261129T100000Z.xml"}));
}

TEST_F(OutboxTest, AnExportIsPublishedOnceFromItsTemporaryAndALostOneIsReported) {
  const std::string name = "EXPORT_EDI_r_20261129T100000Z.csv";
  const std::string temporary = files::detail::temporary_name(name, files::host_name(), ::getpid(), 1);
  write_file(dir_.path() / temporary, "lignes");
  EXPECT_TRUE(outbox_.publish_export(name, temporary));
  EXPECT_EQ(entry_names(dir_.path()), std::vector<std::string>{name});
  EXPECT_EQ(read_file(dir_.path() / name), "lignes");
  // Again (after a crash that followed the rename): nothing to do.
  EXPECT_TRUE(outbox_.publish_export(name, temporary));
  // A temporary left beside its published name goes; the published file is never replaced.
  write_file(dir_.path() / temporary, "autres lignes");
  EXPECT_TRUE(outbox_.publish_export(name, temporary));
  EXPECT_EQ(entry_names(dir_.path()), std::vector<std::string>{name});
  EXPECT_EQ(read_file(dir_.path() / name), "lignes");
  // Neither the export nor its temporary: lost.
  EXPECT_FALSE(outbox_.publish_export("EXPORT_EDI_perdu_20261129T100000Z.csv", ".perdu.tmp"));
}

TEST_F(OutboxTest, DeadTemporariesAreTheRegularTemporariesOfDeadProcessesOfThisHost) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);  // `child` is now the pid of a dead process
  const std::string host = files::host_name();
  const std::string dead_ack = files::detail::temporary_name("ACK_x_20261129T100000Z.xml", host, child, 1);
  const std::string dead_export = files::detail::temporary_name("EXPORT_EDI_x_20261129T100000Z.csv", host, child, 2);
  const std::string dead_dir = files::detail::temporary_name("ACK_d_20261129T100000Z.xml", host, child, 3);
  const std::string live = files::detail::temporary_name("ACK_y_20261129T100000Z.xml", host, ::getpid(), 4);
  const std::string other_host = files::detail::temporary_name("ACK_z_20261129T100000Z.xml", "autre-hote", child, 5);
  for (const auto& n : {dead_ack, dead_export, live, other_host, std::string("ACK_w_20261129T100000Z.xml")}) {
    write_file(dir_.path() / n, n);
  }
  fs::create_directory(dir_.path() / dead_dir);
  std::error_code error;
  const auto dead = outbox_.dead_temporaries(error);
  EXPECT_FALSE(error);
  EXPECT_EQ(std::set<std::string>(dead.begin(), dead.end()), (std::set<std::string>{dead_ack, dead_export}));
  outbox_.remove_temporary(dead_ack);
  outbox_.remove_temporary(".absent.tmp");  // best effort: nothing thrown
  EXPECT_FALSE(fs::exists(dir_.path() / dead_ack));
  EXPECT_TRUE(fs::exists(dir_.path() / dead_export));

  const Outbox missing(dir_.path() / "absent");
  EXPECT_TRUE(missing.dead_temporaries(error).empty());
  EXPECT_TRUE(error);
}

TEST_F(OutboxTest, ReportsAndMetricsAreWrittenWholeAndRewritten) {
  const CivilDate d = civil_date("2026-11-30");
  EXPECT_FALSE(outbox_.has_report(d, "xml"));
  outbox_.write_report(d, "xml", "<r/>");
  outbox_.write_report(d, ".csv", "a;b\r\n");
  EXPECT_TRUE(outbox_.has_report(d, "xml"));
  EXPECT_TRUE(outbox_.has_report(d, "csv"));
  EXPECT_FALSE(outbox_.has_report(d, "html"));
  outbox_.write_report(d, "xml", "<r2/>");  // a rerun rewrites it
  EXPECT_EQ(read_file(dir_.path() / "NIGHTLY_2026-11-30.xml"), "<r2/>");
  outbox_.write_metrics("raccord_x 1\n");
  outbox_.write_metrics("raccord_x 2\n");
  EXPECT_EQ(read_file(dir_.path() / "metrics.prom"), "raccord_x 2\n");
  // No temporary left beside them.
  EXPECT_EQ(entry_names(dir_.path()),
            (std::vector<std::string>{"NIGHTLY_2026-11-30.csv", "NIGHTLY_2026-11-30.xml", "metrics.prom"}));
}

}  // namespace
}  // namespace raccord::outbox
