// Content rules of a fiche de raccordement that need no store (docs/reference.md §4).
#include "rules/sheet_rules.hpp"

#include <arpa/inet.h>

#include <cstddef>
#include <string>
#include <vector>

namespace raccord::rules {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/// The line where `field` was written (also when written blank, which reads as absent: Field::of),
/// else `fallback` (the enclosing element's line).
int line_or(const Field& field, int fallback) {
  return field.line > 0 ? field.line : fallback;
}

std::string guillemets(std::string_view value) {
  return "« " + std::string{value} + " »";
}

std::string join_fr(const std::vector<std::string>& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += (i + 1 == parts.size()) ? " et " : ", ";
    out += parts[i];
  }
  return out;
}

// --- Email -------------------------------------------------------------------------------------

/// RFC 5322 atext (section 3.2.3).
bool is_atext(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~':
      return true;
    default:
      return false;
  }
}

bool is_dot_atom(std::string_view text) {
  if (text.empty() || text.front() == '.' || text.back() == '.') return false;
  char previous = '\0';
  for (const char c : text) {
    if (c == '.') {
      if (previous == '.') return false;
    } else if (!is_atext(c)) {
      return false;
    }
    previous = c;
  }
  return true;
}

/// LDH label (RFC 1035 / RFC 5890): 1..63 letters, digits, hyphens, no hyphen at either end.
bool is_ldh_label(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
  for (const char c : label) {
    if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
  }
  return true;
}

bool is_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  std::vector<std::string_view> labels;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = domain.find('.', start);
    labels.push_back(domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (labels.size() < 2) return false;
  for (const auto label : labels) {
    if (!is_ldh_label(label)) return false;
  }
  const std::string_view tld = labels.back();
  if (tld.size() < 2) return false;
  for (const char c : tld) {
    if (!is_alpha(c)) return false;
  }
  return true;
}

// --- Phone -------------------------------------------------------------------------------------

/// Removes the separators docs/reference.md §4 ignores: ASCII spaces and tabs, dots, dashes, and the
/// no-break spaces a word processor puts in formatted numbers (U+00A0, U+202F).
std::string strip_phone_separators(std::string_view phone) {
  std::string out;
  for (std::size_t i = 0; i < phone.size(); ++i) {
    const char c = phone[i];
    if (c == ' ' || c == '\t' || c == '.' || c == '-') continue;
    if (phone.substr(i, 2) == "\xC2\xA0") {
      ++i;
      continue;
    }
    if (phone.substr(i, 3) == "\xE2\x80\xAF") {
      i += 2;
      continue;
    }
    out += c;
  }
  return out;
}

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (const char c : text) {
    if (!is_digit(c)) return false;
  }
  return true;
}

// --- Network -----------------------------------------------------------------------------------

/// Dotted quad: exactly 4 decimal parts 0..255, no leading zero ("01" refused: some stacks read it
/// as octal), no sign, no whitespace.
bool is_valid_ipv4(std::string_view address) {
  int parts = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = address.find('.', start);
    const std::string_view part =
        address.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty() || part.size() > 3 || !all_digits(part)) return false;
    if (part.size() > 1 && part.front() == '0') return false;
    int value = 0;
    for (const char c : part) value = value * 10 + (c - '0');
    if (value > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts == 4;
}

bool is_valid_port(std::string_view port) {
  if (port.empty() || port.size() > 5 || !all_digits(port)) return false;
  if (port.front() == '0') return false;  // "0" itself, and leading zeros ("0022": write 22)
  long value = 0;
  for (const char c : port) value = value * 10 + (c - '0');
  return value >= 1 && value <= 65535;
}

// --- Field paths -------------------------------------------------------------------------------

constexpr const char* kProtocolField = "Protocole";
constexpr const char* kPeriodField = "Periode";
constexpr const char* kPeriodFromField = "Periode/@du";
constexpr const char* kPeriodToField = "Periode/@au";
constexpr const char* kContactField = "ContactTechnique";
constexpr const char* kContactNameField = "ContactTechnique/@nomPrenom";
constexpr const char* kContactPhoneField = "ContactTechnique/@telephone";
constexpr const char* kContactEmailField = "ContactTechnique/@email";
constexpr const char* kContactFaxField = "ContactTechnique/@fax";
constexpr const char* kNetworkField = "Reseau";
constexpr const char* kInterfacesField = "CodesInterface";

