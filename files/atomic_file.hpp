// Durable file primitives shared by inbox/ and outbox/ (SPEC.md §2 "Atomic outputs"; TOOLCHAIN.md #16-17;
// FIELD-CASES F03). Errors are the engine's own failures: they throw std::system_error.
#pragma once

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace raccord::files {

/// Who fsyncs the directories a rename touched. `Now`: the function, before returning. `Caller`:
/// the caller, with sync_directory() on each of them, before it relies on the rename lasting (group
/// commit, issue 7: one fsync of a directory for many files). The file's own data is fsynced
/// before its rename either way.
enum class DirectorySync { Now, Caller };

/// Writes `content` to `dir/name` so that it appears whole: a temporary ".<name>.<host>.<pid>.tmp"
/// in `dir`, fsync, rename over any existing file, fsync of `dir`. File mode 0640 (before umask).
/// Throws std::system_error on any failure (the temporary is removed).
void write_file_atomically(const std::filesystem::path& dir, std::string_view name, std::string_view content);

/// Like write_file_atomically but never replaces: returns false (and writes nothing) when
/// `dir/name` already exists.
bool create_file_atomically(const std::filesystem::path& dir, std::string_view name, std::string_view content);

/// Creates several files in `dir` at once (group commit, issue 7), each appearing whole and none
/// replacing an existing file: every content is written to its temporary, then one syncfs() of the
/// filesystem of `dir` makes them all durable (one flush instead of one fsync per file), then each is
/// renamed without replacing, then `dir` is fsynced. `files` holds
/// (name, content) pairs with distinct names. Returns, per file, false when its name was already
/// taken (nothing written for it). Throws std::system_error (the temporaries not yet renamed are
/// removed; the files already renamed stay, complete).
std::vector<bool> create_files_atomically(const std::filesystem::path& dir,
                                          const std::vector<std::pair<std::string, std::string>>& files);

/// Renames `from` to `to` only if `to` does not exist (renameat2 RENAME_NOREPLACE; link+unlink
/// where the filesystem refuses it). Returns false when `to` exists. On EXDEV (another
/// filesystem) copies into a temporary in the destination directory, fsyncs, renames without
/// replacing, then unlinks the source. fsyncs the destination directory. Throws std::system_error
/// on other failures; ENOENT on `from` is reported as a system_error too. With DirectorySync::Caller
/// a same-filesystem rename fsyncs neither directory (the EXDEV copy still does: its source is
/// removed only once the copy lasts).
bool move_no_replace(const std::filesystem::path& from, const std::filesystem::path& to,
                     DirectorySync sync = DirectorySync::Now);

/// Moves `from` into directory `dir` under `name`, or `name.1`, `name.2`, ... when taken
/// (SPEC.md §2 "Where originals go"). Creates `dir`. Returns the final path.
std::filesystem::path move_with_suffix(const std::filesystem::path& from, const std::filesystem::path& dir,
                                       std::string_view name, DirectorySync sync = DirectorySync::Now);

/// fsync of a directory (after a rename that must last).
void sync_directory(const std::filesystem::path& dir);

/// A name for `base` + `extension` in `dir` that does not exist yet: `base.ext`, then `base_2.ext`,
/// `base_3.ext`, ... (SPEC.md §5.1). Only checks existence; the caller creates without replacing.
std::string free_name(const std::filesystem::path& dir, std::string_view base, std::string_view extension);

/// The longest name a directory entry may have on Linux filesystems (NAME_MAX), in bytes.
inline constexpr std::size_t kMaxNameBytes = 255;

/// `base` + `suffix`, `base` cut short (at a UTF-8 character boundary) so that the whole fits in
/// `max_bytes` (hostile finding 7: a legal dépôt name of 222+ bytes made its accusé, temporary or
/// reason file name too long, and the dépôt was retried forever). `suffix` is kept whole; a suffix
/// longer than `max_bytes` is returned alone, cut.
std::string fit_name(std::string_view base, std::string_view suffix, std::size_t max_bytes = kMaxNameBytes);

/// This host's name as used in temporary names and lock holders ("/" replaced by "_"; "localhost"
/// when unknown).
std::string host_name();

/// A file written as a stream that appears whole (SPEC.md §2 "Atomic outputs"), for outputs too
/// large to build in memory (exports): rows go to a temporary ".<name>.<host>.<pid>.tmp" in `dir`
/// (mode 0640); commit() flushes, fsyncs and renames it to `dir/name` without replacing. The
/// temporary is removed if the object is destroyed uncommitted. Throws std::system_error.
class AtomicFileStream {
 public:
  AtomicFileStream(std::filesystem::path dir, std::string name);
  ~AtomicFileStream();
  AtomicFileStream(const AtomicFileStream&) = delete;
  AtomicFileStream& operator=(const AtomicFileStream&) = delete;

  std::ostream& stream();
  /// Returns false (and removes the temporary) when `dir/name` already exists.
  bool commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace raccord::files
