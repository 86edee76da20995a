// The directories under paths.root (docs/reference.md §2; docs/toolchain.md #16-17; docs/field-cases.md F01, F04, F06,
// F10).
#include "inbox/inbox_directory.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "files/atomic_file.hpp"
#include "inbox/sha256.hpp"

namespace raccord::inbox {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void throw_errno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

[[noreturn]] void throw_symlink(const fs::path& dir) {
  throw std::runtime_error(
      "Le répertoire " + dir.string() +
      " est un lien symbolique : refusé (docs/reference.md §2, ce répertoire appartient au moteur). "
      "Remplacez-le par un vrai répertoire puis relancez.");
}

/// Refuses `dir` when it is a symbolic link (finding 8: a back-office that may write inbox/ must not
/// redirect inbox/.work/ elsewhere). A missing entry passes (created or reported elsewhere).
/// Throws std::runtime_error (French message naming the path) for a link, std::system_error when
/// lstat fails otherwise.
void refuse_symlink(const fs::path& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return;
    throw_errno(errno, "lstat impossible de " + dir.string());
  }
  if (S_ISLNK(st.st_mode)) throw_symlink(dir);
}

/// Names of the entries of `dir` (without "." and ".."), unsorted. Unless `follow_link` (the output
/// directories, which may be links to other storage), the directory is opened with O_NOFOLLOW: a
/// symbolic link is refused (std::runtime_error, finding 8). Throws std::system_error.
std::vector<std::string> read_names(const fs::path& dir, bool follow_link = false) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | (follow_link ? 0 : O_NOFOLLOW) | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ELOOP || error == ENOTDIR) refuse_symlink(dir);
    throw_errno(error, "lecture impossible du répertoire " + dir.string());
  }
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    const int error = errno;
    ::close(fd);
    throw_errno(error, "lecture impossible du répertoire " + dir.string());
  }
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(d)) {
    const std::string name(entry->d_name);
    if (name != "." && name != "..") names.push_back(name);
    errno = 0;
  }
  const int error = errno;
  ::closedir(d);
  if (error != 0) throw_errno(error, "lecture impossible du répertoire " + dir.string());
  return names;
}

/// lstat; nullopt when the entry does not exist (any more), or cannot exist: a name longer than the file
/// system allows (ENAMETOOLONG: the `.p7s` of a dépôt whose name already has 252 to 255 bytes).
std::optional<struct stat> lstat_entry(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG) return std::nullopt;
    throw_errno(errno, "lstat impossible de " + path.string());
  }
  return st;
}

/// Opens `path` without following links or blocking on a FIFO, checks it is a regular file and
/// locks it (flock LOCK_EX|LOCK_NB). Returns -1 when it vanished, is not a regular file or is
/// locked by someone else (docs/toolchain.md #16).
int open_and_lock(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ELOOP || errno == ENXIO || errno == EISDIR) return -1;
    throw_errno(errno, "ouverture impossible de " + path.string());
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    throw_errno(error, "fstat impossible de " + path.string());
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return -1;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK || error == EINTR) return -1;
    throw_errno(error, "verrouillage impossible de " + path.string());
  }
  return fd;
}

/// Owns a descriptor until released (closes it otherwise).
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() { reset(); }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

 private:
  int fd_ = -1;
};

/// The outcome of asking a read lease on a claim's descriptor.
struct LeaseResult {
  bool taken = false;           // held until release_lease
  bool held_by_writer = false;  // EAGAIN: a process has the file open for writing
  int error = 0;                // when neither: why no lease could be had (EINVAL, EACCES, ...)
};

/// True when the read lease taken on `fd` was broken (a writer opened the file during its claim). A
/// failure of F_GETLEASE itself is a failure of the system, not a writer: it throws std::system_error
/// naming the file (the pass ends with exit 1; the file, already in .work/, is taken again by the next
/// pass's recovery), never a silent "put back" (fault sweep, docs/design.md "Failures of the machine").
bool lease_broken(int fd, const fs::path& path) {
  const int state = ::fcntl(fd, F_GETLEASE);
  if (state < 0) throw_errno(errno, "lecture du bail (fcntl F_GETLEASE) impossible sur " + path.string());
  return state != F_RDLCK;
}

