// Tests of files/atomic_file.cpp (SPEC.md §2 "Atomic outputs", FIELD-CASES F03, F04).
#include "files/atomic_file.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <system_error>
#include <vector>

#include "tests/support/files.hpp"

namespace raccord::files::detail {
// Test seam defined in files/atomic_file.cpp: the EXDEV fallback of move_no_replace.
bool move_by_copy(const std::filesystem::path& from, const std::filesystem::path& to);
}  // namespace raccord::files::detail

namespace raccord::files {
namespace {

namespace fs = std::filesystem;
using raccord::testing::entry_names;
using raccord::testing::read_file;
using raccord::testing::TempDir;
using raccord::testing::write_file;

TEST(WriteFileAtomically, WritesWholeFileAndLeavesNoTemporary) {
  TempDir dir;
  write_file_atomically(dir.path(), "ACK_lot42.xml", "<Accuse/>\n");
  EXPECT_EQ(read_file(dir.path() / "ACK_lot42.xml"), "<Accuse/>\n");
  EXPECT_EQ(entry_names(dir.path()), std::vector<std::string>{"ACK_lot42.xml"});
}

TEST(WriteFileAtomically, ReplacesExistingFile) {
  TempDir dir;
  write_file_atomically(dir.path(), "metrics.prom", "a 1\n");
  write_file_atomically(dir.path(), "metrics.prom", "a 2\n");
  EXPECT_EQ(read_file(dir.path() / "metrics.prom"), "a 2\n");
  EXPECT_EQ(entry_names(dir.path()).size(), 1U);
}

TEST(WriteFileAtomically, CreatesFilesWithMode0640BeforeUmask) {
  TempDir dir;
  const mode_t old = ::umask(0);
  write_file_atomically(dir.path(), "x.txt", "x");
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() / "x.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640U);
}

TEST(WriteFileAtomically, ThrowsSystemErrorWhenDirectoryIsMissing) {
  TempDir dir;
  try {
    write_file_atomically(dir.path() / "absent", "x.txt", "x");
    FAIL() << "expected std::system_error";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_NE(std::string(e.what()).find("absent"), std::string::npos);
  }
}

TEST(WriteFileAtomically, TemporaryNameStartsWithDotAndCarriesHostAndPid) {
  // A directory squatting the expected temporary name makes the write fail and names it.
  TempDir dir;
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  const std::string tmp = ".lot.xml." + std::string(host) + "." + std::to_string(::getpid()) + ".tmp";
  fs::create_directory(dir.path() / tmp);
  try {
    write_file_atomically(dir.path(), "lot.xml", "x");
    FAIL() << "expected std::system_error";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find(tmp), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir.path() / "lot.xml"));
}

TEST(WriteFileAtomically, RemovesTemporaryWhenRenameFails) {
  // A directory in the way of the final name makes the rename fail after the temporary exists;
  // the temporary must be removed and the error reported.
  TempDir dir;
  fs::create_directory(dir.path() / "busy");
  fs::create_directory(dir.path() / "busy" / "child");
  EXPECT_THROW(write_file_atomically(dir.path(), "busy", "x"), std::system_error);
  EXPECT_EQ(entry_names(dir.path()), std::vector<std::string>{"busy"});
}

TEST(CreateFileAtomically, NeverReplaces) {
  TempDir dir;
  EXPECT_TRUE(create_file_atomically(dir.path(), "ACK_a.xml", "first"));
  EXPECT_FALSE(create_file_atomically(dir.path(), "ACK_a.xml", "second"));
  EXPECT_EQ(read_file(dir.path() / "ACK_a.xml"), "first");
  EXPECT_EQ(entry_names(dir.path()), std::vector<std::string>{"ACK_a.xml"});
}

TEST(CreateFilesAtomically, CreatesEveryFreeNameAndKeepsTakenOnes) {
  TempDir dir;
  write_file(dir.path() / "ACK_b.xml", "before a crash");
  const std::vector<bool> created = create_files_atomically(
      dir.path(), {{"ACK_a.xml", "a"}, {"ACK_b.xml", "b"}, {"ACK_c.xml", std::string(100000, 'c')}});
  EXPECT_EQ(created, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(read_file(dir.path() / "ACK_a.xml"), "a");
  EXPECT_EQ(read_file(dir.path() / "ACK_b.xml"), "before a crash");
  EXPECT_EQ(read_file(dir.path() / "ACK_c.xml"), std::string(100000, 'c'));
  EXPECT_EQ(entry_names(dir.path()), (std::vector<std::string>{"ACK_a.xml", "ACK_b.xml", "ACK_c.xml"}));
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() / "ACK_a.xml").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0007, 0u);  // never world-readable
}

