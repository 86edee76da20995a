#include "engine/engine.hpp"

#include <sys/stat.h>

#include <fstream>
#include <iterator>
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
      inbox_(config_.root),
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

DepositAnswer Engine::answer(const std::string& file_name, const std::string& identity, std::string_view bytes,
                             const std::string& sha256, std::uint64_t size, Instant received, bool dry_run) {
  const Instant now = clock_.now();
  Store store(*db_);
  Acknowledgement ack;
  ack.file_name = file_name;
  ack.sha256 = sha256;
  ack.received = received;
  ack.processed = now;

  const auto max_bytes = static_cast<std::uint64_t>(config_.max_bytes);
  DepositReadResult read;
  if (size > max_bytes) {
    read.errors.push_back(Diagnostic::error(
        ErrorCode::FichierTropVolumineux, "", 0,
        fmt::format("Le dépôt fait {} octets, au-delà de la limite de {} octets (inbox.max_bytes) : découpez-le en "
                    "plusieurs dépôts.",
                    size, max_bytes)));
  } else {
    read = inbox::read_deposit(bytes, max_bytes);
  }
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
    ProcessingContext context{&config_,          &zone_, dry_run ? fs::path() : inbox_.outbox_dir(),
                              &catalogue_,       certificates_.get(), now,
                              zone_.date_of(now), ack.sha256};
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
  if (!dry_run) {
    store.insert_deposit(DepositRecord{0, ack.sha256, file_name, identity, ack.identifier,
                                       std::string(to_code(ack.status)), result.ack_name, result.ack_content,
                                       destination, destination == "error" ? reason_text(ack) : std::string()},
                         received, now);
    record_deposit_metrics(*db_, ack);  // metrics.prom's running counters, in the same transaction
  }
  return result;
}

DepositAnswer Engine::process_claimed(const inbox::ClaimedFile& file) {
  const Instant received = clock_.now();
  const std::string identity = file_identity(file.path());
  const std::uint64_t size = file.size();
  // An oversized dépôt is hashed from the file and never loaded (FIELD-CASES F07).
  const bool too_large = size > static_cast<std::uint64_t>(config_.max_bytes);
  const std::string sha256 = file.sha256();
  const std::string bytes = too_large ? std::string() : file.read_all();

  // Already committed before a crash: answer from the record, never twice (SPEC.md §2). Transient
  // store failures (busy, serialization, deadlock, lost connection, a unique key another engine took
  // first) roll the transaction back and run it again.
  std::optional<DepositRecord> record;
  DepositAnswer result;
  with_retries([&] {
    Store store(*db_);
    Transaction tx(*db_);
    record = store.find_processed_file(file.name(), sha256, identity);
    if (!record) {
      result = answer(file.name(), identity, bytes, sha256, size, received, false);
      record = store.find_processed_file(file.name(), sha256, identity);
    } else {
      log::info("{} : déjà traité avant une interruption ; accusé {} repris", file.name(), record->ack_name);
      result.ack_name = record->ack_name;
      result.ack_content = record->ack_content;
      result.status = parse_deposit_status(record->status).value_or(DepositStatus::Rejete);
    }
    tx.commit();
  });
  // After the commit: the accusé, then the original (DESIGN.md data flow step 3).
  files::create_file_atomically(inbox_.outbox_dir(), result.ack_name, result.ack_content);
  if (record && record->destination == "error") {
    inbox_.quarantine(file, record->reason);
  } else {
    inbox_.archive(file, zone_.date_of(clock_.now()));
  }
  log::info("{} : {} → {}", file.name(), to_code(result.status), result.ack_name);
  refresh_metrics(*db_, inbox_.outbox_dir());  // SPEC.md §5.4, after each dépôt; never throws
  return result;
}

namespace {

void count(PassSummary& summary, const DepositAnswer& a) {
  ++summary.processed;
  summary.acknowledgements.push_back(a.ack_name);
  switch (a.status) {
    case DepositStatus::Integre: ++summary.integre; break;
    case DepositStatus::IntegrePartiel: ++summary.integre_partiel; break;
    case DepositStatus::Rejete: ++summary.rejete; break;
    case DepositStatus::Doublon: ++summary.doublon; break;
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

PassSummary Engine::process_names(const std::vector<std::string>& names) {
  PassSummary summary;
  for (const auto& name : names) {
    if (!inbox::InboxDirectory::is_deposit_name(name)) continue;
    auto claimed = inbox_.claim(name);
    if (claimed) count(summary, process_claimed(*claimed));
  }
  return summary;
}

PassSummary Engine::process_pass() {
  PassSummary summary;
  for (auto& leftover : inbox_.recover_leftovers()) {
    log::info("reprise après interruption : {}", leftover.name());
    count(summary, process_claimed(leftover));
  }
  const auto settled = inbox_.settled_candidates(std::chrono::milliseconds(config_.settle_ms));
  for (const auto& name : settled) {
    if (auto claimed = inbox_.claim(name)) count(summary, process_claimed(*claimed));
  }
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
    answers.push_back(answer(path.filename().string(), {}, bytes, inbox::sha256_hex(bytes), bytes.size(), clock_.now(),
                             true));
  }
  return answers;
}

}  // namespace raccord