/// A lease break is announced with SIGIO, whose default action ends the process: it is ignored
/// (the claim reads the lease's state with F_GETLEASE instead), unless a handler was installed.
void ignore_lease_break_signal() {
  static const bool done = [] {
    struct sigaction current {};
    if (::sigaction(SIGIO, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      struct sigaction ignore {};
      ignore.sa_handler = SIG_IGN;
      ::sigemptyset(&ignore.sa_mask);
      (void)::sigaction(SIGIO, &ignore, nullptr);
    }
    return true;
  }();
  (void)done;
}

/// fcntl(F_SETLEASE, F_RDLCK) on `fd` (opened O_RDONLY): refused with EAGAIN while a writer has
/// the file open; EINVAL on file systems without leases (NFS, SMB, FUSE), EACCES for a file of
/// another owner without CAP_LEASE.
LeaseResult take_read_lease(int fd) {
  ignore_lease_break_signal();
  if (::fcntl(fd, F_SETLEASE, F_RDLCK) == 0) return {true, false, 0};
  const int error = errno;
  if (error == EAGAIN) return {false, true, error};
  return {false, false, error};
}

void release_lease(int fd, const LeaseResult& lease) {
  if (lease.taken) (void)::fcntl(fd, F_SETLEASE, F_UNLCK);
}

/// Renames a claimed file that must not be processed back into inbox/ (never replacing); when its
/// name was taken there meanwhile it stays in .work/ and the next start-up recovers it.
void put_back(const fs::path& claimed, const fs::path& source) {
  try {
    (void)files::move_no_replace(claimed, source, files::DirectorySync::Now);
  } catch (const std::system_error&) {
    // Left in .work/: recover_leftovers takes it at the next start.
  }
}

bool same_inode(int fd, const fs::path& path) {
  struct stat a {};
  struct stat b {};
  if (::fstat(fd, &a) != 0 || ::lstat(path.c_str(), &b) != 0) return false;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/// For a temporary written by this host (files::detail::temporary_name), its pid; nullopt for other
/// names or other hosts.
std::optional<pid_t> temporary_pid_of_this_host(std::string_view name) {
  static const std::string host = files::host_name();
  const auto pid = files::temporary_pid(name, host);
  if (!pid) return std::nullopt;
  return static_cast<pid_t>(*pid);
}

bool process_is_dead(pid_t pid) {
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

/// Takes away from a claimed original every right beyond rw-r----- before it is kept in archive/ or
/// error/ (issue 8: what the engine keeps is never world-readable; the sender may have dropped it
/// 0644 or 0666). Never adds a right. Best effort: a file owned by another user (the back-office's
/// account) cannot be changed by the engine (EPERM) and keeps its mode; the directories' rights
/// protect it then. Any other failure (EIO, EROFS) throws std::system_error naming the file, before
/// anything moves: the original waits in .work/ for the next pass (before, it was kept 0644 by a pass
/// that exited 0 and said nothing: the fault sweep's chmod:EIO).
/// The bits of `umask` (files.umask, finding 5) are taken away as well: with 0077 the original is 0600.
void restrict_mode(const fs::path& path, unsigned file_umask) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  const mode_t wanted = st.st_mode & 0640 & ~static_cast<mode_t>(file_umask & 0777);
  if ((st.st_mode & 07777) == wanted || ::chmod(path.c_str(), wanted) == 0) return;
  if (errno == EPERM || errno == ENOENT) return;
  throw_errno(errno, "changement des droits impossible de " + path.string());
}

/// What open_signature answers besides a descriptor.
constexpr int kNoSignature = -1;          // absent, or not a regular file: the dépôt has no signature
constexpr int kUnreadableSignature = -2;  // no right to read it (EACCES, EPERM): the dépôt waits

/// Opens the `.p7s` at `path` (O_NOFOLLOW, O_NONBLOCK: a FIFO never blocks): a descriptor on a regular file,
/// kNoSignature when there is none to take — ENOENT, a symbolic link (ELOOP), a FIFO without writer (ENXIO),
/// a directory or another kind of file, or a name with no room left for ".p7s" (ENAMETOOLONG: the dépôt is
/// taken alone, SIGNATURE_ABSENTE, never a failure of the pass) —, kUnreadableSignature on EACCES or EPERM.
/// Throws std::system_error naming it on any other error (EIO...): a failure of the machine.
int open_signature(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT || error == ELOOP || error == ENXIO || error == EISDIR || error == ENAMETOOLONG) {
      return kNoSignature;
    }
    if (error == EACCES || error == EPERM) return kUnreadableSignature;
    throw_errno(error, "ouverture impossible de " + path.string());
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return kNoSignature;
  }
  return fd;
}

/// The process umask from /proc/self/status ("Umask:\t0027"), read without changing it (umask(2)
/// would race with other threads). 0 when unreadable: restrict_mode still caps at 0640.
unsigned process_umask() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("Umask:")) continue;
    unsigned value = 0;
    for (char c : line.substr(6)) {
      if (c >= '0' && c <= '7') value = value * 8 + static_cast<unsigned>(c - '0');
    }
    return value & 0777;
  }
  return 0;
}

std::string two_digits(unsigned value) {
  std::string s = std::to_string(value);
  return s.size() < 2 ? "0" + s : s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ClaimedFile

ClaimedFile::ClaimedFile(std::string name, std::filesystem::path path, int fd)
    : name_(std::move(name)), path_(std::move(path)), fd_(fd) {}

ClaimedFile::~ClaimedFile() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

ClaimedFile::ClaimedFile(ClaimedFile&& other) noexcept
    : name_(std::move(other.name_)),
      path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      signature_(std::move(other.signature_)) {}

std::uint64_t ClaimedFile::size() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) throw_errno(errno, "fstat impossible de " + path_.string());
  return static_cast<std::uint64_t>(st.st_size);
}

