// SIRET rule (docs/reference.md §4 SIRET_INVALIDE; docs/field-cases.md F38).
#include "rules/siret.hpp"

#include <string>

namespace raccord::rules {
namespace {

constexpr std::string_view kLaPosteSiren = "356000000";

bool is_ascii_digits(std::string_view text) {
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

/// Luhn (ISO/IEC 7812-1) over ASCII digits: from the rightmost digit, every second digit is
/// doubled (minus 9 when over 9); valid when the sum is a multiple of 10.
bool passes_luhn(std::string_view digits) {
  int sum = 0;
  bool doubled = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (doubled) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    doubled = !doubled;
  }
  return sum % 10 == 0;
}

int digit_sum(std::string_view digits) {
  int sum = 0;
  for (const char c : digits) sum += c - '0';
  return sum;
}

}  // namespace

SiretCheck check_siret(std::string_view siret, Environment environment) {
  if (siret.size() != 14 || !is_ascii_digits(siret)) return SiretCheck::Format;
  switch (environment) {
    case Environment::Qualification:
      return SiretCheck::Ok;
    case Environment::Production:
      break;
  }
  const std::string_view siren = siret.substr(0, 9);
  if (!passes_luhn(siren)) return SiretCheck::SirenChecksum;
  if (passes_luhn(siret)) return SiretCheck::Ok;
  if (siren == kLaPosteSiren && digit_sum(siret) % 5 == 0) return SiretCheck::Ok;
  return SiretCheck::SiretChecksum;
}

std::optional<Diagnostic> validate_siret(const Field& siret, std::string_view field_path, Environment environment) {
  const std::string field{field_path};
  if (!siret.filled()) {
    return Diagnostic::error(ErrorCode::SiretInvalide, field, siret.line,
                             "Le SIRET est absent ou vide : indiquez les 14 chiffres du SIRET de la structure.");
  }
  const std::string& value = siret.value;
  switch (check_siret(value, environment)) {
    case SiretCheck::Ok:
      return std::nullopt;
    case SiretCheck::Format:
      return Diagnostic::error(ErrorCode::SiretInvalide, field, siret.line,
                               "Le SIRET « " + value +
                                   " » est invalide : il doit comporter exactement 14 chiffres, sans espace "
                                   "ni autre caractère.");
    case SiretCheck::SirenChecksum:
      return Diagnostic::error(ErrorCode::SiretInvalide, field, siret.line,
                               "Le SIRET " + value + " est invalide : la clé de contrôle (Luhn) du SIREN " +
                                   value.substr(0, 9) + " (9 premiers chiffres) est fausse. Vérifiez le numéro.");
    case SiretCheck::SiretChecksum:
      return Diagnostic::error(ErrorCode::SiretInvalide, field, siret.line,
                               "Le SIRET " + value +
                                   " est invalide : la clé de contrôle (Luhn) des 14 chiffres est fausse. "
                                   "Vérifiez le numéro.");
  }
  return std::nullopt;
}

}  // namespace raccord::rules
