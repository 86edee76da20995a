// The reason file of a quarantined original (docs/reference.md §2 "Where originals go"): error/NAME.reason.txt
// beside the original moved to error/NAME, saying why its dépôt was refused.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "domain/acknowledgement.hpp"

namespace raccord::outbox {

/// The reason text of a dépôt refused at dépôt level (UTF-8 French, ending with '\n'):
///   "Dépôt « FILE » refusé le ISO-INSTANT (SHA-256 HEX).\n"
/// then one line per dépôt-level error of `ack`: "CODE ligne L[ colonne C] : message\n"
/// (colonne only when > 0). The instant is ack.processed.
std::string quarantine_reason(const Acknowledgement& ack);

/// Writes `reason` (a '\n' added when it does not end with one) to `error_dir`/<quarantined_name>.reason.txt
/// atomically (files::write_file_atomically, mode 0640 before umask, replacing any file of that name),
/// where `quarantined_name` is the final name of the original in error/ (InboxDirectory::quarantine).
/// The name is cut to fit NAME_MAX (files::fit_name). Returns the reason file's path. Throws
/// std::system_error.
std::filesystem::path write_quarantine_reason(const std::filesystem::path& error_dir, std::string_view quarantined_name,
                                              std::string_view reason);

/// Reserves error/<candidate> for a quarantined original by writing its reason file there first,
/// before the original leaves .work/ (issue 20: a pass stopped between the move and the reason file
/// left the original in error/ without its reason, for ever). Creates `error_dir`/<candidate>.reason.txt
/// (name as write_quarantine_reason, a '\n' added when `reason` does not end with one) without
/// replacing. Returns true when it created it, or when the file there already holds exactly this text
/// (the same dépôt: an attempt stopped before its move; the text carries its instant and SHA-256);
/// false when it holds another text (the name is another original's). Throws std::system_error.
bool reserve_quarantine_name(const std::filesystem::path& error_dir, std::string_view candidate,
                             std::string_view reason);

}  // namespace raccord::outbox
