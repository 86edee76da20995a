// Tests of engine/app/inbox_feed.cpp in this process, on a real inotify instance and folder, with
// an io_context like the daemon's: a dépôt renamed in is taken at once, one written in place once
// settled (hostile findings/4: several appends, taken whole, once), a removed inbox/ asks for a
// full pass and is watched again, a reload forgets the old folder. The settle rule itself is
// tested on a fake clock (tests/inbox/settle_tracker_test.cpp); here the quiet periods are short
// real ones and only lower bounds of time are asserted.
#include "engine/app/inbox_feed.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <utility>  // before Boost.Asio (docs/toolchain.md #2)
#include <vector>

#include "tests/support/files.hpp"

namespace raccord::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Names = std::vector<std::string>;
using Steady = std::chrono::steady_clock;

class InboxFeedTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directory(inbox()); }

  fs::path inbox() const { return tmp_.path() / "inbox"; }

  /// The feed under test; what it asks for is recorded below.
  app::InboxFeed& feed(const fs::path& dir, milliseconds settle) {
    feed_ = std::make_unique<app::InboxFeed>(
        io_, app::InboxFeedHooks{[this](const Names& names) { renamed_.push_back(names); },
                                 [this](const Names& names) {
                                   settled_.push_back(names);
                                   settled_at_.push_back(Steady::now());
                                   if (on_settled_) on_settled_(names);
                                 },
                                 [this] { ++rescans_; }, [this] { return stopping_; }});
    feed_->configure(dir, settle);
    return *feed_;
  }

  /// Runs the io_context until `done`, at most `deadline`; false when it never was.
  bool run_until(const std::function<bool()>& done, milliseconds deadline = milliseconds{20000}) {
    const auto end = Steady::now() + deadline;
    while (!done()) {
      if (Steady::now() >= end) return false;
      if (io_.stopped()) io_.restart();
      io_.run_one_for(milliseconds{20});
    }
    return true;
  }
  /// Runs the io_context for `duration` (to see that nothing more happens).
  void run_for(milliseconds duration) {
    (void)run_until([] { return false; }, duration);
  }

  static void write(const fs::path& path, const std::string& bytes = "<Depot/>") {
    std::ofstream(path, std::ios::binary) << bytes;
  }
  static void rename_in(const fs::path& dir, const std::string& name) {
    write(dir / ("." + name + ".part"));
    fs::rename(dir / ("." + name + ".part"), dir / name);
  }
  /// Every name of every call, in call order.
  static Names all(const std::vector<Names>& calls) {
    Names out;
    for (const auto& c : calls) out.insert(out.end(), c.begin(), c.end());
    return out;
  }

  testing::TempDir tmp_{"raccord-feed"};
  boost::asio::io_context io_;
  std::unique_ptr<app::InboxFeed> feed_;
  std::vector<Names> renamed_;
  std::vector<Names> settled_;
  std::vector<Steady::time_point> settled_at_;
  std::function<void(const Names&)> on_settled_;
  int rescans_ = 0;
  bool stopping_ = false;
};

TEST_F(InboxFeedTest, RenamedInDepositIsTakenAtOnce) {
  feed(inbox(), milliseconds{60000});
  rename_in(inbox(), "a.xml");
  rename_in(inbox(), "b.xml");
  ASSERT_TRUE(run_until([&] { return all(renamed_).size() == 2; }));
  EXPECT_EQ(all(renamed_), (Names{"a.xml", "b.xml"}));
  EXPECT_TRUE(settled_.empty());
  EXPECT_EQ(rescans_, 0);
}

TEST_F(InboxFeedTest, WrittenDepositsAreTakenOnceSettledEachOnce) {
  feed(inbox(), milliseconds{200});
  const auto written = Steady::now();
  for (const char* name : {"c.xml", "a.xml", "b.xml"}) write(inbox() / name);
  write(inbox() / "x.xml.part");  // not a dépôt
  ASSERT_TRUE(run_until([&] { return all(settled_).size() >= 3; }));
  run_for(milliseconds{400});
  Names taken = all(settled_);
  std::sort(taken.begin(), taken.end());
  EXPECT_EQ(taken, (Names{"a.xml", "b.xml", "c.xml"}));
  EXPECT_GE(settled_at_.front() - written, milliseconds{200}) << "taken before its quiet period";
  for (const auto& call : settled_) EXPECT_TRUE(std::is_sorted(call.begin(), call.end()));
  EXPECT_TRUE(renamed_.empty());
}