std::string ClaimedFile::identity() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) throw_errno(errno, "fstat impossible de " + path_.string());
  return std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
         std::to_string(static_cast<unsigned long long>(st.st_ino));
}

std::uint32_t ClaimedFile::owner_uid() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) throw_errno(errno, "fstat impossible de " + path_.string());
  return static_cast<std::uint32_t>(st.st_uid);
}

std::uint64_t ClaimedFile::link_count() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) throw_errno(errno, "fstat impossible de " + path_.string());
  return static_cast<std::uint64_t>(st.st_nlink);
}

std::string ClaimedFile::read_all() const {
  auto read_at = [this](char* into, std::size_t count, std::size_t offset) {
    for (;;) {
      const ssize_t n = ::pread(fd_, into, count, static_cast<off_t>(offset));
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) throw_errno(errno, "lecture impossible de " + path_.string());
    }
  };
  std::string content;
  content.resize(static_cast<std::size_t>(size()));
  std::size_t done = 0;
  while (done < content.size()) {
    const std::size_t n = read_at(content.data() + done, content.size() - done, done);
    if (n == 0) break;
    done += n;
  }
  content.resize(done);
  // The file may have grown since it was measured: read on through a small buffer (growing the
  // whole string ahead would copy it, issue 7).
  char more[65536];
  for (std::size_t n; (n = read_at(more, sizeof more, done)) > 0; done += n) content.append(more, n);
  return content;
}

std::string ClaimedFile::sha256() const {
  try {
    return sha256_hex_of_descriptor(fd_);
  } catch (const std::system_error& e) {  // the log names the file (issue 20)
    throw std::system_error(e.code(), "lecture impossible de " + path_.string() + " (SHA-256)");
  }
}

// ---------------------------------------------------------------------------------------------
// InboxDirectory

InboxDirectory::InboxDirectory(std::filesystem::path root, std::optional<unsigned> file_umask, std::string channel)
    : root_(std::move(root)),
      umask_(file_umask ? (*file_umask & 0777) : process_umask()),
      channel_(std::move(channel)) {}

std::vector<std::filesystem::path> InboxDirectory::layout() const {
  std::vector<fs::path> dirs{root_ / "inbox", root_ / "inbox" / ".work", archive_dir(), error_dir(), root_ / "outbox"};
  if (!channel_.empty()) {
    dirs.push_back(inbox_dir());
    dirs.push_back(work_dir());
    dirs.push_back(outbox_dir());
  }
  return dirs;
}

namespace {

/// An account's folder (docs/accounts.md): created 0750 when missing (never chmod'ed nor chown'ed
/// when it exists: it is the operator's), and refused (std::runtime_error naming it) when it is a
/// symbolic link, not a directory, or not on the mount of inbox/.work/ (`work_device`).
void ensure_account_folder(const fs::path& dir, dev_t work_device) {
  refuse_symlink(dir);
  if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST)
    throw_errno(errno, "création impossible du répertoire " + dir.string());
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) throw_errno(errno, "lstat impossible de " + dir.string());
  if (S_ISLNK(st.st_mode)) throw_symlink(dir);
  if (!S_ISDIR(st.st_mode)) {
    throw std::runtime_error("Le dossier de compte " + dir.string() +
                             " n'est pas un répertoire : refusé (docs/accounts.md). Remplacez-le par un répertoire "
                             "puis relancez.");
  }
  if (st.st_dev != work_device) {
    throw std::runtime_error("Le dossier de compte " + dir.string() +
                             " n'est pas sur le même système de fichiers que inbox/.work/ : refusé (docs/accounts.md, "
                             "la prise d'un dépôt est un renommage). Montez-le sur le volume de inbox/ puis relancez.");
  }
}

}  // namespace

