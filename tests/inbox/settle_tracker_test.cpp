// Tests of inbox/settle_tracker.cpp (the settle rule: size and mtime unchanged for inbox.settle_ms;
// docs/field-cases.md F01; hostile findings/4), on a clock of the test's own: no test sleeps.
#include "inbox/settle_tracker.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/fake_steady_clock.hpp"
#include "tests/support/files.hpp"

namespace raccord::inbox {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Names = std::vector<std::string>;

class SettleTrackerTest : public ::testing::Test {
 protected:
  void append(const std::string& name, const std::string& bytes) const {
    std::ofstream(dir() / name, std::ios::binary | std::ios::app) << bytes;
  }
  fs::path dir() const { return tmp_.path(); }

  testing::TempDir tmp_{"raccord-settle"};
  testing::FakeSteadyClock clock_;
  SettleTracker tracker_{dir(), milliseconds(2000), clock_};
};

TEST_F(SettleTrackerTest, WrittenFileIsSettledOnlyOnceTheQuietPeriodHasLasted) {
  append("a.xml", "<Depot/>");
  tracker_.written("a.xml");
  EXPECT_TRUE(tracker_.take_settled().empty());
  clock_.advance(milliseconds(1999));
  EXPECT_TRUE(tracker_.take_settled().empty());
  EXPECT_FALSE(tracker_.empty());
  clock_.advance(milliseconds(1));
  EXPECT_EQ(tracker_.take_settled(), Names{"a.xml"});
  EXPECT_TRUE(tracker_.empty()) << "a settled file is no longer tracked";
  clock_.advance(milliseconds(5000));
  EXPECT_TRUE(tracker_.take_settled().empty()) << "taken once";
}

TEST_F(SettleTrackerTest, FileWrittenInSeveralAppendsIsSettledOnlyAfterTheLastOne) {
  // Hostile findings/4: three open/append/close cycles 1 s apart, settle 2 s; each close raises
  // IN_CLOSE_WRITE (written()). The file is taken whole, 2 s after the last append, once.
  const std::string xml = "<Depot xmlns=\"urn:raccord:depot:1\"><Structure/></Depot>";
  const std::size_t third = xml.size() / 3;
  const Names pieces{xml.substr(0, third), xml.substr(third, third), xml.substr(2 * third)};
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    if (i > 0) clock_.advance(milliseconds(1000));
    append("f.xml", pieces[i]);
    tracker_.written("f.xml");
    EXPECT_TRUE(tracker_.take_settled().empty()) << "taken after piece " << i + 1;
  }
  clock_.advance(milliseconds(1999));
  EXPECT_TRUE(tracker_.take_settled().empty());
  clock_.advance(milliseconds(1));
  EXPECT_EQ(tracker_.take_settled(), Names{"f.xml"});
  EXPECT_EQ(testing::read_file(dir() / "f.xml"), xml);
}

TEST_F(SettleTrackerTest, ChangeSeenOnlyBySamplingRestartsTheQuietPeriod) {
  // A writer that keeps the file open (no IN_CLOSE_WRITE): the change is seen when sampled.
  append("g.xml", "<Depot>");
  tracker_.written("g.xml");
  clock_.advance(milliseconds(1500));
  append("g.xml", "<Structure/>");
  EXPECT_TRUE(tracker_.take_settled().empty());  // sampled at 1.5 s: changed, restarts
  clock_.advance(milliseconds(1999));
  EXPECT_TRUE(tracker_.take_settled().empty());
  clock_.advance(milliseconds(1));
  EXPECT_EQ(tracker_.take_settled(), Names{"g.xml"});
}

TEST_F(SettleTrackerTest, MtimeChangeAloneRestartsTheQuietPeriod) {
  append("m.xml", "<Depot/>");
  tracker_.written("m.xml");
  clock_.advance(milliseconds(1000));
  const timespec times[2] = {{0, UTIME_OMIT}, {1'000'000'000, 0}};  // same size, another mtime
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir() / "m.xml").c_str(), times, 0), 0);
  EXPECT_TRUE(tracker_.take_settled().empty());
  clock_.advance(milliseconds(1999));
  EXPECT_TRUE(tracker_.take_settled().empty());
  clock_.advance(milliseconds(1));
  EXPECT_EQ(tracker_.take_settled(), Names{"m.xml"});
}

TEST_F(SettleTrackerTest, WrittenRestartsTheQuietPeriodEvenWhenNothingChanged) {
  append("w.xml", "<Depot/>");
  tracker_.written("w.xml");
  clock_.advance(milliseconds(1500));
  tracker_.written("w.xml");  // closed after writing again
  clock_.advance(milliseconds(1500));
  EXPECT_TRUE(tracker_.take_settled().empty());
  clock_.advance(milliseconds(500));
  EXPECT_EQ(tracker_.take_settled(), Names{"w.xml"});
}

