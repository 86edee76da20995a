// reference_tables: the tables of docs/reference.md generated from the code's own tables, so that
// the reference cannot drift from the engine (issue 19):
//  - the error codes (§4) from domain/error_code (codes, is_warning_only, error_code_helps);
//  - the sheet transitions (§3.3) from engine/lifecycle (transition_table).
// Each table lives in reference.md between the lines
//   <!-- BEGIN GENERATED NAME: docs/reference_tables.cpp, do not edit by hand -->
//   <!-- END GENERATED NAME -->
// Usage:
//   reference_tables --check FILE    exit 0 when FILE's blocks are the generator's, else 1 (a diff hint)
//   reference_tables --update FILE   rewrites FILE's blocks in place
//   reference_tables --scdoc TEMPLATE   prints TEMPLATE (scdoc) with its line "@ERROR_CODES@" replaced
//                                       by the codes as an scdoc list (raccord-depot(5))
// Codes the contract defines that the engine's table does not hold yet are written by hand, between
//   <!-- BEGIN PENDING CODES -->  and  <!-- END PENDING CODES -->   (reference.md)
//   ; BEGIN PENDING CODES         and  ; END PENDING CODES          (scdoc comments)
// and --check / --scdoc fail as soon as one of them is in the table (then only the generated text
// may describe it: delete it from the pending block).
// Exit 1 too when a code or a transition has no description, 2 on a usage error.
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error_code.hpp"
#include "domain/sheet_state.hpp"
#include "engine/lifecycle.hpp"

namespace {

using raccord::ErrorCode;
using raccord::TransitionRow;

struct Block {
  std::string name;
  std::string body;  // the lines between the markers, each ending with '\n'
};

std::string begin_marker(const std::string& name) {
  return "<!-- BEGIN GENERATED " + name + ": docs/reference_tables.cpp, do not edit by hand -->";
}

std::string end_marker(const std::string& name) {
  return "<!-- END GENERATED " + name + " -->";
}

std::string severity(ErrorCode code) {
  return raccord::is_warning_only(code) ? "warning" : "blocking";
}

/// Every code has its help row with both texts; says which do not on `err`.
bool descriptions_complete(std::ostream& err) {
  bool ok = true;
  for (const ErrorCode code : raccord::enum_values<ErrorCode>()) {
    const raccord::ErrorCodeHelp* help = raccord::error_code_help(code);
    if (help == nullptr || help->field.empty() || help->when.empty() || help->what_to_do.empty()) {
      err << "reference_tables: the code " << raccord::to_code(code)
          << " has no description (domain/error_code.cpp, kHelp)\n";
      ok = false;
    }
  }
  for (const TransitionRow& row : raccord::transition_table()) {
    if (row.description.empty()) {
      err << "reference_tables: the transition " << (row.from ? raccord::to_code(*row.from) : "(none)") << " + "
          << raccord::to_code(row.event) << " has no description (engine/lifecycle.cpp, kTable)\n";
      ok = false;
    }
  }
  return ok;
}

std::string error_table() {
  std::ostringstream out;
  out << "| code | severity | field (`champ`) | when | what to do |\n|---|---|---|---|---|\n";
  for (const ErrorCode code : raccord::enum_values<ErrorCode>()) {
    const raccord::ErrorCodeHelp* help = raccord::error_code_help(code);
    out << "| `" << raccord::to_code(code) << "` | " << severity(code) << " | " << (help ? help->field : "") << " | "
        << (help ? help->when : "") << " | " << (help ? help->what_to_do : "") << " |\n";
  }
  return out.str();
}

std::string versions_text(raccord::VersionEffect effect) {
  switch (effect) {
    case raccord::VersionEffect::NewPending:
      return "the content sent becomes the pending version";
    case raccord::VersionEffect::None:
      return "unchanged";
    case raccord::VersionEffect::PromotePending:
      return "the pending version becomes the activated one";
    case raccord::VersionEffect::DropPending:
      return "the pending version is dropped";
  }
  return "";
}

std::string transition_table() {
  std::ostringstream out;
  out << "| from | action or event | to | by | versions | when |\n|---|---|---|---|---|---|\n";
  for (const TransitionRow& row : raccord::transition_table()) {
    out << "| " << (row.from ? "`" + std::string(raccord::to_code(*row.from)) + "`" : std::string("(no sheet yet)"))
        << " | `" << raccord::to_code(row.event) << "` | `" << raccord::to_code(row.to) << "`"
        << (row.marks_deleted ? " (deleted)" : "") << " | "
        << (raccord::is_user_event(row.event) ? "the sender (dépôt)" : "the nightly run") << " | "
        << versions_text(row.effect) << " | " << row.description << " |\n";
  }
  return out.str();
}

std::vector<Block> blocks() {
  return {{"error-codes", error_table()}, {"transitions", transition_table()}};
}

/// `text` without the Markdown backquotes (scdoc would print them).
std::string plain(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c != '`') out += c;
  }
  return out;
}

