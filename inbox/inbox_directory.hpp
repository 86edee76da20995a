// The directories under paths.root (docs/reference.md §2): inbox/, inbox/.work/, archive/YYYY/MM/DD/, error/, outbox/.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "domain/civil_date.hpp"
#include "files/atomic_file.hpp"
#include "inbox/settle_tracker.hpp"

namespace raccord::inbox {

/// A file claimed into inbox/.work/, open and locked (flock LOCK_EX) for as long as this object
/// lives, so that start-up recovery of another engine leaves it alone.
class ClaimedFile {
 public:
  ClaimedFile(std::string name, std::filesystem::path path, int fd);
  ~ClaimedFile();
  ClaimedFile(ClaimedFile&& other) noexcept;
  ClaimedFile& operator=(ClaimedFile&&) = delete;
  ClaimedFile(const ClaimedFile&) = delete;

  const std::string& name() const { return name_; }
  const std::filesystem::path& path() const { return path_; }
  /// Size in bytes (fstat of the open descriptor).
  std::uint64_t size() const;
  /// "device:inode" of the open descriptor (fstat): tells this very file from another drop with
  /// the same name and bytes. Throws std::system_error.
  std::string identity() const;
  /// Reads the whole file (call only when size() is within inbox.max_bytes). Throws std::system_error.
  std::string read_all() const;
  /// Lowercase hex SHA-256 of the file's bytes, streamed (never holds the file in memory). Throws
  /// std::system_error naming the file when a read fails.
  std::string sha256() const;

 private:
  std::string name_;
  std::filesystem::path path_;
  int fd_ = -1;
};

class InboxDirectory {
 public:
  /// `root` is paths.root (it may itself be a symbolic link). `file_umask` is files.umask (octal bits,
  /// e.g. 0027; Config::file_umask): its bits are taken from archived and quarantined originals
  /// (finding 5). nullopt reads the process umask once from /proc/self/status.
  explicit InboxDirectory(std::filesystem::path root, std::optional<unsigned> file_umask = std::nullopt);

  /// Creates inbox/, inbox/.work/, archive/, error/, outbox/ when missing. Throws std::system_error;
  /// std::runtime_error ("… est un lien symbolique : refusé") when one of them is a symbolic link
  /// (finding 8: inbox/.work/ belongs to the engine, docs/reference.md §2).
  void ensure_layout() const;

  /// The directories ensure_layout() creates, parents first: inbox/, inbox/.work/, archive/, error/,
  /// outbox/. The daemon checks them before each pass and recreates the missing ones (docs/reference.md §7).
  std::vector<std::filesystem::path> layout() const;

  std::filesystem::path inbox_dir() const { return root_ / "inbox"; }
  std::filesystem::path work_dir() const { return root_ / "inbox" / ".work"; }
  std::filesystem::path archive_dir() const { return root_ / "archive"; }
  std::filesystem::path error_dir() const { return root_ / "error"; }
  std::filesystem::path outbox_dir() const { return root_ / "outbox"; }

  /// docs/reference.md §2 "What is a dépôt": name ends in ".xml" (any case), does not start with "." or "~$".
  static bool is_deposit_name(std::string_view name);

  /// Dépôt candidates in inbox/: regular files by lstat (never symlinks, FIFOs, folders) with a
  /// dépôt name, sorted by name bytes.
  std::vector<std::string> list_candidates() const;

  /// The candidates that are settled (SettleTracker): their size and mtime did not change for
  /// `settle` of `clock`'s time (real time in production). Waits `settle` (sampling every ~100 ms),
  /// so a pass right after copying takes them; files still changing are left out; returns at once
  /// when there is no candidate. Sorted by name bytes.
  std::vector<std::string> settled_candidates(std::chrono::milliseconds settle,
                                              SteadyClock& clock = SteadyClock::real()) const;

  /// Claims inbox/<name> by atomic rename into inbox/.work/<name> (never replacing). nullopt when
  /// the file vanished (another engine took it), is not a regular file, or the name is already in
  /// .work/ (it waits in inbox/). Opens with O_NOFOLLOW|O_NONBLOCK and locks it. With
  /// DirectorySync::Caller, inbox/ and .work/ are left for the caller to fsync (a batch of claims).
  /// Throws std::runtime_error when .work/ is a symbolic link (finding 8).
  std::optional<ClaimedFile> claim(const std::string& name,
                                   files::DirectorySync sync = files::DirectorySync::Now) const;

  /// Files left in inbox/.work/ (after a crash) that no live process holds locked, locked and
  /// returned in name order. Removes stale temporaries ".*.tmp" of dead processes there.
  /// Throws std::runtime_error when .work/ is a symbolic link (opened O_NOFOLLOW, finding 8).
  std::vector<ClaimedFile> recover_leftovers() const;

  /// The original's mode is first reduced to at most rw-r----- minus the umask bits (finding 5).
  /// Moves the claimed file to archive/YYYY/MM/DD/<name> (suffix .1, .2 ... when taken), where the
  /// date is `processing_date` (civil, engine.timezone). Returns the final path. With
  /// DirectorySync::Caller, the caller fsyncs the returned path's directory and .work/.
  std::filesystem::path archive(const ClaimedFile& file, CivilDate processing_date,
                                files::DirectorySync sync = files::DirectorySync::Now) const;

  /// Moves the claimed file to error/<name> (suffix when taken). Returns the final path. `reserve`
  /// (files::move_with_suffix) is called with each free candidate name before the move: the engine
  /// writes the reason file there first (outbox::reserve_quarantine_name), so that an original never
  /// reaches error/ without it, whatever stops the pass (issue 20).
  std::filesystem::path quarantine(const ClaimedFile& file,
                                   const std::function<bool(const std::string&)>& reserve = {}) const;

 private:
  std::filesystem::path root_;
  unsigned umask_ = 0;
};

}  // namespace raccord::inbox
