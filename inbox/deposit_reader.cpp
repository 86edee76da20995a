#include "inbox/deposit_reader.hpp"
namespace raccord::inbox {
DepositReadResult read_deposit(std::string_view, std::uint64_t) { return {}; }
}
