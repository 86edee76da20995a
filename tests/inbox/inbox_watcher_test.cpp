// Tests of inbox/inbox_watcher.cpp on a real inotify instance and real folders: renamed-in dépôts
// are taken at once, written ones settle first, other names are ignored; a folder removed or
// replaced asks for a rescan and is watched anew (docs/design.md "Daemon folders"). The kernel
// queues each event within the call that causes it: no test waits.
#include "inbox/inbox_watcher.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/inotify.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/files.hpp"

namespace raccord::inbox {
namespace {

namespace fs = std::filesystem;
using Names = std::vector<std::string>;
using Watch = InboxWatcher::Watch;

class InboxWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directory(inbox()); }

  fs::path inbox() const { return tmp_.path() / "inbox"; }
  /// Written in place: open, write, close (IN_CLOSE_WRITE).
  static void write(const fs::path& path) { std::ofstream(path, std::ios::binary) << "<Depot/>"; }
  /// Written under a hidden name, then renamed in (IN_MOVED_TO).
  static void rename_in(const fs::path& dir, const std::string& name) {
    write(dir / ("." + name + ".part"));
    fs::rename(dir / ("." + name + ".part"), dir / name);
  }
  bool readable() const {
    pollfd p{watcher_.fd(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  }

  testing::TempDir tmp_{"raccord-watch"};
  InboxWatcher watcher_;
};

TEST_F(InboxWatcherTest, RenamedInDepositIsTakenAtOnceAndWrittenOneSettlesFirst) {
  EXPECT_EQ(watcher_.watch(inbox()).what, Watch::Armed);
  EXPECT_FALSE(readable());
  rename_in(inbox(), "a.xml");
  write(inbox() / "b.XML");
  rename_in(inbox(), "c.xml");
  EXPECT_TRUE(readable());
  const auto events = watcher_.read();
  EXPECT_EQ(events.moved, (Names{"a.xml", "c.xml"}));
  EXPECT_EQ(events.closed, Names{"b.XML"});
  EXPECT_FALSE(events.rescan);
  EXPECT_FALSE(readable());
  const auto none = watcher_.read();
  EXPECT_TRUE(none.moved.empty() && none.closed.empty() && !none.rescan);
}

TEST_F(InboxWatcherTest, NamesThatAreNotDepositsAreIgnored) {
  ASSERT_EQ(watcher_.watch(inbox()).what, Watch::Armed);
  for (const char* name : {"x.tmp", "x.xml.part", ".cache.xml", "~$x.xml"}) write(inbox() / name);
  fs::rename(inbox() / "x.tmp", inbox() / "x.xml.filepart");
  fs::create_directory(inbox() / "dossier.xml");
  const auto events = watcher_.read();
  EXPECT_TRUE(events.moved.empty());
  EXPECT_TRUE(events.closed.empty());
  EXPECT_FALSE(events.rescan);
}

TEST_F(InboxWatcherTest, SameDirectoryIsWatchedOnceAndAMissingOneNotAtAll) {
  EXPECT_EQ(watcher_.watch(inbox()).what, Watch::Armed);
  EXPECT_EQ(watcher_.watch(inbox()).what, Watch::Unchanged);
  InboxWatcher other;
  EXPECT_EQ(other.watch(tmp_.path() / "absent").what, Watch::Unchanged);
  fs::create_directory(tmp_.path() / "absent");
  EXPECT_EQ(other.watch(tmp_.path() / "absent").what, Watch::Armed);
}

TEST_F(InboxWatcherTest, RemovedAndRecreatedDirectoryAsksForARescanAndIsWatchedAgain) {
  ASSERT_EQ(watcher_.watch(inbox()).what, Watch::Armed);
  fs::remove_all(inbox());
  EXPECT_TRUE(watcher_.read().rescan);
  EXPECT_EQ(watcher_.watch(inbox()).what, Watch::Unchanged) << "missing: recreated by the caller first";
  fs::create_directory(inbox());
  EXPECT_EQ(watcher_.watch(inbox()).what, Watch::Rearmed);
  rename_in(inbox(), "apres.xml");
  EXPECT_EQ(watcher_.read().moved, Names{"apres.xml"});
}

TEST_F(InboxWatcherTest, DirectoryMovedAwayAndReplacedIsWatchedAgainAndTheOldOneIgnored) {
  ASSERT_EQ(watcher_.watch(inbox()).what, Watch::Armed);
  const fs::path old = tmp_.path() / "inbox.old";
  fs::rename(inbox(), old);
  fs::create_directory(inbox());
  EXPECT_TRUE(watcher_.read().rescan);
  EXPECT_EQ(watcher_.watch(inbox()).what, Watch::Rearmed);
  rename_in(old, "ancien.xml");
  rename_in(inbox(), "nouveau.xml");
  const auto events = watcher_.read();  // also the old watch's IN_IGNORED: stale, dropped
  EXPECT_EQ(events.moved, Names{"nouveau.xml"});
  EXPECT_FALSE(events.rescan);
}

TEST_F(InboxWatcherTest, UnwatchDropsTheWatchAndTheNextOneIsArmedNotRearmed) {
  ASSERT_EQ(watcher_.watch(inbox()).what, Watch::Armed);
  rename_in(inbox(), "avant.xml");
  watcher_.unwatch();
  const auto events = watcher_.read();  // queued before unwatch(): stale
  EXPECT_TRUE(events.moved.empty());
  fs::create_directory(tmp_.path() / "ailleurs");
  EXPECT_EQ(watcher_.watch(tmp_.path() / "ailleurs").what, Watch::Armed);
}

TEST_F(InboxWatcherTest, WatchThatFailsIsReportedAndTriedAgain) {
  const fs::path not_a_dir = tmp_.path() / "fichier";
  std::ofstream(not_a_dir) << "x";
  const auto failed = watcher_.watch(not_a_dir);  // IN_ONLYDIR
  EXPECT_EQ(failed.what, Watch::Failed);
  EXPECT_EQ(failed.error, ENOTDIR) << std::strerror(failed.error);
  fs::remove(not_a_dir);
  fs::create_directory(not_a_dir);
  EXPECT_EQ(watcher_.watch(not_a_dir).what, Watch::Rearmed);
  rename_in(not_a_dir, "d.xml");
  EXPECT_EQ(watcher_.read().moved, Names{"d.xml"});
}

TEST_F(InboxWatcherTest, QueueOverflowAsksForARescan) {
  ASSERT_EQ(watcher_.watch(inbox()).what, Watch::Armed);
  inotify_event overflow{};  // what the kernel queues when its queue is full
  overflow.wd = -1;
  overflow.mask = IN_Q_OVERFLOW;
  EXPECT_TRUE(watcher_.sort(reinterpret_cast<const char*>(&overflow), sizeof overflow).rescan);
}

}  // namespace
}  // namespace raccord::inbox