void InboxDirectory::ensure_layout() const {
  for (const fs::path& dir : layout()) {
    // inbox/ and .work/ hold the claims: a link there would let whoever writes inbox/ redirect them
    // (hostile finding 8). archive/, error/ and outbox/ may be links to other storage (a shared
    // outbox, an archive volume): the engine only writes there.
    if (!channel_.empty() && (dir == inbox_dir() || dir == work_dir() || dir == outbox_dir())) continue;
    if (dir == root_ / "inbox" || dir == root_ / "inbox" / ".work") refuse_symlink(dir);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw std::system_error(ec, "création impossible du répertoire " + dir.string());
  }
  if (!channel_.empty()) {
    struct stat work {};
    const fs::path root_work = root_ / "inbox" / ".work";
    if (::stat(root_work.c_str(), &work) != 0) throw_errno(errno, "stat impossible de " + root_work.string());
    for (const fs::path& dir : {inbox_dir(), work_dir(), outbox_dir()}) ensure_account_folder(dir, work.st_dev);
  }
  // Start-up clean-up (docs/reference.md §2 "Atomic outputs"): temporaries a killed engine of this host left
  // in error/ (reason files). Only those of dead processes; best effort, a temporary that cannot be
  // removed is harmless (hidden, never read). Those of outbox/ are the engine's (Engine::recover_outbox):
  // one may be the export of a dépôt committed just before the crash, to be published, not removed.
  for (const fs::path& dir : {error_dir()}) {
    try {
      for (const std::string& name : read_names(dir, true)) {
        const auto pid = temporary_pid_of_this_host(name);
        if (!pid || !process_is_dead(*pid)) continue;
        const auto st = lstat_entry(dir / name);
        if (st && S_ISREG(st->st_mode)) (void)::unlink((dir / name).c_str());
      }
    } catch (const std::system_error&) {
      // An unreadable directory is reported where it is written to; the clean-up waits.
    }
  }
}

bool InboxDirectory::is_deposit_name(std::string_view name) {
  if (name.size() <= 4 || name.front() == '.' || name.starts_with("~$")) return false;
  if (name.find('/') != std::string_view::npos) return false;
  std::string ext(name.substr(name.size() - 4));
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
  return ext == ".xml";
}

std::string InboxDirectory::signature_name_for(std::string_view final_name) {
  return files::fit_name(final_name, ".p7s");
}

bool InboxDirectory::is_signature_name(std::string_view name) {
  return name.size() > 4 && name.ends_with(".p7s") && is_deposit_name(name.substr(0, name.size() - 4));
}

std::string InboxDirectory::destination_note_name(std::string_view deposit_name) {
  return files::fit_name("." + std::string(deposit_name), ".destination");
}

std::vector<std::string> InboxDirectory::list_candidates() const {
  const fs::path dir = inbox_dir();
  std::vector<std::string> result;
  for (std::string& name : read_names(dir)) {
    if (!is_deposit_name(name)) continue;
    const auto st = lstat_entry(dir / name);
    if (st && S_ISREG(st->st_mode)) result.push_back(std::move(name));
  }
  std::sort(result.begin(), result.end());
  return result;
}

std::vector<std::string> InboxDirectory::settled_candidates(std::chrono::milliseconds settle,
                                                            SteadyClock& clock) const {
  return settled_candidates(std::vector<const InboxDirectory*>{this}, settle, clock).front();
}

std::vector<std::vector<std::string>> InboxDirectory::settled_candidates(const std::vector<const InboxDirectory*>& dirs,
                                                                         std::chrono::milliseconds settle,
                                                                         SteadyClock& clock) {
  std::vector<std::vector<std::string>> result(dirs.size());
  if (settle <= std::chrono::milliseconds::zero()) {
    for (std::size_t i = 0; i < dirs.size(); ++i) result[i] = dirs[i]->list_candidates();
    return result;
  }
  const std::chrono::milliseconds step =
      std::clamp(settle / 5, std::chrono::milliseconds(10), std::chrono::milliseconds(100));
  // Every candidate's quiet period starts at the first sample, so none settles before `deadline`:
  // the candidates are sampled until then, and those that stood still since are taken.
  std::vector<SettleTracker> trackers;
  trackers.reserve(dirs.size());
  std::optional<SteadyClock::time_point> deadline;
  // In a channel with signatures each candidate's present `.p7s` is sampled with it: a dépôt waits
  // while its signature is still changing (docs/accounts.md "Signed dépôts").
  const auto sampled = [](const InboxDirectory& dir) {
    std::vector<std::string> names = dir.list_candidates();
    if (!dir.signature_required_) return names;
    const std::size_t deposits = names.size();
    for (std::size_t i = 0; i < deposits; ++i) {
      const std::string signature = signature_name(names[i]);
      const auto st = lstat_entry(dir.inbox_dir() / signature);
      if (st && S_ISREG(st->st_mode)) names.push_back(signature);
    }
    return names;
  };
  for (const InboxDirectory* dir : dirs) {
    trackers.emplace_back(dir->inbox_dir(), settle, clock);
    trackers.back().observe(sampled(*dir));
    if (const auto due = trackers.back().next_due(); due && (!deadline || *due > *deadline)) deadline = due;
  }
  if (!deadline) return result;  // nothing to wait for
  for (;;) {
    const SteadyClock::time_point now = clock.now();
    if (now >= *deadline) break;
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - now);
    clock.wait(std::min(step, remaining + std::chrono::milliseconds(1)));
    bool any = false;
    for (std::size_t i = 0; i < dirs.size(); ++i) {
      trackers[i].observe(sampled(*dirs[i]));
      any = any || !trackers[i].empty();
    }
    if (!any) return result;  // every candidate vanished
  }
  for (std::size_t i = 0; i < dirs.size(); ++i) {
    std::vector<std::string> settled = trackers[i].take_settled();
    for (const std::string& name : settled) {
      if (!is_deposit_name(name)) continue;  // a .p7s is never a dépôt
      if (dirs[i]->signature_required_) {
        const std::string signature = signature_name(name);
        const auto st = lstat_entry(dirs[i]->inbox_dir() / signature);
        const bool present = st && S_ISREG(st->st_mode);
        if (present && !std::binary_search(settled.begin(), settled.end(), signature)) continue;  // it waits
      }
      result[i].push_back(name);
    }
  }
  return result;
}

