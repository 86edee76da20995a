#include "engine/app/daemon.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pthread.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_timer.hpp>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

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

namespace {

namespace asio = boost::asio;

using Steady = std::chrono::steady_clock;

/// The least delay between two settle checks (see Daemon::settle_check).
constexpr std::chrono::milliseconds kSettleBatch{250};

/// The longest wait (real time) between two attempts of a nightly run that failed (docs/design.md).
constexpr std::chrono::seconds kNightlyRetryMax{300};

Instant real_now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

void notify(const std::string& state) {
  sd_notify(0, state.c_str());
}

/// The stop signals (SPEC.md §7: SIGTERM/SIGINT end the daemon after the current dépôt).
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

/// Blocks SIGTERM/SIGINT for its lifetime (one engine pass), so that a stop signal stays pending
/// where the engine's interruption hook sees it (sigpending) instead of going to Asio's handler,
/// which would only run after the pass. Restores the previous mask on destruction: a signal still
/// pending is then delivered to Asio's signal_set, which stops the daemon as usual (findings/2).
class StopSignalsBlocked {
 public:
  StopSignalsBlocked() {
    const sigset_t set = stop_signals();
    ::pthread_sigmask(SIG_BLOCK, &set, &previous_);
  }
  ~StopSignalsBlocked() { ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  StopSignalsBlocked(const StopSignalsBlocked&) = delete;
  StopSignalsBlocked& operator=(const StopSignalsBlocked&) = delete;

 private:
  sigset_t previous_{};
};

/// True when SIGTERM or SIGINT is pending (blocked and not yet delivered).
bool stop_signal_pending() {
  sigset_t pending;
  sigemptyset(&pending);
  if (::sigpending(&pending) != 0) return false;
  return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

/// What the settle check compares (SPEC.md §2: size and mtime unchanged for inbox.settle_ms).
struct FileState {
  std::int64_t size = -1;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileState&) const = default;
};

/// The state of a regular file, nullopt when it is absent or not a regular file.
std::optional<FileState> file_state(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return FileState{static_cast<std::int64_t>(st.st_size),
                   static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

class Daemon {
 public:
  Daemon(ConfigLoader loader, BusinessClock clock)
      : loader_(std::move(loader)),
        clock_(clock),
        signals_(io_, SIGTERM, SIGINT),
        hangup_(io_, SIGHUP),
        rescan_timer_(io_),
        nightly_timer_(io_),
        watchdog_timer_(io_),
        retry_timer_(io_),
        nightly_retry_timer_(io_),
        settle_timer_(io_),
        inotify_(io_) {}

  int run() {
    engine_ = build_engine(loader_());
    start_inotify();
    ensure_watch();
    signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      log::info("signal {} reçu : arrêt après le dépôt en cours", signo);
      notify("STOPPING=1");
      stopping_ = true;
      io_.stop();
    });
    wait_hangup();
    start_watchdog();
    // Start-up: ready as soon as the engine is open, so that a long start-up pass or catch-up runs
    // under the watchdog (fed from the engine's hooks) rather than under TimeoutStartSec; then
    // leftovers and inbox, then missed nightly dates.
    asio::post(io_, [this] {
      notify("READY=1");
      full_pass();
      run_owed_nightly();
      schedule_nightly();
      schedule_rescan();
      set_status("en attente de dépôts");
    });
    io_.run();
    return 0;
  }

 private:
  std::unique_ptr<Engine> build_engine(Config config) {
    for (const auto& w : config.warnings) log::warning("{}", w);
    auto engine = std::make_unique<Engine>(std::move(config), clock_);
    engine->open();
    // Asked between groups of dépôts during a pass (findings/2): keeps the watchdog fed and ends
    // the pass early when a stop signal is pending (blocked by StopSignalsBlocked meanwhile).
    engine->set_interruption([this] {
      ping_watchdog_if_due();
      if (stop_signal_pending()) {
        if (!stopping_) log::info("signal d'arrêt en attente : fin de la passe après le groupe en cours");
        stopping_ = true;  // no further pass; Asio's handler stops the loop once the mask is restored
      }
      return stopping_;
    });
    return engine;
  }

  void set_status(const std::string& text) { notify("STATUS=" + text); }

  void start_inotify() {
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "inotify_init1");
    inotify_.assign(fd);
    read_events();
  }

