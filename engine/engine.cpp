#include "engine/engine.hpp"

#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <thread>

#include "engine/log.hpp"
#include "engine/metrics.hpp"
#include "engine/processor.hpp"
#include "engine/store.hpp"
#include "files/atomic_file.hpp"
#include "inbox/deposit_reader.hpp"
#include "inbox/sha256.hpp"
#include "outbox/acknowledgement_writer.hpp"

namespace raccord {
namespace {

namespace fs = std::filesystem;

/// Dépôt-level codes whose original goes to error/ (SPEC.md §2 "Where originals go").
bool is_quarantine_code(ErrorCode code) {
  switch (code) {
    case ErrorCode::XmlMalforme:
    case ErrorCode::EncodageInvalide:
    case ErrorCode::DtdInterdite:
    case ErrorCode::FichierVide:
    case ErrorCode::FichierTropVolumineux:
    case ErrorCode::SchemaInvalide:
      return true;
    default:
      return false;
  }
}

std::string file_identity(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return fmt::format("{}:{}", static_cast<unsigned long long>(st.st_dev), static_cast<unsigned long long>(st.st_ino));
}

rules::CertificatePolicy policy_of(const Config& c) {
  return rules::CertificatePolicy{c.trust_dir, c.min_rsa_bits, c.expiry_warning_days, c.clock_skew_s};
}

std::string reason_text(const Acknowledgement& ack) {
  std::string text = fmt::format("Dépôt « {} » refusé le {} (SHA-256 {}).\n", ack.file_name,
                                 format_iso_instant(ack.processed), ack.sha256);
  for (const auto& d : ack.deposit_errors) {
    text += fmt::format("{} ligne {}{} : {}\n", to_string(d.code), d.line,
                        d.column > 0 ? fmt::format(" colonne {}", d.column) : std::string(), d.message);
  }
  return text;
}

/// SQLite creates its file (and its -wal and -shm, which copy the file's rights) rw-r--r-- before
/// umask: take away every right beyond rw-r----- (issue 8: the store is never world-readable).
/// Never adds a right; a file owned by someone else keeps its mode (EPERM is ignored).
void restrict_store_files(const std::string& database) {
  if (database.empty() || database == ":memory:") return;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    const std::string path = database + suffix;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    const mode_t wanted = st.st_mode & 0640;
    if ((st.st_mode & 07777) != wanted) (void)::chmod(path.c_str(), wanted);
  }
}

}  // namespace

Engine::Engine(Config config, BusinessClock clock)
    : config_(std::move(config)),
      clock_(clock),
      zone_(config_.timezone),
      inbox_(config_.root, config_.file_umask),
      catalogue_(rules::Catalogue::seed()) {}

Engine::~Engine() = default;

void Engine::open() {
  inbox_.ensure_layout();
  db_ = open_database(config_.store_backend, config_.effective_connection());
  db_->migrate();
  if (config_.store_backend == "sqlite") restrict_store_files(config_.effective_connection());
  reload_rules();
}

void Engine::reload_rules() {
  std::string source;
  catalogue_ = rules::Catalogue::load_or_seed(config_.rules_dir, source);
  log::info("catalogue des flux : {} ({} codes)", source, catalogue_.entries().size());
  // The checker builds its trust store once, in its constructor (slow on OpenSSL 3.0).
  certificates_ = std::make_unique<rules::CertificateChecker>(policy_of(config_));
  for (const auto& l : certificates_->trust_store_log()) log::warning("{}", l);
  log::info("magasin de confiance : {} ({} autorité(s))", config_.trust_dir.string(),
            certificates_->trust_anchor_count());
}

void Engine::init(const std::optional<std::string>& support_login, const std::optional<std::string>& support_email) {
  open();
  if (!support_login) return;
  Store store(*db_);
  Transaction tx(*db_);
  if (!store.find_user(*support_login)) {
    std::string email = support_email.value_or("");
    if (email.empty()) email = *support_login + "@support.invalid";
    store.upsert_user(UserRecord{*support_login, email, true}, clock_.now());
    log::info("utilisateur support créé : {}", *support_login);
  }
  tx.commit();
}

