// Durable file primitives (docs/reference.md §2 "Atomic outputs"; docs/toolchain.md #16-17; docs/field-cases.md F03).
#include "files/atomic_file.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <ostream>
#include <streambuf>
#include <string>
#include <system_error>

namespace raccord::files {
namespace {

namespace fs = std::filesystem;

constexpr mode_t kFileMode = 0640;
constexpr int kMaxSuffix = 1000000;

[[noreturn]] void throw_errno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

/// Closes a descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  /// Closes now and reports the error of close(2).
  int close_checked() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

/// ".<serial>.<host>.<pid>.tmp": what makes a temporary name distinct from every other one.
std::string temporary_suffix(std::uint64_t serial, std::string_view host, long pid) {
  return "." + std::to_string(serial) + "." + std::string(host) + "." + std::to_string(pid) + ".tmp";
}

/// 64-bit FNV-1a of `bytes` (http://www.isthe.com/chongo/tech/comp/fnv/), 16 lower-case hex digits:
/// the mark of a name cut by fit_name.
std::string fnv1a_hex(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<std::size_t>(i)] = kHex[h & 0xF];
  return out;
}

/// This process's id, asked of the kernel once and again in a child after fork(): glibc no longer
/// caches getpid(), which cost a system call per temporary, one per accusé (issue 21, figure 2).
long process_id() {
  static std::atomic<long> pid{0};
  static const bool reset_in_child = [] {
    return ::pthread_atfork(nullptr, nullptr, [] { pid.store(0, std::memory_order_relaxed); }) == 0;
  }();
  long id = pid.load(std::memory_order_relaxed);
  if (id == 0 || !reset_in_child) {
    id = ::getpid();
    pid.store(id, std::memory_order_relaxed);
  }
  return id;
}

/// This process's next temporary name for `name` (detail::temporary_name with this host and pid).
std::string temporary_name(std::string_view name) {
  static const std::string host = host_name();
  static std::atomic<std::uint64_t> serial{0};
  return detail::temporary_name(name, host, process_id(), ++serial);
}

void write_all(int fd, std::string_view content, const fs::path& path) {
  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(errno, "écriture impossible dans " + path.string());
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
}

enum class FileSync { Now, Later };

/// Writes `content` to a fresh temporary in `dir`, fsynced (unless FileSync::Later: the caller
/// syncs the filesystem before renaming it) and closed. Returns its path.
fs::path write_temporary(const fs::path& dir, std::string_view name, std::string_view content,
                         FileSync file_sync = FileSync::Now) {
  fs::path tmp = dir / temporary_name(name);
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, kFileMode));
  if (fd.get() < 0) throw_errno(errno, "création impossible du fichier temporaire " + tmp.string());
  try {
    write_all(fd.get(), content, tmp);
    if (file_sync == FileSync::Now && ::fsync(fd.get()) != 0) throw_errno(errno, "fsync impossible de " + tmp.string());
    if (fd.close_checked() != 0) throw_errno(errno, "fermeture impossible de " + tmp.string());
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  return tmp;
}

enum class RenameResult { Done, Exists, CrossDevice };

/// rename without replacing, within one filesystem: renameat2(RENAME_NOREPLACE), or link()+unlink()
/// where the filesystem refuses it (EINVAL on NFS, ENOSYS) (docs/toolchain.md #17).
RenameResult rename_no_replace_same_fs(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return RenameResult::Done;
  }
  int error = errno;
  if (error == EEXIST) return RenameResult::Exists;
  if (error == EXDEV) return RenameResult::CrossDevice;
  if (error != EINVAL && error != ENOSYS) {
    throw_errno(error, "renommage impossible de " + from.string() + " en " + to.string());
  }
  if (::link(from.c_str(), to.c_str()) != 0) {
    error = errno;
    if (error == EEXIST) return RenameResult::Exists;
    if (error == EXDEV) return RenameResult::CrossDevice;
    throw_errno(error, "lien impossible de " + from.string() + " vers " + to.string());
  }
  if (::unlink(from.c_str()) != 0) {
    error = errno;
    throw_errno(error, "suppression impossible de " + from.string() + " après son lien vers " + to.string());
  }
  return RenameResult::Done;
}

