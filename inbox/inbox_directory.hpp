// The directories under paths.root (docs/reference.md §2): inbox/, inbox/.work/, archive/YYYY/MM/DD/, error/, outbox/.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
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
  /// The owner's uid and the hard-link count of the open descriptor (fstat), read before any byte of
  /// the file is: a sender account's file must be owned by its `proprietaire` and have one link
  /// (docs/accounts.md). Throws std::system_error.
  std::uint32_t owner_uid() const;
  std::uint64_t link_count() const;
  /// Reads the whole file (call only when size() is within inbox.max_bytes). Throws std::system_error.
  std::string read_all() const;
  /// Lowercase hex SHA-256 of the file's bytes, streamed (never holds the file in memory). Throws
  /// std::system_error naming the file when a read fails.
  std::string sha256() const;

  /// The dépôt's detached signature `<name>.p7s`, claimed with it into the same .work/ folder, open and
  /// locked as long as this object lives (a channel with signatures, InboxDirectory::set_signature_required;
  /// docs/accounts.md "Signed dépôts"); null when none came with it.
  const ClaimedFile* signature() const { return signature_.get(); }
  /// Keeps `signature` (claimed into the same .work/ folder) with this dépôt.
  void attach_signature(ClaimedFile signature) { signature_ = std::make_shared<ClaimedFile>(std::move(signature)); }

 private:
  std::string name_;
  std::filesystem::path path_;
  int fd_ = -1;
  std::shared_ptr<ClaimedFile> signature_;
};

/// What claim() saw of the dépôts it did not take this time (docs/reference.md §2 "When it is taken", "A file
/// the engine cannot open"), for the pass's log (once per pass) and metrics. The engine keeps one
/// per pass and passes it to each claim.
struct ClaimNotes {
  /// Dépôts another process holds open for writing (read lease refused, EAGAIN): left in inbox/
  /// for a later pass.
  std::vector<std::string> held_open;
  /// Dépôts the engine cannot open (EACCES, EPERM), with the reason (strerror, French when the
  /// locale is): left in inbox/, never blocking the others.
  std::vector<std::pair<std::string, std::string>> unopenable;
  /// Dépôts claimed and then put back into inbox/ because the claimed path was not the opened file
  /// (replaced between the open and the rename) or a writer opened it during the claim.
  std::vector<std::string> put_back;
  /// Set when no lease could be asked (EINVAL, EACCES: NFS, SMB, FUSE, no CAP_LEASE): the reason
  /// (strerror) of the first refusal; the settle rule alone applied.
  std::optional<std::string> no_lease;
};

/// An entry of inbox/ the engine never takes and the nightly report lists (docs/reference.md §2, §5.3
/// `FichierIgnore`; docs/design.md "Taking a dépôt").
struct IgnoredEntry {
  std::string name;  // its name in inbox/
  std::uintmax_t size = 0;
  std::chrono::system_clock::time_point modified{};  // mtime (lstat)
  std::string why;                                   // French: what it is, what to do
};

/// The folders of one channel dépôts arrive through (docs/accounts.md): inbox/ itself (the operator's
/// channel, `channel` empty) or a sender account's inbox/NAME/, with its claims in inbox/.work/NAME/
/// and its answers in outbox/NAME/; archive/ and error/ are shared by all channels.
class InboxDirectory {
 public:
  /// `root` is paths.root (it may itself be a symbolic link). `file_umask` is files.umask (octal bits,
  /// e.g. 0027; Config::file_umask): its bits are taken from archived and quarantined originals
  /// (finding 5). nullopt reads the process umask once from /proc/self/status. `channel`: empty for
  /// inbox/ itself, else a sender account's NAME (is_account_name, domain/sender_account.hpp).
  explicit InboxDirectory(std::filesystem::path root, std::optional<unsigned> file_umask = std::nullopt,
                          std::string channel = {});

