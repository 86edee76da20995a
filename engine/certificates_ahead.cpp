#include "engine/certificates_ahead.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <variant>

namespace raccord {

std::optional<rules::CertificateReport> check_certificates(const rules::CertificateChecker& checker,
                                                           const SheetOperation& sheet, Instant now) {
  std::optional<Protocol> protocol;
  if (sheet.kind == SheetKind::Edi) {
    protocol = parse<Protocol>(sheet.protocol.value);
    if (!protocol) {
      // AS2 takes the most Certificat elements (2): every bundle is read, and CERT_NOMBRE comes only
      // beyond 2. The protocol changes nothing else in the checker (CERT_NOMBRE and CERT_USAGE only).
      rules::CertificateReport report = checker.check(sheet, Protocol::As2, now);
      std::erase_if(report.diagnostics, [](const Diagnostic& d) { return d.code == ErrorCode::CertUsage; });
      for (Diagnostic& d : report.diagnostics) {
        if (d.code != ErrorCode::CertNombre) continue;
        d.message = fmt::format(
            "Une fiche EDI accepte au plus deux certificats (un seul en SFTP, un ou deux en PESIT et AS2 : client "
            "et serveur), or {} éléments <Certificat> sont fournis : retirez-en.",
            sheet.certificates.size());
      }
      return report;
    }
  }
  return checker.check(sheet, protocol, now);
}

bool sends_content(const SheetOperation& sheet) {
  return sheet.action == SheetAction::Enregistrer || sheet.action == SheetAction::Soumettre;
}

namespace {

/// The sheet of `op` when CertificatesAhead checks it (a sheet that sends content, without schema errors).
const SheetOperation* checked_sheet(const Operation& op) {
  const auto* sheet = body_if<SheetOperation>(op);
  return sheet != nullptr && !op.schema_invalid() && sends_content(*sheet) ? sheet : nullptr;
}

}  // namespace

std::size_t sheets_to_check(const Deposit& deposit) {
  std::size_t n = 0;
  for (const Operation& op : deposit.operations) n += checked_sheet(op) != nullptr ? 1 : 0;
  return n;
}

Prechecked precheck_certificates(const rules::CertificateChecker& checker, const Deposit& deposit, Instant now) {
  Prechecked out;
  for (std::size_t i = 0; i < deposit.operations.size(); ++i) {
    if (const SheetOperation* sheet = checked_sheet(deposit.operations[i])) {
      out.emplace_back(i, check_certificates(checker, *sheet, now));
    }
  }
  return out;
}

/// The look-ahead of CertificatesAhead: one slot per operation of all its dépôts, in order.
class CertificatesAhead::Impl {
 public:
  Impl(const rules::CertificateChecker& checker, const std::vector<const Deposit*>& deposits, Instant now,
       unsigned threads, const std::vector<Prechecked*>& prechecked)
      : checker_(checker), now_(now) {
    // One slot per sheet to check, not per operation: a dépôt of 250,000 other operations costs
    // nothing here (docs/design.md "Memory bound").
    std::size_t total = 0;
    for (const Deposit* d : deposits) {
      offsets_.push_back(total);
      for (const Operation& op : d->operations) {
        if (const SheetOperation* sheet = checked_sheet(op)) {
          operations_.push_back(total);
          sheets_.push_back(sheet);
        }
        ++total;
      }
    }
    const std::size_t count = sheets_.size();
    reports_.resize(count);
    discarded_.resize(count);
    states_ = std::vector<std::atomic<int>>(count);
    // The reports computed while the dépôts were read ahead: done already.
    std::size_t unchecked = count;
    for (std::size_t d = 0; d < prechecked.size() && d < deposits.size(); ++d) {
      if (prechecked[d] == nullptr) continue;
      for (auto& [operation, report] : *prechecked[d]) {
        const auto slot = std::lower_bound(operations_.begin(), operations_.end(), offsets_[d] + operation);
        if (slot == operations_.end() || *slot != offsets_[d] + operation) continue;
        const auto i = static_cast<std::size_t>(slot - operations_.begin());
        if (states_[i] == kDone) continue;
        reports_[i] = std::move(report);
        states_[i] = kDone;
        --unchecked;
      }
    }
    const std::size_t workers = unchecked < 2 ? 0 : std::min<std::size_t>(threads, unchecked - 1);
    for (std::size_t t = 0; t < workers; ++t) workers_.emplace_back([this] { work(); });
  }
  ~Impl() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    room_.notify_all();
    workers_.clear();  // joins
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void discard(std::size_t deposit, std::size_t operation) {
    const std::size_t global = offsets_.at(deposit) + operation;
    const auto slot = std::lower_bound(operations_.begin(), operations_.end(), global);
    const auto i = static_cast<std::size_t>(slot - operations_.begin());
    {
      std::lock_guard lock(mutex_);
      taken_ = i;
    }
    room_.notify_all();
    if (slot == operations_.end() || *slot != global) return;
    if (claim(i)) {  // no worker started it: never computed
      publish(i, std::nullopt);
      return;
    }
    std::lock_guard lock(mutex_);
    discarded_[i] = true;  // a worker still checking it drops its report when done
    reports_[i].reset();   // or it is done: dropped now
  }