std::string interface_field(std::size_t index) {
  return "CodesInterface/Interface[" + std::to_string(index) + "]/@code";
}

/// The end of every PROTOCOLE_INVALIDE message: the checks that depend on the protocol and wait for a
/// valid one (check_network here; CERT_NOMBRE for two certificates and CERT_USAGE in the engine's
/// certificate check). Every other rule of the sheet is checked and reported all the same.
constexpr std::string_view kChecksWaitingForProtocol =
    "Les contrôles qui dépendent du protocole seront faits une fois celui-ci corrigé : le nombre de certificats "
    "(un en SFTP, un ou deux en PESIT et AS2), leurs usages (clientAuth, et serverAuth en PESIT et AS2) et le "
    "bloc <Reseau> (AS2 seulement) ; tous les autres contrôles de la fiche ont été faits.";

std::optional<Protocol> valid_protocol(const SheetOperation& sheet) {
  if (!sheet.protocol.filled()) return std::nullopt;
  return parse<Protocol>(sheet.protocol.value);
}

}  // namespace

bool is_valid_email(std::string_view email) {
  if (email.size() > 254) return false;
  const std::size_t at = email.find('@');
  if (at == std::string_view::npos) return false;
  const std::string_view local = email.substr(0, at);
  const std::string_view domain = email.substr(at + 1);
  if (local.size() > 64) return false;
  return is_dot_atom(local) && is_domain(domain);
}

bool is_valid_phone(std::string_view phone) {
  const std::string s = strip_phone_separators(phone);
  std::string_view rest;
  if (s.size() >= 1 && s[0] == '+') {
    rest = std::string_view{s}.substr(1);
  } else if (s.size() >= 2 && s[0] == '0' && s[1] == '0') {
    rest = std::string_view{s}.substr(2);
  } else {
    // French national number: "0" + 9 digits.
    return s.size() == 10 && s[0] == '0' && all_digits(s);
  }
  // International: country code (1 to 3 digits, not starting with 0), optionally "(0)" right after
  // it (the French trunk prefix written in "+33 (0)1 ..."), then the number; 6 to 14 digits in all.
  std::string digits{rest};
  const std::size_t paren = digits.find("(0)");
  if (paren != std::string::npos) {
    if (paren < 1 || paren > 3) return false;
    digits.erase(paren, 3);
  }
  if (!all_digits(digits) || digits.front() == '0') return false;
  return digits.size() >= 6 && digits.size() <= 14;
}

bool is_valid_ip_address(std::string_view address) {
  if (address.find(':') == std::string_view::npos) return is_valid_ipv4(address);
  // IPv6 (RFC 4291 text forms, with an embedded dotted quad allowed); no zone index, no brackets.
  const std::string text{address};
  in6_addr out{};
  return inet_pton(AF_INET6, text.c_str(), &out) == 1;
}

Diagnostics check_protocol(const SheetOperation& sheet) {
  Diagnostics out;
  switch (sheet.kind) {
    case SheetKind::Api:
      return out;
    case SheetKind::Edi:
      break;
  }
  if (!sheet.protocol.filled()) {
    out.push_back(Diagnostic::error(ErrorCode::ProtocoleInvalide, kProtocolField, sheet.protocol.line,
                                    "Le protocole de raccordement est absent ou vide : indiquez PESIT, SFTP ou AS2 "
                                    "dans <Protocole>. " +
                                        std::string{kChecksWaitingForProtocol}));
  } else if (!parse<Protocol>(sheet.protocol.value)) {
    // A known protocol in the wrong case ("sftp"): name the spelling to write.
    std::string upper = sheet.protocol.value;
    for (char& c : upper) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    const std::string what = parse<Protocol>(upper)
                                 ? "écrivez " + guillemets(upper) + " (en majuscules : PESIT, SFTP ou AS2)"
                                 : "indiquez PESIT, SFTP ou AS2 (en majuscules)";
    out.push_back(Diagnostic::error(ErrorCode::ProtocoleInvalide, kProtocolField, sheet.protocol.line,
                                    "Le protocole de raccordement " + guillemets(sheet.protocol.value) +
                                        " est invalide : " + what + ". " + std::string{kChecksWaitingForProtocol}));
  }
  return out;
}

