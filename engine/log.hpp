// Log lines on stderr with sd-daemon priority prefixes ("<3>" error ... "<7>" debug), which journald
// keeps as priorities (sd-daemon(3)). Never log certificate bytes or contact details.
#pragma once

#include <fmt/format.h>

#include <string_view>

#include "domain/enum_table.hpp"

namespace raccord::log {

enum class Level { Error = 3, Warning = 4, Notice = 5, Info = 6, Debug = 7 };

}  // namespace raccord::log

namespace raccord {

/// The levels' names in RACCORD_LOG_LEVEL.
template <>
struct EnumTable<log::Level> {
  static constexpr std::array<EnumRow<log::Level>, 5> kRows{{
      {log::Level::Error, "error"},
      {log::Level::Warning, "warning"},
      {log::Level::Notice, "notice"},
      {log::Level::Info, "info"},
      {log::Level::Debug, "debug"},
  }};
};

}  // namespace raccord

namespace raccord::log {

/// Writes "<N>message\n" to stderr in one write (atomic for lines under PIPE_BUF bytes).
void write(Level level, std::string_view message);

/// Lines below this level are dropped (default Info; RACCORD_LOG_LEVEL=debug|info|notice|warning|error).
void set_threshold(Level level);

template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::Error, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warning(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::Warning, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::Info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::Debug, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace raccord::log