unsigned Engine::validation_threads() {
  return std::max(2U, std::thread::hardware_concurrency()) - 1;
}

DepositReadResult Engine::read(std::string bytes, std::uint64_t size) const {
  const auto max_bytes = static_cast<std::uint64_t>(config_.max_bytes);
  if (size <= max_bytes) return inbox::read_deposit(std::move(bytes), max_bytes);
  DepositReadResult read;
  read.errors.push_back(Diagnostic::error(
      ErrorCode::FichierTropVolumineux, "", 0,
      fmt::format("Le dépôt fait {} octets, au-delà de la limite de {} octets (inbox.max_bytes) : découpez-le en "
                  "plusieurs dépôts.",
                  size, max_bytes)));
  return read;
}

DepositAnswer Engine::answer(const std::string& file_name, const std::string& identity, const DepositReadResult& read,
                             const std::string& sha256, Instant received, Instant now, bool dry_run,
                             CertificatesAhead* certificates_ahead, std::size_t deposit_index) {
  Store store(*db_);
  Acknowledgement ack;
  ack.file_name = file_name;
  ack.sha256 = sha256;
  ack.received = received;
  ack.processed = now;

  if (read.deposit) {
    if (read.deposit->identifier.present) ack.identifier = read.deposit->identifier.value;
    ack.mode = read.deposit->mode;
  }

  std::string destination = "archive";
  if (auto applied = store.find_applied_deposit(ack.sha256)) {
    ack.status = DepositStatus::Doublon;
    ack.original = applied->ack_name;
  } else if (!read.deposit) {
    ack.status = DepositStatus::Rejete;
    ack.deposit_errors = read.errors;
    for (const auto& d : read.errors) {
      if (is_quarantine_code(d.code)) destination = "error";
    }
  } else if (auto same_id = ack.identifier ? store.find_applied_by_identifier(*ack.identifier) : std::nullopt) {
    ack.status = DepositStatus::Rejete;
    ack.deposit_errors.push_back(Diagnostic::error(
        ErrorCode::DepotIdentifiantReutilise, "@identifiant", read.deposit->identifier.line,
        fmt::format("L'identifiant de dépôt « {} » a déjà été intégré (accusé {}) avec un contenu différent : "
                    "donnez un nouvel identifiant à ce dépôt.",
                    *ack.identifier, same_id->ack_name)));
  } else {
    ProcessingContext context{&config_,
                              &zone_,
                              dry_run ? fs::path() : inbox_.outbox_dir(),
                              &catalogue_,
                              certificates_.get(),
                              now,
                              zone_.date_of(now),
                              ack.sha256};
    context.validation_threads = validation_threads();
    context.exports_written = &exports_written_;
    context.certificates_ahead = certificates_ahead;
    context.deposit_index = deposit_index;
    auto outcome = apply_deposit(store, context, *read.deposit);
    ack.status = outcome.status;
    ack.operations = std::move(outcome.operations);
  }
  DepositAnswer result;
  result.status = ack.status;
  const std::string base = outbox::acknowledgement_base_name(file_name, now);
  std::string name = base + ".xml";
  for (int n = 2; fs::exists(inbox_.outbox_dir() / name) || store.ack_name_taken(name); ++n) {
    name = fmt::format("{}_{}.xml", base, n);
  }
  result.ack_name = name;
  result.ack_content = outbox::render_acknowledgement(ack);
  result.quarantine = destination == "error";
  if (result.quarantine) result.reason = reason_text(ack);
  if (!dry_run) {
    store.insert_deposit(
        DepositRecord{0, ack.sha256, file_name, identity, ack.identifier, std::string(to_code(ack.status)),
                      result.ack_name, result.ack_content, destination, result.reason},
        received, now);
    record_deposit_metrics(*db_, ack);  // metrics.prom's running counters, in the same transaction
  }
  return result;
}

DepositAnswer Engine::process_claimed(const inbox::ClaimedFile& file, ClaimOrigin origin) {
  return process_group({&file}, origin).front();
}