TEST(CreateFilesAtomically, MissingDirectoryThrowsAndLeavesNothing) {
  TempDir dir;
  EXPECT_THROW(create_files_atomically(dir.path() / "absent", {{"ACK_a.xml", "a"}}), std::system_error);
  EXPECT_TRUE(entry_names(dir.path()).empty());
}

TEST(CreateFilesAtomically, NothingToWriteIsNotAnError) {
  TempDir dir;
  EXPECT_TRUE(create_files_atomically(dir.path(), {}).empty());
}

TEST(FitName, CutsTheBaseAtACharacterBoundaryAndKeepsTheSuffix) {
  EXPECT_EQ(fit_name("lot.xml", ".reason.txt"), "lot.xml.reason.txt");
  EXPECT_EQ(fit_name(std::string(300, 'a'), ".1").size(), 255u);
  EXPECT_EQ(fit_name(std::string(300, 'a'), ".1").substr(253), ".1");
  // "é" is two bytes: never cut in the middle.
  std::string accents;
  for (int i = 0; i < 150; ++i) accents += "é";
  const std::string cut = fit_name(accents, ".reason.txt");
  EXPECT_LE(cut.size(), 255u);
  EXPECT_EQ(cut.substr(cut.size() - 11), ".reason.txt");
  EXPECT_EQ((cut.size() - 11) % 2, 0u);
  EXPECT_EQ(fit_name("abc", std::string(300, 's')).size(), 255u);
}

TEST(WriteFileAtomically, NameOfTheMaximumLengthGetsAShorterTemporary) {
  TempDir dir;
  const std::string name = std::string(250, 'n') + ".xml";  // 254 bytes: the temporary could not carry it whole
  write_file_atomically(dir.path(), name, "x");
  EXPECT_EQ(read_file(dir.path() / name), "x");
  EXPECT_EQ(entry_names(dir.path()), std::vector<std::string>{name});
}

TEST(MoveNoReplace, MovesWhenTargetIsFree) {
  TempDir dir;
  write_file(dir.path() / "a.xml", "A");
  EXPECT_TRUE(move_no_replace(dir.path() / "a.xml", dir.path() / "b.xml"));
  EXPECT_FALSE(fs::exists(dir.path() / "a.xml"));
  EXPECT_EQ(read_file(dir.path() / "b.xml"), "A");
}

TEST(MoveNoReplace, RefusesToReplaceAndKeepsBothFiles) {
  // FIELD-CASES F04: a second file with the same name never overwrites the first.
  TempDir dir;
  write_file(dir.path() / "a.xml", "A");
  write_file(dir.path() / "b.xml", "B");
  EXPECT_FALSE(move_no_replace(dir.path() / "a.xml", dir.path() / "b.xml"));
  EXPECT_EQ(read_file(dir.path() / "a.xml"), "A");
  EXPECT_EQ(read_file(dir.path() / "b.xml"), "B");
}

TEST(MoveNoReplace, MissingSourceIsASystemError) {
  TempDir dir;
  try {
    move_no_replace(dir.path() / "absent.xml", dir.path() / "b.xml");
    FAIL() << "expected std::system_error";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
  }
}

TEST(MoveByCopySeam, CopiesThenRemovesSourceWithoutTemporaries) {
  TempDir src;
  TempDir dst;
  const std::string content(200000, 'z');
  write_file(src.path() / "lot.xml", content);
  EXPECT_TRUE(detail::move_by_copy(src.path() / "lot.xml", dst.path() / "lot.xml"));
  EXPECT_FALSE(fs::exists(src.path() / "lot.xml"));
  EXPECT_EQ(read_file(dst.path() / "lot.xml"), content);
  EXPECT_EQ(entry_names(dst.path()), std::vector<std::string>{"lot.xml"});
}

TEST(MoveByCopySeam, RefusesToReplaceAndKeepsSource) {
  TempDir src;
  TempDir dst;
  write_file(src.path() / "lot.xml", "new");
  write_file(dst.path() / "lot.xml", "old");
  EXPECT_FALSE(detail::move_by_copy(src.path() / "lot.xml", dst.path() / "lot.xml"));
  EXPECT_EQ(read_file(src.path() / "lot.xml"), "new");
  EXPECT_EQ(read_file(dst.path() / "lot.xml"), "old");
  EXPECT_EQ(entry_names(dst.path()), std::vector<std::string>{"lot.xml"});
}