  /// The folders the daemon owns (inbox/, inbox/.work/, archive/, error/, outbox/) may be removed or
  /// replaced while it runs (`rm -rf inbox && mkdir inbox`): recreates the missing ones, then
  /// re-arms the inotify watch (see ensure_watch). Before every pass and nightly run; each repair
  /// is logged. Throws what InboxDirectory::ensure_layout throws (the caller retries).
  void ensure_folders() {
    const auto& box = engine_->inbox();
    std::vector<std::string> missing;
    for (const auto& dir : box.layout()) {
      struct stat st {};
      if (::lstat(dir.c_str(), &st) != 0 && errno == ENOENT) missing.push_back(dir.string());
    }
    if (!missing.empty()) {
      box.ensure_layout();
      log::warning("répertoire(s) disparu(s), recréé(s) : {}", fmt::join(missing, ", "));
    }
    ensure_watch();
  }

  /// Watches inbox/ as it is now: a watch follows a directory (inode), not its path, and is lost
  /// with it (IN_IGNORED). Re-arms when there is no watch or inbox/ is no longer the directory
  /// watched (removed and recreated, or moved away and replaced), and says so in the log.
  void ensure_watch() {
    const auto dir = engine_->inbox().inbox_dir();
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) return;  // recreated by the next ensure_folders()
    if (watch_ >= 0 && st.st_dev == watched_dev_ && st.st_ino == watched_ino_) return;
    const bool rearm = watch_ >= 0 || watched_ino_ != 0;
    if (watch_ >= 0) (void)::inotify_rm_watch(inotify_.native_handle(), watch_);  // its IN_IGNORED is stale
    watch_ = ::inotify_add_watch(
        inotify_.native_handle(), dir.c_str(),
        IN_CLOSE_WRITE | IN_MOVED_TO | IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW);
    watched_dev_ = st.st_dev;
    watched_ino_ = st.st_ino;
    if (watch_ < 0) {
      log::warning("inotify sur {} impossible ({}) : balayage périodique seul", dir.string(), std::strerror(errno));
    } else if (rearm) {
      log::warning("surveillance inotify de {} réarmée (répertoire recréé ou remplacé)", dir.string());
    }
  }

