// libFuzzer target for inbox::read_deposit (docs/reference.md §3, §4; issue 8): any bytes must give either a
// Deposit or dépôt-level errors, never a crash, a hang, a leak or undefined behaviour.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "inbox/deposit_reader.hpp"

namespace {

/// Default inbox.max_bytes (docs/reference.md §4); libFuzzer's -max_len keeps inputs far below it.
constexpr std::uint64_t kMaxBytes = 64ull * 1024 * 1024;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const raccord::DepositReadResult result = raccord::inbox::read_deposit(std::string(bytes), kMaxBytes);
  // The contract of read_deposit: exactly one of the two.
  if (result.deposit.has_value() == !result.errors.empty()) std::abort();
  if (!result.deposit) {
    for (const auto& d : result.errors) {
      if (d.message.empty()) std::abort();
    }
  }
  return 0;
}
