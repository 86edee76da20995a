// The main job (docs/reference.md §2, §7): claims dépôts from the inbox, applies each in one store
// transaction, writes its accusé after the commit, then archives or quarantines the original.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/acknowledgement.hpp"
#include "domain/deposit.hpp"
#include "domain/sender_account.hpp"
#include "engine/clock.hpp"
#include "engine/config.hpp"
#include "engine/database.hpp"
#include "engine/store.hpp"
#include "inbox/claimed_deposit.hpp"
#include "inbox/inbox_directory.hpp"
#include "outbox/metrics_writer.hpp"
#include "outbox/outbox.hpp"
#include "rules/catalogue.hpp"
#include "rules/certificates.hpp"
#include "rules/deposit_signature.hpp"

namespace raccord {

class DepositCounters;  // engine/metrics.hpp
struct ScannedFigures;  // engine/metrics.hpp

class CertificatesAhead;  // engine/certificates_ahead.hpp
namespace outbox {
class StagedExports;  // outbox/export_files.hpp
}

/// What one pass did, for the command's summary line.
struct PassSummary {
  int processed = 0;  // dépôts answered (accusé written)
  int integre = 0;
  int integre_partiel = 0;
  int rejete = 0;
  int doublon = 0;
  int left_for_later = 0;                     // still changing, held open, unopenable, or name already in .work/
  int held_open = 0;                          // dépôts a writer still holds open (never taken then)
  int unopenable = 0;                         // dépôts the engine cannot open (rights): left in inbox/
  std::vector<std::string> acknowledgements;  // accusé file names written
};

/// The result of one dépôt.
struct DepositAnswer {
  DepositStatus status = DepositStatus::Rejete;
  std::string ack_name;               // file name in outbox/
  std::string ack_content;            // the accusé XML
  bool quarantine = false;            // the original goes to error/ (with `reason`), else to archive/
  std::string reason;                 // the text of NAME.reason.txt when quarantined
  std::vector<ExportRecord> exports;  // its Recherche exports, published after the commit
};

/// What `raccord init --support LOGIN` did to LOGIN (Engine::init).
enum class SupportUserOutcome {
  None,            // no --support
  Created,         // a new support user
  MadeSupport,     // an existing ordinary user, now support
  AlreadySupport,  // already support: nothing changed (or only the email given)
};

/// A way dépôts arrive (docs/accounts.md): inbox/ itself (no account: the operator's channel, no
/// identity restriction) or a sender account's inbox/NAME/, with the folder of its answers.
struct Channel {
  const SenderAccount* account = nullptr;  // null: inbox/ itself
  inbox::InboxDirectory inbox;             // its inbox/NAME/ and inbox/.work/NAME/ (archive/, error/ shared)
  outbox::Outbox outbox;                   // outbox/, or outbox/NAME/: its accusés and Recherche exports
  /// With `signature = obligatoire`: the account's `signataires`, loaded once at start (and at each
  /// reload, which builds a new engine), never per dépôt; null otherwise.
  std::shared_ptr<const rules::PinnedSigners> signers;

  /// The store's name of the channel: the account's NAME, kInboxChannel ("") for inbox/ itself.
  std::string_view name() const { return account ? std::string_view(account->name) : std::string_view(); }
};

class Engine {
 public:
  /// Builds the engine from a loaded config; `clock` gives the business instant.
  /// Does not open the store (see open()).
  Engine(Config config, BusinessClock clock);
  ~Engine();

  /// Creates the directories, opens the store and applies migrations, recovers outbox/ (the
  /// temporaries of dead processes, recover_outbox), loads the catalogue and the trust store. Throws StoreError /
  /// std::system_error on the engine's own failures.
  void open();

  /// `raccord init`: open() and, when `support_login` is set, makes sure that user is a support
  /// user (docs/reference.md §7 "create the support user, or make an existing user support"), in one
  /// transaction: an unknown login is created (email `support_email`, else
  /// "<login>@support.invalid"); an existing user gets support=1, keeping his email unless
  /// `support_email` is given. Idempotent. Returns what was done; throws StoreError when the store
  /// refuses it or does not hold the user as support afterwards (nothing is then committed).
  SupportUserOutcome init(const std::optional<std::string>& support_login,
                          const std::optional<std::string>& support_email);

  /// `raccord process`: .work/ leftovers first, then every settled dépôt in name order
  /// (waiting at most inbox.settle_ms of real time). Throws on the engine's own failures (the
  /// dépôt being processed stays in .work/ for the next pass).
  PassSummary process_pass();