  /// Creates inbox/, inbox/.work/, archive/, error/, outbox/ when missing, and for an account's channel
  /// inbox/NAME/, inbox/.work/NAME/ and outbox/NAME/ (mode 0750; an existing folder's owner and mode
  /// are never changed: they are the operator's). Throws std::system_error; std::runtime_error (French,
  /// the folder named) when inbox/, .work/ or one of the account's folders is a symbolic link
  /// (finding 8: inbox/.work/ belongs to the engine, docs/reference.md §2), or when an account's folder
  /// is not a directory or not on the mount of inbox/.work/ (docs/accounts.md).
  void ensure_layout() const;

  /// The directories ensure_layout() creates, parents first: inbox/, inbox/.work/, archive/, error/,
  /// outbox/, then the account's three. The daemon checks them before each pass and recreates the
  /// missing ones (docs/reference.md §7).
  std::vector<std::filesystem::path> layout() const;

  /// The channel's name: "" for inbox/ itself, else the account's NAME.
  const std::string& channel() const { return channel_; }
  std::filesystem::path inbox_dir() const { return channel_.empty() ? root_ / "inbox" : root_ / "inbox" / channel_; }
  std::filesystem::path work_dir() const {
    return channel_.empty() ? root_ / "inbox" / ".work" : root_ / "inbox" / ".work" / channel_;
  }
  std::filesystem::path archive_dir() const { return root_ / "archive"; }
  std::filesystem::path error_dir() const { return root_ / "error"; }
  /// Where the channel's answers go: outbox/, or outbox/NAME/ for an account.
  std::filesystem::path outbox_dir() const { return channel_.empty() ? root_ / "outbox" : root_ / "outbox" / channel_; }

  /// docs/reference.md §2 "What is a dépôt": name ends in ".xml" (any case), does not start with "." or "~$".
  static bool is_deposit_name(std::string_view name);

  /// The name of dépôt `deposit_name`'s detached signature: `<deposit_name>.p7s` (docs/accounts.md).
  static std::string signature_name(std::string_view deposit_name) { return std::string(deposit_name) + ".p7s"; }
  /// The name of the signature kept beside a dépôt's final name in archive/ or error/ (`lot.xml.1` →
  /// `lot.xml.1.p7s`; cut like files::fit_name when too long).
  static std::string signature_name_for(std::string_view final_name);
  /// Whether `name` is `<a dépôt name>.p7s` (a signature: never a dépôt itself).
  static bool is_signature_name(std::string_view name);

  /// A channel whose dépôts come signed (`signature = obligatoire`, docs/accounts.md "Signed dépôts"):
  /// claim() takes `F.xml` with its `F.xml.p7s`, recover_leftovers() finds a claimed `F.xml`'s `.p7s`,
  /// settled_candidates() lets `F.xml` wait while its `.p7s` is still changing, archive() and
  /// quarantine() move the `.p7s` beside the dépôt under its final name. Off (the default): a `.p7s`
  /// is never opened nor moved.
  void set_signature_required(bool required) { signature_required_ = required; }
  bool signature_required() const { return signature_required_; }

  /// Dépôt candidates in inbox/: regular files by lstat (never symlinks, FIFOs, folders) with a
  /// dépôt name, sorted by name bytes.
  std::vector<std::string> list_candidates() const;

  /// The candidates that are settled (SettleTracker): their size and mtime did not change for
  /// `settle` of `clock`'s time (real time in production). Waits `settle` (sampling every ~100 ms),
  /// so a pass right after copying takes them; files still changing are left out; returns at once
  /// when there is no candidate. Sorted by name bytes. In a channel with signatures, a candidate whose
  /// `.p7s` is present but did not stand still for `settle` is left out (it waits with its signature).
  std::vector<std::string> settled_candidates(std::chrono::milliseconds settle,
                                              SteadyClock& clock = SteadyClock::real()) const;