fs::path parent_or_dot(const fs::path& p) {
  fs::path parent = p.parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

}  // namespace

namespace detail {

std::string temporary_name(std::string_view name, std::string_view host, long pid, std::uint64_t serial) {
  return "." + fit_name(name, temporary_suffix(serial, host, pid), kMaxNameBytes - 1);
}

/// The EXDEV fallback of move_no_replace, callable directly (test seam): copies `from` into a
/// temporary in the directory of `to`, fsyncs it, checks its size, renames it to `to` without
/// replacing, fsyncs that directory, then unlinks `from`. Returns false (source untouched) when
/// `to` exists.
bool move_by_copy(const fs::path& from, const fs::path& to) {
  Fd source(::open(from.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (source.get() < 0) throw_errno(errno, "ouverture impossible de " + from.string());
  struct stat source_stat {};
  if (::fstat(source.get(), &source_stat) != 0) throw_errno(errno, "fstat impossible de " + from.string());
  if (!S_ISREG(source_stat.st_mode)) {
    throw_errno(EINVAL, "copie refusée : " + from.string() + " n'est pas un fichier ordinaire");
  }
  struct stat target_stat {};
  if (::lstat(to.c_str(), &target_stat) == 0) return false;

  const fs::path dir = parent_or_dot(to);
  const fs::path tmp = dir / files::temporary_name(to.filename().string());
  Fd target(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, kFileMode));
  if (target.get() < 0) throw_errno(errno, "création impossible du fichier temporaire " + tmp.string());
  try {
    std::array<char, 65536> buffer{};
    std::uint64_t copied = 0;
    for (;;) {
      const ssize_t n = ::read(source.get(), buffer.data(), buffer.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno(errno, "lecture impossible de " + from.string());
      }
      if (n == 0) break;
      write_all(target.get(), std::string_view(buffer.data(), static_cast<std::size_t>(n)), tmp);
      copied += static_cast<std::uint64_t>(n);
    }
    ::fchmod(target.get(), source_stat.st_mode & 07777);
    if (::fsync(target.get()) != 0) throw_errno(errno, "fsync impossible de " + tmp.string());
    struct stat copy_stat {};
    if (::fstat(target.get(), &copy_stat) != 0) throw_errno(errno, "fstat impossible de " + tmp.string());
    if (copied != static_cast<std::uint64_t>(source_stat.st_size) ||
        static_cast<std::uint64_t>(copy_stat.st_size) != copied) {
      throw_errno(EIO, "copie incomplète de " + from.string() + " vers " + tmp.string());
    }
    if (target.close_checked() != 0) throw_errno(errno, "fermeture impossible de " + tmp.string());
    switch (rename_no_replace_same_fs(tmp, to)) {
      case RenameResult::Done:
        break;
      case RenameResult::Exists:
        ::unlink(tmp.c_str());
        return false;
      case RenameResult::CrossDevice:
        throw_errno(EXDEV, "renommage impossible de " + tmp.string() + " en " + to.string());
    }
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  sync_directory(dir);
  // The copy is durable under its final name: only now is the source removed (docs/field-cases.md F03).
  if (::unlink(from.c_str()) != 0) throw_errno(errno, "suppression impossible de " + from.string());
  sync_directory(parent_or_dot(from));
  return true;
}

}  // namespace detail

void sync_directory(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) throw_errno(errno, "ouverture impossible du répertoire " + dir.string());
  if (::fsync(fd.get()) != 0 && errno != EINVAL && errno != EROFS) {
    throw_errno(errno, "fsync impossible du répertoire " + dir.string());
  }
}

void write_file_atomically(const fs::path& dir, std::string_view name, std::string_view content) {
  const fs::path tmp = write_temporary(dir, name, content);
  const fs::path target = dir / std::string(name);
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    throw_errno(error, "renommage impossible de " + tmp.string() + " en " + target.string());
  }
  sync_directory(dir);
}