TEST_F(InboxFeedTest, FileWrittenInSeveralAppendsIsTakenOnlyOnceSettled) {
  // Hostile findings/4: three appends 200 ms apart, settle 600 ms; each append closes the file
  // (IN_CLOSE_WRITE). The dépôt must be taken whole, once, not in pieces.
  feed(inbox(), milliseconds{600});
  const std::string xml = "<Depot xmlns=\"urn:raccord:depot:1\">" + std::string(3000, ' ') + "</Depot>";
  const std::size_t third = xml.size() / 3;
  const Names pieces{xml.substr(0, third), xml.substr(third, third), xml.substr(2 * third)};
  const fs::path path = inbox() / "f_appends.xml";
  std::vector<std::unique_ptr<boost::asio::steady_timer>> appends;  // on the feed's io_context: in order
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    appends.push_back(std::make_unique<boost::asio::steady_timer>(io_, milliseconds{200} * static_cast<int>(i)));
    appends.back()->async_wait([&, i](const boost::system::error_code&) {
      const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(::write(fd, pieces[i].data(), pieces[i].size()), static_cast<ssize_t>(pieces[i].size()));
      ::close(fd);
    });
  }
  std::vector<std::string> seen;
  on_settled_ = [&](const Names&) { seen.push_back(read_file(path)); };
  ASSERT_TRUE(run_until([&] { return !settled_.empty(); }));
  run_for(milliseconds{1000});  // no second take later
  EXPECT_EQ(settled_, std::vector<Names>{Names{"f_appends.xml"}});
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0], xml) << "taken before the last append";
}

TEST_F(InboxFeedTest, RemovedInboxAsksForAFullPassAndIsWatchedAgainOnceRecreated) {
  app::InboxFeed& f = feed(inbox(), milliseconds{60000});
  fs::remove_all(inbox());
  ASSERT_TRUE(run_until([&] { return rescans_ >= 1; }));
  fs::create_directory(inbox());
  ::testing::internal::CaptureStderr();
  f.ensure_watch();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("réarmée"), std::string::npos) << log;
  rename_in(inbox(), "apres.xml");
  ASSERT_TRUE(run_until([&] { return !renamed_.empty(); }));
  EXPECT_EQ(all(renamed_), Names{"apres.xml"});
}

TEST_F(InboxFeedTest, ReloadOnAnotherFolderForgetsTheOldOne) {
  const fs::path other = tmp_.path() / "autre";
  fs::create_directory(other);
  app::InboxFeed& f = feed(inbox(), milliseconds{300});
  write(inbox() / "ancien.xml");
  run_for(milliseconds{100});  // its IN_CLOSE_WRITE read: waiting to settle
  f.configure(other, milliseconds{300});
  rename_in(inbox(), "ancien2.xml");
  rename_in(other, "nouveau.xml");
  ASSERT_TRUE(run_until([&] { return !renamed_.empty(); }));
  run_for(milliseconds{700});
  EXPECT_EQ(all(renamed_), Names{"nouveau.xml"});
  EXPECT_TRUE(settled_.empty()) << all(settled_).front();
}

TEST_F(InboxFeedTest, NothingIsTakenOnceAStopIsUnderWay) {
  feed(inbox(), milliseconds{0});
  stopping_ = true;
  rename_in(inbox(), "a.xml");
  write(inbox() / "b.xml");
  run_for(milliseconds{300});
  EXPECT_TRUE(renamed_.empty());
  EXPECT_TRUE(settled_.empty());
}

TEST_F(InboxFeedTest, ZeroSettleTakesAWrittenDepositAtOnce) {
  feed(inbox(), milliseconds{0});
  write(inbox() / "z.xml");
  ASSERT_TRUE(run_until([&] { return !settled_.empty(); }));
  EXPECT_EQ(settled_, std::vector<Names>{Names{"z.xml"}});
}

}  // namespace
}  // namespace raccord::testing