Diagnostics check_period(const SheetOperation& sheet, CivilDate processing_date) {
  Diagnostics out;
  switch (sheet.kind) {
    case SheetKind::Api:
      return out;
    case SheetKind::Edi:
      break;
  }
  const Field& du = sheet.period_from;
  const Field& au = sheet.period_to;
  const int element_line = du.line > 0 ? du.line : au.line;
  if (!sheet.has_period) {
    out.push_back(Diagnostic::error(ErrorCode::PeriodeInvalide, kPeriodField, 0,
                                    "La période de raccordement est absente : ajoutez <Periode du=\"AAAA-MM-JJ\"/> "
                                    "avec la date de début (la date de fin « au » est facultative)."));
    return out;
  }
  std::optional<CivilDate> from;
  if (!du.filled()) {
    out.push_back(Diagnostic::error(ErrorCode::PeriodeInvalide, kPeriodFromField, line_or(du, element_line),
                                    "La date de début de la période (attribut « du ») est absente ou vide : "
                                    "indiquez-la au format AAAA-MM-JJ."));
  } else {
    from = parse_iso_date(du.value);
    if (!from) {
      out.push_back(Diagnostic::error(ErrorCode::PeriodeInvalide, kPeriodFromField, du.line,
                                      "La date de début de la période " + guillemets(du.value) +
                                          " est invalide : indiquez une date existante au format AAAA-MM-JJ "
                                          "(par exemple 2026-12-01)."));
    }
  }
  // "au" is optional: absent or empty means an open-ended period (docs/reference.md §3.3).
  if (au.filled()) {
    const std::optional<CivilDate> to = parse_iso_date(au.value);
    if (!to) {
      out.push_back(Diagnostic::error(ErrorCode::PeriodeInvalide, kPeriodToField, au.line,
                                      "La date de fin de la période " + guillemets(au.value) +
                                          " est invalide : indiquez une date existante au format AAAA-MM-JJ, ou "
                                          "omettez l'attribut « au » pour une période sans fin."));
    } else {
      if (from && *to < *from) {
        out.push_back(Diagnostic::error(ErrorCode::PeriodeInvalide, kPeriodToField, au.line,
                                        "La date de fin de la période (" + format_french_date(*to) +
                                            ") est antérieure à sa date de début (" + format_french_date(*from) +
                                            ") : indiquez une date de fin égale ou postérieure à la date de "
                                            "début."));
      }
      if (*to < processing_date) {
        out.push_back(Diagnostic::error(ErrorCode::PeriodeInvalide, kPeriodToField, au.line,
                                        "La date de fin de la période (" + format_french_date(*to) +
                                            ") est déjà passée à la date de traitement (" +
                                            format_french_date(processing_date) +
                                            ") : indiquez une date de fin à partir d'aujourd'hui, ou aucune date "
                                            "de fin."));
      }
    }
  }
  return out;
}