std::optional<ClaimedFile> InboxDirectory::claim(const std::string& name, files::DirectorySync sync,
                                                 ClaimNotes* notes) const {
  if (!is_deposit_name(name)) return std::nullopt;
  const fs::path source = inbox_dir() / name;
  const fs::path target = work_dir() / name;
  refuse_symlink(work_dir());  // never claim into a .work/ redirected elsewhere (finding 8)
  ClaimNotes ignored;
  ClaimNotes& seen = notes != nullptr ? *notes : ignored;

  // A signed dépôt (docs/accounts.md "Signed dépôts"): its .p7s is opened, leased and locked first; a
  // writer on it, or no right to read it, keeps the dépôt waiting; absent, the dépôt is taken alone.
  const fs::path signature_source = inbox_dir() / signature_name(name);
  const fs::path signature_target = work_dir() / signature_name(name);
  LeaseResult signature_lease;
  const int signature_fd = signature_required_ ? open_signature(signature_source) : kNoSignature;
  if (signature_fd == kUnreadableSignature) {
    seen.unopenable.emplace_back(signature_name(name), std::strerror(EACCES));
    return std::nullopt;
  }
  Descriptor signature_held(signature_fd);
  if (signature_fd >= 0) {
    signature_lease = take_read_lease(signature_fd);
    if (signature_lease.held_by_writer) {
      seen.held_open.push_back(name);
      return std::nullopt;
    }
    if (::flock(signature_fd, LOCK_EX | LOCK_NB) != 0) {
      // A live engine holds it (EWOULDBLOCK); any other error is the machine's: the pass fails naming it
      // (before, an EIO left the pair in inbox/ by a pass that exited 0: flock:EIO:@signe/30_...p7s).
      const int error = errno;
      if (error == EWOULDBLOCK || error == EINTR) return std::nullopt;
      throw_errno(error, "verrouillage impossible de " + signature_source.string());
    }
  }

  // Open before the claim (docs/design.md "Taking a dépôt"): every check below is made on this
  // descriptor, never on the path, which a writer may replace meanwhile.
  const int fd = ::open(source.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT || error == ELOOP || error == ENXIO || error == EISDIR) return std::nullopt;
    if (error == EACCES || error == EPERM) {  // another account's 0600 file: never blocks the pass
      seen.unopenable.emplace_back(name, std::strerror(error));
      return std::nullopt;
    }
    throw_errno(error, "ouverture impossible de " + source.string());
  }
  Descriptor held(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_errno(errno, "fstat impossible de " + source.string());
  if (!S_ISREG(st.st_mode)) return std::nullopt;

  // A read lease is refused (EAGAIN) while any process has the file open for writing: a stalled
  // upload is never taken, however long it stood still.
  const LeaseResult lease = take_read_lease(fd);
  if (lease.held_by_writer) {
    seen.held_open.push_back(name);
    return std::nullopt;
  }
  if (!lease.taken && !seen.no_lease) seen.no_lease = std::strerror(lease.error);

  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    if (error == EWOULDBLOCK || error == EINTR) return std::nullopt;  // a live engine holds it
    throw_errno(error, "verrouillage impossible de " + source.string());
  }
  // Locked before the rename: the file is never visible in .work/ unlocked, so the start-up
  // recovery of another engine cannot take it in between (docs/reference.md §2 "Atomic outputs").
  if (before_claim_rename_) before_claim_rename_(source);
  try {
    if (!files::move_no_replace(source, target, sync)) {
      return std::nullopt;  // the name is already in .work/: it waits in inbox/ (docs/reference.md §2 "Claim")
    }
  } catch (const std::system_error& e) {
    if (e.code().value() == ENOENT) return std::nullopt;  // another engine took it
    throw;
  }
  // What was renamed must be what was opened and checked, and no writer may have opened it during
  // the claim (the lease was broken): else it goes back where it was and waits for a later pass.
  const bool broken = lease.taken && lease_broken(fd, target);
  if (broken || !same_inode(fd, target)) {
    release_lease(fd, lease);
    held.reset();
    put_back(target, source);
    seen.put_back.push_back(name);
    return std::nullopt;
  }
  release_lease(fd, lease);
  if (signature_fd < 0) return ClaimedFile(name, target, held.release());

  // Then its .p7s, checked the same way; when it cannot follow, the dépôt goes back with it.
  if (between_claim_renames_) between_claim_renames_(target);
  bool moved = false;
  try {
    moved = files::move_no_replace(signature_source, signature_target, sync);
  } catch (const std::system_error& e) {
    if (e.code().value() != ENOENT) throw;  // vanished: the dépôt goes back and waits
  }
  const bool signature_broken = moved && ((signature_lease.taken && lease_broken(signature_fd, signature_target)) ||
                                          !same_inode(signature_fd, signature_target));
  release_lease(signature_fd, signature_lease);
  if (!moved || signature_broken) {
    signature_held.reset();
    if (moved) put_back(signature_target, signature_source);
    held.reset();
    put_back(target, source);
    seen.put_back.push_back(name);
    return std::nullopt;
  }
  ClaimedFile deposit(name, target, held.release());
  deposit.attach_signature(ClaimedFile(signature_name(name), signature_target, signature_held.release()));
  return deposit;
}

