// Durable file primitives shared by inbox/ and outbox/ (docs/reference.md §2 "Atomic outputs";
// docs/toolchain.md #16-17; docs/field-cases.md F03). Errors are the engine's own failures: they throw
// std::system_error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
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

/// Every temporary below is named by detail::temporary_name: ".<name>.<serial>.<host>.<pid>.tmp".

/// Writes `content` to `dir/name` so that it appears whole: a temporary in `dir`, fsync, rename over any existing file,
/// fsync of `dir`. File mode 0640 (before umask). Throws std::system_error on any failure (the temporary is removed).
void write_file_atomically(const std::filesystem::path& dir, std::string_view name, std::string_view content);

/// Writes `content` to `dir/name` so that readers see the old file or the new one whole (a temporary in
/// `dir`, renamed over any existing file), without making either durable: no fsync of the file nor of
/// `dir`. For a file rewritten again and again whose loss at a power cut costs nothing, because the
/// next write remakes it (metrics.prom, rewritten after each group: docs/design.md "Group commit").
/// File mode 0640 (before umask). Throws std::system_error on any failure (the temporary is removed).
void replace_file(const std::filesystem::path& dir, std::string_view name, std::string_view content);

/// Like write_file_atomically but never replaces: returns false (and writes nothing) when
/// `dir/name` already exists.
bool create_file_atomically(const std::filesystem::path& dir, std::string_view name, std::string_view content);

/// Creates several files in `dir` at once (group commit, issue 7), each appearing whole and none
/// replacing an existing file: every content is written to its temporary, then one syncfs() of the
/// filesystem of `dir` makes them all durable (one flush instead of one fsync per file), then each is
/// renamed without replacing, then `dir` is fsynced. `files` holds
/// (name, content) pairs with distinct names. Returns, per file, false when its name was already
/// taken (its temporary removed, the file there untouched). Throws std::system_error (the temporaries not yet renamed
/// are removed; the files already renamed stay, complete).
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
/// (docs/reference.md §2 "Where originals go"). Creates `dir`. Returns the final path. When `reserve` is set,
/// it is called with each candidate file name that does not exist, before the rename; a candidate
/// it refuses (false) is skipped (the quarantine writes the reason file there first, issue 20).
/// When `name` is taken, the next suffix is found by first_free_suffix (lstat probes): O(log n) probes for n
/// names already kept (not one each), the first free one when they are `name`, `name.1`, ... without a gap;
/// after a gap (a file removed by hand) it may take a free suffix beyond it. Throws std::system_error (EEXIST
/// after suffix 1,000,000; an lstat or rename that fails otherwise; move_no_replace's errors).
std::filesystem::path move_with_suffix(const std::filesystem::path& from, const std::filesystem::path& dir,
                                       std::string_view name, DirectorySync sync = DirectorySync::Now,
                                       const std::function<bool(const std::string&)>& reserve = {});

/// The first index i in 1..max_suffix with taken(i) false, index 0 being taken, found by doubling then bisection
/// (O(log i) calls): exact when the taken indexes are 0..i-1, else some free index. max_suffix + 1 when
/// taken(max_suffix) holds on the way (1 when max_suffix < 1: no index); max_suffix < INT_MAX. `taken` may throw (it is
/// propagated).
int first_free_suffix(const std::function<bool(int)>& taken, int max_suffix);

/// fsync of a directory (after a rename that must last).
void sync_directory(const std::filesystem::path& dir);

/// A name for `base` + `extension` in `dir` that does not exist yet: `base.ext`, then `base_2.ext`,
/// `base_3.ext`, ... (docs/reference.md §5.1), skipping the names for which `also_taken` (when set) is true
/// (names reserved elsewhere). Only checks; the caller creates without replacing.
std::string free_name(const std::filesystem::path& dir, std::string_view base, std::string_view extension,
                      const std::function<bool(const std::string&)>& also_taken = {});

/// The longest name a directory entry may have on Linux filesystems (NAME_MAX), in bytes.
inline constexpr std::size_t kMaxNameBytes = 255;

/// `base` + `suffix` when it fits in `max_bytes` (unchanged then, byte for byte). Else `base` is cut
/// short, never inside a UTF-8 sequence, and followed by "~" and 16 hex digits of the 64-bit FNV-1a
/// hash of the whole `base`, then `suffix`, so that the whole is at most `max_bytes` bytes
/// (hostile finding 7: a legal dépôt name of 222+ bytes made its accusé, temporary or reason file
/// name too long; findings 2 and 3: two long names sharing their first bytes were cut to one
/// name). Two bases cut to one prefix thus stay apart (barring a 64-bit hash collision), and a cut
/// name never equals an uncut one ending in the same suffix unless the base itself ends in such a
/// mark. `suffix` is kept whole; a suffix of `max_bytes` or more is returned alone, cut. See
/// docs/design.md "Names derived from a dépôt's name".
std::string fit_name(std::string_view base, std::string_view suffix, std::size_t max_bytes = kMaxNameBytes);

/// For a name made by detail::temporary_name on `host` (".<…>.<host>.<pid>.tmp"), its pid; nullopt
/// for any other name and for temporaries of other hosts (whose processes cannot be checked).
std::optional<long> temporary_pid(std::string_view name, std::string_view host);

/// This host's name as used in temporary names and lock holders ("/" replaced by "_"; "localhost"
/// when unknown).
std::string host_name();

/// A file written as a stream that appears whole (docs/reference.md §2 "Atomic outputs"), for outputs too
/// large to build in memory (exports): rows go to a temporary (detail::temporary_name) in `dir`
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
  /// Instead of commit(): flushes, fsyncs and closes the temporary and leaves it in `dir` for the
  /// caller, who then owns it (renames it with move_no_replace, or removes it). Returns its file
  /// name (in `dir`). Throws std::system_error (the temporary is then removed).
  std::string keep();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

namespace detail {

/// The temporary name of `name` for process `pid` on `host`, the `serial`-th of that process
/// (docs/reference.md §2 "Atomic outputs": it starts with "." and carries host and pid, so that start-up
/// clean-up removes only those of dead processes): "." + fit_name(name, ".<serial>.<host>.<pid>.tmp",
/// 254). Distinct for distinct (host, pid, serial) whatever `name` and however it is cut: the name
/// part is only for people reading the directory (hostile finding 2: two long dépôt names cut to one
/// temporary overwrote each other). Linux host names have at most 64 bytes (HOST_NAME_MAX), so the
/// distinct part always fits.
std::string temporary_name(std::string_view name, std::string_view host, long pid, std::uint64_t serial);

}  // namespace detail

}  // namespace raccord::files
