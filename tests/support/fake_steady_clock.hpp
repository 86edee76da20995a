// A steady clock of the test's own for the settle rule (inbox/settle_tracker.hpp): time moves only
// when the code under test waits or the test advances it, and the test may act at each wait (a
// writer appending to a file), so the rule is tested without sleeping. Header-only: for the test
// executables that link raccord_inbox.
#pragma once

#include <chrono>
#include <functional>

#include "inbox/settle_tracker.hpp"

namespace raccord::testing {

class FakeSteadyClock final : public inbox::SteadyClock {
 public:
  time_point now() override { return now_; }

  /// Moves on by `duration`, then runs the wait hook (if any) with the new time since the start.
  void wait(std::chrono::milliseconds duration) override {
    now_ += duration;
    waited_ += duration;
    ++waits_;
    if (on_wait_) on_wait_(elapsed());
  }

  void advance(std::chrono::milliseconds duration) { now_ += duration; }

  /// Run after each wait() with the time elapsed since the clock was made.
  void on_wait(std::function<void(std::chrono::milliseconds elapsed)> hook) { on_wait_ = std::move(hook); }

  std::chrono::milliseconds elapsed() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now_ - start_);
  }
  /// The time spent in wait() (not advance()), and how many waits.
  std::chrono::milliseconds waited() const { return waited_; }
  int waits() const { return waits_; }

 private:
  time_point start_{std::chrono::hours{1000}};  // any fixed origin
  time_point now_ = start_;
  std::chrono::milliseconds waited_{0};
  int waits_ = 0;
  std::function<void(std::chrono::milliseconds)> on_wait_;
};

}  // namespace raccord::testing
