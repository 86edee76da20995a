#include "engine/engine.hpp"

#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>
#include <utility>

#include "domain/allocation_fault.hpp"
#include "engine/certificates_ahead.hpp"
#include "engine/identity_audit.hpp"
#include "engine/log.hpp"
#include "engine/metrics.hpp"
#include "engine/nightly.hpp"
#include "engine/processor.hpp"
#include "engine/search.hpp"
#include "engine/store.hpp"
#include "engine/tasks_ahead.hpp"
#include "files/atomic_file.hpp"
#include "inbox/claimed_deposit.hpp"
#include "inbox/deposit_reader.hpp"
#include "inbox/sha256.hpp"
#include "outbox/acknowledgement_writer.hpp"
#include "outbox/export_files.hpp"
#include "outbox/quarantine_reason.hpp"
#include "rules/deposit_signature.hpp"

namespace raccord {
namespace {

namespace fs = std::filesystem;

/// Dépôt-level codes that come before DOUBLON in the order of the outcomes (docs/accounts.md): a file refused
/// for who dropped it or for its size is never answered as the DOUBLON of an applied dépôt.
bool precedes_doublon(ErrorCode code) {
  return code == ErrorCode::CompteNonAutorise || code == ErrorCode::FichierVide ||
         code == ErrorCode::FichierTropVolumineux || code == ErrorCode::SignatureAbsente ||
         code == ErrorCode::SignatureInvalide;
}

/// Dépôt-level codes whose original goes to error/ (docs/reference.md §2 "Where originals go").
bool is_quarantine_code(ErrorCode code) {
  static constexpr std::array kQuarantine{
      ErrorCode::XmlMalforme,      ErrorCode::EncodageInvalide,      ErrorCode::DtdInterdite,
      ErrorCode::FichierVide,      ErrorCode::FichierTropVolumineux, ErrorCode::SchemaInvalide,
      ErrorCode::SignatureAbsente, ErrorCode::SignatureInvalide,     ErrorCode::CompteNonAutorise};
  return std::find(kQuarantine.begin(), kQuarantine.end(), code) != kQuarantine.end();
}

rules::CertificatePolicy policy_of(const Config& c) {
  rules::CertificatePolicy policy;
  policy.trust_dir = c.trust_dir;
  policy.min_rsa_bits = c.min_rsa_bits;
  policy.expiry_warning_days = c.expiry_warning_days;
  policy.clock_skew_s = c.clock_skew_s;
  policy.crl_dir = c.effective_crl_dir();
  policy.revocation = c.revocation;
  policy.crl_max_age_days = c.crl_max_age_days;
  policy.crl_grace_h = c.crl_grace_h;
  return policy;
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

/// Test hook of the crash harness (tests/engine/app/crash_test.cpp): when RACCORD_TEST_KILL_AT names
/// `point`, the process kills itself there with SIGKILL (an instant a random kill rarely hits).
/// Points: "before-commit" (a group's exports staged, its transaction not committed),
/// "after-commit" (committed, nothing published), "after-exports" (exports published, no accusé),
/// "between-claim-renames" (a signed dépôt claimed into .work/, its .p7s still in inbox/),
/// "between-signature-moves" (a signed dépôt moved to archive/ or error/, its .p7s not yet).
void crash_point(std::string_view point) {
  static const std::string wanted = [] {
    const char* v = std::getenv("RACCORD_TEST_KILL_AT");
    return std::string(v == nullptr ? "" : v);
  }();
  if (!wanted.empty() && wanted == point) ::raise(SIGKILL);
}

/// Publishes the exports of a committed dépôt (after its commit, before its accusé); an export
/// whose temporary and final file are both gone is logged.
void publish_exports(const outbox::Outbox& outbox, const std::vector<ExportRecord>& exports) {
  for (const auto& e : exports) {
    if (!outbox.publish_export(e.name, e.temporary)) {
      log::warning("export {} (accusé {}) introuvable : ni lui ni son temporaire {} ne sont dans outbox/", e.name,
                   e.ack_name, e.temporary);
    }
  }
}

/// The verdict on signed dépôt `name` of `channel` (its `signers` set): SIGNATURE_ABSENTE when `signature`
/// (the bytes of its .p7s) is unset, else rules::verify_deposit_signature of `bytes` at `now`; the replay
/// key of a signature that verified over the bytes goes to `signature_key`, also when its signer is refused for
/// its validity dates (kept with the REJETE dépôt: docs/accounts.md "Replay").
std::optional<Diagnostic> verify_signature(const Channel& channel, const std::string& name, std::string_view bytes,
                                           const std::optional<std::string>& signature, Instant now,
                                           std::string& signature_key) {
  const std::string signature_name = inbox::InboxDirectory::signature_name(name);
  if (!signature) {
    return Diagnostic::error(
        ErrorCode::SignatureAbsente, "", 0,
        fmt::format(
            "Le dépôt est arrivé sans sa signature {} (le compte « {} » exige signature = obligatoire) : "
            "déposez d'abord la signature détachée {} (un fichier ordinaire : un lien symbolique ou un dossier de ce "
            "nom ne compte pas), puis le dépôt, sous un nouveau nom.",
            signature_name, channel.account->name, signature_name));
  }
  const rules::SignatureCheck check = rules::verify_deposit_signature(bytes, *signature, *channel.signers, now, name);
  if (check.accepted() || check.verified) signature_key = check.replay_key;
  return check.refusal;
}

}  // namespace

Engine::Engine(Config config, BusinessClock clock)
    : config_(std::move(config)), clock_(clock), zone_(config_.timezone), catalogue_(rules::Catalogue::seed()) {
  channels_.reserve(config_.accounts.size() + 1);
  inbox::InboxDirectory root(config_.root, config_.file_umask);
  channels_.push_back(Channel{nullptr, root, outbox::Outbox(root.outbox_dir()), nullptr});
  for (const SenderAccount& account : config_.accounts) {
    inbox::InboxDirectory box(config_.root, config_.file_umask, account.name);
    std::shared_ptr<const rules::PinnedSigners> signers;
    if (account.signature == SignatureRequirement::Required) {
      // The pinned signers, read once here (a reload builds a new engine): an unreadable file stops the
      // start, and a reload keeps the previous configuration (docs/accounts.md).
      try {
        signers = std::make_shared<const rules::PinnedSigners>(rules::load_pinned_signers(account.signers_file));
      } catch (const std::runtime_error& e) {
        throw AccountConfigError(fmt::format("Configuration : compte.{}.signataires : {}", account.name, e.what()));
      }
      box.set_signature_required(true);
      box.set_between_claim_renames([](const fs::path&) { crash_point("between-claim-renames"); });
      box.set_between_signature_moves([](const fs::path&) { crash_point("between-signature-moves"); });
    }
    channels_.push_back(Channel{&account, box, outbox::Outbox(box.outbox_dir()), std::move(signers)});
  }
}

Engine::~Engine() = default;

void Engine::open() {
  for (const Channel& channel : channels_) channel.inbox.ensure_layout();
  db_ = open_database(config_.store_backend, config_.effective_connection());
  db_->migrate();
  record_store_creation(*db_, clock_.now());  // the first date a nightly run may be asked for
  if (config_.store_backend == Backend::Sqlite) restrict_store_files(config_.effective_connection());
  for (const Channel& channel : channels_) recover_outbox(channel.outbox);
  log_unconfigured_folders();
  reload_rules();
}

void Engine::log_unconfigured_folders() const {
  const auto is_account = [this](const std::string& name) {
    return std::any_of(config_.accounts.begin(), config_.accounts.end(),
                       [&name](const SenderAccount& a) { return a.name == name; });
  };
  for (const fs::path& dir : {channels_.front().inbox.inbox_dir(), channels_.front().inbox.work_dir()}) {
    std::error_code ec;
    // it.increment(ec): a range-for's increment throws without the directory's name (the fault sweep's
    // getdents64:EIO:@var/inbox); this listing only informs, a failure of it is logged and passed.
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      std::error_code type_ec;
      if (name.front() == '.' || !it->is_directory(type_ec) || it->is_symlink(type_ec) || is_account(name)) continue;
      log::warning(
          "{} : dossier d'aucun compte configuré, jamais lu ni modifié (un compte retiré laisse ses "
          "dossiers tels quels ; retirez-le ou ajoutez la section [compte.{}])",
          it->path().string(), name);
    }
    if (ec && ec != std::errc::no_such_file_or_directory) {
      log::warning("lecture impossible du répertoire {} : {}", dir.string(), ec.message());
    }
  }
}

void Engine::recover_outbox(const outbox::Outbox& outbox) {
  std::error_code ec;
  const std::vector<std::string> dead = outbox.dead_temporaries(ec);
  if (ec) log::warning("{} illisible pour la reprise des temporaires : {}", outbox.dir().string(), ec.message());
  if (dead.empty()) return;
  Store store(*db_);
  for (const auto& name : dead) {
    try {
      if (auto e = store.export_by_temporary(name)) {
        log::info("reprise : export {} (accusé {}) publié", e->name, e->ack_name);
        publish_exports(outbox, {*e});
      } else {
        outbox.remove_temporary(name);
      }
    } catch (const std::exception& e) {
      log::warning("reprise du temporaire {} impossible : {}", name, e.what());
    }
  }
}

void Engine::reload_rules() {
  std::string source;
  catalogue_ = rules::Catalogue::load_or_seed(config_.rules_dir, source);
  log::info("catalogue des flux : {} ({} codes)", source, catalogue_.entries().size());
  // A normal start is information; only what the operator has to fix is a warning (issue 18).
  const auto write_notes = [](const std::vector<rules::TrustStoreNote>& notes) {
    for (const auto& l : notes) {
      if (l.problem) {
        log::warning("{}", l.text);
      } else {
        log::info("{}", l.text);
      }
    }
  };
  // The checker builds its trust store once, in its constructor (slow on OpenSSL 3.0). The CRLs are read
  // on a thread of their own meanwhile (issue 17, figure 8: ~0.2 s for four 100,000-entry CRLs): the first
  // certificate check waits for them whole; their lines are logged when they are read.
  certificates_ = std::make_unique<rules::CertificateChecker>(
      policy_of(config_), rules::CertificateChecker::CrlLoading::Background, write_notes);
  write_notes(certificates_->trust_store_log());
  log::info("magasin de confiance : {} ({} autorité(s))", config_.trust_dir.string(),
            certificates_->trust_anchor_count());
}

SupportUserOutcome Engine::init(const std::optional<std::string>& support_login,
                                const std::optional<std::string>& support_email) {
  open();
  if (!support_login) return SupportUserOutcome::None;
  Store store(*db_);
  Transaction tx(*db_);
  SupportUserOutcome outcome = SupportUserOutcome::AlreadySupport;
  const auto existing = store.find_user(*support_login);
  if (!existing) {
    std::string email = support_email.value_or("");
    if (email.empty()) email = *support_login + "@support.invalid";
    store.upsert_user(UserRecord{*support_login, email, true}, clock_.now());
    outcome = SupportUserOutcome::Created;
  } else if (!existing->support || (support_email && !support_email->empty() && *support_email != existing->email)) {
    // An existing user is made support (docs/reference.md §7): his email is kept unless --support-email is given.
    UserRecord user = *existing;
    user.support = true;
    if (support_email && !support_email->empty()) user.email = *support_email;
    store.upsert_user(user, clock_.now());
    if (!existing->support) outcome = SupportUserOutcome::MadeSupport;
  }
  const auto stored = store.find_user(*support_login);
  if (!stored || !stored->support) {
    throw StoreError(fmt::format("l'utilisateur {} n'a pas pu être rendu support", *support_login), false);
  }
  tx.commit();
  switch (outcome) {
    case SupportUserOutcome::Created:
      log::info("utilisateur support créé : {}", *support_login);
      break;
    case SupportUserOutcome::MadeSupport:
      log::info("utilisateur existant rendu support : {}", *support_login);
      break;
    case SupportUserOutcome::None:
    case SupportUserOutcome::AlreadySupport:
      break;
  }
  return outcome;
}

unsigned Engine::validation_threads() {
  // Counted once per process: glibc answers hardware_concurrency() by opening and reading
  // /sys/devices/system/cpu/online, three system calls that every dépôt paid (issue 21, figure 2).
  static const unsigned threads = std::max(2U, std::thread::hardware_concurrency()) - 1;
  return threads;
}

namespace {

/// The reader's tree is freed by now, its small blocks scattered in the heap where the allocator
/// keeps them: after a large dépôt they go back to the system before its operations are applied
/// and its accusé written (docs/design.md "Memory bound").
void trim_after_reading(std::uint64_t size) {
  constexpr std::uint64_t kTrimAfterBytes = 64 << 10;
  if (size >= kTrimAfterBytes) ::malloc_trim(0);
}

/// A generous estimate of the accusé of `deposit` in bytes (each Operation line, its reference, the
/// findings the cap lets through): reserved at once, so that the accusé is never copied while it
/// grows (docs/design.md "Memory bound"). Room reserved and not written is never touched.
std::size_t expected_acknowledgement_bytes(const Deposit& deposit) {
  std::size_t bytes = 4096 + kMaxListedDiagnostics * 512;
  for (const Operation& op : deposit.operations) {
    bytes += 96 + op.element_name.size() + (op.reference().present ? op.reference().value.size() + 16 : 0);
  }
  return bytes;
}

}  // namespace

DepositAnswer Engine::answer(Item& item, const Attempt& attempt) {
  const bool dry_run = attempt.exports == nullptr;
  const DepositReadResult& read = item.read;
  const Channel& channel = channels_[item.channel];
  Store store(*db_);
  // A signature that came with a REJETE dépôt before is never accepted again (docs/accounts.md "Replay").
  if (!item.signature_key.empty() && store.signature_refused(item.signature_key)) {
    item.read = DepositReadResult();
    item.read.errors.push_back(Diagnostic::error(
        ErrorCode::SignatureInvalide, "", 0,
        fmt::format("La signature {} a déjà accompagné un dépôt rejeté : elle n'est plus acceptée. Signez à "
                    "nouveau le dépôt corrigé, puis déposez la nouvelle signature et le dépôt.",
                    inbox::InboxDirectory::signature_name(item.name))));
    item.signature_key.clear();  // refused: nothing more to keep of it
  }
  Acknowledgement ack;  // the root's attributes and the dépôt-level errors; operations go to `writer`
  ack.file_name = item.name;
  if (channel.account) ack.account = channel.account->name;
  ack.sha256 = item.sha256;
  ack.received = item.received;
  ack.processed = attempt.now;

  if (read.deposit) {
    if (read.deposit->identifier.present) ack.identifier = read.deposit->identifier.value;
    ack.mode = read.deposit->mode;
  }

  std::string destination = "archive";
  std::size_t accepted = 0;
  std::size_t rejected = 0;
  std::vector<std::string> export_names;  // of the accepted Recherches, in order
  // The accusé is written as the operations are applied: no outcome is kept per operation. Any
  // failure while writing it (std::bad_alloc included) propagates and the transaction does not
  // commit: an accusé is always whole and always the recorded one (docs/design.md "Memory bound").
  outbox::AcknowledgementWriter writer(read.deposit ? expected_acknowledgement_bytes(*read.deposit) : 0,
                                       read.deposit && read.deposit->mode == DepositMode::Complete);
  // The dépôt-level outcomes in their order (docs/accounts.md): the identity and file codes come before
  // DOUBLON, the reading errors after it.
  const bool refused_before_doublon =
      !read.deposit && !read.errors.empty() && precedes_doublon(read.errors.front().code);
  // The same bytes and the same identifiant applied before, and whether the accusé's first name is taken:
  // read together (one round trip on PostgreSQL; issue 21).
  const std::string first_ack_name = outbox::acknowledgement_base_name(item.name, attempt.now) + ".xml";
  Store::AppliedBefore before;
  if (!refused_before_doublon) {
    before = store.find_applied_before(ack.sha256, channel.name(), ack.identifier, first_ack_name);
  }
  if (const auto& applied = before.same_bytes) {
    ack.status = DepositStatus::Doublon;
    // Named only to the channel it came through: another channel learns nothing of it.
    if (applied->channel == channel.name()) ack.original = applied->ack_name;
  } else if (!read.deposit) {
    ack.status = DepositStatus::Rejete;
    ack.deposit_errors = read.errors;
    ack.deposit_omitted = read.omitted_errors;
    const ErrorCode first = read.errors.empty() ? ErrorCode::XmlMalforme : read.errors.front().code;
    if (!dry_run && item.file != nullptr &&
        (first == ErrorCode::CompteNonAutorise || first == ErrorCode::SignatureAbsente ||
         first == ErrorCode::SignatureInvalide)) {
      // The audit line and raccord_refus_identite_total, in the dépôt's transaction (docs/accounts.md).
      // The file refused, with its owner: the .p7s when it alone broke the owner or link rule (hostile16: the
      // line named the dépôt and its owner, which were right).
      const inbox::ClaimedFile* audited = item.file;
      if (first == ErrorCode::CompteNonAutorise) {
        if (const inbox::ClaimedFile* refused = identity_refused_file(channel, *item.file)) audited = refused;
      }
      audit_identity_refusal(*db_, IdentityRefusal{channel.name(), audited == item.file ? item.name : audited->name(),
                                                   audited->owner_uid(), std::nullopt, first, 1});
    }
    for (const auto& d : read.errors) {
      if (is_quarantine_code(d.code)) destination = "error";
    }
  } else if (const auto& same_id = before.same_identifier) {
    ack.status = DepositStatus::Rejete;
    ack.deposit_errors.push_back(Diagnostic::error(
        ErrorCode::DepotIdentifiantReutilise, "@identifiant", read.deposit->identifier.line,
        fmt::format("L'identifiant de dépôt « {} » a déjà été intégré (accusé {}) avec un contenu différent : "
                    "donnez un nouvel identifiant à ce dépôt.",
                    *ack.identifier, same_id->ack_name)));
  } else {
    ProcessingContext context{&config_,
                              &zone_,
                              dry_run ? fs::path() : channel.outbox.dir(),
                              &catalogue_,
                              certificates_.get(),
                              attempt.now,
                              zone_.date_of(attempt.now),
                              ack.sha256};
    context.account = channel.account;
    context.validation_threads = validation_threads();
    context.exports = attempt.exports;
    context.certificates_ahead = attempt.certificates_ahead;
    context.deposit_index = attempt.deposit_index;
    context.deposit_name = item.name;
    const DepositOutcome outcome = apply_deposit(store, context, *read.deposit, [&](const OperationOutcome& op) {
      writer.operation(op);
      if (op.export_file) export_names.push_back(*op.export_file);
    });
    if (outcome.rolled_back) {
      writer.reject_all();
      export_names.clear();  // their temporaries stay with attempt.exports, which removes them
    }
    ack.status = outcome.status;
    accepted = outcome.accepted;
    rejected = outcome.rejected;
    // Every sheet of this dépôt was taken from the look-ahead: its operations can go now, before the
    // accusé is recorded (the store copies it). Another attempt reads the file again.
    item.read = DepositReadResult();
    item.spent = true;
  }
  for (const Diagnostic& d : ack.deposit_errors) writer.deposit_error(d);
  writer.omit(ack.deposit_omitted);
  DepositAnswer result;
  result.status = ack.status;
  result.ack_name = channel.outbox.acknowledgement_name(item.name, attempt.now, [&](const std::string& n) {
    // Nothing of this dépôt's was recorded since the read above: its answer still holds.
    return n == first_ack_name && !refused_before_doublon ? before.ack_name_taken : store.ack_name_taken(n);
  });
  result.ack_content = writer.finish(ack);
  result.quarantine = destination == "error";
  if (result.quarantine) result.reason = outbox::quarantine_reason(ack);
  if (!dry_run) {
    DepositRecord record{0,
                         ack.sha256,
                         item.name,
                         item.identity,
                         ack.identifier,
                         ack.status,
                         result.ack_name,
                         std::move(result.ack_content),
                         destination,
                         result.reason,
                         std::string(channel.name())};
    struct GiveBack {  // the accusé goes back to the answer whatever happens
      DepositRecord& record;
      std::string& content;
      ~GiveBack() { content = std::move(record.ack_content); }
    } give_back{record, result.ack_content};
    allocation_step(AllocationStep::Record);
    store.insert_deposit(record, item.received, attempt.now);
    allocation_step(AllocationStep::Record);
    // A verified signature of a REJETE dépôt, kept with it: never accepted again (docs/accounts.md "Replay").
    if (ack.status == DepositStatus::Rejete && !item.signature_key.empty()) {
      store.record_refused_signature(item.signature_key, channel.name(), result.ack_name, attempt.now);
    }
    // metrics.prom's running counters, written with the group's just before its COMMIT
    attempt.counters->add(ack.status, static_cast<std::int64_t>(accepted), static_cast<std::int64_t>(rejected));
    for (const auto& name : export_names) {
      allocation_step(AllocationStep::Record);
      result.exports.push_back(ExportRecord{name, attempt.exports->temporary_of(name), result.ack_name});
      store.insert_export(result.exports.back());
    }
  }
  return result;
}

DepositAnswer Engine::process_claimed(const inbox::ClaimedFile& file, ClaimOrigin origin, std::size_t channel) {
  return process_group({&file}, origin, channel).front();
}

namespace {

/// Whether claimed `file` is owned by another uid than the `proprietaire` of `account` (when it has one).
bool owned_by_another(const SenderAccount& account, const inbox::ClaimedFile& file) {
  return account.owner_uid && file.owner_uid() != *account.owner_uid;
}

}  // namespace

const inbox::ClaimedFile* Engine::identity_refused_file(const Channel& channel, const inbox::ClaimedFile& file) {
  if (!channel.account) return nullptr;
  // The dépôt, then its signature: the same owner and link rules on each claimed descriptor.
  for (const inbox::ClaimedFile* claimed : {&file, file.signature()}) {
    if (claimed != nullptr && (owned_by_another(*channel.account, *claimed) || claimed->link_count() != 1)) {
      return claimed;
    }
  }
  return nullptr;
}

std::optional<Diagnostic> Engine::identity_refusal(const Channel& channel, const inbox::ClaimedFile& file) {
  const inbox::ClaimedFile* claimed = identity_refused_file(channel, file);
  if (claimed == nullptr) return std::nullopt;
  const SenderAccount& account = *channel.account;
  const std::string what =
      claimed == &file ? std::string("Le fichier") : fmt::format("Sa signature {}", claimed->name());
  if (owned_by_another(account, *claimed)) {  // said first when both rules are broken
    return Diagnostic::error(ErrorCode::CompteNonAutorise, "", 0,
                             fmt::format("{} appartient à l'uid {} et non au propriétaire {} du compte « {} » : "
                                         "déposez-le avec l'utilisateur du compte (son accès SFTP), puis déposez-le à "
                                         "nouveau.",
                                         what, claimed->owner_uid(), *account.owner_uid, account.name));
  }
  return Diagnostic::error(ErrorCode::CompteNonAutorise, "", 0,
                           fmt::format("{} a {} liens physiques : un lien gardé par l'expéditeur pourrait "
                                       "réécrire l'original archivé. Déposez le fichier sans garder de lien dur "
                                       "(copie ou renommage, jamais « ln »), puis déposez-le à nouveau.",
                                       what, claimed->link_count()));
}

Engine::LoadedFile Engine::load_file(const Channel& channel, const inbox::ClaimedFile& file, Instant received) const {
  LoadedFile loaded{received, {}, std::nullopt, 0};
  // A sender account's file is checked on its descriptor before any byte is read (docs/accounts.md):
  // refused, it is hashed for its accusé and never parsed.
  if (auto refusal = identity_refusal(channel, file)) {
    loaded.loaded.deposit = {file.name(), file.path(), file.identity(), file.size(), file.sha256(), {}};
    loaded.loaded.deposit.read.errors.push_back(std::move(*refusal));
    return loaded;
  }
  loaded.loaded = inbox::load_claimed(file, static_cast<std::uint64_t>(config_.max_bytes));
  if (!channel.signers) return loaded;
  // Signed dépôts (docs/accounts.md "Signed dépôts"): an oversized .p7s is never loaded (hostile16: it was
  // said to be empty); it is refused for its size when the dépôt's bytes are judged.
  if (const inbox::ClaimedFile* signature = file.signature()) {
    loaded.signature_size = signature->size();
    if (loaded.signature_size <= rules::kMaxSignatureBytes) loaded.signature = signature->read_all();
  }
  return loaded;
}

inbox::ClaimedDeposit Engine::read_loaded_file(const Channel& channel, LoadedFile file,
                                               std::string& signature_key) const {
  const auto max_bytes = static_cast<std::uint64_t>(config_.max_bytes);
  if (!channel.signers) return inbox::read_loaded(std::move(file.loaded), max_bytes);
  // Signed dépôts: verified over the very bytes read once.
  const std::string name = file.loaded.deposit.name;
  return inbox::read_loaded(
      std::move(file.loaded), max_bytes, [&](std::string_view bytes) -> std::optional<Diagnostic> {
        if (file.signature_size > rules::kMaxSignatureBytes) {
          return rules::oversized_signature(file.signature_size, name).refusal;
        }
        return verify_signature(channel, name, bytes, file.signature, file.received, signature_key);
      });
}

inbox::ClaimedDeposit Engine::read_file(const Channel& channel, const inbox::ClaimedFile& file, Instant now,
                                        std::string& signature_key) const {
  return read_loaded_file(channel, load_file(channel, file, now), signature_key);
}

struct Engine::GroupReading {
  /// One file of the group: loaded by the caller, then read by the task of its index.
  struct Entry {
    LoadedFile loaded;  // moved out by the task that reads it (its `received` stays)
    inbox::ClaimedDeposit read;
    std::string signature_key;
    std::optional<Prechecked> prechecked;  // read ahead: the reports of a dépôt of few sheets
  };
  std::optional<Instant> now;  // read ahead: the instant `prechecked` were computed at
  std::vector<Entry> entries;
  std::optional<TasksAhead> tasks;  // last: stopped first
};

struct Engine::AheadGroup {
  std::vector<inbox::ClaimedFile> files;  // claimed (open, locked), kept until answered
  ClaimOrigin origin = ClaimOrigin::Inbox;
  std::size_t channel = 0;
  std::uint64_t bytes = 0;
  std::unique_ptr<GroupReading> reading;