void replace_file(const fs::path& dir, std::string_view name, std::string_view content) {
  const fs::path tmp = write_temporary(dir, name, content, FileSync::Later);
  const fs::path target = dir / std::string(name);
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    throw_errno(error, "renommage impossible de " + tmp.string() + " en " + target.string());
  }
}

bool create_file_atomically(const fs::path& dir, std::string_view name, std::string_view content) {
  const fs::path target = dir / std::string(name);
  struct stat st {};
  if (::lstat(target.c_str(), &st) == 0) return false;
  const fs::path tmp = write_temporary(dir, name, content);
  RenameResult result = RenameResult::Done;
  try {
    result = rename_no_replace_same_fs(tmp, target);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  switch (result) {
    case RenameResult::Done:
      sync_directory(dir);
      return true;
    case RenameResult::Exists:
      ::unlink(tmp.c_str());
      return false;
    case RenameResult::CrossDevice:
      ::unlink(tmp.c_str());
      throw_errno(EXDEV, "renommage impossible de " + tmp.string() + " en " + target.string());
  }
  return false;
}

std::vector<bool> create_files_atomically(const fs::path& dir,
                                          const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<bool> created(files.size(), false);
  std::vector<fs::path> temporaries(files.size());
  auto remove_left = [&] {
    for (const auto& tmp : temporaries) {
      if (!tmp.empty()) ::unlink(tmp.c_str());
    }
  };
  try {
    // No look for the final names first: the renames below never replace and answer a name taken
    // (before a crash, the only case) themselves; that look cost a system call per accusé (issue 21).
    for (std::size_t i = 0; i < files.size(); ++i) {
      temporaries[i] = write_temporary(dir, files[i].first, files[i].second, FileSync::Later);
    }
    if (!files.empty()) {
      Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (fd.get() < 0) throw_errno(errno, "ouverture impossible du répertoire " + dir.string());
      if (::syncfs(fd.get()) != 0) throw_errno(errno, "syncfs impossible pour " + dir.string());
    }
    for (std::size_t i = 0; i < files.size(); ++i) {
      const fs::path target = dir / files[i].first;
      switch (rename_no_replace_same_fs(temporaries[i], target)) {
        case RenameResult::Done:
          created[i] = true;
          break;
        case RenameResult::Exists:
          ::unlink(temporaries[i].c_str());
          break;
        case RenameResult::CrossDevice:
          throw_errno(EXDEV, "renommage impossible de " + temporaries[i].string() + " en " + target.string());
      }
      temporaries[i].clear();
    }
  } catch (...) {
    remove_left();
    throw;
  }
  sync_directory(dir);
  return created;
}

bool move_no_replace(const fs::path& from, const fs::path& to, DirectorySync sync) {
  switch (rename_no_replace_same_fs(from, to)) {
    case RenameResult::Done: {
      if (sync == DirectorySync::Caller) return true;
      const fs::path to_dir = parent_or_dot(to);
      const fs::path from_dir = parent_or_dot(from);
      sync_directory(to_dir);
      if (from_dir != to_dir) sync_directory(from_dir);
      return true;
    }
    case RenameResult::Exists:
      return false;
    case RenameResult::CrossDevice:
      return detail::move_by_copy(from, to);
  }
  return false;
}

int first_free_suffix(const std::function<bool(int)>& taken, int max_suffix) {
  if (max_suffix < 1) return 1;
  int low = 0;  // known taken
  int high = 1;
  while (taken(high)) {
    low = high;
    if (high == max_suffix) return max_suffix + 1;
    high = high > max_suffix / 2 ? max_suffix : 2 * high;
  }
  while (high - low > 1) {  // low taken, high free
    const int mid = low + (high - low) / 2;
    (taken(mid) ? low : high) = mid;
  }
  return high;
}

fs::path move_with_suffix(const fs::path& from, const fs::path& dir, std::string_view name, DirectorySync sync,
                          const std::function<bool(const std::string&)>& reserve) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::system_error(ec, "création impossible du répertoire " + dir.string());
  const std::string base(name);
  const auto name_at = [&base](int i) { return i == 0 ? base : fit_name(base, "." + std::to_string(i)); };
  const auto exists = [&](int i) {
    const fs::path candidate = dir / name_at(i);
    struct stat st {};
    if (::lstat(candidate.c_str(), &st) == 0) return true;
    if (errno != ENOENT) throw_errno(errno, "lstat impossible de " + candidate.string());
    return false;
  };
  for (int i = 0; i <= kMaxSuffix;) {
    const std::string candidate_name = name_at(i);
    fs::path candidate = dir / candidate_name;
    if (!reserve || (!exists(i) && reserve(candidate_name))) {
      if (move_no_replace(from, candidate, sync)) return candidate;
    }
    // The name is taken (or refused): the next free suffix, in a few probes when the first is taken (a sender who
    // reuses one file name would otherwise pay a probe per original ever kept under it); then one by one.
    i = i == 0 ? first_free_suffix(exists, kMaxSuffix) : i + 1;
  }
  throw_errno(EEXIST, "aucun nom libre pour " + base + " dans " + dir.string());
}

