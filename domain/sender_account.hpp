// Sender accounts (docs/accounts.md): a drop folder inbox/NAME/ bound to the user logins that may act
// through it, the uid that must own its files and whether its dépôts must come signed.
// Standard library only.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/enum_table.hpp"

namespace raccord {

/// `signature` of a [compte.NAME] section: `aucune` (default) or `obligatoire` (each dépôt comes with
/// its detached CMS signature F.xml.p7s).
enum class SignatureRequirement { None, Required };

template <>
struct EnumTable<SignatureRequirement> {
  static constexpr std::array<EnumRow<SignatureRequirement>, 2> kRows{{
      {SignatureRequirement::None, "aucune"},
      {SignatureRequirement::Required, "obligatoire"},
  }};
};

/// One [compte.NAME] section, validated (engine/config.cpp parse_account_section).
struct SenderAccount {
  std::string name;                                             // NAME: 1-32 of [a-z0-9_-], first a letter or digit
  std::vector<std::string> logins;                              // `logins`: who may appear as demandeur (never empty)
  std::optional<std::uint32_t> owner_uid;                       // `proprietaire` resolved to a uid (never 0 nor 65534)
  SignatureRequirement signature = SignatureRequirement::None;  // `signature`
  std::filesystem::path signers_file;                           // `signataires` (absolute; required with Required)

  /// Whether `login` is one of `logins` (exact, case-sensitive like every login of the store).
  bool allows(std::string_view login) const {
    for (const auto& l : logins) {
      if (l == login) return true;
    }
    return false;
  }
};

/// Whether `name` is a valid account NAME: 1 to 32 characters of a-z, 0-9, '_', '-', the first a
/// letter or a digit (docs/accounts.md). Such a name is also a safe folder name.
constexpr bool is_account_name(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '-'))) return false;
  }
  return true;
}

}  // namespace raccord