  /// Claims and processes the named files of inbox/ now, without waiting for them to settle: for
  /// names reported complete by inotify (IN_CLOSE_WRITE, IN_MOVED_TO). Names that are not dépôts,
  /// vanished or are already claimed are skipped.
  PassSummary process_names(const std::vector<std::string>& names);
  /// The same for the names of channels()[channel]'s inbox folder.
  PassSummary process_names(std::size_t channel, const std::vector<std::string>& names);

  /// Where a claimed file comes from. Only a leftover of .work/ (recover_leftovers) may have been
  /// committed before a crash and be answered from its record; a file claimed from inbox/ is always
  /// a new drop, even with the name, bytes and inode of one already answered (an inode number is
  /// reused once the archived original is gone; a hard link of it shares it): it gets its own accusé.
  enum class ClaimOrigin { Inbox, Leftover };

  /// Processes one claimed file end to end (commit, accusé, archive/quarantine).
  /// `channel`: the index in channels() of the channel it was claimed from.
  DepositAnswer process_claimed(const inbox::ClaimedFile& file, ClaimOrigin origin = ClaimOrigin::Inbox,
                                std::size_t channel = 0);

  /// Processes claimed files together (group commit, issue 7): one store transaction for them
  /// all (one fsync of the store), then every accusé (each file fsynced, the outbox directory once),
  /// then the originals moved (their directories fsynced once). Every accusé still follows the
  /// durable commit of its dépôt, and a crash at any instant leaves the files in .work/ where the
  /// next pass answers them from the store, never twice. When the group's transaction fails for a
  /// reason other than a transient one, the files are processed one by one, so that the failure
  /// stays with its own dépôt. When the answer to the COMMIT is lost (connection cut), the retry
  /// answers the dépôts that COMMIT did record from their records (their accusés, their exports
  /// kept), never as their own DOUBLON. Answers in the order of `files`.
  /// Every file of a group comes from one channel (`channel`: its index in channels()).
  std::vector<DepositAnswer> process_group(const std::vector<const inbox::ClaimedFile*>& files,
                                           ClaimOrigin origin = ClaimOrigin::Inbox, std::size_t channel = 0);

  /// Group limits (issue 7): at most group_deposits() dépôts and kGroupBytes bytes (sum of file sizes,
  /// all loaded at once) per transaction; a larger dépôt forms a group of its own.
  static constexpr std::size_t kGroupDeposits = 128;
  static constexpr std::size_t kGroupDepositsPostgresql = 64;
  static constexpr std::uint64_t kGroupBytes = 32ULL * 1024 * 1024;
  /// The most dépôts of one group on this engine's store (docs/design.md "Group commit"): kGroupDeposits
  /// on SQLite, where each group costs its flushes (commit, accusés, folders) whatever its size;
  /// kGroupDepositsPostgresql on PostgreSQL, where each dépôt's operation is a subtransaction and a
  /// transaction of more than 64 of them no longer fits the server's per-session cache of subtransactions
  /// (other sessions then look them up in pg_subtrans).
  std::size_t group_deposits() const;

  /// `raccord check`: the accusés the files would get against the current store, in a
  /// transaction that is always rolled back. Works with no store (an empty in-memory one).
  /// `account`: check them as dropped through that sender account (`check --compte NAME`: its
  /// logins' DEMANDEUR_NON_AUTORISE, docs/reference.md §2.1, §7); null: as dropped in inbox/ itself.
  std::vector<DepositAnswer> check(const std::vector<std::filesystem::path>& files,
                                   const SenderAccount* account = nullptr);

  /// Runs `work` (one store transaction), again after a transient StoreError (up to 6 attempts,
  /// backoff from 50 ms in real time; on PostgreSQL with a fresh connection). Rethrows the last error.
  void with_retries(const std::function<void()>& work);

  /// A hook asked between groups of dépôts (before claiming more): returns true to end the pass
  /// there (the groups already claimed are finished first; what is not claimed stays in inbox/ for
  /// the next pass). The daemon uses it to notice SIGTERM and to ping the watchdog during a long pass.
  void set_interruption(std::function<bool()> should_stop) { should_stop_ = std::move(should_stop); }

  /// A hook run inside each group's transaction, after its dépôts are applied and recorded, just
  /// before its COMMIT (every attempt). Tests use it to hold one engine's transaction open while
  /// another engine works on the same rows; production code sets none. It may throw (StoreError
  /// behaves as if the store had failed there).
  void set_before_commit(std::function<void()> hook) { before_commit_ = std::move(hook); }

  /// Opens a new connection to the store (after the database came back). Logs, never throws.
  void reconnect_store();

