#include "engine/tasks_ahead.hpp"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace raccord {

class TasksAhead::Impl {
 public:
  Impl(std::size_t count, std::function<void(std::size_t)> task, bool worker)
      : task_(std::move(task)), states_(count), failures_(count) {
    if (worker && count > 0) worker_ = std::jthread([this] { work(); });
  }
  ~Impl() {
    stop_ = true;
    if (worker_.joinable()) worker_.join();
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void wait_for(std::size_t i) {
    if (i >= states_.size()) throw std::out_of_range("TasksAhead::wait_for: no such task");
    if (claim(i)) {
      run(i);
    } else {
      // The worker runs task i: rather than wait idle, the caller runs the next unstarted ones meanwhile
      // (a group with nothing before it to answer is then read by both threads).
      for (std::size_t j = i + 1; j < states_.size() && states_[i] != kDone; ++j) {
        if (claim(j)) run(j);
      }
      std::unique_lock lock(mutex_);
      done_.wait(lock, [&] { return states_[i] == kDone; });
    }
    std::lock_guard lock(mutex_);
    if (failures_[i]) std::rethrow_exception(failures_[i]);
  }

 private:
  static constexpr int kFree = 0;
  static constexpr int kClaimed = 1;
  static constexpr int kDone = 2;

  bool claim(std::size_t i) {
    int expected = kFree;
    return states_[i].compare_exchange_strong(expected, kClaimed);
  }

  void run(std::size_t i) {
    std::exception_ptr failure;
    try {
      task_(i);
    } catch (...) {
      failure = std::current_exception();
    }
    std::lock_guard lock(mutex_);
    failures_[i] = failure;
    states_[i] = kDone;
    done_.notify_all();
  }

  void work() {
    for (std::size_t i = 0; i < states_.size() && !stop_; ++i) {
      if (claim(i)) run(i);
    }
  }

  const std::function<void(std::size_t)> task_;
  std::vector<std::atomic<int>> states_;
  std::vector<std::exception_ptr> failures_;  // guarded by mutex_
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable done_;
  std::jthread worker_;  // last: joined first
};

TasksAhead::TasksAhead(std::size_t count, std::function<void(std::size_t)> task, bool worker)
    : impl_(std::make_unique<Impl>(count, std::move(task), worker)) {}

TasksAhead::~TasksAhead() = default;

void TasksAhead::wait_for(std::size_t i) {
  impl_->wait_for(i);
}

}  // namespace raccord