TEST_F(SettleTrackerTest, VanishedLinkedFifoAndFolderAreNeverTaken) {
  tracker_.written("absent.xml");
  EXPECT_TRUE(tracker_.empty());
  append("gone.xml", "x");
  append("target.xml", "x");
  fs::create_symlink(dir() / "target.xml", dir() / "lien.xml");
  ASSERT_EQ(::mkfifo((dir() / "fifo.xml").c_str(), 0600), 0);
  fs::create_directory(dir() / "dossier.xml");
  for (const char* name : {"gone.xml", "lien.xml", "fifo.xml", "dossier.xml"}) tracker_.written(name);
  EXPECT_FALSE(tracker_.empty());  // gone.xml, still there
  fs::remove(dir() / "gone.xml");  // claimed by another engine, or removed by its sender
  clock_.advance(milliseconds(2000));
  EXPECT_TRUE(tracker_.take_settled().empty());
  EXPECT_TRUE(tracker_.empty());
  // A file replaced by a folder while tracked is forgotten too.
  append("devient.xml", "x");
  tracker_.written("devient.xml");
  fs::remove(dir() / "devient.xml");
  fs::create_directory(dir() / "devient.xml");
  clock_.advance(milliseconds(2000));
  EXPECT_TRUE(tracker_.take_settled().empty());
  EXPECT_TRUE(tracker_.empty());
}

TEST_F(SettleTrackerTest, ForgetDropsAFileRenamedIn) {
  append("r.xml", "<Depot/>");
  tracker_.written("r.xml");
  tracker_.forget("r.xml");
  EXPECT_TRUE(tracker_.empty());
  clock_.advance(milliseconds(2000));
  EXPECT_TRUE(tracker_.take_settled().empty());
}

TEST_F(SettleTrackerTest, NextDueIsTheEarliestEndOfAQuietPeriod) {
  EXPECT_FALSE(tracker_.next_due().has_value());
  const auto t0 = clock_.now();
  append("b.xml", "b");
  tracker_.written("b.xml");
  clock_.advance(milliseconds(700));
  append("a.xml", "a");
  tracker_.written("a.xml");
  EXPECT_EQ(tracker_.next_due(), t0 + milliseconds(2000));
  clock_.advance(milliseconds(1300));
  EXPECT_EQ(tracker_.take_settled(), Names{"b.xml"});
  EXPECT_EQ(tracker_.next_due(), t0 + milliseconds(2700));
}

TEST_F(SettleTrackerTest, SettledFilesComeInNameByteOrder) {
  for (const char* name : {"b.xml", "B.xml", "a.xml", "_.xml"}) {
    append(name, name);
    tracker_.written(name);
  }
  clock_.advance(milliseconds(2000));
  EXPECT_EQ(tracker_.take_settled(), (Names{"B.xml", "_.xml", "a.xml", "b.xml"}));
}

TEST_F(SettleTrackerTest, ObserveTracksExactlyTheListedNamesAndKeepsTheQuietPeriodOfUnchangedOnes) {
  append("a.xml", "a");
  append("b.xml", "b");
  tracker_.observe({"a.xml", "b.xml"});
  clock_.advance(milliseconds(1000));
  append("c.xml", "c");
  tracker_.observe({"a.xml", "c.xml"});  // b.xml no longer listed: forgotten
  clock_.advance(milliseconds(1000));
  EXPECT_EQ(tracker_.take_settled(), Names{"a.xml"}) << "a.xml's quiet period started at its first sample";
  clock_.advance(milliseconds(1000));
  EXPECT_EQ(tracker_.take_settled(), Names{"c.xml"});
  EXPECT_TRUE(tracker_.empty());
}

TEST_F(SettleTrackerTest, ResetKeepsTheFilesOfTheSameFolderWithTheNewPeriodAndForgetsThoseOfAnother) {
  append("a.xml", "a");
  tracker_.written("a.xml");
  tracker_.reset(dir(), milliseconds(500));
  clock_.advance(milliseconds(500));
  EXPECT_EQ(tracker_.take_settled(), Names{"a.xml"});
  EXPECT_EQ(tracker_.settle(), milliseconds(500));
  append("b.xml", "b");
  tracker_.written("b.xml");
  testing::TempDir other("raccord-settle-other");
  tracker_.reset(other.path(), milliseconds(500));
  EXPECT_TRUE(tracker_.empty());
}

TEST_F(SettleTrackerTest, ZeroPeriodSettlesAtOnce) {
  SettleTracker tracker(dir(), milliseconds(0), clock_);
  append("z.xml", "");
  tracker.written("z.xml");
  EXPECT_EQ(tracker.take_settled(), Names{"z.xml"});
}

TEST(SteadyClockTest, RealClockMovesOnWhenItWaits) {
  SteadyClock& clock = SteadyClock::real();
  const auto before = clock.now();
  clock.wait(milliseconds(1));
  EXPECT_GE(clock.now() - before, milliseconds(1));
}

}  // namespace
}  // namespace raccord::inbox