std::string fit_name(std::string_view base, std::string_view suffix, std::size_t max_bytes) {
  if (base.size() + suffix.size() <= max_bytes) return std::string(base) + std::string(suffix);
  if (suffix.size() >= max_bytes) return std::string(suffix.substr(0, max_bytes));
  // Cut: the mark of the whole base keeps two bases that share their first bytes apart (hostile
  // findings 2 and 3: two long dépôt names got one reason file, one temporary).
  std::string mark = "~" + fnv1a_hex(base);
  if (suffix.size() + mark.size() > max_bytes) mark.clear();
  std::size_t keep = max_bytes - suffix.size() - mark.size();
  // Never cut inside a UTF-8 sequence: back up over continuation bytes (10xxxxxx).
  while (keep > 0 && (static_cast<unsigned char>(base[keep]) & 0xC0) == 0x80) --keep;
  return std::string(base.substr(0, keep)) + mark + std::string(suffix);
}

std::string free_name(const fs::path& dir, std::string_view base, std::string_view extension,
                      const std::function<bool(const std::string&)>& also_taken) {
  std::string ext(extension);
  if (!ext.empty() && ext.front() != '.') ext.insert(ext.begin(), '.');
  for (int i = 1; i <= kMaxSuffix; ++i) {
    std::string name(base);
    if (i > 1) name += "_" + std::to_string(i);
    name += ext;
    if (also_taken && also_taken(name)) continue;
    struct stat st {};
    const fs::path candidate = dir / name;
    if (::lstat(candidate.c_str(), &st) != 0) {
      if (errno == ENOENT) return name;
      throw_errno(errno, "lstat impossible de " + candidate.string());
    }
  }
  throw_errno(EEXIST, "aucun nom libre pour " + std::string(base) + ext + " dans " + dir.string());
}

namespace {

/// A std::streambuf writing to a descriptor through write(2) (EINTR retried, short writes
/// continued) that keeps the errno of the first failure: std::ofstream said only "failed", and the
/// engine reported every failure as EIO (issue 20, fault sweep: EROFS on opening an export's
/// temporary, ENOSPC on writing it, were logged "Input/output error").
class FdOutBuf : public std::streambuf {
 public:
  explicit FdOutBuf(int fd) : fd_(fd) { setp(buffer_.data(), buffer_.data() + buffer_.size()); }
  /// The errno of the first failed write, 0 when none failed.
  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain() {
    if (error_ != 0) return false;
    const char* p = pbase();
    while (p < pptr()) {
      const ssize_t n = ::write(fd_, p, static_cast<std::size_t>(pptr() - p));
      if (n < 0) {
        if (errno == EINTR) continue;
        error_ = errno;
        return false;
      }
      p += n;
    }
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return true;
  }