std::vector<DepositAnswer> Engine::process_group(const std::vector<const inbox::ClaimedFile*>& files,
                                                 ClaimOrigin origin) {
  struct Item {
    const inbox::ClaimedFile* file;
    Instant received;
    std::string identity;
    std::uint64_t size;
    std::string sha256;
    DepositReadResult read;
    DepositAnswer result;
    std::string committing_ack;  // the accusé recorded by the attempt whose COMMIT's answer was lost
  };
  std::vector<Item> items;
  items.reserve(files.size());
  for (const inbox::ClaimedFile* file : files) {
    Item item{file, clock_.now(), file_identity(file->path()), file->size(), {}, {}, {}, {}};
    // An oversized dépôt is hashed from the file and never loaded (FIELD-CASES F07).
    const bool too_large = item.size > static_cast<std::uint64_t>(config_.max_bytes);
    item.sha256 = file->sha256();
    // Read before the transaction: the group's certificates are then checked ahead on worker
    // threads while its dépôts are applied one after the other (issue 7).
    item.read = read(too_large ? std::string() : file->read_all(), item.size);
    items.push_back(std::move(item));
  }

  // Already committed before a crash: answer from the record, never twice (SPEC.md §2). Transient
  // store failures (busy, serialization, deadlock, lost connection, a unique key another engine took
  // first) roll the transaction back and run it again.
  // A COMMIT whose answer was lost (connection cut, server restarted) may have committed: the next
  // attempt looks for the record that COMMIT carried (this file, still claimed and locked by this
  // engine, with the accusé name it recorded, unique in the store), so that a committed dépôt is
  // answered from its own record, never as its own DOUBLON (docs/design.md "Unknown commit outcome").
  bool commit_outcome_unknown = false;
  std::vector<std::string> unsure_exports;  // written by that attempt: kept only if it committed
  try {
    with_retries([&] {
      // The exports of Recherche operations are written before the commit (they read the store as
      // the operation sees it): an attempt that does not commit takes its exports away with it
      // (hostile finding 3: a failed group left orphan and duplicate exports).
      exports_written_.clear();
      struct RemoveUncommitted {
        std::vector<std::string>& names;
        const fs::path dir;
        std::vector<std::string>& unsure;
        bool committed = false;
        bool commit_sent = false;
        ~RemoveUncommitted() {
          if (committed) return;
          if (commit_sent) {  // perhaps committed: the next attempt decides
            unsure.insert(unsure.end(), names.begin(), names.end());
            return;
          }
          std::error_code ignored;
          for (const auto& n : names) fs::remove(dir / n, ignored);
        }
      } uncommitted{exports_written_, inbox_.outbox_dir(), unsure_exports};
      Store store(*db_);
      Transaction tx(*db_);
      // One instant for the group's dépôts, which one transaction commits together.
      const Instant now = clock_.now();
      std::vector<const Deposit*> deposits;
      for (const auto& item : items) {
        if (item.read.deposit) deposits.push_back(&*item.read.deposit);
      }
      CertificatesAhead certificates(*certificates_, deposits, now, validation_threads());
      std::vector<std::optional<DepositRecord>> records;
      bool committed_before = false;  // the attempt whose COMMIT's answer was lost did commit
      for (auto& item : items) {
        auto record = origin == ClaimOrigin::Leftover || !item.committing_ack.empty()
                          ? store.find_processed_file(item.file->name(), item.sha256, item.identity)
                          : std::nullopt;
        if (record && !item.committing_ack.empty() && record->ack_name == item.committing_ack) {
          committed_before = true;
        } else if (record && origin != ClaimOrigin::Leftover) {
          record.reset();  // another drop's record (a reused inode): this file is answered anew
        }
        records.push_back(std::move(record));
      }
      if (!committed_before) {  // its exports name no recorded accusé: they go
        std::error_code ignored;
        for (const auto& n : unsure_exports) fs::remove(inbox_.outbox_dir() / n, ignored);
      }
      unsure_exports.clear();
      std::size_t deposit_index = 0;
      for (std::size_t i = 0; i < items.size(); ++i) {
        auto& item = items[i];
        const std::string& name = item.file->name();
        const auto& record = records[i];
        const std::size_t index = item.read.deposit ? deposit_index++ : 0;
        if (!record) {
          item.result =
              answer(name, item.identity, item.read, item.sha256, item.received, now, false, &certificates, index);
        } else {
          log::info("{} : déjà traité avant une interruption ; accusé {} repris", name, record->ack_name);
          item.result.ack_name = record->ack_name;
          item.result.ack_content = record->ack_content;
          item.result.status = parse_deposit_status(record->status).value_or(DepositStatus::Rejete);
          item.result.quarantine = record->destination == "error";
          item.result.reason = record->reason;
        }
      }
      if (before_commit_) before_commit_();
      commit_outcome_unknown = true;  // until the answer to COMMIT is read
      uncommitted.commit_sent = true;
      for (auto& item : items) item.committing_ack = item.result.ack_name;
      tx.commit();
      uncommitted.committed = true;
    });
  } catch (const StoreError& e) {
    if (files.size() < 2 || e.transient) throw;  // a store still failing after the retries: no use
    log::warning("store : {} ; les {} dépôts du groupe sont repris un par un", e.what(), files.size());
    std::vector<DepositAnswer> answers;
    const ClaimOrigin again = commit_outcome_unknown ? ClaimOrigin::Leftover : origin;
    for (const inbox::ClaimedFile* file : files) answers.push_back(process_claimed(*file, again));
    return answers;
  }
  for (auto& item : items) item.read = DepositReadResult();  // the group's memory goes before the writes

  // After the commit: the accusés, then the originals (DESIGN.md data flow step 3); one filesystem
  // sync for the accusés' contents and each directory fsynced once for the group, before the step
  // after it relies on it.
  const fs::path outbox = inbox_.outbox_dir();
  std::vector<std::pair<std::string, std::string>> accuses;
  accuses.reserve(items.size());
  for (const auto& item : items) accuses.emplace_back(item.result.ack_name, item.result.ack_content);
  files::create_files_atomically(outbox, accuses);  // an accusé already there (before a crash) stays
  std::set<fs::path> moved_to;
  for (const auto& item : items) {
    if (item.result.quarantine) {
      inbox_.quarantine(*item.file, item.result.reason);
    } else {
      moved_to.insert(
          inbox_.archive(*item.file, zone_.date_of(clock_.now()), files::DirectorySync::Caller).parent_path());
    }
  }
  for (const auto& dir : moved_to) files::sync_directory(dir);
  if (!moved_to.empty()) files::sync_directory(inbox_.work_dir());

  std::vector<DepositAnswer> answers;
  answers.reserve(items.size());
  for (auto& item : items) {
    log::info("{} : {} → {}", item.file->name(), to_code(item.result.status), item.result.ack_name);
    answers.push_back(std::move(item.result));
  }
  refresh_metrics(*db_, outbox);  // SPEC.md §5.4, after each group; never throws
  return answers;
}

