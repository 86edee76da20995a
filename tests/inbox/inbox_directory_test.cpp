// Tests of inbox/inbox_directory.cpp (docs/reference.md §2; docs/field-cases.md F01, F04, F06, F10).
#include "inbox/inbox_directory.hpp"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "tests/support/fake_steady_clock.hpp"
#include "tests/support/files.hpp"

namespace raccord::inbox {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class InboxDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path();
    dirs_ = std::make_unique<InboxDirectory>(root_);
    dirs_->ensure_layout();
  }

  void drop(const std::string& name, const std::string& content = "<Depot/>") const {
    std::ofstream out(dirs_->inbox_dir() / name, std::ios::binary);
    out << content;
  }
  static std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }
  static std::vector<std::string> entries(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  testing::TempDir tmp_{"raccord-inbox"};
  fs::path root_;
  std::unique_ptr<InboxDirectory> dirs_;
};

TEST(IsDepositName, FollowsSpecSection2) {
  EXPECT_TRUE(InboxDirectory::is_deposit_name("lot42.xml"));
  EXPECT_TRUE(InboxDirectory::is_deposit_name("X.XML"));
  EXPECT_TRUE(InboxDirectory::is_deposit_name("a.b.Xml"));
  EXPECT_FALSE(InboxDirectory::is_deposit_name("x.xml.part"));
  EXPECT_FALSE(InboxDirectory::is_deposit_name("x.xml.filepart"));
  EXPECT_FALSE(InboxDirectory::is_deposit_name(".x.xml"));
  EXPECT_FALSE(InboxDirectory::is_deposit_name("~$x.xml"));
  EXPECT_FALSE(InboxDirectory::is_deposit_name("x.tmp"));
  EXPECT_FALSE(InboxDirectory::is_deposit_name(".xml"));
  EXPECT_FALSE(InboxDirectory::is_deposit_name("xml"));
  EXPECT_FALSE(InboxDirectory::is_deposit_name(""));
}

TEST_F(InboxDirectoryTest, EnsureLayoutCreatesEveryDirectory) {
  for (const fs::path& d :
       {dirs_->inbox_dir(), dirs_->work_dir(), dirs_->archive_dir(), dirs_->error_dir(), dirs_->outbox_dir()}) {
    EXPECT_TRUE(fs::is_directory(d)) << d;
  }
  EXPECT_EQ(dirs_->work_dir(), root_ / "inbox" / ".work");
}

TEST_F(InboxDirectoryTest, ListsOnlyRegularDepositFilesInNameByteOrder) {
  drop("b.xml");
  drop("X.XML");
  drop("a.xml");
  drop("vide.xml", "");  // docs/field-cases.md F06: a zero-byte file is a candidate (the engine answers FICHIER_VIDE)
  drop("x.xml.part");
  drop(".x.xml");
  drop("~$x.xml");
  drop("x.tmp");
  fs::create_directory(dirs_->inbox_dir() / "dossier.xml");
  fs::create_symlink(dirs_->inbox_dir() / "a.xml", dirs_->inbox_dir() / "lien.xml");
  fs::create_symlink("/nonexistent", dirs_->inbox_dir() / "casse.xml");
  ASSERT_EQ(::mkfifo((dirs_->inbox_dir() / "fifo.xml").c_str(), 0600), 0);

  EXPECT_EQ(dirs_->list_candidates(), (std::vector<std::string>{"X.XML", "a.xml", "b.xml", "vide.xml"}));
}

// The settle rule runs on a clock of the test's own (tests/support/fake_steady_clock.hpp): the
// waits of settled_candidates move it on, nothing sleeps.
TEST_F(InboxDirectoryTest, SettledCandidatesWaitsTheSettleTimeForStableFiles) {
  drop("a.xml");
  drop("b.xml");
  testing::FakeSteadyClock clock;
  const auto settled = dirs_->settled_candidates(milliseconds(300), clock);
  EXPECT_EQ(settled, (std::vector<std::string>{"a.xml", "b.xml"}));
  EXPECT_GE(clock.waited(), milliseconds(300));
  EXPECT_LE(clock.waited(), milliseconds(301));  // not longer than the quiet period
  EXPECT_GE(clock.waits(), 3) << "sampled several times while waiting";
}

TEST_F(InboxDirectoryTest, SettledCandidatesReturnsAtOnceWhenInboxIsEmpty) {
  drop("x.xml.part");
  testing::FakeSteadyClock clock;
  EXPECT_TRUE(dirs_->settled_candidates(milliseconds(2000), clock).empty());
  EXPECT_EQ(clock.waits(), 0);
}

TEST_F(InboxDirectoryTest, GrowingFileIsNotTakenUntilItStops) {
  // docs/field-cases.md F01: a file still being written is left alone, then taken once stable.
  drop("stable.xml");
  const fs::path growing = dirs_->inbox_dir() / "fiche_ACME.xml";
  std::ofstream out(growing, std::ios::binary);
  out << "<Depot xmlns=\"urn:raccord:depot:1\">";
  out.flush();
  testing::FakeSteadyClock clock;
  clock.on_wait([&](milliseconds) {  // the writer appends between every two samples
    out << "<contactTechnique/>";
    out.flush();
  });
  const auto during = dirs_->settled_candidates(milliseconds(400), clock);
  clock.on_wait(nullptr);
  out << "</Depot>";
  out.close();
  EXPECT_EQ(during, std::vector<std::string>{"stable.xml"});
  EXPECT_TRUE(fs::exists(growing));

  const auto after = dirs_->settled_candidates(milliseconds(400), clock);
  EXPECT_EQ(after, (std::vector<std::string>{"fiche_ACME.xml", "stable.xml"}));
  auto claimed = dirs_->claim("fiche_ACME.xml");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_TRUE(claimed->read_all().ends_with("</Depot>"));
}

TEST_F(InboxDirectoryTest, FileThatVanishesWhileSettlingIsLeftOutAndOneThatAppearsWaitsForTheNextPass) {
  drop("part.xml");
  drop("reste.xml");
  testing::FakeSteadyClock clock;
  clock.on_wait([&](milliseconds elapsed) {
    if (elapsed >= milliseconds(100)) fs::remove(dirs_->inbox_dir() / "part.xml");  // taken by another engine
    if (elapsed >= milliseconds(200)) drop("tard.xml");  // its quiet period has not lasted at the end
  });
  EXPECT_EQ(dirs_->settled_candidates(milliseconds(300), clock), std::vector<std::string>{"reste.xml"});
}

TEST_F(InboxDirectoryTest, ZeroByteFileSettlesAndIsClaimed) {
  drop("vide.xml", "");
  testing::FakeSteadyClock clock;
  EXPECT_EQ(dirs_->settled_candidates(milliseconds(200), clock), std::vector<std::string>{"vide.xml"});
  auto claimed = dirs_->claim("vide.xml");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->size(), 0U);
  EXPECT_EQ(claimed->read_all(), "");
}

