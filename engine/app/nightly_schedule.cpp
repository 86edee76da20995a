#include "engine/app/nightly_schedule.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_timer.hpp>

#include "engine/database.hpp"
#include "engine/engine.hpp"
#include "engine/log.hpp"
#include "engine/nightly.hpp"

namespace raccord::app {

std::pair<CivilDate, Instant> next_nightly(const CivilZone& zone, int hh, int mm, Instant after) {
  CivilDate d = CivilDate{std::chrono::sys_days{zone.date_of(after)} - std::chrono::days{1}};
  for (int i = 0; i < 4; ++i) {
    const Instant at = zone.instant_of(d, hh, mm);
    if (at > after) return {d, at};
    d = CivilDate{std::chrono::sys_days{d} + std::chrono::days{1}};
  }
  return {d, zone.instant_of(d, hh, mm)};
}

struct NightlySchedule::Timers {
  explicit Timers(boost::asio::io_context& io) : scheduled(io), retry(io) {}
  boost::asio::system_timer scheduled;
  boost::asio::steady_timer retry;
};

NightlySchedule::NightlySchedule(boost::asio::io_context& io, NightlyHooks hooks)
    : hooks_(std::move(hooks)), timers_(std::make_unique<Timers>(io)) {}

NightlySchedule::~NightlySchedule() = default;

CivilDate NightlySchedule::business_today() const {
  const Engine& engine = hooks_.engine();
  return engine.zone().date_of(engine.clock().now());
}

CivilDate NightlySchedule::last_due_date() const {
  const Engine& engine = hooks_.engine();
  const NightlyTime& t = engine.config().nightly_time;
  const Instant now = engine.clock().now();
  const CivilDate today = engine.zone().date_of(now);
  if (engine.zone().instant_of(today, t.hour, t.minute) > now)
    return CivilDate{std::chrono::sys_days{today} - std::chrono::days{1}};
  return today;
}

void NightlySchedule::run_owed() {
  if (hooks_.stopping()) return;
  try {
    hooks_.before_run();
    bool done = true;
    if (owed_) {
      done = run_date(*owed_);
      if (done) owed_.reset();
    }
    if (const auto last = done ? last_nightly_date(hooks_.engine().database()) : std::nullopt) {
      const CivilDate due = last_due_date();
      if (*last < due) done = run_date(due);
    }
    if (done) {
      backoff_ = std::chrono::seconds{1};
    } else {
      schedule_retry();
    }
  } catch (const StoreError& e) {
    log::error("exécution nocturne impossible, store indisponible : {} ; nouvel essai dans {} s", e.what(),
               backoff_.count());
    hooks_.engine().reconnect_store();  // a lost connection never comes back by itself
    schedule_retry();
  } catch (const std::exception& e) {
    log::error("exécution nocturne en échec : {} ; nouvel essai dans {} s", e.what(), backoff_.count());
    schedule_retry();
  }
  hooks_.status("en attente de dépôts");
}

void NightlySchedule::catch_up() {
  if (!retry_armed_) run_owed();
}

void NightlySchedule::schedule_retry() {
  retry_armed_ = true;
  timers_->retry.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, kRetryMax);
  timers_->retry.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    retry_armed_ = false;
    run_owed();
  });
}

bool NightlySchedule::run_date(CivilDate date) {
  hooks_.status(fmt::format("exécution nocturne du {}", format_iso_date(date)));
  const auto result = run_nightly(hooks_.engine(), date, hooks_.progress);
  switch (result.status) {
    case NightlyStatus::Locked:
      log::info("exécution nocturne du {} en cours sur un autre moteur : nouvel essai dans {} s", format_iso_date(date),
                backoff_.count());
      return false;
    case NightlyStatus::AlreadyRun:
      log::info("nuit du {} déjà exécutée", format_iso_date(date));
      return true;
    case NightlyStatus::Ran:
      return true;
  }
  return true;
}

void NightlySchedule::arm() {
  const Engine& engine = hooks_.engine();
  const NightlyTime& t = engine.config().nightly_time;
  const auto wall = hooks_.wall_clock();
  const auto [date, at] = next_nightly(engine.zone(), t.hour, t.minute, std::chrono::floor<std::chrono::seconds>(wall));
  log::info("prochaine exécution nocturne : {}{}", engine.zone().format_local(at),
            engine.clock().is_fixed() ? fmt::format(" (date métier {})", format_iso_date(business_today()))
                                      : fmt::format(" (nuit du {})", format_iso_date(date)));
  // `at` on the wall clock; with the real one, exactly `at`.
  timers_->scheduled.expires_at(std::chrono::system_clock::now() + (at - wall));
  timers_->scheduled.async_wait([this](const boost::system::error_code& ec) {
    if (ec || hooks_.stopping()) return;
    const CivilDate today = business_today();
    owed_ = owed_ ? std::min(*owed_, today) : today;
    if (!retry_armed_) run_owed();  // else the armed retry runs it
    arm();
  });
}

}  // namespace raccord::app