namespace {

void count(PassSummary& summary, const DepositAnswer& a) {
  ++summary.processed;
  summary.acknowledgements.push_back(a.ack_name);
  switch (a.status) {
    case DepositStatus::Integre:
      ++summary.integre;
      break;
    case DepositStatus::IntegrePartiel:
      ++summary.integre_partiel;
      break;
    case DepositStatus::Rejete:
      ++summary.rejete;
      break;
    case DepositStatus::Doublon:
      ++summary.doublon;
      break;
  }
}

}  // namespace

void Engine::with_retries(const std::function<void()>& work) {
  constexpr int kAttempts = 6;
  std::chrono::milliseconds pause{50};
  for (int attempt = 1;; ++attempt) {
    try {
      work();
      return;
    } catch (const StoreError& e) {
      if (!e.transient || attempt == kAttempts) throw;
      log::warning("store : {} ; nouvel essai {}/{} dans {} ms", e.what(), attempt + 1, kAttempts, pause.count());
      std::this_thread::sleep_for(pause);  // real time (never the business clock)
      pause *= 2;
      if (db_->backend() == Backend::Postgresql) reconnect_store();
    }
  }
}

void Engine::reconnect_store() {
  try {
    db_ = open_database(config_.store_backend, config_.effective_connection());
  } catch (const StoreError& e) {
    log::warning("reconnexion au store impossible : {}", e.what());
  }
}