  std::optional<rules::CertificateReport> take(std::size_t deposit, std::size_t operation) {
    const std::size_t global = offsets_.at(deposit) + operation;
    const auto slot = std::lower_bound(operations_.begin(), operations_.end(), global);
    const auto i = static_cast<std::size_t>(slot - operations_.begin());  // the first sheet at or after it
    {
      std::lock_guard lock(mutex_);
      taken_ = i;
    }
    room_.notify_all();
    if (slot == operations_.end() || *slot != global) return std::nullopt;
    if (claim(i)) return check_certificates(checker_, *sheets_[i], now_);
    // A worker is checking operation i: rather than wait idle, the caller checks the next
    // unstarted operations meanwhile (the two cores stay busy whichever side is slower).
    while (states_[i] != kDone) {
      std::size_t j = next_.load();
      if (j >= sheets_.size() || j >= i + kWindow || failure_seen_) break;
      if (!next_.compare_exchange_strong(j, j + 1)) continue;
      if (claim(j)) publish(j, check_certificates(checker_, *sheets_[j], now_));
    }
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return states_[i] == kDone || failure_; });
    if (failure_) std::rethrow_exception(failure_);
    return std::move(reports_[i]);
  }

 private:
  static constexpr int kFree = 0;
  static constexpr int kClaimed = 1;
  static constexpr int kDone = 2;
  static constexpr std::size_t kWindow = 256;  // sheets

  bool claim(std::size_t i) {
    int expected = kFree;
    return states_[i].compare_exchange_strong(expected, kClaimed);
  }

  void work() {
    try {
      for (std::size_t i = next_++; i < sheets_.size() && !stop_; i = next_++) {
        {
          // Never more than kWindow reports ahead of the caller: memory stays bounded.
          std::unique_lock lock(mutex_);
          room_.wait(lock, [&] { return i < taken_ + kWindow || stop_; });
        }
        if (stop_ || !claim(i)) continue;
        publish(i, check_certificates(checker_, *sheets_[i], now_));
      }
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!failure_) failure_ = std::current_exception();
      failure_seen_ = true;
      done_.notify_all();
    }
  }

  void publish(std::size_t i, std::optional<rules::CertificateReport> report) {
    std::lock_guard lock(mutex_);
    if (!discarded_[i]) reports_[i] = std::move(report);
    states_[i] = kDone;
    done_.notify_all();
  }

  const rules::CertificateChecker& checker_;
  const Instant now_;
  std::vector<std::size_t> offsets_;     // index of each dépôt's first operation among all of them
  std::vector<std::size_t> operations_;  // index of each sheet's operation among all of them, ascending
  std::vector<const SheetOperation*> sheets_;
  std::vector<std::optional<rules::CertificateReport>> reports_;  // guarded by mutex_
  std::vector<bool> discarded_;                                   // discard() while a worker checked it; mutex_
  std::vector<std::atomic<int>> states_;
  std::atomic<std::size_t> next_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> failure_seen_{false};  // failure_ is set
  std::mutex mutex_;
  std::condition_variable done_;
  std::condition_variable room_;
  std::size_t taken_ = 0;              // the slot the caller is at; guarded by mutex_
  std::exception_ptr failure_;         // guarded by mutex_
  std::vector<std::jthread> workers_;  // last: joined first
};

CertificatesAhead::CertificatesAhead(const rules::CertificateChecker& checker,
                                     const std::vector<const Deposit*>& deposits, Instant now, unsigned threads,
                                     const std::vector<Prechecked*>& prechecked)
    : impl_(std::make_unique<Impl>(checker, deposits, now, threads, prechecked)) {}

CertificatesAhead::~CertificatesAhead() = default;

void CertificatesAhead::discard(std::size_t deposit, std::size_t operation) {
  impl_->discard(deposit, operation);
}

std::optional<rules::CertificateReport> CertificatesAhead::take(std::size_t deposit, std::size_t operation) {
  return impl_->take(deposit, operation);
}

}  // namespace raccord
