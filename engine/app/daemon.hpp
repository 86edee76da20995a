// `raccord daemon` (docs/reference.md §7): one Boost.Asio io_context with inotify on inbox/, a periodic full
// rescan, the nightly run at nightly.time in engine.timezone, signals and sd_notify.
#pragma once

#include <functional>
#include <string>

#include "engine/clock.hpp"
#include "engine/config.hpp"

namespace raccord::app {

/// How to (re)build the config: called at start and on SIGHUP. Throws ConfigError.
using ConfigLoader = std::function<Config()>;

/// Runs until SIGTERM or SIGINT (the dépôt being processed is finished first), then returns 0.
/// At start (after READY=1): processes .work/ leftovers and the inbox, and catches up missed nightly
/// dates (dates after the ledger's last one whose run instant has passed; checked again at each
/// rescan). At nightly.time (real clock) runs the business today (the date of `clock`, docs/reference.md §7);
/// a nightly run that fails or finds the lock held is tried again with backoff until it is done.
/// Before each pass and nightly run, recreates its missing folders (inbox/, inbox/.work/, archive/,
/// error/, outbox/) and re-arms the inotify watch on a recreated or replaced inbox/ (logged).
/// SIGHUP reloads config, catalogue and trust store (a config that fails to load is logged and the
/// old one kept). With NOTIFY_SOCKET set, sends READY=1, STATUS=..., WATCHDOG=1 (every
/// WatchdogSec/2, also from within long passes and nightly runs) and STOPPING=1.
/// Errors of the store are logged and retried at the next event or rescan (with backoff); the
/// dépôt stays in inbox/.work/.
int run_daemon(const ConfigLoader& load_config, BusinessClock clock);

}  // namespace raccord::app