// read_all reads what the file holds when it is read, even bytes written after it was measured
// (a writer that had not finished: issue 7 rewrote the loop that reads past the measured size).
TEST_F(InboxDirectoryTest, ReadAllReadsBytesWrittenAfterTheClaim) {
  drop("grandi.xml", "<Depot>");
  auto claimed = dirs_->claim("grandi.xml");
  ASSERT_TRUE(claimed.has_value());
  ASSERT_EQ(claimed->size(), 7U);
  const std::string tail = std::string(200000, 'x') + "</Depot>";  // more than one 64 KiB read
  std::ofstream(claimed->path(), std::ios::binary | std::ios::app) << tail;
  EXPECT_EQ(claimed->read_all(), "<Depot>" + tail);
}

// A file truncated after its claim (issue 7, hostile test; its growing part is the test above):
// read_all reads what the file holds when it is read, here less than at the claim.
TEST_F(InboxDirectoryTest, ReadAllReadsAFileShrunkAfterTheClaim) {
  const std::string first(100000, 'a');  // more than one 64 KiB read
  drop("retreci.xml", first);
  auto claimed = dirs_->claim("retreci.xml");
  ASSERT_TRUE(claimed.has_value());
  ASSERT_EQ(claimed->size(), first.size());
  EXPECT_EQ(claimed->read_all(), first);
  fs::resize_file(claimed->path(), 10);
  EXPECT_EQ(claimed->read_all(), std::string(10, 'a'));
}

TEST_F(InboxDirectoryTest, ClaimMovesIntoWorkAndLocks) {
  drop("lot42.xml", "<Depot>42</Depot>");
  auto claimed = dirs_->claim("lot42.xml");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->name(), "lot42.xml");
  EXPECT_EQ(claimed->path(), dirs_->work_dir() / "lot42.xml");
  EXPECT_FALSE(fs::exists(dirs_->inbox_dir() / "lot42.xml"));
  EXPECT_EQ(claimed->size(), 17U);
  EXPECT_EQ(claimed->read_all(), "<Depot>42</Depot>");

  // Another open file description cannot lock it while the claim lives.
  const int fd = ::open(claimed->path().c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_NE(::flock(fd, LOCK_EX | LOCK_NB), 0);
  ::close(fd);
}

TEST_F(InboxDirectoryTest, ClaimReturnsNulloptForVanishedSymlinkFifoDirectory) {
  drop("a.xml");
  fs::create_symlink(dirs_->inbox_dir() / "a.xml", dirs_->inbox_dir() / "lien.xml");
  ASSERT_EQ(::mkfifo((dirs_->inbox_dir() / "fifo.xml").c_str(), 0600), 0);
  fs::create_directory(dirs_->inbox_dir() / "dossier.xml");

  EXPECT_FALSE(dirs_->claim("absent.xml").has_value());
  EXPECT_FALSE(dirs_->claim("lien.xml").has_value());
  EXPECT_FALSE(dirs_->claim("fifo.xml").has_value());
  EXPECT_FALSE(dirs_->claim("dossier.xml").has_value());
  EXPECT_FALSE(dirs_->claim("x.xml.part").has_value());
  // Left exactly where they were (docs/reference.md §2 "What is a dépôt").
  EXPECT_TRUE(fs::is_symlink(dirs_->inbox_dir() / "lien.xml"));
  EXPECT_TRUE(fs::is_fifo(dirs_->inbox_dir() / "fifo.xml"));
  EXPECT_TRUE(fs::is_directory(dirs_->inbox_dir() / "dossier.xml"));
  EXPECT_TRUE(entries(dirs_->work_dir()).empty());
}

TEST_F(InboxDirectoryTest, SameNameAlreadyInWorkWaitsInInbox) {
  // docs/reference.md §2 "Claim"; docs/field-cases.md F04.
  drop("fiche.xml", "first");
  auto first = dirs_->claim("fiche.xml");
  ASSERT_TRUE(first.has_value());
  drop("fiche.xml", "second");
  EXPECT_FALSE(dirs_->claim("fiche.xml").has_value());
  EXPECT_EQ(read_file(dirs_->inbox_dir() / "fiche.xml"), "second");
  EXPECT_EQ(read_file(dirs_->work_dir() / "fiche.xml"), "first");

  dirs_->archive(*first, CivilDate{std::chrono::year(2026), std::chrono::month(11), std::chrono::day(29)});
  auto second = dirs_->claim("fiche.xml");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->read_all(), "second");
}

TEST_F(InboxDirectoryTest, ArchiveUsesProcessingDateAndSuffixesAfterTheWholeName) {
  const CivilDate date{std::chrono::year(2026), std::chrono::month(3), std::chrono::day(5)};
  std::vector<fs::path> finals;
  for (const char* content : {"lundi", "mardi", "mercredi"}) {
    drop("fiche_12345678200010.xml", content);
    auto claimed = dirs_->claim("fiche_12345678200010.xml");
    ASSERT_TRUE(claimed.has_value());
    finals.push_back(dirs_->archive(*claimed, date));
  }
  const fs::path day = root_ / "archive" / "2026" / "03" / "05";
  EXPECT_EQ(finals[0], day / "fiche_12345678200010.xml");
  EXPECT_EQ(finals[1], day / "fiche_12345678200010.xml.1");
  EXPECT_EQ(finals[2], day / "fiche_12345678200010.xml.2");
  EXPECT_EQ(read_file(finals[0]), "lundi");
  EXPECT_EQ(read_file(finals[2]), "mercredi");
  EXPECT_TRUE(entries(dirs_->work_dir()).empty());
}

// The reason file beside it is outbox/'s (tests/outbox/quarantine_reason_test.cpp).
TEST_F(InboxDirectoryTest, QuarantineMovesToErrorWithASuffixWhenTaken) {
  for (int i = 0; i < 2; ++i) {
    drop("vide.xml", "");
    auto claimed = dirs_->claim("vide.xml");
    ASSERT_TRUE(claimed.has_value());
    const fs::path final_path = dirs_->quarantine(*claimed);
    EXPECT_EQ(final_path, dirs_->error_dir() / (i == 0 ? "vide.xml" : "vide.xml.1"));
  }
  EXPECT_EQ(entries(dirs_->error_dir()), (std::vector<std::string>{"vide.xml", "vide.xml.1"}));
  EXPECT_TRUE(entries(dirs_->work_dir()).empty());
}

