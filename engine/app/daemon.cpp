#include "engine/app/daemon.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "engine/app/crl_watch.hpp"
#include "engine/app/inbox_feed.hpp"
#include "engine/app/nightly_schedule.hpp"
#include "engine/app/watchdog.hpp"
#include "engine/database.hpp"
#include "engine/engine.hpp"
#include "engine/log.hpp"
#include "rules/certificates.hpp"

namespace raccord::app {

namespace {

namespace asio = boost::asio;

/// The stop signals (docs/reference.md §7: SIGTERM/SIGINT end the daemon after the current dépôt).
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

/// The composition of the daemon: the engine (rebuilt on SIGHUP), its passes with retry and
/// backoff, the folders it owns, and what calls for a pass: InboxFeed (inotify and settle), the
/// periodic rescan, NightlySchedule, the signals, CrlWatch (certificates.crl_dir changed: the CRLs
/// reloaded); Watchdog and notify() for systemd.
class Daemon {
 public:
  Daemon(ConfigLoader loader, BusinessClock clock)
      : loader_(std::move(loader)),
        clock_(clock),
        signals_(io_, SIGTERM, SIGINT),
        hangup_(io_, SIGHUP),
        rescan_timer_(io_),
        retry_timer_(io_),
        watchdog_(io_),
        nightly_(io_, NightlyHooks{[this]() -> Engine& { return *engine_; }, [this] { return stopping_; },
                                   [this] { ensure_folders(); }, [](const std::string& s) { set_status(s); },
                                   [this] { watchdog_.ping_if_due(); }}),
        crl_watch_(io_, [this] { reload_crls(); }) {}

