#include "inbox/claimed_deposit.hpp"

#include <utility>

#include "inbox/deposit_reader.hpp"
#include "inbox/sha256.hpp"

namespace raccord::inbox {

LoadedDeposit load_claimed(const ClaimedFile& file, std::uint64_t max_bytes) {
  LoadedDeposit loaded{ClaimedDeposit{file.name(), file.path(), file.identity(), file.size(), {}, {}}, std::nullopt};
  ClaimedDeposit& deposit = loaded.deposit;
  if (is_too_large(deposit.size, max_bytes)) {
    deposit.sha256 = file.sha256();  // streamed: never held in memory
    deposit.read = refuse_too_large(deposit.size, max_bytes);
    return loaded;
  }
  loaded.bytes = file.read_all();
  return loaded;
}

ClaimedDeposit read_loaded(LoadedDeposit loaded, std::uint64_t max_bytes, const BytesCheck& check_bytes) {
  ClaimedDeposit deposit = std::move(loaded.deposit);
  if (!loaded.bytes) return deposit;  // too large: refused by load_claimed
  std::string bytes = std::move(*loaded.bytes);
  deposit.sha256 = sha256_hex(bytes);  // of the very bytes judged
  if (check_bytes && !bytes.empty() && !is_too_large(bytes.size(), max_bytes)) {
    if (auto refusal = check_bytes(bytes)) {
      deposit.read.errors.push_back(std::move(*refusal));
      return deposit;
    }
  }
  deposit.read = read_deposit(std::move(bytes), max_bytes);
  return deposit;
}

}  // namespace raccord::inbox
