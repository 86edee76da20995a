#include "tests/support/dates.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace raccord::testing {

Instant utc(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  using namespace std::chrono;
  return sys_days{year(y) / month(mo) / day(d)} + hours(h) + minutes(mi) + seconds(s);
}

Instant instant(std::string_view iso) {
  auto parsed = parse_iso_instant(iso);
  if (!parsed) {
    ADD_FAILURE() << "bad instant " << iso;
    return Instant{};
  }
  return *parsed;
}

CivilDate civil_date(std::string_view iso) {
  auto parsed = parse_iso_date(iso);
  if (!parsed) {
    ADD_FAILURE() << "bad date " << iso;
    return CivilDate{};
  }
  return *parsed;
}

}  // namespace raccord::testing
