// Blocked activations kept in the sheets' history (docs/reference.md §6; issue 18 item 3: "why is VFE2008 not
// activated?" had no answer in `raccord show`). The nightly run writes a blocked activation in the
// sheet's history — actor `nightly`, from = to = its state, the codes and messages as reason — when
// it first happens and whenever its set of (code, champ) changes; each code, champ and message is
// kept in table history_reasons (migration 8) beside the event, so that `show` gives them back and
// the next run can compare the sets. Decided here, in one place; engine/nightly.cpp records,
// engine/sheet_view.cpp reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/civil_date.hpp"
#include "domain/diagnostic.hpp"
#include "domain/nightly_report.hpp"
#include "engine/database.hpp"

namespace raccord {

/// One reason of a recorded block, as stored (table history_reasons), in the order found.
struct BlockReason {
  std::string code;     // error code, e.g. "CERT_EXPIRE"
  std::string field;    // e.g. "Certificats/Certificat[1]"; "" when none
  std::string message;  // French, what to do
};

/// The block a sheet is in now.
struct CurrentBlock {
  Instant since{};                   // the run instant of the event (the last change of its set of (code, champ))
  std::string reason;                // the event's reason text (block_history_reason)
  std::vector<BlockReason> reasons;  // its codes, fields and messages
};

/// The reason of a block's history event: "activation bloquée : CODE (champ) : message ; CODE : message"
/// (no "(champ)" when a reason has no field), in the order of `reasons`.
std::string block_history_reason(const Diagnostics& reasons);

/// Records in each sheet's history the blocked activations of a nightly run whose sheet is not
/// already in a block with the same set of (code, champ) (current_block), and whose sheet is still in
/// the blocked state: one event (actor "nightly", from = to = that state, reason
/// block_history_reason, instant `run_instant`) and its reasons. A block whose set is unchanged is not
/// recorded again (its messages may change, e.g. a date: the first wording stays). Call inside the
/// run's write transaction, after the activations. Returns the number of events recorded. Throws
/// StoreError.
std::size_t record_blocks(Database& db, const std::vector<BlockedActivation>& blocked, Instant run_instant);

/// The current block of sheet `code_appli`: its last history event when that event is a block
/// (actor "nightly", from = to) and the sheet is still in that state, ENVOYEE or ENVOYEE_MAJ; nullopt
/// otherwise (never blocked, activated or deactivated since, unknown code). Throws StoreError.
std::optional<CurrentBlock> current_block(Database& db, const std::string& code_appli);

}  // namespace raccord
