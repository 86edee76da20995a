// Tests of files/atomic_file.cpp (docs/reference.md §2 "Atomic outputs", docs/field-cases.md F03, F04).
#include "files/atomic_file.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <set>
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

// Issue 20 (fault sweep: EROFS on opening an export's temporary, ENOSPC on writing it): the stream
// went through std::ofstream and every failure was reported as EIO ("Input/output error"), whatever
// the system said. The real input: a file size limit (RLIMIT_FSIZE), on which write(2) fails with
// EFBIG; the error thrown carries EFBIG and names the temporary, which is removed.
TEST(AtomicFileStreamTest, AWriteThatFailsThrowsTheSystemsErrorNamingTheTemporary) {
  TempDir dir;
  struct rlimit old_limit {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  struct sigaction ignore {
  }, old_action{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &old_action), 0);
  struct rlimit small = old_limit;
  small.rlim_cur = 1000;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  int error = 0;
  std::string what;
  try {
    AtomicFileStream file(dir.path(), "EXPORT_EDI_req.csv");
    for (int i = 0; i < 20000; ++i) file.stream() << "ligne " << i << ";valeur\n";
    (void)file.commit();
  } catch (const std::system_error& e) {
    error = e.code().value();
    what = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  ::sigaction(SIGXFSZ, &old_action, nullptr);
  EXPECT_EQ(error, EFBIG) << what;
  EXPECT_NE(what.find(".EXPORT_EDI_req.csv."), std::string::npos) << what;
  EXPECT_TRUE(entry_names(dir.path()).empty());
}

TEST(AtomicFileStreamTest, CommitWritesTheWholeStream) {
  TempDir dir;
  std::string expected;
  {
    AtomicFileStream file(dir.path(), "EXPORT_API_req.xml");
    for (int i = 0; i < 20000; ++i) {  // more than one buffer
      file.stream() << "<l n=\"" << i << "\"/>\n";
      expected += "<l n=\"" + std::to_string(i) + "\"/>\n";
    }
    EXPECT_TRUE(file.commit());
  }
  EXPECT_EQ(read_file(dir.path() / "EXPORT_API_req.xml"), expected);
  EXPECT_EQ(entry_names(dir.path()), std::vector<std::string>{"EXPORT_API_req.xml"});
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

TEST(TemporaryName, StartsWithDotAndCarriesSerialHostAndPid) {
  EXPECT_EQ(detail::temporary_name("lot.xml", "hote", 12, 3), ".lot.xml.3.hote.12.tmp");
  EXPECT_NE(detail::temporary_name("lot.xml", "hote", 12, 3), detail::temporary_name("lot.xml", "hote", 12, 4));
  EXPECT_NE(detail::temporary_name("lot.xml", "hote", 12, 3), detail::temporary_name("lot.xml", "hote", 13, 3));
  EXPECT_NE(detail::temporary_name("lot.xml", "hote", 12, 3), detail::temporary_name("lot.xml", "autre", 12, 3));
}

// Regression (hostile finding 2): two names sharing their first bytes were cut to one temporary, the
// second overwrote the first. With the longest host name Linux allows (64 bytes) and 255-byte names,
// temporaries of distinct names (and of one name twice) stay distinct, fit, and keep host and pid.
TEST(TemporaryName, DistinctForLongNamesSharingTheirFirstBytesWhateverTheHostLength) {
  for (const std::string& host : {std::string("h"), std::string(30, 'h'), std::string(64, 'h')}) {
    const std::string a = std::string(250, 'x') + "a.xml";  // 255 bytes
    const std::string b = std::string(250, 'x') + "b.xml";
    std::set<std::string> seen;
    std::uint64_t serial = 0;
    for (const std::string& name : {a, b, a, std::string(210, 'x') + "c.xml"}) {
      const std::string tmp = detail::temporary_name(name, host, 4194304, ++serial);
      EXPECT_LE(tmp.size(), 255u) << host.size();
      EXPECT_EQ(tmp.front(), '.');
      EXPECT_TRUE(tmp.ends_with("." + host + ".4194304.tmp")) << tmp;
      EXPECT_TRUE(seen.insert(tmp).second) << tmp;
    }
  }
  // A cut never falls inside a UTF-8 sequence ("é" is C3 A9).
  std::string accents;
  for (int i = 0; i < 127; ++i) accents += "é";
  for (std::uint64_t serial : {1u, 12u, 123u}) {
    const std::string tmp = detail::temporary_name(accents, std::string(64, 'h'), 1, serial);
    const std::string head = tmp.substr(1, tmp.find('~') - 1);
    EXPECT_EQ(head.size() % 2, 0u) << tmp;
    EXPECT_EQ(head.find_first_not_of("\xC3\xA9"), std::string::npos);
  }
}

// Regression (hostile finding 2): the accusés of two dépôts whose names share their first 235 bytes,
// written together, each hold their own content (the second temporary replaced the first).
TEST(CreateFilesAtomically, TwoAndThreeLongNamesSharingTheirFirstBytesKeepTheirContents) {
  TempDir dir;
  std::vector<std::pair<std::string, std::string>> files;
  for (const char* end : {"a", "b", "c"}) {
    files.emplace_back(std::string(247, 'p') + end + "_2.xml", end);  // 255 bytes
  }
  const std::vector<bool> created = create_files_atomically(dir.path(), files);
  EXPECT_EQ(created, (std::vector<bool>{true, true, true}));
  for (const auto& [name, content] : files) EXPECT_EQ(read_file(dir.path() / name), content) << name;
  EXPECT_EQ(entry_names(dir.path()).size(), 3u);
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

// Issue 21: metrics.prom, rewritten after each group, is replaced whole but not made durable (two
// fsyncs fewer per group); what readers see must stay the old file or the new one, never a part.
TEST(ReplaceFile, ReplacesTheFileWholeWithMode0640AndLeavesNoTemporary) {
  TempDir dir;
  const mode_t old = ::umask(0);
  replace_file(dir.path(), "metrics.prom", "a 1\n");
  replace_file(dir.path(), "metrics.prom", std::string(300000, 'b'));
  ::umask(old);
  EXPECT_EQ(read_file(dir.path() / "metrics.prom"), std::string(300000, 'b'));
  EXPECT_EQ(entry_names(dir.path()), std::vector<std::string>{"metrics.prom"});
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() / "metrics.prom").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640U);
}

TEST(ReplaceFile, AFailedRenameThrowsAndLeavesNoTemporary) {
  TempDir dir;
  fs::create_directory(dir.path() / "busy");
  fs::create_directory(dir.path() / "busy" / "child");
  EXPECT_THROW(replace_file(dir.path(), "busy", "x"), std::system_error);
  EXPECT_EQ(entry_names(dir.path()), std::vector<std::string>{"busy"});
  try {
    replace_file(dir.path() / "absent", "metrics.prom", "x");
    FAIL() << "expected std::system_error";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_NE(std::string(e.what()).find("absent"), std::string::npos);
  }
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

// The names are no longer looked up before the temporaries are written (issue 21: a system call per
// accusé); the rename without replacing answers every kind of entry already there, and leaves no
// temporary behind.
TEST(CreateFilesAtomically, ANameTakenByALinkADirectoryOrADanglingLinkIsKept) {
  TempDir dir;
  write_file(dir.path() / "cible.xml", "cible");
  fs::create_symlink("cible.xml", dir.path() / "ACK_lien.xml");
  fs::create_symlink("absent.xml", dir.path() / "ACK_casse.xml");
  fs::create_directory(dir.path() / "ACK_dossier.xml");
  const std::vector<bool> created = create_files_atomically(
      dir.path(), {{"ACK_lien.xml", "l"}, {"ACK_a.xml", "a"}, {"ACK_casse.xml", "c"}, {"ACK_dossier.xml", "d"}});
  EXPECT_EQ(created, (std::vector<bool>{false, true, false, false}));
  EXPECT_EQ(read_file(dir.path() / "cible.xml"), "cible");
  EXPECT_EQ(fs::read_symlink(dir.path() / "ACK_lien.xml"), "cible.xml");
  EXPECT_EQ(fs::read_symlink(dir.path() / "ACK_casse.xml"), "absent.xml");
  EXPECT_TRUE(fs::is_directory(dir.path() / "ACK_dossier.xml"));
  EXPECT_EQ(read_file(dir.path() / "ACK_a.xml"), "a");
  EXPECT_EQ(entry_names(dir.path()),
            (std::vector<std::string>{"ACK_a.xml", "ACK_casse.xml", "ACK_dossier.xml", "ACK_lien.xml", "cible.xml"}));
}

// The pid in temporary names is asked of the kernel once per process (issue 21): a child made by fork()
// after its parent named a temporary names its own with its own pid, so that the start-up clean-up
// never takes a live child's temporary for a dead process's, nor the reverse.
TEST(TemporaryName, AChildAfterForkNamesItsTemporariesWithItsOwnPid) {
  TempDir dir;
  AtomicFileStream parent_stream(dir.path(), "parent.xml");
  const std::string parent_name = parent_stream.keep();
  EXPECT_EQ(temporary_pid(parent_name, host_name()), static_cast<long>(::getpid()));
  const pid_t child = ::fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    int code = 1;
    try {
      AtomicFileStream child_stream(dir.path(), "enfant.xml");
      const std::string child_name = child_stream.keep();
      code = temporary_pid(child_name, host_name()) == static_cast<long>(::getpid()) ? 0 : 2;
    } catch (...) {  // NOLINT(bugprone-empty-catch): reported by the exit code
      code = 3;
    }
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(temporary_pid(parent_name, host_name()), static_cast<long>(::getpid()));
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
  EXPECT_EQ((cut.size() - 11 - 17) % 2, 0u);  // 17: "~" and the hash of the whole name
  EXPECT_EQ(fit_name("abc", std::string(300, 's')).size(), 255u);
}

TEST(FitName, ANameThatFitsIsUnchanged) {
  EXPECT_EQ(fit_name("ACK_lot42", "_20261129T221004Z"), "ACK_lot42_20261129T221004Z");
  const std::string fits = std::string(244, 'a');
  EXPECT_EQ(fit_name(fits, ".reason.txt"), fits + ".reason.txt");  // 255 bytes exactly
}

// Regression (hostile finding 3): two names sharing their first bytes were cut to one name (one
// reason file for two originals). A cut name carries the hash of the whole base: distinct bases give
// distinct names, the same base the same name, always within the limit and at a character boundary.
TEST(FitName, CutNamesOfDistinctBasesStayDistinct) {
  const std::string a = std::string(244, 'n') + "a.xml";  // 249 bytes
  const std::string b = std::string(244, 'n') + "b.xml";
  const std::string c = std::string(244, 'n') + "c.xml";
  const std::set<std::string> reasons{fit_name(a, ".reason.txt"), fit_name(b, ".reason.txt"),
                                      fit_name(c, ".reason.txt")};
  EXPECT_EQ(reasons.size(), 3u);
  for (const auto& r : reasons) {
    EXPECT_EQ(r.size(), 255u);
    EXPECT_TRUE(r.ends_with(".reason.txt")) << r;
    EXPECT_TRUE(r.starts_with(std::string(200, 'n'))) << r;
  }
  EXPECT_EQ(fit_name(a, ".reason.txt"), fit_name(a, ".reason.txt"));
  // 255-byte names: the archive suffix ".1".
  const std::string long_a = std::string(250, 'n') + "a.xml";
  const std::string long_b = std::string(250, 'n') + "b.xml";
  EXPECT_NE(fit_name(long_a, ".1"), fit_name(long_b, ".1"));
  EXPECT_NE(fit_name(long_a, ".1"), fit_name(long_a, ".2"));
  // A cut within multi-byte characters (2, 3 and 4 bytes) keeps whole characters.
  for (const std::string& ch : {std::string("é"), std::string("€"), std::string("😀")}) {
    for (std::size_t pad = 0; pad < 4; ++pad) {
      std::string base(pad, 'x');
      while (base.size() < 300) base += ch;
      const std::string cut = fit_name(base, ".reason.txt");
      EXPECT_LE(cut.size(), 255u);
      const std::string head = cut.substr(0, cut.find('~'));
      EXPECT_EQ((head.size() - pad) % ch.size(), 0u) << ch << " " << pad;
      EXPECT_EQ(cut.size() - head.size(), 1 + 16 + 11u);
    }
  }
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
  // docs/field-cases.md F04: a second file with the same name never overwrites the first.
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
  // docs/field-cases.md F03: archive/ on another filesystem.
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
  // docs/reference.md §2: lot.xml, lot.xml.1, lot.xml.2 ... ; docs/field-cases.md F04: nothing overwritten.
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

// Regression (hostile findings 2 and 3, the archive suffix): 255-byte names sharing their first 253
// bytes, each kept twice in one folder: each copy's name derives from its own name (the ".1" of the
// second was the first's, cut alike, so it got ".2"). (Dépôt names end in ".xml": theirs differ
// before their last 4 bytes, so only suffixes of 5 bytes or more, ".1000" on, met this way.)
TEST(MoveWithSuffix, SuffixesOfLongNamesSharingTheirFirstBytesStayTheirOwn) {
  TempDir dir;
  const fs::path target = dir.path() / "archive";
  std::vector<std::string> finals;
  for (const char* end : {"a", "b", "c"}) {
    const std::string name = std::string(253, 'n') + end + "x";
    for (int i = 0; i < 2; ++i) {
      write_file(dir.path() / "w", std::string(end) + std::to_string(i));
      finals.push_back(move_with_suffix(dir.path() / "w", target, name).filename().string());
    }
    EXPECT_EQ(finals[finals.size() - 2], name);
    EXPECT_EQ(finals.back(), fit_name(name, ".1"));
    EXPECT_EQ(read_file(target / finals.back()), std::string(end) + "1");
  }
  EXPECT_EQ(std::set<std::string>(finals.begin(), finals.end()).size(), 6u);
}

// bench/README.md "Same kind": the free name after n same-named originals costs O(log n) probes, not n.
TEST(FirstFreeSuffix, FindsTheFirstFreeIndexAfterAPrefixInLogarithmicProbes) {
  for (int n = 1; n <= 1100; ++n) {  // taken: 0 .. n-1
    int probes = 0;
    const int found = first_free_suffix(
        [&](int i) {
          ++probes;
          return i < n;
        },
        1'000'000);
    ASSERT_EQ(found, n);
    EXPECT_LE(probes, 2 * static_cast<int>(std::ceil(std::log2(n + 1))) + 2) << n;
  }
  // After a gap: some free index, never a taken one.
  const std::set<int> taken{0, 1, 2, 4, 5, 6, 7, 8};
  const int found = first_free_suffix([&](int i) { return taken.count(i) > 0; }, 1'000'000);
  EXPECT_EQ(taken.count(found), 0u);
  // Every index up to the maximum taken: none.
  EXPECT_EQ(first_free_suffix([](int) { return true; }, 1000), 1001);
  int probes = 0;  // a bound near INT_MAX: no overflow on the way, about 31 probes
  EXPECT_EQ(first_free_suffix(
                [&](int) {
                  ++probes;
                  return true;
                },
                (1 << 30) + 7),
            (1 << 30) + 8);
  EXPECT_LE(probes, 33);
  EXPECT_EQ(first_free_suffix([](int) { return true; }, 0), 1);
}

TEST(MoveWithSuffix, AfterManySameNamedOriginalsTheNextTakesTheFirstFreeSuffix) {
  TempDir dir;
  const fs::path target = dir.path() / "error";
  fs::create_directories(target);
  write_file(target / "lot.xml", "0");
  for (int i = 1; i < 300; ++i) write_file(target / ("lot.xml." + std::to_string(i)), std::to_string(i));
  write_file(dir.path() / "lot.xml", "nouveau");
  std::vector<std::string> reserved;
  const fs::path final =
      move_with_suffix(dir.path() / "lot.xml", target, "lot.xml", DirectorySync::Now, [&](const std::string& name) {
        reserved.push_back(name);
        return true;
      });
  EXPECT_EQ(final.filename(), "lot.xml.300");
  EXPECT_EQ(read_file(final), "nouveau");
  EXPECT_EQ(reserved, std::vector<std::string>{"lot.xml.300"});  // asked for the free name only
  // Without a reservation (the archive), the same.
  write_file(dir.path() / "lot.xml", "encore");
  EXPECT_EQ(move_with_suffix(dir.path() / "lot.xml", target, "lot.xml").filename(), "lot.xml.301");
  EXPECT_EQ(read_file(target / "lot.xml.299"), "299");  // nothing replaced
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
