// The settle rule (docs/design.md "Settle"; docs/field-cases.md F01; hostile findings/4).
#include "inbox/settle_tracker.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <thread>
#include <utility>

namespace raccord::inbox {
namespace {

class RealSteadyClock final : public SteadyClock {
 public:
  time_point now() override { return std::chrono::steady_clock::now(); }
  void wait(std::chrono::milliseconds duration) override { std::this_thread::sleep_for(duration); }
};

}  // namespace

SteadyClock& SteadyClock::real() {
  static RealSteadyClock clock;
  return clock;
}

SettleTracker::SettleTracker(std::filesystem::path dir, std::chrono::milliseconds settle, SteadyClock& clock)
    : dir_(std::move(dir)), settle_(settle), clock_(clock) {}

void SettleTracker::reset(std::filesystem::path dir, std::chrono::milliseconds settle) {
  if (dir != dir_) files_.clear();
  dir_ = std::move(dir);
  settle_ = settle;
}

std::optional<SettleTracker::FileState> SettleTracker::state_of(const std::string& name) const {
  struct stat st {};
  if (::lstat((dir_ / name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return FileState{static_cast<std::int64_t>(st.st_size),
                   static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

void SettleTracker::written(const std::string& name) {
  const auto state = state_of(name);
  if (!state) {
    files_.erase(name);
    return;
  }
  files_[name] = Quiet{*state, clock_.now()};  // just written: the quiet period starts now
}

void SettleTracker::observe(const std::vector<std::string>& names) {
  const time_point now = clock_.now();  // one instant for the whole sample
  std::map<std::string, Quiet> sampled;
  for (const std::string& name : names) {
    const auto state = state_of(name);
    if (!state) continue;
    const auto it = files_.find(name);
    const bool unchanged = it != files_.end() && it->second.state == *state;
    sampled.insert_or_assign(name, unchanged ? it->second : Quiet{*state, now});
  }
  files_ = std::move(sampled);
}

std::vector<std::string> SettleTracker::take_settled() {
  const time_point now = clock_.now();
  std::vector<std::string> settled;
  for (auto it = files_.begin(); it != files_.end();) {
    const auto state = state_of(it->first);
    if (!state) {
      it = files_.erase(it);
      continue;
    }
    if (!(*state == it->second.state)) {
      it->second = Quiet{*state, now};
    } else if (now - it->second.since >= settle_) {
      settled.push_back(it->first);  // std::map: name-byte order
      it = files_.erase(it);
      continue;
    }
    ++it;
  }
  return settled;
}

std::optional<SettleTracker::time_point> SettleTracker::next_due() const {
  if (files_.empty()) return std::nullopt;
  auto due = time_point::max();
  for (const auto& [name, quiet] : files_) due = std::min(due, quiet.since + settle_);
  return due;
}

}  // namespace raccord::inbox
