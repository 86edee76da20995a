// Faults of the filesystem under the engine (issue 8; docs/reference.md §2 "Exactly once", "Atomic outputs"):
// a full outbox, a full archive on another filesystem, a read-only outbox, a vanished inbox. Each
// time the pass reports the fault (it throws: `raccord process` exits 1 with the message, the daemon
// logs it and tries again at its next rescan), the dépôt is kept in inbox/.work/ with its effects
// committed once, and the next pass after the fault is gone answers it from its record: one accusé,
// effects applied once, the original archived. The faults are real mounts (tmpfs with a size, a
// read-only bind mount), so these tests need root; they are skipped elsewhere.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <fstream>
#include <system_error>

#include "tests/support/engine_fixture.hpp"

namespace raccord::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

/// A mount over an existing directory for the length of a test; umounted (lazily) on destruction.
class Mount {
 public:
  /// A tmpfs of `size` (e.g. "64k") over `dir` (its previous content hidden meanwhile).
  static Mount tmpfs(const fs::path& dir, const std::string& size) {
    Mount m(dir);
    m.mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size + ",mode=0750").c_str()) == 0;
    return m;
  }
  /// `dir` bound onto itself read-only (EROFS even for root).
  static Mount read_only(const fs::path& dir) {
    Mount m(dir);
    if (::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) != 0) return m;
    m.mounted_ = true;
    if (::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0) m.release();
    return m;
  }
  Mount(Mount&& other) noexcept : dir_(std::move(other.dir_)), mounted_(other.mounted_) { other.mounted_ = false; }
  Mount& operator=(Mount&&) = delete;
  ~Mount() { release(); }
  bool ok() const { return mounted_; }
  void release() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    mounted_ = false;
  }

 private:
  explicit Mount(fs::path dir) : dir_(std::move(dir)) {}
  fs::path dir_;
  bool mounted_ = false;
};

/// Fills the filesystem of `dir` with one file until ENOSPC. Returns its path.
fs::path fill(const fs::path& dir) {
  const fs::path filler = dir / ".remplissage";
  std::ofstream out(filler, std::ios::binary);
  const std::string block(4096, 'x');
  for (int i = 0; i < 1 << 20 && out; ++i) out.write(block.data(), static_cast<std::streamsize>(block.size()));
  return filler;
}

class FaultInjectionTest : public EngineTest {
 protected:
  /// Drops a one-user dépôt and runs a pass that must fail with a std::system_error; returns its text.
  std::string failing_pass(const std::string& name, const std::string& login) {
    drop_file(inbox(), name, depot_xml(user_xml(login)));
    try {
      engine().process_pass();
    } catch (const std::system_error& e) {
      return e.what();
    }
    ADD_FAILURE() << "the pass did not report the fault";
    return {};
  }
  /// After the fault: the dépôt was committed once and waits in .work/, without any accusé.
  void expect_kept(const std::string& name, const std::string& login) {
    EXPECT_THAT(files_in(work()), ElementsAre(name));
    EXPECT_THAT(files_in(inbox()), IsEmpty());
    EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login = $1", {login}), 1);
    EXPECT_EQ(count("SELECT COUNT(*) FROM deposits WHERE file_name = $1", {name}), 1);
  }
  /// The next pass answers it from its record: one INTEGRE accusé, archived, applied once.
  void expect_recovered(const std::string& name, const std::string& login) {
    const PassSummary summary = engine().process_pass();
    ASSERT_EQ(summary.processed, 1);
    const ParsedAck ack = read_ack(summary.acknowledgements.front());
    EXPECT_EQ(ack.fichier, name);
    EXPECT_EQ(ack.statut, "INTEGRE");
    EXPECT_THAT(files_in(outbox()), ElementsAre(ack.name));
    EXPECT_THAT(files_in(archive_day()), ElementsAre(name));
    EXPECT_THAT(files_in(work()), IsEmpty());
    EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login = $1", {login}), 1);
    EXPECT_EQ(count("SELECT COUNT(*) FROM deposits WHERE file_name = $1", {name}), 1);
    EXPECT_EQ(engine().process_pass().processed, 0);
  }
};

TEST_F(FaultInjectionTest, FullOutboxKeepsTheDepotUntilThereIsRoom) {
  start();
  Mount outbox_fs = Mount::tmpfs(outbox(), "256k");
  if (!outbox_fs.ok()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  const fs::path filler = fill(outbox());
  const std::string what = failing_pass("plein.xml", "u.plein");
  EXPECT_NE(what.find(outbox().string()), std::string::npos) << what;
  EXPECT_EQ(what.find("No space left") == std::string::npos && what.find("ENOSPC") == std::string::npos &&
                what.find("espace") == std::string::npos,
            false)
      << what;
  expect_kept("plein.xml", "u.plein");
  EXPECT_THAT(files_in(outbox()), IsEmpty());  // no half-written accusé, no temporary left
  fs::remove(filler);
  expect_recovered("plein.xml", "u.plein");
}

TEST_F(FaultInjectionTest, FullArchiveOnAnotherFilesystemKeepsTheOriginal) {
  start();
  fs::create_directories(config_.root / "archive");
  Mount archive_fs = Mount::tmpfs(config_.root / "archive", "256k");
  if (!archive_fs.ok()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  const fs::path filler = fill(config_.root / "archive");
  failing_pass("archive.xml", "u.archive");
  expect_kept("archive.xml", "u.archive");
  // The accusé is out (it follows the commit); the original waits, whole, in .work/.
  ASSERT_EQ(files_in(outbox()).size(), 1u);
  EXPECT_EQ(read_file(work() / "archive.xml"), depot_xml(user_xml("u.archive")));
  fs::remove(filler);
  const PassSummary summary = engine().process_pass();
  EXPECT_EQ(summary.processed, 1);
  EXPECT_EQ(files_in(outbox()).size(), 1u);  // the same accusé, not a second one
  EXPECT_THAT(files_in(archive_day()), ElementsAre("archive.xml"));
  EXPECT_THAT(files_in(work()), IsEmpty());
  EXPECT_EQ(count("SELECT COUNT(*) FROM users WHERE login = 'u.archive'"), 1);
}

TEST_F(FaultInjectionTest, ReadOnlyOutboxKeepsTheDepotUntilItIsWritable) {
  start();
  Mount read_only = Mount::read_only(outbox());
  if (!read_only.ok()) GTEST_SKIP() << "cannot bind-mount read-only here (needs root)";
  const std::string what = failing_pass("lecture_seule.xml", "u.ro");
  EXPECT_NE(what.find(outbox().string()), std::string::npos) << what;
  expect_kept("lecture_seule.xml", "u.ro");
  read_only.release();
  expect_recovered("lecture_seule.xml", "u.ro");
}

TEST_F(FaultInjectionTest, VanishedInboxIsReportedAndTheNextPassWorksOnceItIsBack) {
  start();
  fs::rename(inbox(), config_.root / "inbox.ailleurs");
  EXPECT_THROW(engine().process_pass(), std::system_error);
  EXPECT_FALSE(fs::exists(inbox()));  // never recreated behind the operator's back (it may be a mount)
  fs::rename(config_.root / "inbox.ailleurs", inbox());
  drop_file(inbox(), "retour.xml", depot_xml(user_xml("u.retour")));
  const PassSummary summary = engine().process_pass();
  ASSERT_EQ(summary.processed, 1);
  EXPECT_EQ(read_ack(summary.acknowledgements.front()).statut, "INTEGRE");
}

}  // namespace
}  // namespace raccord::testing