// Issue 20: the engine reserves a name in error/ (its reason file) before the original moves there;
// a name it refuses is skipped, a name already taken is never offered.
TEST_F(InboxDirectoryTest, QuarantineOffersEachFreeNameToReserveBeforeMoving) {
  drop("lot.xml", "un");
  auto first = dirs_->claim("lot.xml");
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(dirs_->quarantine(*first), dirs_->error_dir() / "lot.xml");
  drop("lot.xml", "deux");
  auto second = dirs_->claim("lot.xml");
  ASSERT_TRUE(second.has_value());
  std::vector<std::string> offered;
  const fs::path final_path = dirs_->quarantine(*second, [&](const std::string& candidate) {
    offered.push_back(candidate);
    EXPECT_TRUE(fs::exists(dirs_->work_dir() / "lot.xml")) << "réservé après le déplacement";
    return candidate != "lot.xml.1";  // lot.xml.1 is someone else's
  });
  EXPECT_EQ(offered, (std::vector<std::string>{"lot.xml.1", "lot.xml.2"}));
  EXPECT_EQ(final_path, dirs_->error_dir() / "lot.xml.2");
  EXPECT_EQ(read_file(final_path), "deux");
}

// Issue 20 (fault sweep: EIO on a pread64 of a claimed dépôt): the log said "SHA-256 : lecture
// impossible: Input/output error" without naming the file. Real EIO: /proc/self/mem.
TEST(ClaimedFileTest, AReadErrorWhileHashingNamesTheFile) {
  const int fd = ::open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const ClaimedFile file("lot.xml", "/proc/self/mem", fd);
  try {
    (void)file.sha256();
    ADD_FAILURE() << "std::system_error attendu";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EIO) << e.what();
    EXPECT_NE(std::string(e.what()).find("/proc/self/mem"), std::string::npos) << e.what();
  }
}