std::vector<IgnoredEntry> InboxDirectory::ignored_entries(std::chrono::system_clock::time_point now,
                                                          const std::vector<std::string>& accounts) const {
  const fs::path dir = inbox_dir();
  std::vector<std::string> names = read_names(dir);
  std::sort(names.begin(), names.end());
  std::vector<IgnoredEntry> result;
  for (const std::string& name : names) {
    if (name == ".work") continue;
    const auto st = lstat_entry(dir / name);
    if (!st) continue;
    if (S_ISDIR(st->st_mode) && std::find(accounts.begin(), accounts.end(), name) != accounts.end()) continue;
    IgnoredEntry entry{
        name,
        static_cast<std::uintmax_t>(st->st_size),
        std::chrono::system_clock::time_point{std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds{st->st_mtim.tv_sec} + std::chrono::nanoseconds{st->st_mtim.tv_nsec})},
        {}};
    if (S_ISREG(st->st_mode) && is_deposit_name(name)) {
      const int fd = ::open((dir / name).c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (fd >= 0) {
        ::close(fd);
        continue;
      }
      if (errno != EACCES && errno != EPERM) continue;
      entry.why = std::string("illisible par le moteur (") + std::strerror(errno) +
                  ") : donnez au compte du moteur le droit de le lire";
      result.push_back(std::move(entry));
      continue;
    }
    if (now - entry.modified <= std::chrono::hours{24}) continue;
    if (S_ISDIR(st->st_mode)) {
      entry.why =
          "dossier qui n'est aucun compte configuré : jamais lu (seuls les fichiers *.xml de inbox/ et des dossiers "
          "de comptes [compte.NOM] sont des dépôts)";
    } else if (S_ISLNK(st->st_mode)) {
      entry.why = "lien symbolique : jamais suivi ; déposez le fichier lui-même";
    } else if (!S_ISREG(st->st_mode)) {
      entry.why = "ni fichier ni dossier : jamais lu";
    } else {
      entry.why =
          "pas un dépôt (seuls les noms en .xml ne commençant ni par « . » ni par « ~$ » sont pris) : "
          "renommez-le s'il doit être traité, sinon retirez-le";
    }
    result.push_back(std::move(entry));
  }
  return result;
}

std::vector<ClaimedFile> InboxDirectory::recover_leftovers() const {
  const fs::path dir = work_dir();
  std::vector<std::string> names = read_names(dir);
  std::sort(names.begin(), names.end());
  std::vector<ClaimedFile> result;
  for (const std::string& name : names) {
    const fs::path path = dir / name;
    if (name.front() == '.') {
      if (name.ends_with(".destination")) {
        remove_stale_destination_note(name);
        continue;
      }
      const auto pid = temporary_pid_of_this_host(name);
      if (pid && process_is_dead(*pid)) {
        const auto st = lstat_entry(path);
        if (st && S_ISREG(st->st_mode) && ::unlink(path.c_str()) != 0 && errno != ENOENT) {
          throw_errno(errno, "suppression impossible du temporaire " + path.string());
        }
      }
      continue;
    }
    if (is_signature_name(name)) {  // never a dépôt: taken with its own, or finished when alone
      if (!std::binary_search(names.begin(), names.end(), name.substr(0, name.size() - 4))) {
        finish_signature_move(name);
      }
      continue;
    }
    const auto st = lstat_entry(path);
    if (!st || !S_ISREG(st->st_mode)) continue;
    const int fd = open_and_lock(path);
    if (fd < 0) continue;  // held by a live engine, or vanished
    if (!same_inode(fd, path)) {
      ::close(fd);
      continue;
    }
    ClaimedFile file(name, path, fd);
    if (signature_required_ && is_deposit_name(name)) {
      // Its .p7s: in .work/, else still in inbox/ (a crash between the claim's two renames).
      const fs::path claimed = dir / signature_name(name);
      const fs::path dropped = inbox_dir() / signature_name(name);
      if (!lstat_entry(claimed) && lstat_entry(dropped)) {
        // As in claim(): vanished, or not a file, the dépôt has no signature; unreadable for now, it waits in
        // .work/; any other error fails the pass naming the .p7s (before, an EIO here made the dépôt go on
        // without its signature, quarantined SIGNATURE_ABSENTE, its .p7s left in inbox/: the fault sweep's
        // openat:EIO:@signe/35_reprise_claim.xml.p7s).
        const int sfd = open_signature(dropped);
        if (sfd == kUnreadableSignature) continue;
        if (sfd >= 0) {
          Descriptor held(sfd);
          const LeaseResult lease = take_read_lease(sfd);
          if (lease.held_by_writer) continue;  // not complete yet: the dépôt waits in .work/
          release_lease(sfd, lease);
          held.reset();
          try {
            (void)files::move_no_replace(dropped, claimed, files::DirectorySync::Now);
          } catch (const std::system_error& e) {
            if (e.code().value() != ENOENT) throw;  // vanished: the dépôt has no signature
          }
        }
      }
      if (const auto sst = lstat_entry(claimed); sst && S_ISREG(sst->st_mode)) {
        const int sfd = open_and_lock(claimed);
        if (sfd < 0) continue;  // another engine is finishing it
        file.attach_signature(ClaimedFile(signature_name(name), claimed, sfd));
      }
    }
    result.push_back(std::move(file));
  }
  return result;
}

