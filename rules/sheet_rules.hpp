// Content rules of a fiche de raccordement that need no store (docs/reference.md §4): protocol, period,
// contact, network, interface codes. Certificates are in certificates.hpp; store-dependent rules
// (structure, user, rights, state) are applied by engine/processor.
#pragma once

#include <string_view>

#include "domain/civil_date.hpp"
#include "domain/deposit.hpp"
#include "rules/catalogue.hpp"

namespace raccord::rules {

struct SheetContentContext {
  Environment environment = Environment::Production;
  CivilDate processing_date{};  // civil date of the processing instant in engine.timezone
  const Catalogue* catalogue = nullptr;
};

/// PROTOCOLE_INVALIDE for an EDI sheet whose Protocole is missing, empty or not PESIT/SFTP/AS2.
/// Field "Protocole". The message says what to write (the upper-case spelling of a known protocol
/// written in another case, "sftp" → « SFTP ») and which checks wait for a valid protocol: the
/// network block (check_network), the number of certificates when it is 2 and their purposes
/// (CERT_NOMBRE, CERT_USAGE: engine/processor.cpp, check_certificates); every other rule is
/// independent of the protocol and still reported (issue 18).
Diagnostics check_protocol(const SheetOperation& sheet);

/// PERIODE_INVALIDE (EDI only; API sheets have no Periode): Periode or @du missing/empty or not a
/// valid YYYY-MM-DD, @au not a valid date, @au before @du, or @au before `processing_date`.
/// `du` may be in the past; `au` is optional. Fields "Periode/@du", "Periode/@au".
Diagnostics check_period(const SheetOperation& sheet, CivilDate processing_date);

/// CONTACT_INCOMPLET when ContactTechnique or any of nomPrenom, telephone, email is missing or
/// empty (then only this code); otherwise EMAIL_INVALIDE and/or TELEPHONE_INVALIDE (fax: when
/// present and non-empty it must be a valid phone too, TELEPHONE_INVALIDE on "ContactTechnique/@fax").
Diagnostics check_contact(const SheetOperation& sheet);

/// RFC 5322 dot-atom local part (letters, digits and ! # $ % & ' * + - / = ? ^ _ ` { | } ~,
/// dots not leading/trailing/doubled) @ a domain of at least two labels (LDH labels, TLD of letters,
/// at least 2). Examples: "jean.dupont+chorus@exemple.fr" ok, "o'neil@exemple.fr" ok, "a@b" no.
bool is_valid_email(std::string_view email);

/// French national "0" + 9 digits, or international "+" or "00" then country code and number with
/// 6 to 14 digits in all after the prefix; "+33 (0)1 ..." accepted (the "(0)" dropped); spaces,
/// dots and dashes ignored. Anything else (letters, empty) is invalid.
bool is_valid_phone(std::string_view phone);

/// Network block (EDI): for AS2, RESEAU_INCOMPLET when Reseau or any of Identifiant, AdresseIP,
/// Port, CheminDepot is missing or empty; ADRESSE_IP_INVALIDE (IPv4 dotted quad without leading
/// zeros, or IPv6); PORT_INVALIDE (decimal 1..65535). For PESIT and SFTP a Reseau block yields the
/// warning RESEAU_IGNORE. Nothing when the protocol is invalid.
Diagnostics check_network(const SheetOperation& sheet);

bool is_valid_ip_address(std::string_view address);

/// Interface codes (EDI): CODE_INTERFACE_INCONNU per unknown code, CODE_INTERFACE_QUALIFICATION per
/// qualification-only code on a production engine, AUCUN_FLUX_RACCORDE when there is no interface
/// or every interface is mode "aucun". Field "CodesInterface/Interface[N]/@code".
Diagnostics check_interfaces(const SheetOperation& sheet, const Catalogue& catalogue, Environment environment);

/// All of the above in the reference's order for a sheet being registered or submitted (EDI: protocol, period,
/// contact, network, interfaces; API: contact only). Every finding is an error here; the caller
/// turns errors into warnings for `enregistrer`.
Diagnostics check_sheet_content(const SheetOperation& sheet, const SheetContentContext& context);

}  // namespace raccord::rules
