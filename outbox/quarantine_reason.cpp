#include "outbox/quarantine_reason.hpp"

#include <fmt/format.h>

#include "domain/civil_date.hpp"
#include "domain/error_code.hpp"
#include "files/atomic_file.hpp"

namespace raccord::outbox {

std::string quarantine_reason(const Acknowledgement& ack) {
  std::string text = fmt::format("Dépôt « {} » refusé le {} (SHA-256 {}).\n", ack.file_name,
                                 format_iso_instant(ack.processed), ack.sha256);
  for (const auto& d : ack.deposit_errors) {
    text += fmt::format("{} ligne {}{} : {}\n", to_code(d.code), d.line,
                        d.column > 0 ? fmt::format(" colonne {}", d.column) : std::string(), d.message);
  }
  return text;
}

std::filesystem::path write_quarantine_reason(const std::filesystem::path& error_dir, std::string_view quarantined_name,
                                              std::string_view reason) {
  std::string text(reason);
  if (text.empty() || text.back() != '\n') text.push_back('\n');
  const std::string name = files::fit_name(quarantined_name, ".reason.txt");
  files::write_file_atomically(error_dir, name, text);
  return error_dir / name;
}

}  // namespace raccord::outbox
