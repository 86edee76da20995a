// Blocked activations in the sheets' history (docs/reference.md §6): see blocks.hpp.
#include "engine/blocks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "engine/database.hpp"
#include "engine/lifecycle.hpp"
#include "engine/store.hpp"

namespace raccord {
namespace {

constexpr std::string_view kActor = "nightly";
/// Blocked sheets looked up per statement (bound parameters of one IN list).
constexpr std::size_t kChunk = 500;

using BlockKey = std::set<std::pair<std::string, std::string>>;  // (code, champ)

BlockKey key_of(const Diagnostics& reasons) {
  BlockKey key;
  for (const auto& d : reasons) key.emplace(std::string(to_code(d.code)), d.field);
  return key;
}

/// The sheet's last history event is a block of the nightly run in the sheet's current state.
/// `s` is the sheet, `h` its last event (SQL text shared by both queries below).
/// The states a block is recorded in are those the nightly activation starts from (the lifecycle table).
std::string last_event_is_a_block() {
  return "h.id = (SELECT MAX(x.id) FROM history x WHERE x.code_appli = s.code_appli) AND h.actor = 'nightly' AND "
         "h.from_state = h.to_state AND h.to_state = s.state AND s.state IN " +
         sql_list<SheetState>(event_step(SheetEvent::Activer).from);
}

}  // namespace

std::string block_history_reason(const Diagnostics& reasons) {
  std::string text = "activation bloquée : ";
  for (std::size_t i = 0; i < reasons.size(); ++i) {
    const Diagnostic& d = reasons[i];
    if (i > 0) text += " ; ";
    text += to_code(d.code);
    if (!d.field.empty()) text += " (" + d.field + ")";
    text += " : " + d.message;
  }
  return text;
}

std::size_t record_blocks(Database& db, const std::vector<BlockedActivation>& blocked, Instant run_instant) {
  Store store(db);
  std::size_t recorded = 0;
  for (std::size_t start = 0; start < blocked.size(); start += kChunk) {
    const std::size_t end = std::min(blocked.size(), start + kChunk);
    std::vector<SqlValue> codes;
    std::string list;
    for (std::size_t k = start; k < end; ++k) {
      codes.emplace_back(blocked[k].code_appli);
      list += fmt::format("{}${}", list.empty() ? "" : ", ", codes.size());
    }
    // Each sheet's state, and the (code, champ) of its current block when it is in one.
    std::map<std::string, std::string> states;
    std::map<std::string, BlockKey> current;
    for (const auto& r : db.query(fmt::format("SELECT s.code_appli, s.state, r.code, r.field FROM sheets s LEFT JOIN "
                                              "history h ON {} LEFT JOIN history_reasons r ON r.history_id = h.id "
                                              "WHERE s.code_appli IN ({})",
                                              last_event_is_a_block(), list),
                                  codes)) {
      states[r.text(0)] = r.text(1);
      if (r.is_null(2)) continue;
      current[r.text(0)].emplace(r.text(2), r.is_null(3) ? std::string() : r.text(3));
    }
    for (std::size_t k = start; k < end; ++k) {
      const BlockedActivation& b = blocked[k];
      const auto state = states.find(b.code_appli);
      if (state == states.end() || state->second != to_code(b.state)) continue;  // changed meanwhile
      const auto known = current.find(b.code_appli);
      if (known != current.end() && known->second == key_of(b.reasons)) continue;
      const std::int64_t id = store.add_history(b.code_appli, run_instant, std::string(kActor), b.state, b.state,
                                                block_history_reason(b.reasons), "");
      for (std::size_t i = 0; i < b.reasons.size(); ++i) {
        const Diagnostic& d = b.reasons[i];
        db.execute(
            "INSERT INTO history_reasons (history_id, position, code, field, message) VALUES ($1, $2, $3, $4, $5)",
            {id, static_cast<std::int64_t>(i + 1), std::string(to_code(d.code)),
             d.field.empty() ? SqlValue{nullptr} : SqlValue{d.field}, d.message});
      }
      ++recorded;
    }
  }
  return recorded;
}

std::optional<CurrentBlock> current_block(Database& db, const std::string& code_appli) {
  const auto event = db.query_one(
      fmt::format("SELECT h.id, h.instant, h.reason FROM sheets s JOIN history h ON {} WHERE s.code_appli = $1",
                  last_event_is_a_block()),
      {code_appli});
  if (!event) return std::nullopt;
  CurrentBlock block;
  block.since = parse_iso_instant(event->text(1)).value_or(Instant{});
  block.reason = event->is_null(2) ? std::string() : event->text(2);
  for (const auto& r :
       db.query("SELECT code, field, message FROM history_reasons WHERE history_id = $1 ORDER BY position",
                {event->integer(0)})) {
    block.reasons.push_back(BlockReason{r.text(0), r.is_null(1) ? std::string() : r.text(1), r.text(2)});
  }
  return block;
}

}  // namespace raccord