  std::vector<const inbox::ClaimedFile*> members() const {
    std::vector<const inbox::ClaimedFile*> out;
    out.reserve(files.size());
    for (const auto& f : files) out.push_back(&f);
    return out;
  }
};

Engine::PassScope::PassScope(Engine& e) : e_(e), outer_(!e.waiting_.in_pass) {
  if (outer_) e_.waiting_ = WaitingCount{true, std::nullopt, 0};
}

Engine::PassScope::~PassScope() {
  if (!outer_) return;
  e_.ahead_.reset();  // joins its reading; its files stay claimed in .work/ for the next pass
  e_.waiting_ = WaitingCount{};
}

std::unique_ptr<Engine::GroupReading> Engine::start_reading(const std::vector<const inbox::ClaimedFile*>& files,
                                                            std::size_t channel_index, bool ahead) {
  const Channel& channel = channels_.at(channel_index);
  auto reading = std::make_unique<GroupReading>();
  reading->entries.reserve(files.size());
  // Every system call on the caller's thread (the fault sweep counts that thread's calls, docs/design.md).
  for (const inbox::ClaimedFile* file : files) {
    reading->entries.push_back({load_file(channel, *file, clock_.now()), {}, {}, std::nullopt});
  }
  // Ahead, a dépôt of few sheets gets its certificate reports too (CertificatesAhead checks a larger one with
  // every core, within its window), at the instant its files are loaded: used if the group's transaction
  // takes the same instant (finish_group).
  if (ahead) reading->now = clock_.now();
  reading->tasks.emplace(
      files.size(),
      [this, r = reading.get(), &channel](std::size_t i) {
        GroupReading::Entry& e = r->entries[i];
        e.read = read_loaded_file(channel, std::move(e.loaded), e.signature_key);
        const std::optional<Deposit>& deposit = e.read.read.deposit;
        if (r->now && deposit && sheets_to_check(*deposit) <= kPrecheckedSheets) {
          e.prechecked = precheck_certificates(*certificates_, *deposit, *r->now);
        }
      },
      ahead);
  return reading;
}

std::vector<DepositAnswer> Engine::process_group(const std::vector<const inbox::ClaimedFile*>& files,
                                                 ClaimOrigin origin, std::size_t channel_index) {
  const std::unique_ptr<GroupReading> reading = start_reading(files, channel_index, false);
  return finish_group(files, origin, channel_index, *reading);
}

std::vector<DepositAnswer> Engine::finish_group(const std::vector<const inbox::ClaimedFile*>& files, ClaimOrigin origin,
                                                std::size_t channel_index, GroupReading& reading) {
  const Channel& channel = channels_.at(channel_index);
  std::vector<Item> items;
  items.reserve(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    // Read before the transaction (an oversized dépôt is refused and never loaded, docs/field-cases.md F07),
    // ahead while the group before was answered: the group's certificates are then checked ahead on worker
    // threads while its dépôts are applied one after the other (issue 7).
    reading.tasks->wait_for(i);
    GroupReading::Entry& entry = reading.entries[i];
    inbox::ClaimedDeposit taken = std::move(entry.read);
    trim_after_reading(taken.size);
    std::string signature_key = std::move(entry.signature_key);
    items.push_back(Item{files[i],
                         std::move(taken.name),
                         entry.loaded.received,
                         std::move(taken.identity),
                         taken.size,
                         std::move(taken.sha256),
                         std::move(taken.read),
                         {},
                         {},
                         false,
                         channel_index,
                         std::move(signature_key)});
  }

  // Already committed before a crash: answer from the record, never twice (docs/reference.md §2). Transient
  // store failures (busy, serialization, deadlock, lost connection, a unique key another engine took
  // first) roll the transaction back and run it again.
  // The exports of Recherche operations are written to temporaries before the commit (they read the
  // store as the operation sees it) and renamed only after it, like the accusés: `staged` owns their
  // temporaries and removes those of an attempt that does not commit and of operations rolled back
  // (hostile findings 3 and 7: orphan and duplicate exports); this function tells it which.
  // A COMMIT whose answer was lost (connection cut, server restarted) may have committed: the next
  // attempt looks for the record that COMMIT carried (this file, still claimed and locked by this
  // engine, with the accusé name it recorded, unique in the store), so that a committed dépôt is
  // answered from its own record, never as its own DOUBLON (docs/design.md "Unknown commit outcome");
  // the export temporaries of that attempt are kept until the next attempt knows whether it committed.
  outbox::StagedExports staged(channel.outbox.dir());
  bool commit_outcome_unknown = false;
  bool first_attempt = true;
  try {
    with_retries([&] {
      // The reports computed ahead are moved out by the first attempt that uses them: a later one checks again.
      const bool first = std::exchange(first_attempt, false);
      staged.discard_staged();  // those of the attempt before, rolled back
      for (auto& item : items) {
        if (!item.spent) continue;  // else answered by the attempt before, which did not commit: read again
        std::string signature_key;  // the same bytes, verified again
        item.read = read_file(channel, *item.file, item.received, signature_key).read;
        trim_after_reading(item.size);
        item.spent = false;
      }
      Store store(*db_);
      Transaction tx(*db_);
      // One instant for the group's dépôts, which one transaction commits together, taken once it holds the
      // store (instants follow the commits). The certificate reports computed while the group was read ahead
      // are used when they were computed at that very instant (Instant counts seconds), else checked again.
      const Instant now = clock_.now();
      const bool use_prechecked = first && reading.now == now;
      std::vector<const Deposit*> deposits;
      std::vector<Prechecked*> prechecked;
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (!items[i].read.deposit) continue;
        deposits.push_back(&*items[i].read.deposit);
        std::optional<Prechecked>& pre = reading.entries[i].prechecked;
        prechecked.push_back(use_prechecked && pre ? &*pre : nullptr);
      }
      CertificatesAhead certificates(*certificates_, deposits, now, validation_threads(), prechecked);
      std::vector<std::optional<DepositRecord>> records;
      bool committed_before = false;  // the attempt whose COMMIT's answer was lost did commit
      for (auto& item : items) {
        auto record = origin == ClaimOrigin::Leftover || !item.committing_ack.empty()
                          ? store.find_processed_file(item.name, item.sha256, item.identity)
                          : std::nullopt;
        if (record && !item.committing_ack.empty() && record->ack_name == item.committing_ack) {
          committed_before = true;
        } else if (record && origin != ClaimOrigin::Leftover) {
          record.reset();  // another drop's record (a reused inode): this file is answered anew
        }
        records.push_back(std::move(record));
      }
      // That COMMIT's exports: named by the records, published below; else they go.
      staged.settle(committed_before);
      std::size_t deposit_index = 0;
      DepositCounters counters;
      for (std::size_t i = 0; i < items.size(); ++i) {
        auto& item = items[i];
        auto& record = records[i];
        const std::size_t index = item.read.deposit ? deposit_index++ : 0;
        if (!record) {
          item.result = answer(item, Attempt{now, &staged, &certificates, index, &counters});
        } else {
          log::info("{} : déjà traité avant une interruption ; accusé {} repris", item.name, record->ack_name);
          item.result.ack_name = record->ack_name;
          item.result.ack_content = std::move(record->ack_content);
          item.result.status = record->status;
          item.result.quarantine = record->destination == "error";
          item.result.reason = record->reason;
          item.result.exports = store.exports_of(record->ack_name);  // published below if still missing
        }
      }
      crash_point("before-commit");
      if (before_commit_) before_commit_();
      // Last: the counters' rows stay locked from here to the COMMIT only (DepositCounters).
      counters.write(*db_);
      commit_outcome_unknown = true;  // until the answer to COMMIT is read
      std::vector<std::string> committed;
      for (auto& item : items) {
        item.committing_ack = item.result.ack_name;
        for (const auto& e : item.result.exports) committed.push_back(e.name);
      }
      // Until COMMIT's answer is read these temporaries may belong to committed dépôts.
      staged.committing(committed);
      tx.commit();
      staged.settle(true);  // committed: published below
    });
  } catch (const StoreError& e) {
    staged.discard_staged();
    if (files.size() < 2 || e.transient) throw;  // a store still failing after the retries: no use
    log::warning("store : {} ; les {} dépôts du groupe sont repris un par un", e.what(), files.size());
    std::vector<DepositAnswer> answers;
    answers.reserve(files.size());
    const ClaimOrigin again = commit_outcome_unknown ? ClaimOrigin::Leftover : origin;
    for (const inbox::ClaimedFile* file : files) answers.push_back(process_claimed(*file, again, channel_index));
    // The temporaries of a COMMIT whose answer was lost and that no record names did not commit.
    Store store(*db_);
    staged.settle([&store](const std::string& t) { return store.export_by_temporary(t).has_value(); });
    return answers;
  }
  staged.discard_staged();  // the temporaries of operations rolled back go
  crash_point("after-commit");
  for (auto& item : items) item.read = DepositReadResult();  // the group's memory goes before the writes

