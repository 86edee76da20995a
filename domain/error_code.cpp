#include "domain/error_code.hpp"

#include <algorithm>
#include <array>

namespace raccord {
namespace {

using C = ErrorCode;

// The reference's words for each code (docs/reference.md §4 is generated from these rows): the field
// (`champ`) it is reported on, when the engine raises it, then what to do. A code added to ErrorCode gets its row here,
// in the same order.
constexpr auto kHelp = std::to_array<ErrorCodeHelp>({
    {C::XmlMalforme, "(none: `ligne` and `colonne`)",
     "Dépôt level: the file is not well-formed XML (line and column given).",
     "Fix the XML at the line and column given (an unclosed element, a stray `&` or `<`), then drop it again."},
    {C::EncodageInvalide, "(none: `ligne`)",
     "Dépôt level: bytes invalid for the declared encoding (UTF-8 when none is declared).",
     "Save the file as UTF-8 (or declare its real encoding, ISO-8859-1 or windows-1252) and drop it again."},
    {C::DtdInterdite, "(none: `ligne`)", "Dépôt level: the file holds a `<!DOCTYPE`.",
     "Remove the DOCTYPE declaration: dépôts never use DTDs or entities."},
    {C::SchemaInvalide, "the element or attribute in error",
     "Wrong root element or namespace, or a bad `Depot` attribute (dépôt level); an unknown, missing or "
     "misplaced element or attribute, or a bad enumerated value, boolean or date (in its operation).",
     "Correct the element or attribute named in `champ` at the line given (reference §3 lists every element, attribute "
     "and value)."},
    {C::FichierVide, "(none)", "Dépôt level: the file has 0 bytes.",
     "Drop the complete file; write it under a name that is not a dépôt, then rename it (reference §2)."},
    {C::FichierTropVolumineux, "(none)", "Dépôt level: the file is larger than `inbox.max_bytes` (default 64 MiB).",
     "Split the operations over several dépôts, or ask the operator to raise `inbox.max_bytes`."},
    {C::SignatureAbsente, "(none)",
     "Dépôt level: the account has `signature = obligatoire` and the `.xml` settled without its `.p7s` beside it.",
     "Drop `F.xml.p7s` first, then `F.xml` (reference §2.1); a `.p7s` dropped after its `.xml` settled is too late."},
    {C::SignatureInvalide, "(none)",
     "Dépôt level: the detached signature does not verify over the file's exact bytes, its signer is not one of the "
     "account's `signataires` or is outside its validity, it uses an MD5 or SHA-1 digest, or it came with a dépôt "
     "already `REJETE`.",
     "Sign the exact bytes again (`openssl cms -sign -binary -outform DER`) with a current certificate of the "
     "account's `signataires`, then drop the pair again (reference §2.1)."},
    {C::DepotIdentifiantReutilise, "`@identifiant`",
     "Dépôt level: another dépôt of the same channel with this `identifiant` was already integrated, with "
     "different bytes.",
     "Give the new dépôt its own `identifiant`; reuse one only after a `REJETE`."},
    {C::DemandeurNonAutorise, "`@demandeur`",
     "The operation's actor (its `demandeur`, or the `Depot`'s) is not one of its sender account's `logins`; no other "
     "rule is evaluated for that operation.",
     "Send the operation through the account of the company whose user acts, or ask the operator to add the login to "
     "the account's `logins` (reference §2.1)."},
    {C::CompteNonAutorise, "(none)",
     "Dépôt level: a file of a sender account is not owned by the account's `proprietaire`, or has more than one hard "
     "link.",
     "Drop the file as the account's own user (e.g. through its SFTP account), without keeping a hard link to it."},
    {C::SiretInvalide, "`Partenaire`, `@siret`, `@structure` or `@editeur`",
     "A SIRET is not 14 digits or fails the Luhn check (production); not 14 digits (qualification).",
     "Send the structure's exact 14-digit SIRET as registered in the directory."},
    {C::StructureInconnue, "`Partenaire` or `@structure`", "The partner (or structure) is not in the directory.",
     "Ask support to create the structure (a `Structure` operation) or correct the SIRET."},
    {C::StructureInactive, "`Partenaire` or `@structure`", "The partner's structure is `INACTIF` in the directory.",
     "Ask support to reactivate the structure (`statut=\"ACTIF\"`)."},
    {C::UtilisateurInconnu, "`@demandeur` or `Gestionnaire[n]/@login`",
     "The demandeur, or a gestionnaire login of a `Structure`, is not a known user.",
     "Correct the login, or have support create the user first (an `Utilisateur` operation)."},
    {C::EspaceNonActive, "`Partenaire` or `@structure`", "The partner's Espace raccordements has not been activated.",
     "A gestionnaire of the structure sends `ActivationEspace` first."},
    {C::DroitInsuffisant, "`@demandeur`",
     "The demandeur lacks the right: Modification (sheets), gestionnaire (space, decisions) or support "
     "(directory); or a support user acts on sheets, a space or a decision.",
     "Act as a user holding the right (a validated subscription with Modification, or a gestionnaire); "
     "support users only consult."},
    {C::PrerequisQualification, "`Partenaire`",
     "Production engine: neither the structure nor its editor is `raccordeeQualification`.",
     "Complete the connection in qualification first; then support sets `raccordeeQualification=\"true\"`."},
    {C::TiersTeletransmission, "`Partenaire`", "The structure uses a tiers de télétransmission.",
     "No sheet is needed: the tiers de télétransmission's own connection carries the flows."},
    {C::UtilisateurTechniqueAbsent, "`Partenaire`", "API sheet for a structure that has no technical user.",
     "Ask support to add an `UtilisateurTechnique` to the structure, then submit again."},
    {C::ProtocoleInvalide, "`Protocole`", "`Protocole` is not `PESIT`, `SFTP` or `AS2`.",
     "Write one of `PESIT`, `SFTP`, `AS2` (upper case)."},
    {C::PeriodeInvalide, "`Periode`, `Periode/@du` or `Periode/@au`",
     "A bad date, `au` before `du`, or `au` before the processing date.",
     "Send `du` and `au` as YYYY-MM-DD with `du` <= `au` and `au` not in the past, or leave `au` out."},
    {C::ContactIncomplet, "`ContactTechnique` or its first missing attribute",
     "The technical contact's name, phone or email is missing or empty.",
     "Fill `nomPrenom`, `telephone` and `email` of `ContactTechnique`."},
    {C::EmailInvalide, "`ContactTechnique/@email` or `@email`", "An email is present but is not `local@domain.tld`.",
     "Write a plain address such as `jean.dupont@example.fr`."},
    {C::TelephoneInvalide, "`ContactTechnique/@telephone` or `@fax`",
     "A phone is present but is neither French national (0 + 9 digits) nor international (+ or 00, 6 to 14 "
     "digits).",
     "Write `01 23 45 67 89` or `+33 1 23 45 67 89` (spaces, dots and dashes are ignored)."},
    {C::ReseauIncomplet, "`Reseau` or its first missing child", "AS2 sheet: `Reseau` or one of its values is missing.",
     "Send `Reseau` with `Identifiant`, `AdresseIP`, `Port` and `CheminDepot`."},
    {C::AdresseIpInvalide, "`Reseau/AdresseIP`",
     "`AdresseIP` is not a valid IPv4 dotted quad (no leading zeros) or IPv6 address.",
     "Write the partner's address as `203.0.113.10` or an IPv6 address (no host name)."},
    {C::PortInvalide, "`Reseau/Port`", "`Port` is not a number from 1 to 65535.",
     "Write the port as a number from 1 to 65535."},
    {C::CodeInterfaceInconnu, "`CodesInterface/Interface[n]`", "An interface code is not in the flow catalogue.",
     "Use a code of the catalogue (reference §4.1 lists the seed catalogue), e.g. `FSO1100A`."},
    {C::CodeInterfaceQualification, "`CodesInterface/Interface[n]`",
     "Production engine: the interface code is offered in qualification only.",
     "Remove that interface from the production sheet (or send the sheet to the qualification engine)."},
    {C::AucunFluxRaccorde, "`CodesInterface`", "No interface, or every interface is `aucun`.",
     "Connect at least one interface with `mode=\"complete\"` or `\"partielle\"`."},
    {C::FicheInconnue, "`@codeAppli`", "The `codeAppli` names no sheet of that partner.",
     "Check the `codeAppli` and the partner (`raccord search`), or leave `codeAppli` out to create a sheet."},
    {C::TransitionInterdite, "`@action`",
     "The action is not allowed in the sheet's current state (e.g. anything on an `ENVOYEE` sheet).",
     "Follow the message: it lists the actions possible in that state (reference §3.3)."},
    {C::AbonnementInconnu, "`@demande`", "A decision names an unknown or already decided subscription request.",
     "Use the `ABO-NNNNNN` id of the `DemandeAbonnement`'s accusé, for a request not yet decided."},
    {C::CertAbsent, "`Certificats` or `Certificats/Certificat[n]`", "No `Certificat` (or an empty one) on a sheet.",
     "Add the certificate as a PKCS#7 bundle in `Certificats/Certificat`."},
    {C::CertNombre, "`Certificats`",
     "Wrong number of `Certificat`: SFTP and API take exactly 1, PESIT and AS2 take 1 or 2.",
     "Send one bundle (SFTP, API) or one or two (PESIT, AS2: client and server)."},
    {C::CertFormat, "`Certificats/Certificat[n]`",
     "Not a PKCS#7 bundle (bare PEM or DER certificates, bad base64, unreadable) or a bundle holding a private "
     "key.",
     "Bundle the certificate with its chain as PKCS#7, e.g. `openssl crl2pkcs7 -nocrl -certfile chain.pem "
     "-outform DER -out bundle.p7b`; never include the private key."},
    {C::CertAutosigne, "`Certificats/Certificat[n]`", "A leaf certificate is self-signed.",
     "Use a certificate issued by an authority the platform accepts (the trust store)."},
    {C::CertAutoriteNonReconnue, "`Certificats/Certificat[n]`",
     "A leaf's chain ends at a self-signed certificate that is not a trust anchor.",
     "Use a certificate from an accepted authority; the operator installs accepted CAs in `trust_dir`."},
    {C::CertChaineIncomplete, "`Certificats/Certificat[n]`",
     "An issuer of the chain is in neither the bundle nor the trust store.",
     "Add the missing intermediate certificates to the PKCS#7 bundle."},
    {C::CertExpire, "`Certificats/Certificat[n]`",
     "A certificate of the chain (leaf, intermediate, anchor) has expired at the check instant.",
     "Renew the certificate and submit the sheet again with the new bundle."},
    {C::CertPasEncoreValide, "`Certificats/Certificat[n]`",
     "A certificate of the chain is not yet valid at the check instant.",
     "Wait until its notBefore date, or check the certificate's dates."},
    {C::CertUsage, "`Certificats` or `Certificats/Certificat[n]`",
     "The leaves do not cover the protocol's purposes (PESIT, AS2: clientAuth and serverAuth; SFTP, API: "
     "clientAuth), or a CA of the chain excludes the purpose.",
     "Use certificates whose extendedKeyUsage covers the purposes (`raccord cert FILE --protocole P` tells)."},
    {C::CertCleFaible, "`Certificats/Certificat[n]`",
     "RSA key under `certificates.min_rsa_bits` (2048), EC under 256 bits, or any DSA key.",
     "Issue a new certificate with an RSA key of at least 2048 bits or an EC key of 256 bits or more."},
    {C::CertSignatureFaible, "`Certificats/Certificat[n]`",
     "A signature of the chain uses MD5, SHA-1 or DSA (an anchor's self-signature excepted).",
     "Have the certificate reissued with a SHA-256 (or stronger) signature."},
    {C::CertRevoque, "`Certificats/Certificat[n]`",
     "A certificate of the chain (the anchor excepted) is listed in a verified CRL of its issuer.",
     "Obtain a new certificate and submit the sheet again (reference §4.1)."},
    {C::CertRevocationInconnue, "`Certificats/Certificat[n]`",
     "The revocation status of a certificate of the chain cannot be known (no current verified CRL); blocking "
     "only with `certificates.revocation = stricte`, else a warning.",
     "Operator: run `raccord trust refresh` or install the issuer's CRL in `crl_dir` (reference §4.1)."},
    {C::CertExpireAvantPeriode, "`Certificats/Certificat[n]`",
     "EDI sheet: a leaf ends before the period's `du` (it could never be activated).",
     "Send a certificate valid at `du`, or move `du` earlier."},
    {C::CertNonConforme, "`Certificats/Certificat[n]`",
     "A certificate of the chain, the anchor included, breaks an RFC 5280 profile rule of the kind OpenSSL's "
     "strict mode checks: a CA without critical basicConstraints, a missing authority or subject key "
     "identifier, keyCertSign on a non-CA, a serial number zero or longer than 20 octets, an extension whose "
     "value is not the DER encoding of its RFC 5280 syntax (the message names the certificate and the rule).",
     "Have the certificate reissued by a conforming authority (for an anchor: the operator replaces it)."},
    {C::CertExpireBientot, "`Certificats/Certificat[n]`",
     "Warning: a leaf ends within `certificates.expiry_warning_days` (30) of the check instant, or of `du` "
     "when later.",
     "Plan the renewal: submit the sheet again with the new certificate before it ends."},
    {C::CertSansEku, "`Certificats/Certificat[n]`",
     "Warning: a leaf has no extendedKeyUsage (accepted for every purpose).",
     "Nothing required; prefer certificates that state their purposes."},
    {C::ReseauIgnore, "`Reseau`", "Warning: `Reseau` on a PESIT or SFTP sheet is ignored.",
     "Remove `Reseau`: only AS2 sheets carry the partner's network side."},
});

}  // namespace

bool is_warning_only(ErrorCode code) {
  // A list, not a switch with default: (one truth per enum): the codes that never block.
  static constexpr std::array kWarningOnly{ErrorCode::CertExpireBientot, ErrorCode::CertSansEku,
                                           ErrorCode::ReseauIgnore};
  return std::find(kWarningOnly.begin(), kWarningOnly.end(), code) != kWarningOnly.end();
}

std::span<const ErrorCodeHelp> error_code_helps() {
  return kHelp;
}

const ErrorCodeHelp* error_code_help(ErrorCode code) {
  const auto* found =
      std::find_if(kHelp.begin(), kHelp.end(), [code](const ErrorCodeHelp& row) { return row.code == code; });
  return found == kHelp.end() ? nullptr : &*found;
}

}  // namespace raccord