std::string scdoc_codes() {
  std::ostringstream out;
  for (const ErrorCode code : raccord::enum_values<ErrorCode>()) {
    const raccord::ErrorCodeHelp* help = raccord::error_code_help(code);
    out << "*" << raccord::to_code(code) << "* (" << severity(code) << "; field: " << plain(help ? help->field : "")
        << ")\n";
    // scdoc: a tab-indented line is an indented paragraph under the code.
    out << "\t" << plain(help ? help->when : "") << " What to do: " << plain(help ? help->what_to_do : "") << "\n\n";
  }
  return out.str();
}

/// False (and a message) when the pending block between `begin` and `end` names a code of the table.
bool pending_codes_pending(const std::string& text, const std::string& begin, const std::string& end,
                           std::ostream& err) {
  const auto b = text.find(begin);
  if (b == std::string::npos) return true;
  const auto e = text.find(end, b);
  const std::string block = text.substr(b, e == std::string::npos ? std::string::npos : e - b);
  bool ok = true;
  std::string word;
  for (std::size_t i = 0; i <= block.size(); ++i) {
    const char c = i < block.size() ? block[i] : ' ';
    if ((c >= 'A' && c <= 'Z') || c == '_') {
      word += c;
      continue;
    }
    if (raccord::parse<ErrorCode>(word)) {
      err << "reference_tables: " << word
          << " is now in the engine's table of codes: delete it from the pending codes (" << begin << ")\n";
      ok = false;
    }
    word.clear();
  }
  return ok;
}

/// `text` with every block replaced by the generator's; false (and a message) when a marker is missing.
bool regenerate(const std::string& text, std::string& out, std::ostream& err) {
  out = text;
  for (const Block& block : blocks()) {
    const std::string begin = begin_marker(block.name) + "\n";
    const std::string end = end_marker(block.name);
    const auto b = out.find(begin);
    const auto e = b == std::string::npos ? std::string::npos : out.find(end, b);
    if (b == std::string::npos || e == std::string::npos) {
      err << "reference_tables: markers of " << block.name << " not found (" << begin_marker(block.name) << " … " << end
          << ")\n";
      return false;
    }
    out.replace(b + begin.size(), e - (b + begin.size()), block.body);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() != 2 || (args[0] != "--check" && args[0] != "--update" && args[0] != "--scdoc")) {
    std::cerr << "usage: reference_tables --check FILE | --update FILE | --scdoc TEMPLATE\n";
    return 2;
  }
  std::ifstream in(args[1], std::ios::binary);
  if (!in) {
    std::cerr << "reference_tables: cannot read " << args[1] << "\n";
    return 2;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (args[0] == "--scdoc") {
    if (!descriptions_complete(std::cerr)) return 1;
    if (!pending_codes_pending(text, "; BEGIN PENDING CODES", "; END PENDING CODES", std::cerr)) return 1;
    const std::string placeholder = "@ERROR_CODES@\n";
    const auto at = text.find(placeholder);
    if (at == std::string::npos) {
      std::cerr << "reference_tables: no line @ERROR_CODES@ in " << args[1] << "\n";
      return 1;
    }
    std::cout << text.substr(0, at) << scdoc_codes() << text.substr(at + placeholder.size());
    return 0;
  }
  const bool complete = descriptions_complete(std::cerr) &&
                        pending_codes_pending(text, "<!-- BEGIN PENDING CODES", "<!-- END PENDING CODES", std::cerr);
  std::string updated;
  if (!regenerate(text, updated, std::cerr)) return 1;
  if (args[0] == "--update") {
    std::ofstream out(args[1], std::ios::binary | std::ios::trunc);
    out << updated;
    out.close();
    if (!out) {
      std::cerr << "reference_tables: cannot write " << args[1] << "\n";
      return 1;
    }
    return complete ? 0 : 1;
  }
  if (updated != text) {
    std::cerr << "reference_tables: the generated tables of " << args[1]
              << " differ from the code's tables; run: reference_tables --update " << args[1]
              << " (target reference_tables_update)\n";
    return 1;
  }
  return complete ? 0 : 1;
}