  // After the commit: the accusés, then the originals (docs/design.md "One dépôt, one transaction", step 4); one
  // filesystem sync for the accusés' contents and each directory fsynced once for the group, before the step after it
  // relies on it.
  for (const auto& item : items)
    publish_exports(channel.outbox, item.result.exports);  // before the accusés naming them
  crash_point("after-exports");
  // The accusés are moved to be written, then back (never copied: one may be megabytes).
  std::vector<std::pair<std::string, std::string>> accuses;
  accuses.reserve(items.size());
  for (auto& item : items) accuses.emplace_back(item.result.ack_name, std::move(item.result.ack_content));
  channel.outbox.write_acknowledgements(accuses);  // an accusé already there (before a crash) stays
  for (std::size_t i = 0; i < items.size(); ++i) items[i].result.ack_content = std::move(accuses[i].second);
  // Every destination (archive's day, error/) is fsynced before .work/, once for the group: a departure from
  // .work/ is never made durable before its arrival (power_loss_order.py, rule 7).
  std::set<fs::path> moved_to;
  for (const auto& item : items) {
    if (item.result.quarantine) {
      // The reason file first, durable, then the original (outbox::reserve_quarantine_name).
      const auto reserve = [&](const std::string& candidate) {
        return outbox::reserve_quarantine_name(channel.inbox.error_dir(), candidate, item.result.reason);
      };
      moved_to.insert(channel.inbox.quarantine(*item.file, reserve, files::DirectorySync::Caller).parent_path());
    } else {
      moved_to.insert(
          channel.inbox.archive(*item.file, zone_.date_of(clock_.now()), files::DirectorySync::Caller).parent_path());
    }
  }
  for (const auto& dir : moved_to) files::sync_directory(dir);
  if (!moved_to.empty()) files::sync_directory(channel.inbox.work_dir());