namespace {

/// Writes the destination note `note` of a signed dépôt's pair (docs/accounts.md "After a crash"): a
/// symbolic link whose target is `destination` (relative to the root; never followed, only read back
/// by read_destination_note). One symlink(2) makes it whole or not at all, like a rename, without a
/// temporary file written, renamed and removed (bench/README.md "Figure 11, third pass"). A note
/// already there (left by a crash after its .p7s moved, or by the previous candidate name of this very
/// move, or a note file of an earlier version) is replaced: until the dépôt's rename there is nothing
/// for a recovery to finish, so a moment without a note changes nothing. Throws std::system_error.
void write_destination_note(const fs::path& note, const std::string& destination) {
  if (::symlink(destination.c_str(), note.c_str()) == 0) return;
  if (errno != EEXIST) throw_errno(errno, "écriture impossible de la note " + note.string());
  if (::unlink(note.c_str()) != 0 && errno != ENOENT) throw_errno(errno, "remplacement impossible de " + note.string());
  if (::symlink(destination.c_str(), note.c_str()) != 0) {
    throw_errno(errno, "écriture impossible de la note " + note.string());
  }
}

/// The destination that note `note` holds (see write_destination_note): the target of the symbolic
/// link, or the first line of a regular file (the note of a version before the link, left in .work/ by
/// a crash before an upgrade). Empty when there is no note (or an empty one). A note that is there but
/// cannot be read (EIO) is no absent note: throws std::system_error naming it, so that the pass fails and
/// the next one moves the .p7s (before, it was left in .work/ by a pass that exited 0).
std::string read_destination_note(const fs::path& note) {
  std::array<char, PATH_MAX> target{};
  const ssize_t n = ::readlink(note.c_str(), target.data(), target.size());
  if (n >= 0 && static_cast<std::size_t>(n) < target.size()) return {target.data(), static_cast<std::size_t>(n)};
  if (n >= 0) return {};                               // longer than a path: not a note of this engine
  if (errno == ENOENT || errno == ENOTDIR) return {};  // no note
  if (errno != EINVAL) throw_errno(errno, "lecture impossible de la note " + note.string());
  // Not a link: a note file of an earlier version, its first line.
  const int fd = ::open(note.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return {};
    throw_errno(errno, "lecture impossible de la note " + note.string());
  }
  Descriptor held(fd);
  std::string content;
  std::array<char, 4096> buffer{};
  for (;;) {
    const ssize_t got = ::read(fd, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw_errno(errno, "lecture impossible de la note " + note.string());
    if (got == 0 || content.size() > PATH_MAX) break;
    content.append(buffer.data(), static_cast<std::size_t>(got));
  }
  return content.substr(0, content.find('\n'));
}

}  // namespace

void InboxDirectory::remove_stale_destination_note(const std::string& note_name) const {
  // The dépôt the note belongs to: `.<dépôt>.destination` (a name cut by fit_name is never matched:
  // such a note is left, as before).
  const std::string deposit = note_name.substr(1, note_name.size() - 1 - std::string_view(".destination").size());
  if (!is_deposit_name(deposit) || destination_note_name(deposit) != note_name) return;
  // A pair moves only while its dépôt is claimed in .work/ (its lock held), its .p7s there until the
  // second move: with neither there, no move of this name is under way (one starting now writes its note
  // only after a claim, a read and a commit), and the pair's .p7s alone is finished by
  // finish_signature_move, never here.
  if (lstat_entry(work_dir() / deposit) || lstat_entry(work_dir() / signature_name(deposit))) return;
  const fs::path note = work_dir() / note_name;
  const auto st = lstat_entry(note);
  if (!st || !(S_ISLNK(st->st_mode) || S_ISREG(st->st_mode))) return;  // no note this engine wrote
  const std::string destination = read_destination_note(note);
  if (destination.empty()) return;
  const fs::path target_deposit = root_ / destination;
  const fs::path target_signature =
      target_deposit.parent_path() / signature_name_for(target_deposit.filename().string());
  const auto placed = lstat_entry(target_deposit);
  const auto signed_placed = lstat_entry(target_signature);
  if (!placed || !S_ISREG(placed->st_mode) || !signed_placed || !S_ISREG(signed_placed->st_mode)) return;
  if (::unlink(note.c_str()) != 0 && errno != ENOENT) {
    throw_errno(errno, "suppression impossible de la note " + note.string());
  }
}

void InboxDirectory::finish_signature_move(const std::string& signature) const {
  const fs::path path = work_dir() / signature;
  const fs::path note = work_dir() / destination_note_name(signature.substr(0, signature.size() - 4));
  const std::string destination = read_destination_note(note);
  if (destination.empty()) return;  // no note: left alone
  const int fd = open_and_lock(path);
  if (fd < 0) return;  // another engine is moving it, or it is gone
  Descriptor held(fd);
  const fs::path target_deposit = root_ / destination;
  const fs::path target = target_deposit.parent_path() / signature_name_for(target_deposit.filename().string());
  restrict_mode(path, umask_);  // left by a version that took its rights away after the dépôt's move
  try {
    if (!files::move_no_replace(path, target, files::DirectorySync::Now)) return;
  } catch (const std::system_error& e) {
    if (e.code().value() != ENOENT) throw;
    return;
  }
  // The pair is whole: a note that cannot be removed fails the pass, naming it, and the next recovery
  // removes it (remove_stale_destination_note); before, the pass exited 0 with the note left.
  if (::unlink(note.c_str()) != 0 && errno != ENOENT) {
    throw_errno(errno, "suppression impossible de la note " + note.string());
  }
}

std::filesystem::path InboxDirectory::archive(const ClaimedFile& file, CivilDate processing_date,
                                              files::DirectorySync sync) const {
  const fs::path dir = archive_dir() / std::to_string(static_cast<int>(processing_date.year())) /
                       two_digits(static_cast<unsigned>(processing_date.month())) /
                       two_digits(static_cast<unsigned>(processing_date.day()));
  return move_out(file, dir, sync, {});
}

std::filesystem::path InboxDirectory::quarantine(const ClaimedFile& file,
                                                 const std::function<bool(const std::string&)>& reserve,
                                                 files::DirectorySync sync) const {
  return move_out(file, error_dir(), sync, reserve);
}

std::filesystem::path InboxDirectory::move_out(const ClaimedFile& file, const fs::path& dir, files::DirectorySync sync,
                                               const std::function<bool(const std::string&)>& reserve) const {
  restrict_mode(file.path(), umask_);
  const ClaimedFile* signature = file.signature();
  if (signature == nullptr) return files::move_with_suffix(file.path(), dir, file.name(), sync, reserve);
  restrict_mode(signature->path(), umask_);  // before either moves: a failure leaves the pair whole in .work/
  // The pair (docs/accounts.md "Signed dépôts"): a name whose .p7s is free too, noted in .work/ before
  // the dépôt moves, so that a .p7s left alone by a crash knows where it goes. The note is one
  // symlink(2) (write_destination_note), not flushed: a crash of the process leaves it in the page
  // cache, and a power loss cannot make the dépôt's later rename durable without it on a journalling
  // filesystem, which commits metadata operations in order (docs/design.md "Failures of the machine");
  // two flushes per signed dépôt fewer (bench figure 11 signed).
  const std::string note = destination_note_name(file.name());
  const auto pair_reserve = [&](const std::string& candidate) {
    if (lstat_entry(dir / signature_name_for(candidate))) return false;
    if (reserve && !reserve(candidate)) return false;
    write_destination_note(work_dir() / note, (dir / candidate).lexically_relative(root_).string());
    return true;
  };
  fs::path final_path = files::move_with_suffix(file.path(), dir, file.name(), sync, pair_reserve);
  if (between_signature_moves_) between_signature_moves_(final_path);
  if (!files::move_no_replace(signature->path(), dir / signature_name_for(final_path.filename().string()), sync)) {
    throw std::system_error(EEXIST, std::generic_category(),
                            "signature " + signature->path().string() + " : nom déjà pris à côté de " +
                                final_path.string() + " (reprise au prochain passage)");
  }
  if (::unlink((work_dir() / note).c_str()) != 0 && errno != ENOENT) {
    throw_errno(errno, "suppression impossible de " + (work_dir() / note).string());
  }
  return final_path;
}

}  // namespace raccord::inbox