  int fd_;
  int error_ = 0;
  std::array<char, 65536> buffer_{};
};

}  // namespace

struct AtomicFileStream::Impl {
  fs::path dir;
  std::string name;
  fs::path tmp;
  std::unique_ptr<Fd> fd;
  std::unique_ptr<FdOutBuf> buffer;
  std::unique_ptr<std::ostream> out;
  bool done = false;
  /// Flushes, fsyncs and closes the temporary; throws std::system_error with the system's errno.
  void flush_and_sync();
};

AtomicFileStream::AtomicFileStream(fs::path dir, std::string name) : impl_(std::make_unique<Impl>()) {
  impl_->dir = std::move(dir);
  impl_->name = std::move(name);
  impl_->tmp = impl_->dir / temporary_name(impl_->name);
  impl_->fd = std::make_unique<Fd>(
      ::open(impl_->tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, kFileMode));
  if (impl_->fd->get() < 0) throw_errno(errno, "création impossible du fichier temporaire " + impl_->tmp.string());
  impl_->buffer = std::make_unique<FdOutBuf>(impl_->fd->get());
  impl_->out = std::make_unique<std::ostream>(impl_->buffer.get());
}

AtomicFileStream::~AtomicFileStream() {
  if (!impl_->done) {
    impl_->fd.reset();
    ::unlink(impl_->tmp.c_str());
  }
}

std::ostream& AtomicFileStream::stream() {
  return *impl_->out;
}

void AtomicFileStream::Impl::flush_and_sync() {
  out->flush();
  if (buffer->error() != 0) throw_errno(buffer->error(), "écriture impossible dans " + tmp.string());
  if (!*out) throw_errno(EIO, "écriture impossible dans " + tmp.string());
  if (::fsync(fd->get()) != 0) throw_errno(errno, "fsync impossible de " + tmp.string());
  if (fd->close_checked() != 0) throw_errno(errno, "fermeture impossible de " + tmp.string());
}

std::string AtomicFileStream::keep() {
  impl_->flush_and_sync();
  impl_->done = true;
  return impl_->tmp.filename().string();
}

bool AtomicFileStream::commit() {
  impl_->flush_and_sync();
  const fs::path target = impl_->dir / impl_->name;
  const auto result = rename_no_replace_same_fs(impl_->tmp, target);
  impl_->done = true;
  if (result != RenameResult::Done) {
    ::unlink(impl_->tmp.c_str());
    if (result == RenameResult::Exists) return false;
    throw_errno(EXDEV, "renommage impossible de " + impl_->tmp.string() + " en " + target.string());
  }
  sync_directory(impl_->dir);
  return true;
}

std::optional<long> temporary_pid(std::string_view name, std::string_view host) {
  constexpr std::string_view kSuffix = ".tmp";
  if (name.size() < 2 || name.front() != '.' || !name.ends_with(kSuffix)) return std::nullopt;
  const std::string_view stem = name.substr(0, name.size() - kSuffix.size());
  const auto dot = stem.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view pid_text = stem.substr(dot + 1);
  if (pid_text.empty() || pid_text.size() > 9) return std::nullopt;
  long pid = 0;
  for (char c : pid_text) {
    if (c < '0' || c > '9') return std::nullopt;
    pid = pid * 10 + (c - '0');
  }
  const std::string_view before = stem.substr(0, dot);
  if (before.size() < host.size() + 2 || !before.ends_with(host) || before[before.size() - host.size() - 1] != '.') {
    return std::nullopt;
  }
  if (pid <= 0) return std::nullopt;
  return pid;
}

std::string host_name() {
  std::array<char, 256> buffer{};
  if (::gethostname(buffer.data(), buffer.size() - 1) != 0) return "localhost";
  std::string host(buffer.data());
  for (char& c : host) {
    if (c == '/') c = '_';
  }
  return host.empty() ? std::string("localhost") : host;
}

}  // namespace raccord::files