Diagnostics check_contact(const SheetOperation& sheet) {
  Diagnostics out;
  if (!sheet.has_contact) {
    out.push_back(Diagnostic::error(ErrorCode::ContactIncomplet, kContactField, 0,
                                    "Le contact technique est absent : ajoutez <ContactTechnique> avec nomPrenom, "
                                    "telephone et email."));
    return out;
  }
  std::vector<std::string> missing;
  const char* first_missing = nullptr;
  const auto require = [&](const Field& f, const char* path, const char* label) {
    if (f.filled()) return;
    missing.emplace_back(label);
    if (first_missing == nullptr) first_missing = path;
  };
  require(sheet.contact_name, kContactNameField, "le nom et prénom (nomPrenom)");
  require(sheet.contact_phone, kContactPhoneField, "le téléphone (telephone)");
  require(sheet.contact_email, kContactEmailField, "l'email (email)");
  if (first_missing != nullptr) {
    // Only this code then (docs/reference.md §4): the other values are not judged.
    out.push_back(Diagnostic::error(ErrorCode::ContactIncomplet, first_missing, sheet.contact_line,
                                    "Le contact technique est incomplet : " + join_fr(missing) +
                                        (missing.size() > 1 ? " sont absents ou vides" : " est absent ou vide") +
                                        ". Renseignez-les dans <ContactTechnique>."));
    return out;
  }
  if (!is_valid_email(sheet.contact_email.value)) {
    out.push_back(Diagnostic::error(ErrorCode::EmailInvalide, kContactEmailField,
                                    line_or(sheet.contact_email, sheet.contact_line),
                                    "L'adresse email du contact technique " + guillemets(sheet.contact_email.value) +
                                        " est invalide : indiquez une adresse de la forme nom@domaine.fr."));
  }
  const auto check_phone = [&](const Field& f, const char* path, const char* label) {
    if (is_valid_phone(f.value)) return;
    out.push_back(Diagnostic::error(ErrorCode::TelephoneInvalide, path, line_or(f, sheet.contact_line),
                                    std::string{"Le numéro de "} + label + " du contact technique " +
                                        guillemets(f.value) +
                                        " est invalide : indiquez un numéro français à 10 chiffres commençant par "
                                        "0 (01 23 45 67 89) ou un numéro international commençant par + ou 00 "
                                        "(+33 1 23 45 67 89)."));
  };
  check_phone(sheet.contact_phone, kContactPhoneField, "téléphone");
  if (sheet.contact_fax.filled()) check_phone(sheet.contact_fax, kContactFaxField, "fax");
  return out;
}

Diagnostics check_network(const SheetOperation& sheet) {
  Diagnostics out;
  switch (sheet.kind) {
    case SheetKind::Api:
      return out;
    case SheetKind::Edi:
      break;
  }
  const std::optional<Protocol> protocol = valid_protocol(sheet);
  if (!protocol) return out;
  switch (*protocol) {
    case Protocol::Pesit:
    case Protocol::Sftp:
      if (sheet.has_network) {
        out.push_back(Diagnostic::warning(ErrorCode::ReseauIgnore, kNetworkField, sheet.network_line,
                                          "Le bloc <Reseau> est ignoré pour le protocole " +
                                              std::string{to_code(*protocol)} +
                                              " : il ne sert qu'au protocole AS2. Vous pouvez le retirer."));
      }
      return out;
    case Protocol::As2:
      break;
  }
  if (!sheet.has_network) {
    out.push_back(Diagnostic::error(ErrorCode::ReseauIncomplet, kNetworkField, 0,
                                    "Le bloc <Reseau> est absent alors que le protocole est AS2 : indiquez "
                                    "Identifiant, AdresseIP, Port et CheminDepot du partenaire."));
    return out;
  }
  struct Part {
    const Field& field;
    const char* path;
    const char* element;
  };
  const Part parts[] = {
      {sheet.network_identifier, "Reseau/Identifiant", "Identifiant"},
      {sheet.network_address, "Reseau/AdresseIP", "AdresseIP"},
      {sheet.network_port, "Reseau/Port", "Port"},
      {sheet.network_path, "Reseau/CheminDepot", "CheminDepot"},
  };
  std::vector<std::string> missing;
  const Part* first_missing = nullptr;
  for (const Part& p : parts) {
    if (p.field.filled()) continue;
    missing.push_back(std::string{"<"} + p.element + ">");
    if (first_missing == nullptr) first_missing = &p;
  }
  if (first_missing != nullptr) {
    out.push_back(Diagnostic::error(ErrorCode::ReseauIncomplet, first_missing->path,
                                    line_or(first_missing->field, sheet.network_line),
                                    "Le bloc <Reseau> (AS2) est incomplet : " + join_fr(missing) +
                                        (missing.size() > 1 ? " sont absents ou vides" : " est absent ou vide") +
                                        ". Renseignez les paramètres du serveur AS2 du partenaire."));
  }
  if (sheet.network_address.filled() && !is_valid_ip_address(sheet.network_address.value)) {
    out.push_back(Diagnostic::error(ErrorCode::AdresseIpInvalide, "Reseau/AdresseIP",
                                    line_or(sheet.network_address, sheet.network_line),
                                    "L'adresse IP " + guillemets(sheet.network_address.value) +
                                        " est invalide : indiquez une adresse IPv4 (quatre nombres de 0 à 255 "
                                        "sans zéro initial, par exemple 203.0.113.10) ou une adresse IPv6."));
  }
  if (sheet.network_port.filled() && !is_valid_port(sheet.network_port.value)) {
    out.push_back(Diagnostic::error(ErrorCode::PortInvalide, "Reseau/Port",
                                    line_or(sheet.network_port, sheet.network_line),
                                    "Le port " + guillemets(sheet.network_port.value) +
                                        " est invalide : indiquez un nombre entier de 1 à 65535, en chiffres "
                                        "décimaux sans zéro initial (par exemple 4080)."));
  }
  return out;
}