  /// Rewrites metrics.prom with its scanned figures measured again (the sheets by state, the files in error/:
  /// engine/metrics.hpp ScannedFigures), then kept for the refreshes after each group: called at the end of a
  /// full pass when a group was committed since the last measure or when the file shows CRL ages (they grow with
  /// the clock), after a nightly run, by the daemon for each engine it builds (start, SIGHUP) and after it
  /// reloads its CRLs (docs/design.md "Gauges of metrics.prom"). The CRL ages are computed at the business
  /// instant (waiting for a background CRL load). `waiting` as for
  /// refresh_metrics. Never throws: a failure is logged as a warning, nothing is written and no measure is
  /// kept (the next group's refresh measures again).
  void refresh_metrics_rescanned(std::optional<std::int64_t> waiting = std::nullopt) noexcept;

  /// Reloads the catalogue and the trust store (SIGHUP).
  void reload_rules();

  const Config& config() const { return config_; }
  inbox::InboxDirectory& inbox() { return channels_.front().inbox; }
  /// inbox/ itself first, then one per configured sender account, in the order of Config::accounts.
  const std::vector<Channel>& channels() const { return channels_; }
  /// The one writer of outbox/ (accusés, exports, reports, metrics.prom).
  const outbox::Outbox& outbox() const { return channels_.front().outbox; }
  Database& database() { return *db_; }
  const BusinessClock& clock() const { return clock_; }
  const CivilZone& zone() const { return zone_; }
  const rules::Catalogue& catalogue() const { return catalogue_; }
  const rules::CertificateChecker& certificates() const { return *certificates_; }
  /// The same, to reload its CRLs (the daemon's watch on certificates.crl_dir, docs/revocation.md).
  rules::CertificateChecker& certificates() { return *certificates_; }
  /// Worker threads checking certificates ahead besides the thread applying the dépôts or the
  /// nightly activations: one less than the hardware threads, at least one (issue 7). The hardware
  /// threads are counted at the first call and kept for the process.
  static unsigned validation_threads();

 private:
  /// One dépôt as read before its group's transaction (a claimed file, or a file given to
  /// `raccord check`), and what it is answered.
  struct Item {
    const inbox::ClaimedFile* file = nullptr;  // null for `raccord check`
    std::string name;                          // the dépôt's file name (the accusé's fichier)
    Instant received{};                        // when it was claimed (UTC)
    std::string identity;                      // device:inode of the claimed file ("" for check)
    std::uint64_t size = 0;
    std::string sha256;
    DepositReadResult read;
    DepositAnswer result;
    std::string committing_ack;  // the accusé recorded by the attempt whose COMMIT's answer was lost
    bool spent = false;          // `read` was freed once answered: another attempt reads the file again
    std::size_t channel = 0;     // its index in channels_
    /// A signed dépôt whose signature verified (rules::SignatureCheck::replay_key): kept by the store
    /// when the dépôt ends REJETE, refused as a replay when the store already keeps it.
    std::string signature_key;
  };

  /// The transaction attempt a dépôt is answered in.
  struct Attempt {
    Instant now{};  // the group's processing instant (UTC)
    /// Where its Recherches stage their exports (recorded with it: DepositAnswer::exports); null: a
    /// dry run (`raccord check`), nothing written nor recorded.
    outbox::StagedExports* exports = nullptr;
    /// The group's certificate reports checked ahead (deposit_index: this dépôt's place there); null:
    /// checked as it goes.
    CertificatesAhead* certificates_ahead = nullptr;
    std::size_t deposit_index = 0;
    /// The group's running counters, written just before its COMMIT; null: a dry run.
    DepositCounters* counters = nullptr;
  };

  /// Decides and renders the accusé of dépôt `item` (its name, identity, SHA-256, reception instant
  /// and what was read) inside the caller's transaction, processed at attempt.now, and names it free
  /// (Outbox::acknowledgement_name); records it unless a dry run. Once its operations are applied,
  /// what was read is freed (`item.spent`: the memory of a dépôt is not held twice, its operations
  /// and its accusé). Throws StoreError, std::bad_alloc: any failure to produce the answer, which
  /// then is not recorded.
  DepositAnswer answer(Item& item, const Attempt& attempt);

  /// Start-up recovery of outbox/ (docs/reference.md §2 "Atomic outputs"): each temporary left there by a dead
  /// process of this host (Outbox::dead_temporaries) is removed, except the temporary of an export
  /// whose dépôt committed just before a crash (the store records it), which is published (renamed to
  /// its recorded name). Never touches the temporaries of live processes nor of other hosts. Failures
  /// are logged, never thrown.
  void recover_outbox(const outbox::Outbox& outbox);

