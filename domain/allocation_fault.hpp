// Test hook (issue 20): an allocation failure injected at the Nth allocation-heavy step of the
// engine, so that tests can prove through the real binary that no such failure is ever swallowed.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace raccord {

/// The engine's allocation-heavy steps on a dépôt's way, each a place where memory may run out.
enum class AllocationStep {
  Reader,           // inbox/deposit_reader: each operation read
  Rules,            // engine/processor: each operation checked against the rules and applied
  Acknowledgement,  // outbox/acknowledgement_writer: each Operation written, and the accusé assembled
  Export,           // outbox/export_writer: each row of a Recherche's export, and its end
  Record,           // engine/engine: the answer recorded (the dépôt's row, its metrics, each export's)
};

/// The hook's name of `step` ("reader", "rules", "accuse", "export", "record").
std::string_view to_code(AllocationStep step);

/// A parsed RACCORD_TEST_FAIL_ALLOC_AT value.
struct AllocationFault {
  AllocationStep step = AllocationStep::Reader;
  std::uint64_t occurrence = 0;  // 1-based
};

/// Parses "<step>:<N>" (step as to_code, N a decimal ≥ 1). nullopt for anything else (the hook
/// then does nothing).
std::optional<AllocationFault> parse_allocation_fault(std::string_view text);

/// Called by the engine at each allocation-heavy step. When the environment variable
/// RACCORD_TEST_FAIL_ALLOC_AT (read once per process) names `step` and N, the Nth call for that
/// step in this process throws std::bad_alloc, as an allocation failing there would; every other
/// call does nothing but count (an atomic increment). Production never sets the variable.
/// Thread-safe.
void allocation_step(AllocationStep step);

}  // namespace raccord