void Engine::process_in_groups(std::vector<inbox::ClaimedFile> claimed, const std::vector<std::string>& names,
                               PassSummary& summary) {
  std::vector<inbox::ClaimedFile> group;
  std::uint64_t bytes = 0;
  ClaimOrigin origin = ClaimOrigin::Leftover;
  bool stopping = false;
  auto flush = [&] {
    if (group.empty()) return;
    // The claims' renames made durable once for the group, before its commit: a committed dépôt is
    // never found back in inbox/ after a crash (only .work/ leftovers are answered from a record).
    files::sync_directory(inbox_.work_dir());
    files::sync_directory(inbox_.inbox_dir());
    std::vector<const inbox::ClaimedFile*> members;
    for (const auto& f : group) members.push_back(&f);
    for (const auto& a : process_group(members, origin)) count(summary, a);
    group.clear();
    bytes = 0;
    if (should_stop_ && should_stop_()) stopping = true;  // asked after each group
  };
  auto add = [&](inbox::ClaimedFile file) {
    const std::uint64_t size = file.size();
    if (!group.empty() && (group.size() >= kGroupDeposits || bytes + size > kGroupBytes)) flush();
    bytes += size;
    group.push_back(std::move(file));
  };
  auto claim = [&](const std::string& name) -> std::optional<inbox::ClaimedFile> {
    if (auto file = inbox_.claim(name, files::DirectorySync::Caller)) return file;
    if (group.empty()) return std::nullopt;
    // It may be locked by this very group (a hard link to a file of the group: one inode, one
    // lock): the group goes first, then the claim is tried again.
    flush();
    return inbox_.claim(name, files::DirectorySync::Caller);
  };
  for (auto& file : claimed) add(std::move(file));
  flush();
  origin = ClaimOrigin::Inbox;
  for (const auto& name : names) {
    if (!inbox::InboxDirectory::is_deposit_name(name)) continue;
    if (!stopping && group.empty() && should_stop_ && should_stop_()) stopping = true;  // before the first
    if (stopping) break;  // what is claimed is finished below; the rest waits in inbox/
    if (auto file = claim(name)) add(std::move(*file));
  }
  flush();
}

PassSummary Engine::process_names(const std::vector<std::string>& names) {
  PassSummary summary;
  process_in_groups({}, names, summary);
  return summary;
}

PassSummary Engine::process_pass() {
  PassSummary summary;
  auto leftovers = inbox_.recover_leftovers();
  for (const auto& leftover : leftovers) log::info("reprise après interruption : {}", leftover.name());
  process_in_groups(std::move(leftovers), {}, summary);
  process_in_groups({}, inbox_.settled_candidates(std::chrono::milliseconds(config_.settle_ms)), summary);
  // Still changing, or waiting for the same name to leave .work/.
  summary.left_for_later = static_cast<int>(inbox_.list_candidates().size());
  return summary;
}

std::vector<DepositAnswer> Engine::check(const std::vector<fs::path>& files) {
  const bool have_store = config_.store_backend == "postgresql" || fs::exists(config_.effective_connection());
  db_ = have_store ? open_database(config_.store_backend, config_.effective_connection())
                   : open_database("sqlite", ":memory:");
  if (!have_store) db_->migrate();
  std::string source;
  catalogue_ = rules::Catalogue::load_or_seed(config_.rules_dir, source);
  certificates_ = std::make_unique<rules::CertificateChecker>(policy_of(config_));

  std::vector<DepositAnswer> answers;
  Transaction tx(*db_);  // never committed: check changes nothing
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::system_error(errno, std::generic_category(), "lecture de " + path.string());
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string bytes = buffer.str();
    const Instant now = clock_.now();
    answers.push_back(answer(path.filename().string(), {}, read(bytes, bytes.size()), inbox::sha256_hex(bytes), now,
                             now, true, nullptr, 0));
  }
  return answers;
}

}  // namespace raccord