  /// Logs (warning) each folder of inbox/ and inbox/.work/ that is no configured account: never read
  /// nor changed (a removed account's folders stay as they are; docs/accounts.md).
  void log_unconfigured_folders() const;

  /// Processes `claimed` (already claimed), then claims `names` (in order, dépôt names only) and
  /// processes them, in groups within the limits above; counts every answer in `summary`, and the
  /// dépôts not taken (held open, unopenable), which are logged once for the call (docs/design.md
  /// "Taking a dépôt").
  /// All from channels_[channel]. Returns true when the pass is to end there (should_stop_).
  bool process_in_groups(std::vector<inbox::ClaimedFile> claimed, std::size_t channel,
                         const std::vector<std::string>& names, PassSummary& summary);

  /// The settled candidates of every channel (`names[i]`: channels_[i]'s), claimed and processed
  /// round-robin by group (docs/accounts.md "Fairness"): group_deposits() names of one channel, then of
  /// the next, so that one channel's backlog never starves another's single dépôt.
  void process_channels(const std::vector<std::vector<std::string>>& names, PassSummary& summary);

  /// A dépôt-level COMPTE_NON_AUTORISE when `file` of a sender account's channel is not owned by its
  /// `proprietaire` or has more than one hard link (fstat of the claimed descriptor, before any byte
  /// is read; docs/accounts.md); nullopt otherwise and for inbox/ itself.
  /// The same checks on the dépôt's claimed `.p7s` (ClaimedFile::signature) when it has one.
  static std::optional<Diagnostic> identity_refusal(const Channel& channel, const inbox::ClaimedFile& file);
  /// The descriptor those checks refuse: `file`, else its `.p7s`, when one is not owned by the account's
  /// `proprietaire` or has a link count other than 1; null when both pass or for inbox/ itself. The audit line of
  /// a COMPTE_NON_AUTORISE names this file and its owner.
  static const inbox::ClaimedFile* identity_refused_file(const Channel& channel, const inbox::ClaimedFile& file);

  /// One claimed file with every system call of its reading made (load_file): what read_loaded_file needs.
  struct LoadedFile {
    Instant received{};                    // when it was loaded (UTC): the instant its signature is judged at
    inbox::LoadedDeposit loaded;           // its bytes; or, refused for its identity or size, its answer already
    std::optional<std::string> signature;  // the bytes of its .p7s (signed channels; none when absent or oversized)
    std::uint64_t signature_size = 0;      // bytes of its .p7s on the claimed descriptor (0 when absent)
  };
  /// Loads claimed `file` of `channel` (the first half of read_file): its identity refusal, else its bytes
  /// (inbox::load_claimed) and, in a channel with signatures, those of its `.p7s` unless oversized, at
  /// `received`. Throws std::system_error when a file cannot be read.
  LoadedFile load_file(const Channel& channel, const inbox::ClaimedFile& file, Instant received) const;
  /// The second half, no system call, any thread (docs/design.md "Reading ahead"): the bytes of `file`, which
  /// in a channel with signatures are verified against its `.p7s` at `file.received` (the injected clock)
  /// before they are parsed: SIGNATURE_ABSENTE, SIGNATURE_INVALIDE (docs/accounts.md "Signed dépôts");
  /// `signature_key` receives the replay key of a signature that verified. Throws std::bad_alloc.
  inbox::ClaimedDeposit read_loaded_file(const Channel& channel, LoadedFile file, std::string& signature_key) const;
  /// Reads claimed `file` of `channel` once: read_loaded_file(load_file(…)) on the caller.
  inbox::ClaimedDeposit read_file(const Channel& channel, const inbox::ClaimedFile& file, Instant now,
                                  std::string& signature_key) const;

  /// The reading of one group's files: loaded by the caller, read (parsed, signatures verified) by a
  /// TasksAhead, ahead on its worker thread or on the caller when taken (docs/design.md "Reading ahead").
  /// Ahead, the certificate reports of a dépôt of at most kPrecheckedSheets sheets are computed with it.
  struct GroupReading;
  static constexpr std::size_t kPrecheckedSheets = 16;
  /// Loads `files` of channels_[`channel`] now and starts their reading; `ahead`: on a worker thread (the
  /// group is answered after the one before it), else on the caller as finish_group takes them.
  std::unique_ptr<GroupReading> start_reading(const std::vector<const inbox::ClaimedFile*>& files, std::size_t channel,
                                              bool ahead);
  /// process_group's answer of `files`, read by `reading` (start_reading of the same files).
  std::vector<DepositAnswer> finish_group(const std::vector<const inbox::ClaimedFile*>& files, ClaimOrigin origin,
                                          std::size_t channel, GroupReading& reading);