  /// settled_candidates() of several channels sampled together: one quiet period for all of them
  /// (not one per channel). Result i is the settled candidates of `dirs[i]`.
  static std::vector<std::vector<std::string>> settled_candidates(const std::vector<const InboxDirectory*>& dirs,
                                                                  std::chrono::milliseconds settle,
                                                                  SteadyClock& clock = SteadyClock::real());

  /// Claims inbox/<name> by atomic rename into inbox/.work/<name> (never replacing), following the
  /// drop contract of docs/design.md "Taking a dépôt": the file is first opened
  /// (O_RDONLY|O_NOFOLLOW|O_NONBLOCK), a read lease is asked on that descriptor (fcntl F_SETLEASE
  /// F_RDLCK, refused while any process has the file open for writing), it is locked (flock), renamed,
  /// and the claimed path must then be the opened file (st_dev, st_ino) with the lease unbroken, else
  /// it is renamed back into inbox/ (never replacing) and not taken; the lease is released before
  /// returning. nullopt, and `notes` (when given) says why, when: a writer holds the file open
  /// (held_open), it cannot be opened for lack of rights (unopenable), it was put back (put_back);
  /// also nullopt when it vanished (another engine took it), is not a regular file, or the name is
  /// already in .work/ (it waits in inbox/). Where no lease can be had (EINVAL, EACCES) the file is
  /// taken on the settle rule alone and notes->no_lease is set. With DirectorySync::Caller, inbox/ and
  /// .work/ are left for the caller to fsync (a batch of claims). SIGIO (the lease-break signal) is
  /// ignored by the process from the first lease on unless a handler is installed. Throws
  /// std::runtime_error when .work/ is a symbolic link (finding 8), std::system_error for other
  /// failures of open, rename or lock.
  /// In a channel with signatures (set_signature_required), `<name>.p7s` is opened and leased first:
  /// held open by a writer (held_open) or unopenable, the dépôt waits in inbox/; absent, the dépôt is
  /// claimed alone (the engine refuses it SIGNATURE_ABSENTE). Else the dépôt is renamed into .work/,
  /// then its `.p7s` (the same identity and lease checks; on failure both are put back), which the
  /// returned file holds (ClaimedFile::signature). A crash between the two renames leaves the `.p7s`
  /// in inbox/, where recover_leftovers() takes it.
  std::optional<ClaimedFile> claim(const std::string& name, files::DirectorySync sync = files::DirectorySync::Now,
                                   ClaimNotes* notes = nullptr) const;

  /// The entries of inbox/ (not .work/ nor the folders of `accounts`, the configured accounts' NAMEs)
  /// that are not dépôts and were last modified more than a day before `now` (real time: files' times
  /// are), and the dépôts the engine cannot open (EACCES, EPERM), whatever their age; in name order.
  /// A folder that is no configured account is listed (never read). Never opens anything but for that
  /// check. Throws std::system_error when inbox/ cannot be read.
  std::vector<IgnoredEntry> ignored_entries(std::chrono::system_clock::time_point now,
                                            const std::vector<std::string>& accounts = {}) const;

  /// For tests only: called by claim() with the source path after the file was opened and leased and
  /// before the rename, to make a replacement in between deterministic. Empty by default.
  void set_before_claim_rename(std::function<void(const std::filesystem::path&)> hook) {
    before_claim_rename_ = std::move(hook);
  }

  /// For tests only (and the crash harness): called by claim() with the claimed dépôt's path after a
  /// signed dépôt was renamed into .work/ and before its `.p7s` is. Empty by default.
  void set_between_claim_renames(std::function<void(const std::filesystem::path&)> hook) {
    between_claim_renames_ = std::move(hook);
  }

  /// For tests only (and the crash harness): called by archive() and quarantine() with the dépôt's final
  /// path after a signed dépôt moved and before its `.p7s` does. Empty by default.
  void set_between_signature_moves(std::function<void(const std::filesystem::path&)> hook) {
    between_signature_moves_ = std::move(hook);
  }

