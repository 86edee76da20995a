// The daemon's watch on certificates.crl_dir (docs/revocation.md, "The three answers"): a CRL file written,
// renamed in or out, created or deleted there (by `raccord trust refresh` or by the operator) makes the
// daemon reload its CRLs, without a restart nor a SIGHUP. Events are debounced: a burst (a refresh writing
// several files, a temporary file then its rename) gives one reload once the directory stood still.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace raccord::app {

/// Runs on the daemon's io_context (one thread: not thread-safe).
class CrlWatch {
 public:
  /// `reload` is called (on the io_context) once the watched directory has stood still for kDebounce
  /// after a change. Throws std::system_error when no inotify instance can be had.
  CrlWatch(boost::asio::io_context& io, std::function<void()> reload);
  ~CrlWatch();
  CrlWatch(const CrlWatch&) = delete;
  CrlWatch& operator=(const CrlWatch&) = delete;

  /// Watches `dir` (IN_CLOSE_WRITE, IN_MOVED_TO, IN_MOVED_FROM, IN_CREATE, IN_DELETE; the directory
  /// deleted or moved away ends the watch, and is a change); an empty path watches nothing. Called at
  /// start and after each SIGHUP reload (the directory may have changed); then ensure_watch().
  void configure(const std::filesystem::path& dir);

  /// Watches the directory again when the watch is off (the directory was absent, removed or replaced;
  /// `trust refresh` creates it): silent while it is still absent (said once), logged when armed again,
  /// and then a change (one reload follows). The daemon calls it before every pass.
  void ensure_watch();

  /// The quiet period after the last event before the reload.
  static constexpr std::chrono::milliseconds kDebounce{300};

 private:
  void wait_events();
  void read_events();
  void changed();

  struct Waits;  // Boost.Asio's descriptor and timer, kept out of this header
  std::function<void()> reload_;
  int fd_ = -1;  // the inotify instance (Asio owns a copy for its waits)
  int wd_ = -1;  // the watch on dir_, -1 when off
  std::filesystem::path dir_;
  bool listening_ = false;
  bool warned_ = false;  // the first attempt on dir_ made (its failure said once)
  std::unique_ptr<Waits> waits_;
};

}  // namespace raccord::app