/// A tmpfs mounted for the test (root only), or /dev/shm when it is another filesystem.
class OtherFilesystem {
 public:
  OtherFilesystem() : local_("raccord_files", "/tmp") {
    mount_point_ = local_.path() / "mnt";
    fs::create_directory(mount_point_);
    if (::mount("tmpfs", mount_point_.c_str(), "tmpfs", 0, "size=16m") == 0) {
      mounted_ = true;
      path_ = mount_point_;
    }
  }
  ~OtherFilesystem() {
    if (mounted_) ::umount(mount_point_.c_str());
  }
  bool ok() const { return mounted_; }
  const fs::path& path() const { return path_; }
  const fs::path& local() const { return local_.path(); }

 private:
  TempDir local_;
  fs::path mount_point_;
  fs::path path_;
  bool mounted_ = false;
};

TEST(MoveNoReplace, FallsBackToCopyOnExdevAcrossATmpfs) {
  // FIELD-CASES F03: archive/ on another filesystem.
  OtherFilesystem other;
  if (!other.ok()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  struct stat a {};
  struct stat b {};
  ASSERT_EQ(::stat(other.local().c_str(), &a), 0);
  ASSERT_EQ(::stat(other.path().c_str(), &b), 0);
  ASSERT_NE(a.st_dev, b.st_dev);

  write_file(other.local() / "lot.xml", "<Depot/>");
  const fs::path final_path =
      move_with_suffix(other.local() / "lot.xml", other.path() / "2026" / "11" / "29", "lot.xml");
  EXPECT_EQ(final_path, other.path() / "2026" / "11" / "29" / "lot.xml");
  EXPECT_EQ(read_file(final_path), "<Depot/>");
  EXPECT_FALSE(fs::exists(other.local() / "lot.xml"));

  // Same name again across filesystems: suffix, first one untouched, no temporaries left.
  write_file(other.local() / "lot.xml", "<Depot v='2'/>");
  const fs::path second = move_with_suffix(other.local() / "lot.xml", other.path() / "2026" / "11" / "29", "lot.xml");
  EXPECT_EQ(second.filename(), "lot.xml.1");
  EXPECT_EQ(read_file(final_path), "<Depot/>");
  EXPECT_EQ(read_file(second), "<Depot v='2'/>");
  EXPECT_EQ(entry_names(other.path() / "2026" / "11" / "29"), (std::vector<std::string>{"lot.xml", "lot.xml.1"}));
}

TEST(MoveWithSuffix, AddsSuffixAfterTheWholeName) {
  // SPEC.md §2: lot.xml, lot.xml.1, lot.xml.2 ... ; FIELD-CASES F04: nothing overwritten.
  TempDir dir;
  const fs::path target = dir.path() / "archive" / "2026" / "11" / "29";
  std::vector<std::string> finals;
  for (int i = 0; i < 3; ++i) {
    write_file(dir.path() / "lot.xml", "v" + std::to_string(i));
    finals.push_back(move_with_suffix(dir.path() / "lot.xml", target, "lot.xml").filename().string());
  }
  EXPECT_EQ(finals, (std::vector<std::string>{"lot.xml", "lot.xml.1", "lot.xml.2"}));
  EXPECT_EQ(read_file(target / "lot.xml"), "v0");
  EXPECT_EQ(read_file(target / "lot.xml.2"), "v2");
}

TEST(FreeName, NumbersFromTwoBeforeTheExtension) {
  TempDir dir;
  EXPECT_EQ(free_name(dir.path(), "ACK_lot_20261129T221004Z", ".xml"), "ACK_lot_20261129T221004Z.xml");
  write_file(dir.path() / "ACK_lot_20261129T221004Z.xml", "");
  EXPECT_EQ(free_name(dir.path(), "ACK_lot_20261129T221004Z", ".xml"), "ACK_lot_20261129T221004Z_2.xml");
  write_file(dir.path() / "ACK_lot_20261129T221004Z_2.xml", "");
  EXPECT_EQ(free_name(dir.path(), "ACK_lot_20261129T221004Z", "xml"), "ACK_lot_20261129T221004Z_3.xml");
}

TEST(SyncDirectory, ThrowsForMissingDirectory) {
  TempDir dir;
  EXPECT_NO_THROW(sync_directory(dir.path()));
  EXPECT_THROW(sync_directory(dir.path() / "absent"), std::system_error);
}

}  // namespace
}  // namespace raccord::files