Diagnostics check_interfaces(const SheetOperation& sheet, const Catalogue& catalogue, Environment environment) {
  Diagnostics out;
  switch (sheet.kind) {
    case SheetKind::Api:
      return out;
    case SheetKind::Edi:
      break;
  }
  bool any_connected = false;
  for (std::size_t i = 0; i < sheet.interfaces.size(); ++i) {
    const InterfaceField& itf = sheet.interfaces[i];
    const std::string path = interface_field(i + 1);
    const int line = line_or(itf.code, itf.line);
    if (itf.mode.value != to_code(ProcessingMode::Aucun)) any_connected = true;
    if (!itf.code.filled()) {
      out.push_back(Diagnostic::error(ErrorCode::CodeInterfaceInconnu, path, line,
                                      "Le code de l'interface n° " + std::to_string(i + 1) +
                                          " est absent ou vide : indiquez un code du catalogue des flux (par "
                                          "exemple FSO1100A)."));
      continue;
    }
    const FlowEntry* entry = catalogue.find(itf.code.value);
    if (entry == nullptr) {
      out.push_back(Diagnostic::error(ErrorCode::CodeInterfaceInconnu, path, line,
                                      "Le code interface " + guillemets(itf.code.value) +
                                          " est inconnu du catalogue des flux : vérifiez le code (par exemple "
                                          "FSO1100A, en majuscules)."));
      continue;
    }
    switch (environment) {
      case Environment::Production:
        if (!entry->in_production) {
          out.push_back(Diagnostic::error(ErrorCode::CodeInterfaceQualification, path, line,
                                          "Le code interface " + entry->code + " (" + entry->description +
                                              ") n'est proposé qu'en qualification : retirez-le de cette fiche "
                                              "de production."));
        }
        break;
      case Environment::Qualification:
        break;
    }
  }
  if (sheet.interfaces.empty()) {
    out.push_back(Diagnostic::error(ErrorCode::AucunFluxRaccorde, kInterfacesField, sheet.interfaces_line,
                                    "Aucun code interface n'est indiqué : ajoutez au moins une <Interface> en "
                                    "mode complete ou partielle dans <CodesInterface>."));
  } else if (!any_connected) {
    out.push_back(Diagnostic::error(ErrorCode::AucunFluxRaccorde, kInterfacesField, sheet.interfaces_line,
                                    "Toutes les interfaces sont en mode « aucun » : raccordez au moins un flux "
                                    "(mode complete ou partielle)."));
  }
  return out;
}

Diagnostics check_sheet_content(const SheetOperation& sheet, const SheetContentContext& context) {
  Diagnostics out;
  const auto append = [&out](Diagnostics ds) {
    for (auto& d : ds) out.push_back(std::move(d));
  };
  switch (sheet.kind) {
    case SheetKind::Api:
      append(check_contact(sheet));
      return out;
    case SheetKind::Edi:
      break;
  }
  static const Catalogue kSeed = Catalogue::seed();
  const Catalogue& catalogue = context.catalogue != nullptr ? *context.catalogue : kSeed;
  append(check_protocol(sheet));
  append(check_period(sheet, context.processing_date));
  append(check_contact(sheet));
  append(check_network(sheet));
  append(check_interfaces(sheet, catalogue, context.environment));
  return out;
}

}  // namespace raccord::rules