// Finding 5: the archived / quarantined original keeps at most rw-r----- minus files.umask.
TEST_F(InboxDirectoryTest, ArchivedAndQuarantinedOriginalsLoseTheUmaskBits) {
  const InboxDirectory strict(root_, 0077);
  const CivilDate date{std::chrono::year(2026), std::chrono::month(11), std::chrono::day(30)};
  drop("ok.xml");
  ASSERT_EQ(::chmod((dirs_->inbox_dir() / "ok.xml").c_str(), 0666), 0);
  drop("ko.xml");
  ASSERT_EQ(::chmod((dirs_->inbox_dir() / "ko.xml").c_str(), 0666), 0);
  auto ok = strict.claim("ok.xml");
  auto ko = strict.claim("ko.xml");
  ASSERT_TRUE(ok.has_value() && ko.has_value());
  const fs::path archived = strict.archive(*ok, date);
  const fs::path quarantined = strict.quarantine(*ko);
  struct stat st {};
  ASSERT_EQ(::lstat(archived.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::lstat(quarantined.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  // The default cap still holds with a loose umask, and no right is ever added.
  const InboxDirectory loose(root_, 0002);
  drop("a.xml");
  ASSERT_EQ(::chmod((dirs_->inbox_dir() / "a.xml").c_str(), 0666), 0);
  drop("b.xml");
  ASSERT_EQ(::chmod((dirs_->inbox_dir() / "b.xml").c_str(), 0400), 0);
  auto a = loose.claim("a.xml");
  auto b = loose.claim("b.xml");
  ASSERT_TRUE(a.has_value() && b.has_value());
  ASSERT_EQ(::lstat(loose.archive(*a, date).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  ASSERT_EQ(::lstat(loose.archive(*b, date).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0400u);
}

TEST_F(InboxDirectoryTest, WithoutAnExplicitUmaskTheProcessUmaskIsUsed) {
  const mode_t previous = ::umask(0077);
  const InboxDirectory from_process(root_);
  ::umask(previous);
  drop("p.xml");
  ASSERT_EQ(::chmod((dirs_->inbox_dir() / "p.xml").c_str(), 0666), 0);
  auto p = from_process.claim("p.xml");
  ASSERT_TRUE(p.has_value());
  const fs::path archived =
      from_process.archive(*p, CivilDate{std::chrono::year(2026), std::chrono::month(1), std::chrono::day(2)});
  struct stat st {};
  ASSERT_EQ(::lstat(archived.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

/// The message of the std::runtime_error `f` throws, "" when it throws nothing.
template <typename F>
std::string refusal_of(F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return {};
}

// Finding 8: the back-office (who may write inbox/) replaces inbox/.work by a symbolic link to the
// archive: the engine refuses to run instead of taking every archived original as a leftover.
TEST_F(InboxDirectoryTest, WorkDirectoryThatIsASymlinkIsRefused) {
  const CivilDate date{std::chrono::year(2026), std::chrono::month(11), std::chrono::day(30)};
  drop("00_referentiel.xml", "<a/>");
  auto first = dirs_->claim("00_referentiel.xml");
  ASSERT_TRUE(first.has_value());
  const fs::path archived = dirs_->archive(*first, date);
  first.reset();

  fs::remove(dirs_->work_dir());
  fs::create_directory_symlink("../archive/2026/11/30", dirs_->work_dir());
  drop("01_espace.xml", "<b/>");

  const std::string expected = dirs_->work_dir().string() + " est un lien symbolique : refusé";
  EXPECT_NE(refusal_of([&] { dirs_->ensure_layout(); }).find(expected), std::string::npos);
  EXPECT_NE(refusal_of([&] { (void)dirs_->recover_leftovers(); }).find(expected), std::string::npos);
  EXPECT_NE(refusal_of([&] { (void)dirs_->claim("01_espace.xml"); }).find(expected), std::string::npos);
  // Nothing moved: the archived original stays alone, the new dépôt waits in inbox/.
  EXPECT_EQ(entries(archived.parent_path()), (std::vector<std::string>{"00_referentiel.xml"}));
  EXPECT_EQ(entries(dirs_->inbox_dir()), (std::vector<std::string>{".work", "01_espace.xml"}));
}

TEST_F(InboxDirectoryTest, InboxThatIsASymlinkIsRefusedOutputDirectoriesMayBeLinks) {
  {
    const fs::path elsewhere = root_ / "ailleurs";
    fs::create_directory(elsewhere);
    fs::rename(dirs_->inbox_dir(), root_ / "inbox.vrai");
    fs::create_directory_symlink(elsewhere, dirs_->inbox_dir());
    EXPECT_NE(refusal_of([&] {
                dirs_->ensure_layout();
              }).find(dirs_->inbox_dir().string() + " est un lien symbolique : refusé"),
              std::string::npos);
    fs::remove(dirs_->inbox_dir());
    fs::rename(root_ / "inbox.vrai", dirs_->inbox_dir());
  }
  // archive/, error/ and outbox/ may live on other storage through a link: the engine only writes there.
  for (const fs::path& dir : {dirs_->archive_dir(), dirs_->error_dir(), dirs_->outbox_dir()}) {
    const fs::path elsewhere = root_ / ("ailleurs_" + dir.filename().string());
    fs::create_directory(elsewhere);
    fs::remove_all(dir);
    fs::create_directory_symlink(elsewhere, dir);
    EXPECT_NO_THROW(dirs_->ensure_layout()) << dir;
  }
  // The root itself may be a link (e.g. /var/lib/raccord -> /data/raccord).
  const fs::path link = root_.string() + "_lien";
  fs::create_directory_symlink(root_, link);
  const InboxDirectory through_link(link);
  EXPECT_NO_THROW(through_link.ensure_layout());
  fs::remove(link);
}

TEST_F(InboxDirectoryTest, RecoverLeftoversTakesUnlockedFilesAndSkipsLockedOnes) {
  // docs/field-cases.md F10: files stranded in .work/ by a crash are processed again at start-up,
  // but never one another live engine is working on.
  drop("en_cours.xml", "live");
  auto live = dirs_->claim("en_cours.xml");
  ASSERT_TRUE(live.has_value());
  {
    std::ofstream(dirs_->work_dir() / "b_stranded.xml") << "b";
    std::ofstream(dirs_->work_dir() / "a_stranded.xml") << "a";
  }
  fs::create_directory(dirs_->work_dir() / "dossier");
  fs::create_symlink(dirs_->work_dir() / "a_stranded.xml", dirs_->work_dir() / "lien.xml");

  auto recovered = dirs_->recover_leftovers();
  std::vector<std::string> names;
  names.reserve(recovered.size());
  for (const auto& f : recovered) names.push_back(f.name());
  EXPECT_EQ(names, (std::vector<std::string>{"a_stranded.xml", "b_stranded.xml"}));
  EXPECT_EQ(recovered[0].read_all(), "a");

  // While recovered, a second recovery (another engine) takes nothing.
  EXPECT_TRUE(dirs_->recover_leftovers().empty());
}

TEST_F(InboxDirectoryTest, RecoverLeftoversSeesLocksOfAnotherProcess) {
  std::ofstream(dirs_->work_dir() / "autre.xml") << "x";
  int to_child[2];
  int from_child[2];
  ASSERT_EQ(::pipe(to_child), 0);
  ASSERT_EQ(::pipe(from_child), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int fd = ::open((dirs_->work_dir() / "autre.xml").c_str(), O_RDONLY);
    const char ok = (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0) ? 'y' : 'n';
    (void)!::write(from_child[1], &ok, 1);
    char c = 0;
    (void)!::read(to_child[0], &c, 1);
    ::_exit(0);
  }
  char ok = 0;
  ASSERT_EQ(::read(from_child[0], &ok, 1), 1);
  ASSERT_EQ(ok, 'y');
  EXPECT_TRUE(dirs_->recover_leftovers().empty());
  const char go = 'g';
  ASSERT_EQ(::write(to_child[1], &go, 1), 1);
  int status = 0;
  ::waitpid(child, &status, 0);
  for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) ::close(fd);

  auto recovered = dirs_->recover_leftovers();
  ASSERT_EQ(recovered.size(), 1U);
  EXPECT_EQ(recovered[0].name(), "autre.xml");
}

TEST_F(InboxDirectoryTest, RecoverLeftoversRemovesTemporariesOfDeadProcessesOnly) {
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  // A pid that is certainly dead: a child that has exited and been reaped.
  const pid_t dead = ::fork();
  ASSERT_GE(dead, 0);
  if (dead == 0) ::_exit(0);
  ::waitpid(dead, nullptr, 0);

  const std::string dead_tmp = ".lot.xml." + std::string(host) + "." + std::to_string(dead) + ".tmp";
  const std::string live_tmp = ".lot.xml." + std::string(host) + "." + std::to_string(::getpid()) + ".tmp";
  const std::string other_host_tmp = ".lot.xml.autre-hote.example." + std::to_string(dead) + ".tmp";
  for (const auto& n : {dead_tmp, live_tmp, other_host_tmp}) std::ofstream(dirs_->work_dir() / n) << "partiel";

  EXPECT_TRUE(dirs_->recover_leftovers().empty());
  EXPECT_FALSE(fs::exists(dirs_->work_dir() / dead_tmp));
  EXPECT_TRUE(fs::exists(dirs_->work_dir() / live_tmp));
  EXPECT_TRUE(fs::exists(dirs_->work_dir() / other_host_tmp));
}

TEST_F(InboxDirectoryTest, ClaimedFileIsMovable) {
  drop("a.xml", "A");
  auto claimed = dirs_->claim("a.xml");
  ASSERT_TRUE(claimed.has_value());
  ClaimedFile moved(std::move(*claimed));
  EXPECT_EQ(moved.read_all(), "A");
}

// Issue 18 item 1: a stalled upload (a writer keeps the file open, nothing changes) is never taken;
// it is taken once the writer closed it.
TEST_F(InboxDirectoryTest, FileHeldOpenForWritingIsNeverTakenUntilClosed) {
  drop("lent.xml", "<Depot");
  const int writer = ::open((dirs_->inbox_dir() / "lent.xml").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(writer, 0);
  ClaimNotes notes;
  EXPECT_FALSE(dirs_->claim("lent.xml", files::DirectorySync::Now, &notes).has_value());
  EXPECT_EQ(notes.held_open, std::vector<std::string>{"lent.xml"});
  EXPECT_TRUE(fs::exists(dirs_->inbox_dir() / "lent.xml"));
  EXPECT_TRUE(entries(dirs_->work_dir()).empty());
  ASSERT_EQ(::write(writer, "/>", 2), 2);
  ::close(writer);
  ClaimNotes after;
  auto claimed = dirs_->claim("lent.xml", files::DirectorySync::Now, &after);
  ASSERT_TRUE(claimed.has_value());
  EXPECT_TRUE(after.held_open.empty());
  EXPECT_EQ(read_file(claimed->path()), "<Depot/>");
}

// The writer is another process (the SFTP server's): the lease is refused the same way.
TEST_F(InboxDirectoryTest, FileHeldOpenByAnotherProcessIsNotTaken) {
  drop("sftp.xml", "<Depot");
  int ready[2];
  int release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int fd = ::open((dirs_->inbox_dir() / "sftp.xml").c_str(), O_WRONLY | O_APPEND);
    char c = fd >= 0 ? 'o' : 'x';
    (void)::write(ready[1], &c, 1);
    (void)::read(release[0], &c, 1);
    (void)::write(fd, "/>", 2);
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'o');
  ClaimNotes notes;
  EXPECT_FALSE(dirs_->claim("sftp.xml", files::DirectorySync::Now, &notes).has_value());
  EXPECT_EQ(notes.held_open, std::vector<std::string>{"sftp.xml"});
  (void)::write(release[1], "g", 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  for (int fd : {ready[0], ready[1], release[0], release[1]}) ::close(fd);
  auto claimed = dirs_->claim("sftp.xml");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(read_file(claimed->path()), "<Depot/>");
}

// The file opened and checked is replaced under its name before the rename: what was renamed is
// not what was checked, so it goes back to inbox/ untouched and is not taken this time.
TEST_F(InboxDirectoryTest, FileReplacedBetweenOpenAndRenameIsPutBack) {
  drop("lot.xml", "<Depot>premier</Depot>");
  drop(".lot.xml.tmp", "<Depot>second</Depot>");
  dirs_->set_before_claim_rename(
      [&](const fs::path& source) { fs::rename(dirs_->inbox_dir() / ".lot.xml.tmp", source); });
  ClaimNotes notes;
  EXPECT_FALSE(dirs_->claim("lot.xml", files::DirectorySync::Now, &notes).has_value());
  EXPECT_EQ(notes.put_back, std::vector<std::string>{"lot.xml"});
  EXPECT_EQ(read_file(dirs_->inbox_dir() / "lot.xml"), "<Depot>second</Depot>");
  EXPECT_TRUE(entries(dirs_->work_dir()).empty());
  dirs_->set_before_claim_rename({});
  auto claimed = dirs_->claim("lot.xml");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(read_file(claimed->path()), "<Depot>second</Depot>");
}

// Issue 18 item 2: a 0600 file of another account cannot be opened by the engine's account: it is
// not claimed, stays where it is, is noted with its reason, and the dépôts after it are taken.
// The tests run as root, which opens everything: the claims run in a child as `nobody` over a root
// that nobody owns.
TEST_F(InboxDirectoryTest, FileTheEngineCannotOpenIsSkippedAndNeverBlocksTheOthers) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as another account";
  constexpr uid_t kNobody = 65534;
  drop("a_premier.xml");
  drop("b_prive.xml");
  drop("c_suivant.xml");
  for (const fs::path& p : {root_, dirs_->inbox_dir(), dirs_->work_dir(), dirs_->inbox_dir() / "a_premier.xml",
                            dirs_->inbox_dir() / "c_suivant.xml"}) {
    ASSERT_EQ(::chown(p.c_str(), kNobody, kNobody), 0);
  }
  ASSERT_EQ(::chown((dirs_->inbox_dir() / "b_prive.xml").c_str(), 4242, 4242), 0);  // another account
  ASSERT_EQ(::chmod((dirs_->inbox_dir() / "b_prive.xml").c_str(), 0600), 0);
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(out[0]);
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) _exit(2);
    std::string said;
    try {
      ClaimNotes notes;
      for (const char* name : {"a_premier.xml", "b_prive.xml", "c_suivant.xml"}) {
        auto claimed = dirs_->claim(name, files::DirectorySync::Now, &notes);
        said += std::string(name) + (claimed ? "=pris;" : "=laisse;");
      }
      for (const auto& [name, why] : notes.unopenable) said += "illisible:" + name + ";";
      if (notes.no_lease) said += "sans-bail;";
      for (const auto& e : dirs_->ignored_entries(std::chrono::system_clock::now())) {
        said += "ignore:" + e.name + (e.why.starts_with("illisible") ? "(illisible);" : ";");
      }
    } catch (const std::exception& e) {
      said = std::string("exception:") + e.what();
    }
    (void)::write(out[1], said.data(), said.size());
    _exit(0);
  }
  ::close(out[1]);
  std::string said;
  char buffer[512];
  for (ssize_t n; (n = ::read(out[0], buffer, sizeof buffer)) > 0;) said.append(buffer, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(said,
            "a_premier.xml=pris;b_prive.xml=laisse;c_suivant.xml=pris;illisible:b_prive.xml;"
            "ignore:b_prive.xml(illisible);");
  EXPECT_TRUE(fs::exists(dirs_->inbox_dir() / "b_prive.xml"));
  EXPECT_EQ(entries(dirs_->work_dir()), (std::vector<std::string>{"a_premier.xml", "c_suivant.xml"}));
}

// Issue 18: what is not a dépôt and sits in inbox/ for more than a day is listed (the nightly
// report's FichierIgnore rows); younger entries, dépôts and .work/ are not.
TEST_F(InboxDirectoryTest, IgnoredEntriesAreTheNonDepositsOlderThanADay) {
  const auto now = std::chrono::system_clock::now();
  drop("notes.txt", "a lire");
  drop("x.xml.part", "<Dep");
  drop(".cache.xml", "<Depot/>");
  drop("recent.tmp", "x");
  drop("vieux.xml", "<Depot/>");
  fs::create_directory(dirs_->inbox_dir() / "archives");
  const auto age = [&](const std::string& name, std::chrono::hours by) {
    const auto t = std::chrono::duration_cast<std::chrono::seconds>((now - by).time_since_epoch()).count();
    const struct timespec times[2] = {{t, 0}, {t, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (dirs_->inbox_dir() / name).c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
  };
  for (const char* name : {"notes.txt", "x.xml.part", ".cache.xml", "vieux.xml", "archives"})
    age(name, std::chrono::hours{72});
  age("recent.tmp", std::chrono::hours{23});
  std::vector<std::string> names;
  for (const auto& e : dirs_->ignored_entries(now)) {
    names.push_back(e.name);
    EXPECT_FALSE(e.why.empty());
    EXPECT_GT(now - e.modified, std::chrono::hours{71});
  }
  EXPECT_EQ(names, (std::vector<std::string>{".cache.xml", "archives", "notes.txt", "x.xml.part"}));
  EXPECT_EQ(dirs_->ignored_entries(now)[2].size, 6U);
  // A configured account's folder is a channel, never listed; a folder of no account is.
  names.clear();
  for (const auto& e : dirs_->ignored_entries(now, {"archives"})) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{".cache.xml", "notes.txt", "x.xml.part"}));
}

// Sender accounts (docs/accounts.md): an account's channel has its own inbox/NAME/,
// inbox/.work/NAME/ and outbox/NAME/; archive/ and error/ are shared.
TEST_F(InboxDirectoryTest, AccountChannelHasItsOwnFoldersCreated0750) {
  InboxDirectory acme(root_, std::nullopt, "acme");
  EXPECT_EQ(acme.inbox_dir(), root_ / "inbox" / "acme");
  EXPECT_EQ(acme.work_dir(), root_ / "inbox" / ".work" / "acme");
  EXPECT_EQ(acme.outbox_dir(), root_ / "outbox" / "acme");
  EXPECT_EQ(acme.archive_dir(), dirs_->archive_dir());
  EXPECT_EQ(acme.error_dir(), dirs_->error_dir());
  acme.ensure_layout();
  for (const auto& dir : {acme.inbox_dir(), acme.work_dir(), acme.outbox_dir()}) {
    EXPECT_TRUE(fs::is_directory(fs::symlink_status(dir))) << dir;
    EXPECT_EQ(static_cast<unsigned>(fs::status(dir).permissions()), 0750u) << dir;
  }
  // An existing folder keeps its mode (it is the operator's).
  fs::permissions(acme.inbox_dir(), fs::perms(0770));
  acme.ensure_layout();
  EXPECT_EQ(static_cast<unsigned>(fs::status(acme.inbox_dir()).permissions()), 0770u);
  // The root channel's candidates and leftovers never include an account's folders.
  drop("a.xml");
  EXPECT_EQ(dirs_->list_candidates(), (std::vector<std::string>{"a.xml"}));
  EXPECT_TRUE(dirs_->recover_leftovers().empty());
}

TEST_F(InboxDirectoryTest, AccountFolderThatIsALinkOrAFileIsRefusedNamingIt) {
  fs::create_directories(root_ / "ailleurs");
  for (const char* which : {"inbox", "outbox", "work"}) {
    testing::TempDir tmp{"raccord-inbox-account"};
    InboxDirectory base(tmp.path());
    base.ensure_layout();
    InboxDirectory acme(tmp.path(), std::nullopt, "acme");
    const fs::path dir = std::string(which) == "inbox"    ? acme.inbox_dir()
                         : std::string(which) == "outbox" ? acme.outbox_dir()
                                                          : acme.work_dir();
    fs::create_directory_symlink(root_ / "ailleurs", dir);
    try {
      acme.ensure_layout();
      ADD_FAILURE() << which << ": a symbolic link accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(dir.string()), std::string::npos) << e.what();
    }
    fs::remove(dir);
    std::ofstream(dir) << "x";
    EXPECT_THROW(acme.ensure_layout(), std::runtime_error) << which << ": a file accepted";
  }
}

TEST_F(InboxDirectoryTest, AccountChannelClaimsIntoItsWorkFolderAndRecoversItsLeftovers) {
  InboxDirectory acme(root_, std::nullopt, "acme");
  acme.ensure_layout();
  { std::ofstream(acme.inbox_dir() / "lot.xml") << "<Depot/>"; }
  {
    auto claimed = acme.claim("lot.xml");
    ASSERT_TRUE(claimed);
    EXPECT_EQ(claimed->path(), acme.work_dir() / "lot.xml");
    EXPECT_EQ(claimed->link_count(), 1U);
    EXPECT_EQ(claimed->owner_uid(), static_cast<std::uint32_t>(::geteuid()));
  }
  const auto leftovers = acme.recover_leftovers();
  ASSERT_EQ(leftovers.size(), 1U);
  EXPECT_EQ(leftovers[0].name(), "lot.xml");
  EXPECT_TRUE(dirs_->recover_leftovers().empty());  // not inbox/'s own
}

TEST_F(InboxDirectoryTest, SettledCandidatesOfSeveralChannelsShareOneQuietPeriod) {
  InboxDirectory acme(root_, std::nullopt, "acme");
  acme.ensure_layout();
  drop("a.xml");
  { std::ofstream(acme.inbox_dir() / "b.xml") << "<Depot/>"; }
  testing::FakeSteadyClock clock;
  const auto settled = InboxDirectory::settled_candidates({dirs_.get(), &acme}, milliseconds(300), clock);
  ASSERT_EQ(settled.size(), 2U);
  EXPECT_EQ(settled[0], (std::vector<std::string>{"a.xml"}));
  EXPECT_EQ(settled[1], (std::vector<std::string>{"b.xml"}));
  EXPECT_LE(clock.waited(), milliseconds(301));  // once, not once per channel
}

// Signed dépôts (docs/accounts.md "Signed dépôts"): the pair F.xml + F.xml.p7s.
TEST(IsSignatureName, IsADepotNameFollowedByP7s) {
  EXPECT_TRUE(InboxDirectory::is_signature_name("lot.xml.p7s"));
  EXPECT_TRUE(InboxDirectory::is_signature_name("LOT.XML.p7s"));
  EXPECT_FALSE(InboxDirectory::is_signature_name("lot.p7s"));
  EXPECT_FALSE(InboxDirectory::is_signature_name(".lot.xml.p7s"));
  EXPECT_FALSE(InboxDirectory::is_signature_name("lot.xml"));
  EXPECT_FALSE(InboxDirectory::is_deposit_name("lot.xml.p7s"));
  EXPECT_EQ(InboxDirectory::signature_name_for("lot.xml.1"), "lot.xml.1.p7s");
}

class SignedInboxTest : public InboxDirectoryTest {
 protected:
  void SetUp() override {
    InboxDirectoryTest::SetUp();
    dirs_ = std::make_unique<InboxDirectory>(root_, std::nullopt, "signe");
    dirs_->set_signature_required(true);
    dirs_->ensure_layout();
  }
  const CivilDate date_{std::chrono::year(2026), std::chrono::month(11), std::chrono::day(29)};
};

TEST_F(SignedInboxTest, SignatureIsNeverACandidateAndIsClaimedAfterItsDepot) {
  drop("lot.xml.p7s", "signature");
  drop("seul.xml.p7s", "orpheline");
  drop("lot.xml");
  EXPECT_EQ(dirs_->list_candidates(), std::vector<std::string>{"lot.xml"});
  std::vector<std::string> order;
  dirs_->set_before_claim_rename([&](const fs::path& p) { order.push_back(p.filename().string()); });
  dirs_->set_between_claim_renames([&](const fs::path& p) {
    order.push_back("entre");
    EXPECT_TRUE(fs::exists(p));                                   // the dépôt is claimed
    EXPECT_TRUE(fs::exists(dirs_->inbox_dir() / "lot.xml.p7s"));  // its .p7s not yet
  });
  auto claimed = dirs_->claim("lot.xml");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(order, (std::vector<std::string>{"lot.xml", "entre"}));
  ASSERT_NE(claimed->signature(), nullptr);
  EXPECT_EQ(claimed->signature()->read_all(), "signature");
  EXPECT_EQ(claimed->signature()->path(), dirs_->work_dir() / "lot.xml.p7s");
  EXPECT_EQ(entries(dirs_->inbox_dir()), std::vector<std::string>{"seul.xml.p7s"});
  const fs::path archived = dirs_->archive(*claimed, date_);
  EXPECT_EQ(read_file(archived.string() + ".p7s"), "signature");
  EXPECT_TRUE(entries(dirs_->work_dir()).empty());
}

TEST_F(SignedInboxTest, SignatureHeldOpenByAWriterKeepsItsDepotInTheInbox) {
  drop("lot.xml.p7s", "signature");
  drop("lot.xml");
  const int writer = ::open((dirs_->inbox_dir() / "lot.xml.p7s").c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(writer, 0);
  ClaimNotes notes;
  EXPECT_FALSE(dirs_->claim("lot.xml", files::DirectorySync::Now, &notes).has_value());
  EXPECT_EQ(notes.held_open, std::vector<std::string>{"lot.xml"});
  EXPECT_TRUE(fs::exists(dirs_->inbox_dir() / "lot.xml"));
  ::close(writer);
  auto claimed = dirs_->claim("lot.xml");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_NE(claimed->signature(), nullptr);
}

// A dépôt whose name has 252 to 255 bytes leaves no room for ".p7s" (ENAMETOOLONG): it is taken alone (its
// answer is SIGNATURE_ABSENTE), never a failure of the pass that kept every other dépôt of the engine waiting
// (hostile16: `raccord process` exited 1 at each pass).
TEST_F(SignedInboxTest, DepositNameWithNoRoomForItsSignatureIsTakenAlone) {
  const std::string name = std::string(251, 'L') + ".xml";
  drop(name);
  drop("ok.xml.p7s", "signature");
  drop("ok.xml");
  testing::FakeSteadyClock clock;
  EXPECT_EQ(dirs_->settled_candidates(milliseconds(300), clock), (std::vector<std::string>{name, "ok.xml"}));
  auto claimed = dirs_->claim(name);
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->signature(), nullptr);
  const fs::path archived = dirs_->quarantine(*claimed, {});
  EXPECT_EQ(archived.filename().string(), name);
  auto ok = dirs_->claim("ok.xml");
  ASSERT_TRUE(ok.has_value());
  EXPECT_NE(ok->signature(), nullptr);
}

TEST_F(SignedInboxTest, WithoutSignatureRequiredASignatureIsNeverTouched) {
  dirs_->set_signature_required(false);
  drop("lot.xml.p7s", "signature");
  drop("lot.xml");
  auto claimed = dirs_->claim("lot.xml");
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->signature(), nullptr);
  EXPECT_TRUE(fs::exists(dirs_->inbox_dir() / "lot.xml.p7s"));
}

TEST_F(SignedInboxTest, RecoveryTakesTheSignatureFromTheInboxAndFinishesAMoveFromItsNote) {
  // A crash between the claim's renames: the dépôt in .work/, its .p7s in inbox/.
  std::ofstream(dirs_->work_dir() / "a.xml") << "<Depot/>";
  drop("a.xml.p7s", "sig-a");
  // A crash between the two moves out: b.xml.1 archived, its .p7s and the note in .work/.
  std::ofstream(dirs_->work_dir() / "b.xml") << "<Depot b/>";
  std::ofstream(dirs_->work_dir() / "b.xml.p7s") << "sig-b";
  {
    auto leftovers = dirs_->recover_leftovers();
    ASSERT_EQ(leftovers.size(), 2u);
    EXPECT_EQ(leftovers[0].name(), "a.xml");
    ASSERT_NE(leftovers[0].signature(), nullptr);
    EXPECT_EQ(leftovers[0].signature()->read_all(), "sig-a");
    fs::create_directories(dirs_->archive_dir() / "2026" / "11" / "29");
    std::ofstream(dirs_->archive_dir() / "2026" / "11" / "29" / "b.xml") << "autre";  // taken: b.xml.1
    struct Stop {};
    dirs_->set_between_signature_moves([](const fs::path&) { throw Stop{}; });
    EXPECT_THROW(dirs_->archive(leftovers[1], date_), Stop);
    dirs_->set_between_signature_moves({});
    dirs_->archive(leftovers[0], date_);
  }
  const fs::path day = dirs_->archive_dir() / "2026" / "11" / "29";
  EXPECT_EQ(read_file(day / "b.xml.1"), "<Depot b/>");
  EXPECT_FALSE(fs::exists(day / "b.xml.1.p7s"));
  EXPECT_TRUE(dirs_->recover_leftovers().empty());  // the .p7s alone is never a leftover itself
  EXPECT_EQ(read_file(day / "b.xml.1.p7s"), "sig-b");
  EXPECT_FALSE(fs::exists(day / "b.xml.p7s"));
  EXPECT_EQ(read_file(day / "a.xml.p7s"), "sig-a");
  EXPECT_TRUE(entries(dirs_->work_dir()).empty());
  EXPECT_TRUE(entries(dirs_->inbox_dir()).empty());
  // A .p7s alone in .work/ without a note is left alone.
  std::ofstream(dirs_->work_dir() / "c.xml.p7s") << "sig-c";
  EXPECT_TRUE(dirs_->recover_leftovers().empty());
  EXPECT_EQ(entries(dirs_->work_dir()), std::vector<std::string>{"c.xml.p7s"});
}

// A crash between the claim's renames leaves the dépôt in .work/ and its .p7s in inbox/; when what is there
// under the .p7s name is a FIFO or a folder, the recovery takes the dépôt without a signature (its answer is
// SIGNATURE_ABSENTE, as a claim's) and never waits on the FIFO; both are left where they are (d1037f7: the
// recovery had its own copy of the open rules, without the regular-file check).
TEST_F(SignedInboxTest, RecoveryTakesAFifoOrAFolderLeftAsTheSignatureForNoSignature) {
  std::ofstream(dirs_->work_dir() / "a.xml") << "<Depot a/>";
  ASSERT_EQ(::mkfifo((dirs_->inbox_dir() / "a.xml.p7s").c_str(), 0600), 0);
  std::ofstream(dirs_->work_dir() / "b.xml") << "<Depot b/>";
  fs::create_directory(dirs_->inbox_dir() / "b.xml.p7s");
  auto leftovers = dirs_->recover_leftovers();
  ASSERT_EQ(leftovers.size(), 2u);
  EXPECT_EQ(leftovers[0].name(), "a.xml");
  EXPECT_EQ(leftovers[0].signature(), nullptr);
  EXPECT_EQ(leftovers[1].name(), "b.xml");
  EXPECT_EQ(leftovers[1].signature(), nullptr);
  EXPECT_TRUE(fs::is_fifo(dirs_->inbox_dir() / "a.xml.p7s"));
  EXPECT_TRUE(fs::is_directory(dirs_->inbox_dir() / "b.xml.p7s"));
}

// The destination note (docs/accounts.md "After a crash"): one symbolic link whose target is the dépôt's
// destination relative to the root (symlink(2): whole or absent, no temporary file written and renamed),
// read back by the recovery, which moves the .p7s left alone once and removes the note.
TEST_F(SignedInboxTest, DestinationNoteIsOneSymbolicLinkNamingTheDestination) {
  drop("lot.xml.p7s", "sig");
  drop("lot.xml", "<Depot/>");
  auto claimed = dirs_->claim("lot.xml");
  ASSERT_TRUE(claimed.has_value());
  const fs::path note = dirs_->work_dir() / ".lot.xml.destination";
  std::optional<fs::file_status> seen;
  std::string target;
  struct Stop {};
  dirs_->set_between_signature_moves([&](const fs::path&) {
    seen = fs::symlink_status(note);
    target = fs::read_symlink(note).string();
    throw Stop{};
  });
  EXPECT_THROW(dirs_->archive(*claimed, date_), Stop);
  dirs_->set_between_signature_moves({});
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->type(), fs::file_type::symlink);
  EXPECT_EQ(target, "archive/2026/11/29/lot.xml");
  // No temporary of the note beside it: the dépôt's .p7s and the note only.
  EXPECT_EQ(entries(dirs_->work_dir()), (std::vector<std::string>{".lot.xml.destination", "lot.xml.p7s"}));
  claimed.reset();  // the engine that stopped there is gone (its locks with it)
  EXPECT_TRUE(dirs_->recover_leftovers().empty());
  const fs::path day = dirs_->archive_dir() / "2026" / "11" / "29";
  EXPECT_EQ(read_file(day / "lot.xml"), "<Depot/>");
  EXPECT_EQ(read_file(day / "lot.xml.p7s"), "sig");
  EXPECT_TRUE(entries(dirs_->work_dir()).empty());
  EXPECT_TRUE(dirs_->recover_leftovers().empty());  // once
  EXPECT_EQ(entries(day), (std::vector<std::string>{"lot.xml", "lot.xml.p7s"}));
}

// Upgrade with leftovers: a note file written by the version before the symbolic link (one line, the
// destination relative to the root) still finishes its move; a note of either shape left behind by an
// earlier move of the same name is replaced by the next archive of that name, whose .p7s goes beside
// its own dépôt.
TEST_F(SignedInboxTest, RecoveryReadsANoteFileOfTheVersionBeforeAndStaleNotesAreReplaced) {
  const fs::path day = dirs_->archive_dir() / "2026" / "11" / "29";
  fs::create_directories(day);
  std::ofstream(day / "b.xml.1") << "<Depot b/>";
  std::ofstream(dirs_->work_dir() / "b.xml.p7s") << "sig-b";
  std::ofstream(dirs_->work_dir() / ".b.xml.destination") << "archive/2026/11/29/b.xml.1\n";
  EXPECT_TRUE(dirs_->recover_leftovers().empty());
  EXPECT_EQ(read_file(day / "b.xml.1.p7s"), "sig-b");
  EXPECT_TRUE(entries(dirs_->work_dir()).empty());

  for (const bool link : {false, true}) {
    const fs::path stale = dirs_->work_dir() / ".c.xml.destination";
    if (link) {
      fs::create_symlink("error/ailleurs.xml", stale);
    } else {
      std::ofstream(stale) << "error/ailleurs.xml\n";
    }
    drop("c.xml.p7s", "sig-c");
    drop("c.xml", "<Depot c/>");
    auto claimed = dirs_->claim("c.xml");
    ASSERT_TRUE(claimed.has_value());
    const fs::path archived = dirs_->archive(*claimed, date_);
    EXPECT_EQ(read_file(archived.string() + ".p7s"), "sig-c") << link;
    EXPECT_TRUE(entries(dirs_->work_dir()).empty()) << link;
  }
  EXPECT_FALSE(fs::exists(dirs_->error_dir() / "ailleurs.xml.p7s"));
  EXPECT_EQ(entries(day),
            (std::vector<std::string>{"b.xml.1", "b.xml.1.p7s", "c.xml", "c.xml.1", "c.xml.1.p7s", "c.xml.p7s"}));
}

// A note left behind once both moves are done (its unlink failed: the fault sweep's
// unlink:EIO:@.destination) is removed by the next recovery when neither the dépôt nor its .p7s is in
// .work/ and both are in place where it says; a note that still has work to say, or whose pair is not
// complete where it points, is left.
TEST_F(SignedInboxTest, RecoveryRemovesANoteLeftAfterBothMovesOnly) {
  drop("lot.xml.p7s", "sig");
  drop("lot.xml", "<Depot/>");
  fs::path archived;
  {
    auto claimed = dirs_->claim("lot.xml");
    ASSERT_TRUE(claimed.has_value());
    archived = dirs_->archive(*claimed, date_);
  }
  const fs::path note = dirs_->work_dir() / ".lot.xml.destination";
  const std::string destination = archived.lexically_relative(dirs_->archive_dir().parent_path()).string();
  EXPECT_EQ(destination, "archive/2026/11/29/lot.xml");
  fs::create_symlink(destination, note);  // what the failed unlink left
  // Pointing at a destination without its .p7s: left (nothing proves the pair was moved whole).
  const fs::path other = dirs_->work_dir() / ".seul.xml.destination";
  fs::create_symlink("archive/2026/11/29/seul.xml", other);
  std::ofstream(dirs_->archive_dir() / "2026" / "11" / "29" / "seul.xml") << "<Depot/>";
  // A pair still in .work/: its note is the move's, left (and finished by the move).
  const fs::path busy = dirs_->work_dir() / ".encours.xml.destination";
  fs::create_symlink("archive/2026/11/29/lot.xml", busy);
  std::ofstream(dirs_->work_dir() / "encours.xml.p7s") << "sig-encours";
  // A hidden name that is no note of this engine: left.
  std::ofstream(dirs_->work_dir() / ".autre.destination") << "archive/2026/11/29/lot.xml\n";

  EXPECT_TRUE(dirs_->recover_leftovers().empty());
  EXPECT_FALSE(fs::is_symlink(fs::symlink_status(note)));
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(other)));
  EXPECT_TRUE(fs::exists(dirs_->work_dir() / ".autre.destination"));
  EXPECT_EQ(read_file(archived), "<Depot/>");
  EXPECT_EQ(read_file(archived.string() + ".p7s"), "sig");
  // The .p7s alone moves where its note says... except that lot.xml.p7s is taken: it stays, noted.
  EXPECT_TRUE(fs::exists(dirs_->work_dir() / "encours.xml.p7s"));
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(busy)));
}

// The fault sweep's readlink:EIO:@.34_reprise_note.xml.destination: a note that is there but cannot be
// read was taken for no note, the .p7s left in .work/ by a pass that exited 0. It throws the system's
// error naming the note (the pass fails; the next one moves the .p7s). A real read error here: a note
// that is a directory (readlink: EINVAL, then read: EISDIR).
TEST_F(SignedInboxTest, ANoteThatCannotBeReadFailsTheRecoveryNamingIt) {
  std::ofstream(dirs_->work_dir() / "d.xml.p7s") << "sig-d";
  fs::create_directory(dirs_->work_dir() / ".d.xml.destination");
  try {
    (void)dirs_->recover_leftovers();
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EISDIR) << e.what();
    EXPECT_NE(std::string(e.what()).find(".d.xml.destination"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_file(dirs_->work_dir() / "d.xml.p7s"), "sig-d");
  // Once readable, the move is finished.
  fs::remove(dirs_->work_dir() / ".d.xml.destination");
  const fs::path day = dirs_->archive_dir() / "2026" / "11" / "29";
  fs::create_directories(day);
  std::ofstream(day / "d.xml") << "<Depot d/>";
  fs::create_symlink("archive/2026/11/29/d.xml", dirs_->work_dir() / ".d.xml.destination");
  EXPECT_TRUE(dirs_->recover_leftovers().empty());
  EXPECT_EQ(read_file(day / "d.xml.p7s"), "sig-d");
  EXPECT_TRUE(entries(dirs_->work_dir()).empty());
}

}  // namespace
}  // namespace raccord::inbox
