// The flow catalogue (docs/reference.md §4 end, §1): data in rules/catalogue.xml, seed compiled in.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace raccord::rules {

struct FlowEntry {
  std::string code;           // e.g. "FSO1100A"
  std::string description;    // French, UTF-8
  std::string family;         // "E1", "E2", "E3", "R", "S"
  std::string format;         // e.g. "UBL"
  bool in_production = true;  // false: offered in qualification only
};

class Catalogue {
 public:
  /// The seed catalogue compiled into the engine (the 15 codes of docs/reference.md §4).
  static Catalogue seed();

  /// Loads a catalogue XML file (format of rules/catalogue.xml). Returns nullopt and fills `error`
  /// (French/English text for the log) when the file is absent or invalid. Throws
  /// std::system_error naming the file when it is there but cannot be read (read_input_file).
  static std::optional<Catalogue> load_file(const std::filesystem::path& file, std::string& error);

  /// Loads `<rules_dir>/catalogue.xml` when it exists and is valid, else the seed. `source` receives
  /// the path used or "seed". Throws std::system_error when the file is there but cannot be read.
  static Catalogue load_or_seed(const std::filesystem::path& rules_dir, std::string& source);

  /// The entry for `code`, or nullptr when the code is not in the catalogue.
  const FlowEntry* find(std::string_view code) const;
  const std::vector<FlowEntry>& entries() const { return entries_; }

 private:
  std::vector<FlowEntry> entries_;
};

}  // namespace raccord::rules