  std::vector<DepositAnswer> answers;
  answers.reserve(items.size());
  for (auto& item : items) {
    log::info("{} : {} → {}", item.name, to_code(item.result.status), item.result.ack_name);
    answers.push_back(std::move(item.result));
  }
  // docs/reference.md §5.4, after each group; never throws. In a pass the waiting dépôts are listed once.
  std::optional<std::int64_t> waiting;
  if (waiting_.in_pass) {
    if (!waiting_.listed) {
      waiting_.listed = count_waiting_deposits(inbox().inbox_dir());
      waiting_.claimed = 0;
    }
    waiting = std::max<std::int64_t>(0, *waiting_.listed - waiting_.claimed);
  }
  if (scanned_) scanned_stale_ = true;
  rewrite_metrics(waiting);
  return answers;
}

namespace {

void merge_notes(inbox::ClaimNotes& into, inbox::ClaimNotes from) {
  for (auto& n : from.held_open) into.held_open.push_back(std::move(n));
  for (auto& n : from.unopenable) into.unopenable.push_back(std::move(n));
  for (auto& n : from.put_back) into.put_back.push_back(std::move(n));
  if (!into.no_lease) into.no_lease = std::move(from.no_lease);
}

/// What a pass did not take and why, once for the pass (docs/design.md "Taking a dépôt").
void log_claim_notes(const inbox::ClaimNotes& notes) {
  for (const auto& name : notes.held_open) {
    log::info("{} : encore ouvert en écriture par un autre processus, laissé pour un prochain passage", name);
  }
  for (const auto& [name, why] : notes.unopenable) {
    log::warning(
        "{} : ouverture impossible ({}), laissé dans la boîte de dépôt ; donnez au compte du moteur le "
        "droit de lire ce fichier (ou déposez-le avec le mode 0640 et le groupe du moteur)",
        name, why);
  }
  for (const auto& name : notes.put_back) {
    log::warning("{} : remplacé ou rouvert en écriture pendant sa prise, remis dans la boîte de dépôt", name);
  }
  if (notes.no_lease) {
    log::warning(
        "bail de lecture impossible ({}) : un fichier encore ouvert en écriture n'est reconnu que par le "
        "délai de stabilité ; déposez sous un nom qui n'est pas un dépôt puis renommez",
        *notes.no_lease);
  }
}

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

void Engine::answer_group(std::unique_ptr<AheadGroup> group, PassSummary& summary) {
  for (const auto& a : finish_group(group->members(), group->origin, group->channel, *group->reading)) {
    count(summary, a);
  }
}

void Engine::finish_ahead(PassSummary& summary) {
  if (ahead_) answer_group(std::move(ahead_), summary);
}

void Engine::answering_ahead_on_failure(PassSummary& summary, const std::function<void()>& work) {
  try {
    work();
  } catch (...) {
    // The group ahead was claimed and read before the failure, which concerns what came after it (claiming,
    // loading or listing the next dépôts): it is answered first, as in sequence it would have been.
    if (ahead_) {
      try {
        finish_ahead(summary);
      } catch (const std::exception& e) {
        log::warning("le groupe lu d'avance n'a pas pu être traité ({}) ; ses dépôts restent dans .work/", e.what());
      }
    }
    throw;
  }
  finish_ahead(summary);
}

bool Engine::process_in_groups(std::vector<inbox::ClaimedFile> claimed, std::size_t channel_index,
                               const std::vector<std::string>& names, PassSummary& summary) {
  const inbox::InboxDirectory& box = channels_.at(channel_index).inbox;
  std::vector<inbox::ClaimedFile> group;
  std::uint64_t bytes = 0;
  ClaimOrigin origin = ClaimOrigin::Leftover;
  bool stopping = false;
  // `drain`: the group ahead too is answered before this returns (a claim that this engine's own groups may
  // hold locked, below).
  auto flush = [&](bool drain = false) {
    if (group.empty()) {
      if (drain) finish_ahead(summary);
      return;
    }
    // The claims' renames made durable once for the group, before its commit: a committed dépôt is
    // never found back in inbox/ after a crash (only .work/ leftovers are answered from a record).
    files::sync_directory(box.work_dir());
    files::sync_directory(box.inbox_dir());
    auto current = std::make_unique<AheadGroup>(AheadGroup{std::move(group), origin, channel_index, bytes, nullptr});
    group.clear();
    bytes = 0;
    // Read ahead while the group before is answered (docs/design.md "Reading ahead"), within a pass and
    // while the two groups' bytes stay within one group's limit (memory: a large dépôt is never read
    // beside another).
    const bool ahead = !drain && waiting_.in_pass && current->bytes + (ahead_ ? ahead_->bytes : 0) <= kGroupBytes;
    if (!ahead) finish_ahead(summary);
    current->reading = start_reading(current->members(), channel_index, ahead);
    if (ahead) {
      finish_ahead(summary);
      ahead_ = std::move(current);
    } else {
      answer_group(std::move(current), summary);
    }
    if (should_stop_ && should_stop_()) stopping = true;  // asked after each group
  };
  auto add = [&](inbox::ClaimedFile file) {
    const std::uint64_t size = file.size();
    if (!group.empty() && (group.size() >= group_deposits() || bytes + size > kGroupBytes)) flush();
    bytes += size;
    group.push_back(std::move(file));
  };
  inbox::ClaimNotes notes;
  auto claim_once = [&](const std::string& name, inbox::ClaimNotes* into) {
    auto file = box.claim(name, files::DirectorySync::Caller, into);
    if (file) ++waiting_.claimed;  // no longer waiting (metrics.prom)
    return file;
  };
  auto claim = [&](const std::string& name) -> std::optional<inbox::ClaimedFile> {
    inbox::ClaimNotes first;
    if (auto file = claim_once(name, &first)) return file;
    if ((group.empty() && !ahead_) || !first.held_open.empty() || !first.unopenable.empty()) {
      merge_notes(notes, std::move(first));
      return std::nullopt;
    }
    // It may be held by this very group or the one ahead (a hard link to a file of the group: one inode,
    // one lock; a leftover of the same name still in .work/): they go first, then the claim is tried again.
    flush(true);
    return claim_once(name, &notes);
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
  summary.held_open += static_cast<int>(notes.held_open.size());
  summary.unopenable += static_cast<int>(notes.unopenable.size());
  log_claim_notes(notes);
  return stopping;
}

std::size_t Engine::group_deposits() const {
  return config_.store_backend == Backend::Postgresql ? kGroupDepositsPostgresql : kGroupDeposits;
}

void Engine::process_channels(const std::vector<std::vector<std::string>>& names, PassSummary& summary) {
  std::vector<std::size_t> next(names.size(), 0);  // per channel: its first name not yet given
  for (bool more = true; more;) {
    more = false;
    for (std::size_t c = 0; c < names.size(); ++c) {
      if (next[c] >= names[c].size()) continue;
      const std::size_t end = std::min(names[c].size(), next[c] + group_deposits());
      const std::vector<std::string> chunk(names[c].begin() + static_cast<std::ptrdiff_t>(next[c]),
                                           names[c].begin() + static_cast<std::ptrdiff_t>(end));
      next[c] = end;
      if (process_in_groups({}, c, chunk, summary)) return;  // the rest waits for the next pass
      more = more || end < names[c].size();
    }
  }
}

PassSummary Engine::process_names(const std::vector<std::string>& names) {
  return process_names(0, names);
}

PassSummary Engine::process_names(std::size_t channel, const std::vector<std::string>& names) {
  const PassScope pass(*this);
  PassSummary summary;
  answering_ahead_on_failure(summary, [&] { process_in_groups({}, channel, names, summary); });
  return summary;
}

PassSummary Engine::process_pass() {
  const PassScope pass(*this);
  PassSummary summary;
  bool stopped = false;
  answering_ahead_on_failure(summary, [&] {
    for (std::size_t c = 0; c < channels_.size() && !stopped; ++c) {
      auto leftovers = channels_[c].inbox.recover_leftovers();
      for (const auto& leftover : leftovers) log::info("reprise après interruption : {}", leftover.name());
      stopped = process_in_groups(std::move(leftovers), c, {}, summary);
    }
    if (stopped) return;
    std::vector<const inbox::InboxDirectory*> boxes;
    for (const Channel& channel : channels_) boxes.push_back(&channel.inbox);
    process_channels(inbox::InboxDirectory::settled_candidates(boxes, std::chrono::milliseconds(config_.settle_ms)),
                     summary);
  });
  if (stopped) return summary;
  // Still changing, held open, unopenable, or waiting for the same name to leave .work/.
  for (const Channel& channel : channels_) {
    summary.left_for_later += static_cast<int>(channel.inbox.list_candidates().size());
  }
  try {  // docs/reference.md §5.4: the gauge of the files this full pass could not open
    const bool unopenable_changed = record_unopenable_files(*db_, summary.unopenable);
    // The CRL ages grow with the clock: a pass that answered nothing writes them too, with every figure measured
    // again (an older measure of this engine must not replace a newer one of another engine or nightly run).
    // When the file shows ages and none remain (every CRL gone), the rewrite drops them too, whichever process
    // wrote them.
    std::vector<outbox::CrlAge> ages = crl_ages();
    if (unopenable_changed || scanned_stale_ || !ages.empty() || metrics_show_crl_ages(outbox())) {
      measure_and_write(std::nullopt, std::move(ages));
    }
  } catch (const StoreError& e) {
    log::warning("métriques : {}", e.what());
  }
  return summary;
}

void Engine::refresh_metrics_rescanned(std::optional<std::int64_t> waiting) noexcept {
  measure_and_write(waiting, crl_ages());
}

void Engine::measure_and_write(std::optional<std::int64_t> waiting, std::vector<outbox::CrlAge> ages) noexcept {
  try {
    scanned_ = std::make_unique<ScannedFigures>(scan_figures(*db_, inbox()));
    scanned_stale_ = false;
  } catch (const std::exception& e) {
    // Nothing written, and no measure kept: the refresh after each group measures again (and writes nothing
    // while that fails), so metrics.prom is never rewritten with fresh counters beside figures it could not
    // measure; the file's age shows the failure, as before the scanned figures were kept.
    scanned_.reset();
    scanned_stale_ = false;
    try {
      log::warning("metrics.prom non mis à jour : {}", e.what());
    } catch (...) {  // NOLINT(bugprone-empty-catch): logging must not throw out of a noexcept function
    }
    return;
  }
  refresh_metrics(*db_, inbox(), waiting, scanned_.get(), std::move(ages));
}

void Engine::rewrite_metrics(std::optional<std::int64_t> waiting) noexcept {
  if (scanned_) {
    refresh_metrics(*db_, inbox(), waiting, scanned_.get(), crl_ages(/*reread=*/false));
  } else {
    refresh_metrics_rescanned(waiting);
  }
}

std::vector<outbox::CrlAge> Engine::crl_ages(bool reread) noexcept {
  std::vector<outbox::CrlAge> ages;
  try {
    if (certificates_ && certificates_->crls()->size() > 0) {
      const Instant now = clock_.now();
      try {  // the store's part: a failure leaves the authorities known so far (the ages are still computed)
        const std::size_t proved = certificates_->cache_stats().proved_authorities;
        if (proved != proved_count_recorded_) {  // new authorities proved by this engine's checks: recorded once
          std::set<std::string> recorded;
          for (const auto& a : recorded_authorities_) recorded.insert(a.fingerprint);
          for (auto& a : certificates_->proved_authorities()) {
            if (recorded.count(a.fingerprint) > 0) continue;
            db_->execute(
                "INSERT INTO proved_authorities (fingerprint, certificate, anchor, recorded_at) VALUES ($1, $2, $3, "
                "$4) ON CONFLICT (fingerprint) DO NOTHING",
                {a.fingerprint, a.pem, a.anchor_fingerprint, format_iso_instant(now)});
            recorded_authorities_.push_back(std::move(a));
          }
          proved_count_recorded_ = proved;
        }
        if (reread) {
          std::vector<rules::RecordedAuthority> read;
          for (const auto& r : db_->query("SELECT fingerprint, certificate, anchor FROM proved_authorities")) {
            read.push_back(rules::RecordedAuthority{r.text(0), r.text(1), r.text(2)});
          }
          recorded_authorities_ = std::move(read);
        }
      } catch (const StoreError& e) {
        log::warning("métriques : autorités prouvées non enregistrées ou non relues : {}", e.what());
      }
      for (const auto& [issuer, crl] : certificates_->newest_verified_crls(now, recorded_authorities_)) {
        ages.push_back(outbox::CrlAge{issuer, (now - crl.this_update).count()});
      }
    }
  } catch (const std::exception& e) {
    ages.clear();
    try {
      log::warning("metrics.prom : âge des CRL non mesuré : {}", e.what());
    } catch (...) {  // NOLINT(bugprone-empty-catch): logging must not throw out of a noexcept function
    }
  }
  return ages;
}

std::vector<DepositAnswer> Engine::check(const std::vector<fs::path>& files, const SenderAccount* account) {
  const bool have_store = config_.store_exists();
  db_ = have_store ? open_database(config_.store_backend, config_.effective_connection())
                   : open_database(Backend::Sqlite, ":memory:");
  if (!have_store) db_->migrate();
  std::string source;
  catalogue_ = rules::Catalogue::load_or_seed(config_.rules_dir, source);
  certificates_ = std::make_unique<rules::CertificateChecker>(policy_of(config_));

  // The channel of --compte (answered as if dropped in its inbox/NAME/), else inbox/ itself.
  std::size_t channel = 0;
  for (std::size_t c = 1; c < channels_.size(); ++c) {
    if (channels_[c].account == account) channel = c;
  }
  std::vector<DepositAnswer> answers;
  Transaction tx(*db_);  // never committed: check changes nothing
  for (const auto& path : files) {
    // Only a regular file (symbolic links followed): a FIFO would keep check waiting for a writer forever.
    if (std::error_code ec; !fs::is_regular_file(path, ec)) {
      throw std::runtime_error(path.string() +
                               " n'est pas un fichier ordinaire (FIFO, dossier ou périphérique) : "
                               "donnez le chemin d'un dépôt XML.");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::system_error(errno, std::generic_category(), "lecture de " + path.string());
    // Read through std::string, which throws when memory runs out: a stream's `<<` would swallow it
    // (badbit) and check a file cut short.
    std::string bytes;
    std::array<char, 1 << 16> chunk{};
    while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
      bytes.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) throw std::system_error(errno, std::generic_category(), "lecture de " + path.string());
    const Instant now = clock_.now();
    const auto max_bytes = static_cast<std::uint64_t>(config_.max_bytes);
    // A signed account's dépôt is checked with FILE.p7s when present (docs/reference.md §7).
    std::string signature_key;
    std::optional<Diagnostic> signature_refusal;
    if (channels_[channel].signers && !bytes.empty() && !inbox::is_too_large(bytes.size(), max_bytes)) {
      std::optional<std::string> signature;
      fs::path signature_path = path;
      signature_path += ".p7s";
      std::error_code size_error;
      const std::uintmax_t size = fs::file_size(signature_path, size_error);
      if (!size_error && size > rules::kMaxSignatureBytes) {  // as process answers it, never loaded
        signature_refusal = rules::oversized_signature(size, path.filename().string()).refusal;
      } else {
        // As process: only a regular file is a signature (a FIFO is never opened, it would block; hostile16).
        if (fs::is_regular_file(signature_path, size_error)) {
          if (std::ifstream p7s(signature_path, std::ios::binary); p7s) {
            signature.emplace(std::istreambuf_iterator<char>(p7s), std::istreambuf_iterator<char>());
          }
        }
        signature_refusal =
            verify_signature(channels_[channel], path.filename().string(), bytes, signature, now, signature_key);
      }
    }
    DepositReadResult read;
    if (signature_refusal) {
      read.errors.push_back(std::move(*signature_refusal));
    } else {
      read = inbox::read_deposit(bytes, max_bytes);
    }
    Item item{nullptr,
              path.filename().string(),
              now,
              {},
              bytes.size(),
              inbox::sha256_hex(bytes),
              std::move(read),
              {},
              {},
              false,
              channel,
              std::move(signature_key)};
    answers.push_back(answer(item, Attempt{now, nullptr, nullptr, 0}));
  }
  return answers;
}

}  // namespace raccord