  /// Files left in inbox/.work/ (after a crash) that no live process holds locked, locked and
  /// returned in name order. Removes stale temporaries ".*.tmp" of dead processes there.
  /// A `.p7s` is never returned itself: in a channel with signatures a dépôt takes its `.p7s` from
  /// .work/, else from inbox/ (the crash between the claim's two renames; a `.p7s` there still held by
  /// a writer keeps the dépôt in .work/ for a later pass). A `.p7s` alone in .work/ whose dépôt was
  /// already archived or quarantined (the crash between archive()'s two moves) is moved where the
  /// destination note of that move says (see archive(); a note file of an earlier version is read
  /// too), in any channel; one without a note is left alone.
  /// Throws std::runtime_error when .work/ is a symbolic link (opened O_NOFOLLOW, finding 8).
  std::vector<ClaimedFile> recover_leftovers() const;

  /// The original's mode is first reduced to at most rw-r----- minus the umask bits (finding 5).
  /// Moves the claimed file to archive/YYYY/MM/DD/<name> (suffix .1, .2 ... when taken), where the
  /// date is `processing_date` (civil, engine.timezone). Returns the final path. With
  /// DirectorySync::Caller, the caller fsyncs the returned path's directory and .work/.
  /// A dépôt with its signature: a name is chosen whose `.p7s` is free as well, the destination is
  /// first noted in .work/ (`.<name>.destination`, a symbolic link whose target is the destination,
  /// made by one symlink(2): whole or absent), then the dépôt is moved, then its
  /// `.p7s` beside it (`lot.xml.1` and `lot.xml.1.p7s`), then the note removed: after a crash between
  /// the two moves the `.p7s` left alone in .work/ and the note say where it goes (recover_leftovers).
  std::filesystem::path archive(const ClaimedFile& file, CivilDate processing_date,
                                files::DirectorySync sync = files::DirectorySync::Now) const;

  /// Moves the claimed file to error/<name> (suffix when taken). Returns the final path. `reserve`
  /// (files::move_with_suffix) is called with each free candidate name before the move: the engine
  /// writes the reason file there first (outbox::reserve_quarantine_name), so that an original never
  /// reaches error/ without it, whatever stops the pass (issue 20). With DirectorySync::Caller, the
  /// caller fsyncs error/ and .work/ (as for archive()).
  std::filesystem::path quarantine(const ClaimedFile& file, const std::function<bool(const std::string&)>& reserve = {},
                                   files::DirectorySync sync = files::DirectorySync::Now) const;

 private:
  std::filesystem::path root_;
  unsigned umask_ = 0;
  std::string channel_;
  bool signature_required_ = false;
  std::function<void(const std::filesystem::path&)> before_claim_rename_;
  std::function<void(const std::filesystem::path&)> between_signature_moves_;
  std::function<void(const std::filesystem::path&)> between_claim_renames_;

  /// Moves `file` into `dir` (move_with_suffix with `reserve`), with its signature when it has one
  /// (see archive()).
  std::filesystem::path move_out(const ClaimedFile& file, const std::filesystem::path& dir, files::DirectorySync sync,
                                 const std::function<bool(const std::string&)>& reserve) const;
  /// A `.p7s` alone in .work/: moved where its note says, then the note removed (see archive()).
  void finish_signature_move(const std::string& signature) const;
  /// A destination note left in .work/ after both moves of its pair (its removal failed): removed when
  /// neither the dépôt nor its `.p7s` is in .work/ and both are in place where the note says; any other
  /// note is left (see recover_leftovers()).
  void remove_stale_destination_note(const std::string& note_name) const;
  /// `.work/` entry name of the destination note of dépôt `deposit_name`.
  static std::string destination_note_name(std::string_view deposit_name);
};

}  // namespace raccord::inbox