  /// A group claimed and being read while the group before it is answered (docs/design.md "Reading ahead"):
  /// within a pass, at most one, answered by the next flush of any channel or at the end of the pass.
  struct AheadGroup;
  /// Answers claimed `group` (finish_group of its reading) and counts its answers in `summary`.
  void answer_group(std::unique_ptr<AheadGroup> group, PassSummary& summary);
  /// Answers ahead_ (when there is one, answer_group) and counts its answers in `summary`; ahead_ is empty afterwards,
  /// also when this throws (the group's files then stay in .work/ for the next pass, as any group's).
  void finish_ahead(PassSummary& summary);
  /// Runs `work` (a pass's claims and groups), then finish_ahead. When `work` throws while a group is read
  /// ahead, that group is answered first (a failure there is logged: its files stay in .work/), then the
  /// exception goes on: a failure of the next dépôts never strands the group before them.
  void answering_ahead_on_failure(PassSummary& summary, const std::function<void()>& work);

  Config config_;
  BusinessClock clock_;
  CivilZone zone_;
  std::vector<Channel> channels_;  // [0]: inbox/ itself
  std::unique_ptr<Database> db_;
  rules::Catalogue catalogue_;
  std::unique_ptr<rules::CertificateChecker> certificates_;
  std::function<bool()> should_stop_;
  std::function<void()> before_commit_;
  /// The count of waiting dépôts (metrics.prom) during a pass (process_pass, process_names): listed once
  /// by the pass's first group (count_waiting_deposits), then less each dépôt the pass claims from an
  /// inbox folder since, instead of listing every folder again after each group (bench/README.md
  /// "Figure 11, third pass"). Outside a pass (process_group called alone) each refresh lists.
  struct WaitingCount {
    bool in_pass = false;
    std::optional<std::int64_t> listed;  // at the pass's first refresh
    std::int64_t claimed = 0;            // dépôts claimed from inbox folders since that listing
  };
  WaitingCount waiting_;
  /// metrics.prom's scanned figures as this engine last measured them (refresh_metrics_rescanned; the first
  /// refresh after a group when there is no measure), and whether a group was committed since: the refresh
  /// after each group writes them as they are, for a scan of every sheet after each group grew with the store
  /// (0.23 s a group at 1,000,000 sheets, bench/README.md "Figure 2 on a grown store").
  std::unique_ptr<ScannedFigures> scanned_;
  bool scanned_stale_ = false;
  /// Rewrites metrics.prom after a group of dépôts with this engine's last measure of the scanned figures
  /// (measuring them when it has none, as refresh_metrics_rescanned) and the CRL ages at the business instant.
  /// `waiting` as for refresh_metrics. Never throws: a failure is logged as a warning.
  void rewrite_metrics(std::optional<std::int64_t> waiting) noexcept;
  /// refresh_metrics_rescanned with the CRL ages the caller computed (`ages`, crl_ages()).
  void measure_and_write(std::optional<std::int64_t> waiting, std::vector<outbox::CrlAge> ages) noexcept;
  /// metrics.prom's CRL ages (docs/reference.md §5.4): per issuer, its newest verified CRL's age at the
  /// business instant (CertificateChecker::newest_verified_crls), the authorities recorded in the store
  /// (table proved_authorities, migration 11) among the known issuers. First records the authorities this
  /// engine's checks proved since the last call (one INSERT each, once per process); with `reread`, reads the
  /// table again (a full measure: another engine or command may have recorded some). Nothing is read nor
  /// written when no CRL is loaded. Never throws: a failure gives none (logged).
  std::vector<outbox::CrlAge> crl_ages(bool reread = true) noexcept;
  std::vector<rules::RecordedAuthority> recorded_authorities_;  // as last read, plus those recorded since
  std::size_t proved_count_recorded_ = 0;                       // the checker's proved authorities when last recorded
  std::unique_ptr<AheadGroup> ahead_;                           // see AheadGroup; only within a pass
  /// Marks a pass for waiting_ and ahead_ while it lives (the outermost one; an exception ends it too, and
  /// a group still read ahead is then dropped, its files left in .work/).
  class PassScope {
   public:
    explicit PassScope(Engine& e);
    ~PassScope();
    PassScope(const PassScope&) = delete;
    PassScope& operator=(const PassScope&) = delete;

   private:
    Engine& e_;
    bool outer_;
  };
};

}  // namespace raccord
