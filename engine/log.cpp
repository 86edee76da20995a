#include "engine/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace raccord::log {
namespace {

Level initial_threshold() {
  const char* env = std::getenv("RACCORD_LOG_LEVEL");
  return parse<Level>(env ? env : "").value_or(Level::Info);  // unset or unknown: info
}

std::atomic<int>& threshold() {
  static std::atomic<int> value{static_cast<int>(initial_threshold())};
  return value;
}

}  // namespace

void set_threshold(Level level) {
  threshold() = static_cast<int>(level);
}

void write(Level level, std::string_view message) {
  if (static_cast<int>(level) > threshold()) return;
  // One record per line: control characters of the message (a dépôt name with a newline, a
  // driver's multi-line error) are written visibly, so nothing can forge or split a log line.
  std::string line = fmt::format("<{}>", static_cast<int>(level));
  for (unsigned char c : message) {
    if (c < 0x20 || c == 0x7F) {
      line += fmt::format("\\x{:02X}", static_cast<unsigned>(c));
    } else {
      line += static_cast<char>(c);
    }
  }
  line += '\n';
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace raccord::log
