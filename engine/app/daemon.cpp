#include "engine/app/daemon.hpp"

#include <sys/inotify.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_timer.hpp>
#include <fmt/format.h>
#include <memory>
#include <set>

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

Instant real_now() { return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()); }

void notify(const std::string& state) { sd_notify(0, state.c_str()); }

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
        inotify_(io_) {}

  int run() {
    engine_ = build_engine(loader_());
    start_inotify();
    signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      log::info("signal {} reçu : arrêt après le dépôt en cours", signo);
      notify("STOPPING=1");
      stopping_ = true;
      io_.stop();
    });
    wait_hangup();
    start_watchdog();
    // Start-up: leftovers and inbox, then missed nightly dates.
    asio::post(io_, [this] {
      full_pass();
      catch_up_nightly();
      schedule_nightly();
      schedule_rescan();
      notify("READY=1");
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
    return engine;
  }

  void set_status(const std::string& text) { notify("STATUS=" + text); }

  void start_inotify() {
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "inotify_init1");
    inotify_.assign(fd);
    watch_ = ::inotify_add_watch(fd, engine_->inbox().inbox_dir().c_str(),
                                 IN_CLOSE_WRITE | IN_MOVED_TO | IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF);
    if (watch_ < 0) {
      log::warning("inotify sur {} impossible ({}) : balayage périodique seul", engine_->inbox().inbox_dir().string(),
                   std::strerror(errno));
    }
    read_events();
  }

  void read_events() {
    inotify_.async_read_some(asio::buffer(event_buffer_), [this](const boost::system::error_code& ec, std::size_t n) {
      if (ec) {
        if (ec != asio::error::operation_aborted) log::warning("inotify : {}", ec.message());
        return;
      }
      std::vector<std::string> names;
      bool overflow = false;
      for (std::size_t off = 0; off + sizeof(inotify_event) <= n;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(event_buffer_.data() + off);
        if (ev->mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) overflow = true;
        if (ev->len > 0) {
          std::string name(ev->name);
          if (inbox::InboxDirectory::is_deposit_name(name)) names.push_back(std::move(name));
        }
        off += sizeof(inotify_event) + ev->len;
      }
      if (!stopping_) {
        if (overflow) {
          log::warning("file d'événements inotify débordée ou répertoire déplacé : balayage complet");
          full_pass();
        } else if (!names.empty()) {
          guarded([&] { engine_->process_names(names); });
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

  void full_pass() {
    set_status("traitement de la boîte de dépôt");
    guarded([&] {
      const auto s = engine_->process_pass();
      if (s.processed > 0) log::info("{} dépôt(s) traité(s)", s.processed);
    });
    set_status("en attente de dépôts");
  }

  void schedule_rescan() {
    rescan_timer_.expires_after(std::chrono::seconds{engine_->config().rescan_s});
    rescan_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping_) return;
      full_pass();
      schedule_rescan();
    });
  }

  std::pair<int, int> nightly_time() const {
    const auto& t = engine_->config().nightly_time;
    return {std::stoi(t.substr(0, 2)), std::stoi(t.substr(3, 2))};
  }

  /// Dates after the ledger's last one whose run instant has passed (SPEC.md §6 "catching up").
  void catch_up_nightly() {
    guarded([&] {
      const auto last = last_nightly_date(engine_->database());
      if (!last) return;
      const auto [hh, mm] = nightly_time();
      // The business "today" (SPEC.md §7: --now sets the nightly run's today), not the wall clock.
      const Instant now = engine_->clock().now();
      CivilDate due = engine_->zone().date_of(now);
      if (engine_->zone().instant_of(due, hh, mm) > now) due = CivilDate{std::chrono::sys_days{due} - std::chrono::days{1}};
      if (*last < due) run_nightly_for(due);
    });
  }

  void run_nightly_for(CivilDate date) {
    set_status(fmt::format("exécution nocturne du {}", format_iso_date(date)));
    const auto result = run_nightly(*engine_, date);
    if (result.status == NightlyStatus::Locked) log::info("exécution nocturne déjà en cours sur un autre moteur");
    set_status("en attente de dépôts");
  }

  void schedule_nightly() {
    const auto [hh, mm] = nightly_time();
    const auto [date, at] = next_nightly(engine_->zone(), hh, mm, real_now());
    log::info("prochaine exécution nocturne : {} ({})", format_iso_date(date), engine_->zone().format_local(at));
    nightly_timer_.expires_at(std::chrono::system_clock::time_point{at.time_since_epoch()});
    nightly_timer_.async_wait([this, d = date](const boost::system::error_code& ec) {
      if (ec || stopping_) return;
      guarded([&] { run_nightly_for(d); });
      schedule_nightly();
    });
  }

  void start_watchdog() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
    watchdog_period_ = std::chrono::microseconds{usec / 2};
    beat();
  }

  void beat() {
    notify("WATCHDOG=1");
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
          inotify_.close();
          start_inotify();
        }
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
  asio::posix::stream_descriptor inotify_;
  std::array<char, 64 * 1024> event_buffer_{};
  int watch_ = -1;
  bool stopping_ = false;
  std::chrono::seconds backoff_{1};
  std::chrono::microseconds watchdog_period_{0};
  std::unique_ptr<Engine> engine_;
};

}  // namespace

int run_daemon(const ConfigLoader& load_config, BusinessClock clock) {
  Daemon daemon(load_config, clock);
  return daemon.run();
}

}  // namespace raccord::app