  int run() {
    Config config = loader_();
    // The AIFE sides still at their example values, said once at start (not at each reload).
    for (const auto& w : aife_example_warnings(config)) log::warning("{}", w);
    engine_ = build_engine(std::move(config));
    configure_feeds();
    crl_watch_.configure(crl_dir());
    signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      log::info("signal {} reçu : arrêt après le dépôt en cours", signo);
      notify("STOPPING=1");
      stopping_ = true;
      io_.stop();
    });
    wait_hangup();
    watchdog_.start();
    // Start-up: ready as soon as the engine is open, so that a long start-up pass or catch-up runs
    // under the watchdog (fed from the engine's hooks) rather than under TimeoutStartSec; then
    // leftovers and inbox, then missed nightly dates.
    asio::post(io_, [this] {
      notify("READY=1");
      full_pass();
      nightly_.run_owed();
      nightly_.arm();
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
    // metrics.prom's sheets by state and files in error/ as they are now: the file may hold an older engine's
    // last measure (before a restart or this reload), which an idle engine would never rewrite
    // (docs/design.md "Gauges of metrics.prom").
    engine->refresh_metrics_rescanned();
    // Asked between groups of dépôts during a pass (findings/2): keeps the watchdog fed and ends
    // the pass early when a stop signal is pending (blocked by StopSignalsBlocked meanwhile).
    engine->set_interruption([this] {
      watchdog_.ping_if_due();
      if (stop_signal_pending()) {
        if (!stopping_) log::info("signal d'arrêt en attente : fin de la passe après le groupe en cours");
        stopping_ = true;  // no further pass; Asio's handler stops the loop once the mask is restored
      }
      return stopping_;
    });
    return engine;
  }

  static void set_status(const std::string& text) { notify("STATUS=" + text); }

  std::chrono::milliseconds settle_period() const { return std::chrono::milliseconds{engine_->config().settle_ms}; }

  /// The folders the daemon owns (inbox/, inbox/.work/, archive/, error/, outbox/) may be removed or
  /// replaced while it runs (`rm -rf inbox && mkdir inbox`): recreates the missing ones, then
  /// re-arms the inotify watch (InboxFeed::ensure_watch). Before every pass and nightly run; each
  /// repair is logged. Throws what InboxDirectory::ensure_layout throws (the caller retries).
  void ensure_folders() {
    std::vector<std::string> missing;
    for (const Channel& channel : engine_->channels()) {
      const std::size_t before = missing.size();
      for (const auto& dir : channel.inbox.layout()) {
        struct stat st {};
        if (::lstat(dir.c_str(), &st) != 0 && errno == ENOENT &&
            std::find(missing.begin(), missing.end(), dir.string()) == missing.end()) {
          missing.push_back(dir.string());
        }
      }
      if (missing.size() > before) channel.inbox.ensure_layout();
    }
    if (!missing.empty()) log::warning("répertoire(s) disparu(s), recréé(s) : {}", fmt::join(missing, ", "));
    for (auto& feed : feeds_) feed->ensure_watch();
    crl_watch_.ensure_watch();
  }

  /// One InboxFeed per channel (inbox/ itself, then each sender account's inbox/NAME/), configured
  /// on the engine's channels at start and after each reload. A feed is never destroyed while the
  /// loop runs (its waits hold it): one left over by an account removed at a reload hears nothing
  /// the engine takes (its channel index is out of range) until an account takes its place.
  void configure_feeds() {
    const auto& channels = engine_->channels();
    while (feeds_.size() < channels.size()) {
      const std::size_t c = feeds_.size();
      feeds_.push_back(
          std::make_unique<InboxFeed>(io_, InboxFeedHooks{[this, c](const auto& names) {
                                                            engine_pass([&] {
                                                              if (c < engine_->channels().size())
                                                                engine_->process_names(c, names);
                                                            });
                                                          },
                                                          [this, c](const auto& names) { settled_pass(c, names); },
                                                          [this] { full_pass(); }, [this] { return stopping_; }}));
    }
    for (std::size_t c = 0; c < channels.size(); ++c)
      feeds_[c]->configure(channels[c].inbox.inbox_dir(), settle_period());
  }

  /// The directory CrlWatch watches: certificates.crl_dir, none when revocation is not checked.
  std::filesystem::path crl_dir() const {
    const Config& config = engine_->config();
    return config.revocation == rules::RevocationMode::Aucune ? std::filesystem::path{} : config.effective_crl_dir();
  }

  /// certificates.crl_dir changed (CrlWatch): the CRLs alone are reloaded, as the SIGHUP reload loads them
  /// (CertificateChecker::reload_crls: a file that cannot be read or parsed is skipped and logged; the others are
  /// used), and metrics.prom shows their ages. When the reload fails, the CRLs in use are kept.
  void reload_crls() {
    if (stopping_) return;
    std::vector<rules::TrustStoreNote> notes;
    try {
      const std::size_t count = engine_->certificates().reload_crls(notes);
      for (const auto& n : notes) {
        if (n.problem) {
          log::warning("{}", n.text);
        } else {
          log::info("{}", n.text);
        }
      }
      log::info("CRL rechargées ({} CRL) : le répertoire {} a changé", count, crl_dir().string());
      engine_->refresh_metrics_rescanned();  // metrics.prom's CRL ages: those of the new CRLs (docs/reference.md §5.4)
    } catch (const std::exception& e) {
      log::error("rechargement des CRL de {} impossible, CRL précédentes conservées : {}", crl_dir().string(),
                 e.what());
    }
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

  void settled_pass(std::size_t channel, const std::vector<std::string>& names) {
    set_status("traitement de la boîte de dépôt");
    engine_pass([&] {
      if (channel < engine_->channels().size()) engine_->process_names(channel, names);
    });
    set_status("en attente de dépôts");
  }

  void schedule_rescan() {
    rescan_timer_.expires_after(std::chrono::seconds{engine_->config().rescan_s});
    rescan_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping_) return;
      full_pass();
      nightly_.catch_up();  // catching up at any time, not only at start
      schedule_rescan();
    });
  }

  void wait_hangup() {
    hangup_.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      log::info("SIGHUP : rechargement de la configuration, du catalogue et du magasin de confiance");
      notify("RELOADING=1");
      try {
        engine_ = build_engine(loader_());
        configure_feeds();
        crl_watch_.configure(crl_dir());
        nightly_.arm();
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
  asio::steady_timer retry_timer_;
  Watchdog watchdog_;
  std::vector<std::unique_ptr<InboxFeed>> feeds_;  // [c]: engine_->channels()[c]
  NightlySchedule nightly_;
  CrlWatch crl_watch_;
  bool stopping_ = false;
  std::chrono::seconds backoff_{1};
  std::unique_ptr<Engine> engine_;
};

}  // namespace

int run_daemon(const ConfigLoader& load_config, BusinessClock clock) {
  Daemon daemon(load_config, clock);
  return daemon.run();
}

}  // namespace raccord::app