  void read_events() {
    inotify_.async_read_some(asio::buffer(event_buffer_), [this](const boost::system::error_code& ec, std::size_t n) {
      if (ec) {
        if (ec != asio::error::operation_aborted) log::warning("inotify : {}", ec.message());
        return;
      }
      // SPEC.md §2: a dépôt renamed into inbox/ (IN_MOVED_TO) is complete and taken at once; a
      // file closed after writing (IN_CLOSE_WRITE) may be written again (several open/append/close
      // cycles, findings/4), so it is taken only once settled.
      std::vector<std::string> moved;
      std::vector<std::string> closed;
      bool overflow = false;
      for (std::size_t off = 0; off + sizeof(inotify_event) <= n;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(event_buffer_.data() + off);
        if (ev->mask & IN_Q_OVERFLOW) overflow = true;
        if (ev->wd != watch_ || watch_ < 0) {  // a watch removed by ensure_watch(): stale
          off += sizeof(inotify_event) + ev->len;
          continue;
        }
        if (ev->mask & IN_IGNORED) watch_ = -1;  // inbox/ is gone: ensure_folders() re-arms
        if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) overflow = true;
        if (ev->len > 0) {
          std::string name(ev->name);
          if (inbox::InboxDirectory::is_deposit_name(name)) {
            if (ev->mask & IN_MOVED_TO) {
              moved.push_back(std::move(name));
            } else if (ev->mask & IN_CLOSE_WRITE) {
              closed.push_back(std::move(name));
            }
          }
        }
        off += sizeof(inotify_event) + ev->len;
      }
      if (!stopping_) {
        if (overflow) {
          log::warning("file d'événements inotify débordée, ou répertoire supprimé ou déplacé : balayage complet");
          full_pass();
        } else {
          for (const auto& name : moved) settling_.erase(name);
          if (!moved.empty()) engine_pass([&] { engine_->process_names(moved); });
          for (const auto& name : closed) watch_settle(name);
          if (!closed.empty()) schedule_settle_check();
        }
      }
      read_events();
    });
  }

  /// Runs `work`, turning the engine's failures into a log line and a retry with backoff.
  template <typename F>
  void guarded(F&& work) {
    try {
      work();
      backoff_ = std::chrono::seconds{1};
    } catch (const StoreError& e) {
      log::error("store indisponible : {} ; nouvel essai dans {} s", e.what(), backoff_.count());
      engine_->reconnect_store();  // a lost connection never comes back by itself
      schedule_retry();
    } catch (const std::exception& e) {
      log::error("échec du traitement : {} ; nouvel essai dans {} s", e.what(), backoff_.count());
      schedule_retry();
    }
  }

  void schedule_retry() {
    retry_timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, std::chrono::seconds{30});
    retry_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !stopping_) full_pass();
    });
  }

  /// Runs one engine pass with the stop signals blocked (see StopSignalsBlocked); none once a
  /// stop is under way.
  template <typename F>
  void engine_pass(F&& work) {
    if (stopping_) return;
    StopSignalsBlocked blocked;
    guarded([&] {
      ensure_folders();
      work();
    });
  }

  void full_pass() {
    if (stopping_) return;
    set_status("traitement de la boîte de dépôt");
    engine_pass([&] {
      const auto s = engine_->process_pass();
      if (s.processed > 0) log::info("{} dépôt(s) traité(s)", s.processed);
    });
    set_status("en attente de dépôts");
  }

  std::chrono::milliseconds settle_period() const { return std::chrono::milliseconds{engine_->config().settle_ms}; }

  /// `name` was closed after writing (IN_CLOSE_WRITE): it is watched until its size and mtime stay
  /// unchanged for inbox.settle_ms of real time (SPEC.md §2, findings/4), then taken (see
  /// schedule_settle_check and settle_check).
  void watch_settle(const std::string& name) {
    const auto state = file_state(engine_->inbox().inbox_dir() / name);
    if (!state) {
      settling_.erase(name);
      return;
    }
    settling_[name] = Settling{*state, Steady::now()};  // just written: the quiet period starts now
  }

  /// After watch_settle(): a settle check now (inbox.settle_ms = 0) or when the period is over.
  void schedule_settle_check() {
    if (settle_period() <= std::chrono::milliseconds::zero()) {
      settle_check();
    } else if (!settle_armed_) {
      arm_settle(Steady::now() + settle_period());
    }
  }

  void arm_settle(Steady::time_point at) {
    settle_armed_ = true;
    settle_timer_.expires_at(at);
    settle_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      settle_armed_ = false;
      if (!stopping_) settle_check();
    });
  }

  /// Takes the watched files that stood still for inbox.settle_ms, forgets the vanished ones,
  /// restarts the quiet period of the changed ones, and re-arms for the next one due.
  void settle_check() {
    const auto now = Steady::now();
    const auto settle = settle_period();
    std::vector<std::string> ready;
    for (auto it = settling_.begin(); it != settling_.end();) {
      const auto state = file_state(engine_->inbox().inbox_dir() / it->first);
      if (!state) {
        it = settling_.erase(it);  // taken by another engine, or removed by its sender
        continue;
      }
      if (!(*state == it->second.state)) {
        it->second = Settling{*state, now};
      } else if (now - it->second.since >= settle) {
        ready.push_back(it->first);  // std::map: name-byte order
        it = settling_.erase(it);
        continue;
      }
      ++it;
    }
    if (!ready.empty()) {
      set_status("traitement de la boîte de dépôt");
      engine_pass([&] { engine_->process_names(ready); });
      set_status("en attente de dépôts");
    }
    if (settling_.empty() || stopping_ || settle_armed_) return;
    auto due = Steady::time_point::max();
    for (const auto& [name, s] : settling_) due = std::min(due, s.since + settle);
    // Not before kSettleBatch: files closed around the same time (a copy of many dépôts) are then
    // taken together, in groups (issue 7), rather than one pass each.
    arm_settle(std::max(due, Steady::now() + kSettleBatch));
  }

  void schedule_rescan() {
    rescan_timer_.expires_after(std::chrono::seconds{engine_->config().rescan_s});
    rescan_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping_) return;
      full_pass();
      if (!nightly_retry_armed_) run_owed_nightly();  // catching up at any time, not only at start
      schedule_rescan();
    });
  }

  std::pair<int, int> nightly_time() const {
    const NightlyTime& t = engine_->config().nightly_time;
    return {t.hour, t.minute};
  }

  /// The business today (SPEC.md §7: --now sets the nightly run's "today"; the real clock only
  /// decides when the run starts): the date `raccord nightly` runs without --date.
  CivilDate business_today() const { return engine_->zone().date_of(engine_->clock().now()); }

  /// The last date whose run instant has passed on the business clock (SPEC.md §6 "catching up").
  CivilDate last_due_date() const {
    const auto [hh, mm] = nightly_time();
    const Instant now = engine_->clock().now();
    const CivilDate today = engine_->zone().date_of(now);
    if (engine_->zone().instant_of(today, hh, mm) > now)
      return CivilDate{std::chrono::sys_days{today} - std::chrono::days{1}};
    return today;
  }

  /// Runs what the nightly job owes: first the date of a scheduled run that has not succeeded
  /// (owed_nightly_), then the dates after the ledger's last one whose run instant has passed
  /// (SPEC.md §6 "catching up"; with no recorded run there is none). Called at start, at
  /// nightly.time, at each rescan and by its own retries: a run that fails (store unavailable, lock
  /// held by another run) is tried again with a backoff of real time until it is done.
  void run_owed_nightly() {
    if (stopping_) return;
    try {
      ensure_folders();
      bool done = true;
      if (owed_nightly_) {
        done = run_nightly_for(*owed_nightly_);
        if (done) owed_nightly_.reset();
      }
      if (const auto last = done ? last_nightly_date(engine_->database()) : std::nullopt) {
        const CivilDate due = last_due_date();
        if (*last < due) done = run_nightly_for(due);
      }
      if (done) {
        nightly_backoff_ = std::chrono::seconds{1};
      } else {
        schedule_nightly_retry();
      }
    } catch (const StoreError& e) {
      log::error("exécution nocturne impossible, store indisponible : {} ; nouvel essai dans {} s", e.what(),
                 nightly_backoff_.count());
      engine_->reconnect_store();  // a lost connection never comes back by itself
      schedule_nightly_retry();
    } catch (const std::exception& e) {
      log::error("exécution nocturne en échec : {} ; nouvel essai dans {} s", e.what(), nightly_backoff_.count());
      schedule_nightly_retry();
    }
    set_status("en attente de dépôts");
  }

  void schedule_nightly_retry() {
    nightly_retry_armed_ = true;
    nightly_retry_timer_.expires_after(nightly_backoff_);
    nightly_backoff_ = std::min(nightly_backoff_ * 2, kNightlyRetryMax);
    nightly_retry_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      nightly_retry_armed_ = false;
      run_owed_nightly();
    });
  }

  /// Runs `date` (and the dates it catches up). True when done (run now or before); false when
  /// another run holds the lock (then it is tried again later). Throws what run_nightly throws.
  bool run_nightly_for(CivilDate date) {
    set_status(fmt::format("exécution nocturne du {}", format_iso_date(date)));
    const auto result = run_nightly(*engine_, date, [this] { ping_watchdog_if_due(); });
    switch (result.status) {
      case NightlyStatus::Locked:
        log::info("exécution nocturne du {} en cours sur un autre moteur : nouvel essai dans {} s",
                  format_iso_date(date), nightly_backoff_.count());
        return false;
      case NightlyStatus::AlreadyRun:
        log::info("nuit du {} déjà exécutée", format_iso_date(date));
        return true;
      case NightlyStatus::Ran:
        return true;
    }
    return true;
  }

  /// Arms the next scheduled run: the real clock decides when (nightly.time in engine.timezone),
  /// the business clock which date (business_today() at that moment).
  void schedule_nightly() {
    const auto [hh, mm] = nightly_time();
    const auto [date, at] = next_nightly(engine_->zone(), hh, mm, real_now());
    log::info("prochaine exécution nocturne : {}{}", engine_->zone().format_local(at),
              engine_->clock().is_fixed() ? fmt::format(" (date métier {})", format_iso_date(business_today()))
                                          : fmt::format(" (nuit du {})", format_iso_date(date)));
    nightly_timer_.expires_at(std::chrono::system_clock::time_point{at.time_since_epoch()});
    nightly_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping_) return;
      const CivilDate today = business_today();
      owed_nightly_ = owed_nightly_ ? std::min(*owed_nightly_, today) : today;
      if (!nightly_retry_armed_) run_owed_nightly();  // else the armed retry runs it
      schedule_nightly();
    });
  }

  void start_watchdog() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
    watchdog_period_ = std::chrono::microseconds{usec / 2};
    beat();
  }

  /// During a long pass (the engine's interruption hook): WATCHDOG=1 when the last ping is older
  /// than the ping period (half of WATCHDOG_USEC), nothing when the watchdog is off.
  void ping_watchdog_if_due() {
    if (watchdog_period_ <= std::chrono::microseconds::zero()) return;
    if (Steady::now() - last_ping_ < watchdog_period_) return;
    notify("WATCHDOG=1");
    last_ping_ = Steady::now();
  }

  void beat() {
    notify("WATCHDOG=1");
    last_ping_ = Steady::now();
    watchdog_timer_.expires_after(watchdog_period_);
    watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) beat();
    });
  }

  void wait_hangup() {
    hangup_.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      log::info("SIGHUP : rechargement de la configuration, du catalogue et du magasin de confiance");
      notify("RELOADING=1");
      try {
        auto fresh = build_engine(loader_());
        const bool same_inbox = fresh->inbox().inbox_dir() == engine_->inbox().inbox_dir();
        engine_ = std::move(fresh);
        if (!same_inbox) {
          settling_.clear();
          if (watch_ >= 0) (void)::inotify_rm_watch(inotify_.native_handle(), watch_);
          watch_ = -1;
          watched_ino_ = 0;
        }
        ensure_watch();
        schedule_nightly();
      } catch (const std::exception& e) {
        log::error("rechargement impossible, configuration précédente conservée : {}", e.what());
      }
      notify("READY=1");
      wait_hangup();
    });
  }

  ConfigLoader loader_;
  BusinessClock clock_;
  asio::io_context io_;
  asio::signal_set signals_;
  asio::signal_set hangup_;
  asio::steady_timer rescan_timer_;
  asio::system_timer nightly_timer_;
  asio::steady_timer watchdog_timer_;
  asio::steady_timer retry_timer_;
  asio::steady_timer nightly_retry_timer_;
  asio::steady_timer settle_timer_;
  asio::posix::stream_descriptor inotify_;
  std::array<char, std::size_t{64} * 1024> event_buffer_{};
  int watch_ = -1;
  dev_t watched_dev_ = 0;  // the directory watch_ was armed on (see ensure_watch)
  ino_t watched_ino_ = 0;
  bool stopping_ = false;
  std::chrono::seconds backoff_{1};
  /// A scheduled nightly date not yet run successfully (see run_owed_nightly), and its retries.
  std::optional<CivilDate> owed_nightly_;
  bool nightly_retry_armed_ = false;
  std::chrono::seconds nightly_backoff_{1};
  std::chrono::microseconds watchdog_period_{0};
  Steady::time_point last_ping_{};
  /// Files closed after writing, waiting for their quiet period (name → last state, since when).
  struct Settling {
    FileState state;
    Steady::time_point since;
  };
  std::map<std::string, Settling> settling_;
  bool settle_armed_ = false;
  std::unique_ptr<Engine> engine_;
};

}  // namespace

int run_daemon(const ConfigLoader& load_config, BusinessClock clock) {
  Daemon daemon(load_config, clock);
  return daemon.run();
}

}  // namespace raccord::app
