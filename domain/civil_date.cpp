#include "domain/civil_date.hpp"

#include <cstdio>

namespace raccord {
namespace {

bool read_digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

}  // namespace

bool is_business_date(CivilDate date) {
  return date.ok() && kFirstBusinessDate <= date && date <= kLastBusinessDate;
}

bool is_business_instant(Instant instant) {
  return std::chrono::sys_days{kFirstBusinessDate} <= instant &&
         instant < std::chrono::sys_days{kLastBusinessDate} + std::chrono::days{1};
}

std::optional<CivilDate> parse_iso_date(std::string_view text) {
  int y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (!read_digits(text, 0, 4, y) || !read_digits(text, 5, 2, m) || !read_digits(text, 8, 2, d)) {
    return std::nullopt;
  }
  const CivilDate date{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                       std::chrono::day{static_cast<unsigned>(d)}};
  if (!is_business_date(date)) return std::nullopt;
  return date;
}

std::string format_iso_date(CivilDate date) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()));
  return buf;
}

std::string format_french_date(CivilDate date) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02u/%02u/%04d", static_cast<unsigned>(date.day()),
                static_cast<unsigned>(date.month()), static_cast<int>(date.year()));
  return buf;
}

std::optional<Instant> parse_iso_instant(std::string_view text) {
  const auto date = parse_iso_date(text.substr(0, 10));
  if (!date) return std::nullopt;
  Instant result = std::chrono::sys_days{*date};
  if (text.size() == 10) return result;
  int hh = 0, mm = 0, ss = 0;
  if (text.size() < 19 || (text[10] != 'T' && text[10] != ' ') || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  if (!read_digits(text, 11, 2, hh) || !read_digits(text, 14, 2, mm) || !read_digits(text, 17, 2, ss)) {
    return std::nullopt;
  }
  if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  result += std::chrono::hours{hh} + std::chrono::minutes{mm} + std::chrono::seconds{ss};
  std::string_view rest = text.substr(19);
  if (!rest.empty() && rest[0] == '.') {  // fractional seconds are dropped
    std::size_t i = 1;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') ++i;
    if (i == 1) return std::nullopt;
    rest = rest.substr(i);
  }
  const auto in_range = [](Instant i) { return is_business_instant(i) ? std::optional<Instant>{i} : std::nullopt; };
  if (rest.empty() || rest == "Z") return in_range(result);
  int oh = 0, om = 0;
  if (rest.size() != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':' || !read_digits(rest, 1, 2, oh) ||
      !read_digits(rest, 4, 2, om) || oh > 23 || om > 59) {
    return std::nullopt;
  }
  const auto offset = std::chrono::hours{oh} + std::chrono::minutes{om};
  return in_range(rest[0] == '+' ? result - offset : result + offset);
}

std::string format_iso_instant(Instant instant) {
  const auto days = std::chrono::floor<std::chrono::days>(instant);
  const CivilDate date{days};
  const std::chrono::hh_mm_ss time{instant - days};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02dZ", format_iso_date(date).c_str(),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buf;
}

std::string format_compact_instant(Instant instant) {
  std::string iso = format_iso_instant(instant);
  std::string out;
  for (char c : iso) {
    if (c != '-' && c != ':') out += c;
  }
  return out;
}

}  // namespace raccord
