#include "domain/allocation_fault.hpp"

#include <array>
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <new>

namespace raccord {
namespace {

constexpr std::array kSteps{AllocationStep::Reader, AllocationStep::Rules, AllocationStep::Acknowledgement,
                            AllocationStep::Export, AllocationStep::Record};

std::optional<AllocationFault> wanted_fault() {
  const char* value = std::getenv("RACCORD_TEST_FAIL_ALLOC_AT");
  return value == nullptr ? std::nullopt : parse_allocation_fault(value);
}

}  // namespace

std::string_view to_code(AllocationStep step) {
  switch (step) {
    case AllocationStep::Reader:
      return "reader";
    case AllocationStep::Rules:
      return "rules";
    case AllocationStep::Acknowledgement:
      return "accuse";
    case AllocationStep::Export:
      return "export";
    case AllocationStep::Record:
      return "record";
  }
  return "?";
}

std::optional<AllocationFault> parse_allocation_fault(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view name = text.substr(0, colon);
  const std::string_view number = text.substr(colon + 1);
  for (const AllocationStep step : kSteps) {
    if (to_code(step) != name) continue;
    std::uint64_t n = 0;
    const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), n);
    if (error != std::errc() || end != number.data() + number.size() || n == 0) return std::nullopt;
    return AllocationFault{step, n};
  }
  return std::nullopt;
}

void allocation_step(AllocationStep step) {
  static const std::optional<AllocationFault> fault = wanted_fault();
  if (!fault || fault->step != step) return;
  static std::atomic<std::uint64_t> calls{0};
  if (calls.fetch_add(1, std::memory_order_relaxed) + 1 == fault->occurrence) throw std::bad_alloc();
}

}  // namespace raccord
