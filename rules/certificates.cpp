// Certificate rules of one sheet (docs/reference.md §3.3, §4 CERT_*; docs/toolchain.md #11-15;
// docs/field-cases.md F19-F27) with OpenSSL 3. CertificateChecker::check is a list of steps, one per rule; the work is
// in the files beside this one: bundle_decoding (the <Certificat> text into certificates), certificate_facts (what one
// certificate says), chain_building (the chain of a leaf, the CA cache), trust_store (the anchors).
#include "rules/certificates.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <mutex>
#include <set>
#include <system_error>
#include <utility>

#include "rules/bundle_decoding.hpp"
#include "rules/certificate_facts.hpp"
#include "rules/chain_building.hpp"
#include "rules/openssl_ptr.hpp"
#include "rules/trust_store.hpp"

namespace raccord::rules {
namespace {

// ---------------------------------------------------------------------------------------------
// What the steps share.

std::string french_date(std::chrono::sys_seconds t) {
  return format_french_date(CivilDate{std::chrono::floor<std::chrono::days>(t)});
}

std::string_view protocol_label(std::optional<Protocol> protocol) {
  return protocol ? to_code(*protocol) : std::string_view("API");
}

/// PESIT and AS2 take a client and a server certificate; SFTP and API one client certificate.
bool takes_a_pair(std::optional<Protocol> protocol) {
  return protocol && (*protocol == Protocol::Pesit || *protocol == Protocol::As2);
}

/// "Le certificat « CN=… » (n° de série …)", or "Le certificat d'autorité …" above the leaf.
std::string named(X509* x, bool is_leaf) {
  return (is_leaf ? "Le certificat " : "Le certificat d'autorité ") + describe(x);
}

/// One <Certificat> element that decoded: its certificates as OpenSSL decoded them, in its order.
struct Bundle {
  int index = 0;  // 1-based Certificat element
  int line = 0;
  std::string field;  // "Certificats/Certificat[N]"
  std::vector<X509Ptr> certs;
  std::vector<std::string> fingerprints;  // of certs, same order

  BundleView view() const { return {&certs, &fingerprints}; }
};

/// The bundles of a sheet that decoded.
struct DecodedBundles {
  std::vector<Bundle> bundles;
  bool some_unusable = false;  // an empty or unreadable element: CERT_USAGE would only echo it
};

/// The diagnostics of one bundle, on its field and line: one per (code, certificate), so that a CA
/// in the chains of two leaves is reported once.
class BundleFindings {
 public:
  BundleFindings(const Bundle& bundle, Diagnostics& diagnostics) : bundle_(bundle), diagnostics_(diagnostics) {}

  void error(ErrorCode code, X509* about, std::string message) { add(code, about, std::move(message), false); }
  void warning(ErrorCode code, X509* about, std::string message) { add(code, about, std::move(message), true); }

 private:
  void add(ErrorCode code, X509* about, std::string message, bool warning) {
    if (!seen_.emplace(code, fingerprint(about)).second) return;
    diagnostics_.push_back(warning ? Diagnostic::warning(code, bundle_.field, bundle_.line, std::move(message))
                                   : Diagnostic::error(code, bundle_.field, bundle_.line, std::move(message)));
  }

  const Bundle& bundle_;
  Diagnostics& diagnostics_;
  std::set<std::pair<ErrorCode, std::string>> seen_;
};

// ---------------------------------------------------------------------------------------------
// The steps of check(), in the order it takes them.

/// CERT_ABSENT (docs/reference.md §4): no <Certificats>, or no <Certificat> in it. True when there is one.
bool has_certificates(const SheetOperation& sheet, Diagnostics& diags) {
  if (sheet.has_certificates && !sheet.certificates.empty()) return true;
  diags.push_back(Diagnostic::error(
      ErrorCode::CertAbsent, "Certificats", sheet.certificates_line,
      "Aucun certificat n'est fourni : ajoutez dans <Certificats> un élément <Certificat> contenant le fichier "
      "PKCS#7 (.p7b) du certificat et de sa chaîne, encodé en base64."));
  return false;
}

/// CERT_NOMBRE (docs/reference.md §4): SFTP and API exactly 1 <Certificat>, PESIT and AS2 1 or 2.
void check_certificate_count(const SheetOperation& sheet, std::optional<Protocol> protocol, Diagnostics& diags) {
  const bool pair_allowed = takes_a_pair(protocol);
  const std::size_t max_count = pair_allowed ? 2 : 1;
  if (sheet.certificates.size() <= max_count) return;
  const std::string label(protocol_label(protocol));
  std::string msg =
      pair_allowed
          ? "Une fiche " + label + " accepte un ou deux certificats (client et serveur), or " +
                std::to_string(sheet.certificates.size()) + " éléments <Certificat> sont fournis : retirez-en."
          : "Une fiche " + label + " accepte exactement un certificat, or " +
                std::to_string(sheet.certificates.size()) +
                " éléments <Certificat> sont fournis : regroupez le certificat et sa chaîne dans un seul fichier "
                "PKCS#7.";
  diags.push_back(Diagnostic::error(ErrorCode::CertNombre, "Certificats", sheet.certificates_line, std::move(msg)));
}

/// CERT_ABSENT for an empty <Certificat>, CERT_FORMAT for one that does not decode (F19). The facts of
/// every certificate decoded go to `report.certificates`, with their bundle_index.
DecodedBundles decode_bundles(const SheetOperation& sheet, DecodingContext& decoding, CertificateReport& report) {
  DecodedBundles decoded;
  auto& diags = report.diagnostics;
  for (const auto& element : sheet.certificates) {
    Bundle b;
    b.index = element.index;
    b.line = element.line;
    b.field = "Certificats/Certificat[" + std::to_string(element.index) + "]";
    if (is_blank(element.content)) {
      diags.push_back(Diagnostic::error(ErrorCode::CertAbsent, b.field, b.line,
                                        "L'élément <Certificat> n° " + std::to_string(element.index) +
                                            " est vide : mettez-y le fichier PKCS#7 (.p7b) du certificat et de sa "
                                            "chaîne, encodé en base64."));
      decoded.some_unusable = true;
      continue;
    }
    std::vector<X509Ptr> certs;
    std::string why;
    if (!decode_certificates(element.content, certs, why, nullptr, &decoding)) {
      diags.push_back(Diagnostic::error(ErrorCode::CertFormat, b.field, b.line, std::move(why)));
      decoded.some_unusable = true;
      continue;
    }
    bool unreadable = false;
    for (auto& x : certs) {
      if (!x) {
        unreadable = true;
        break;
      }
      CertificateFacts facts = facts_of(x.get());
      facts.bundle_index = element.index;
      b.fingerprints.push_back(facts.fingerprint_sha256);
      report.certificates.push_back(std::move(facts));
      b.certs.push_back(std::move(x));
    }
    if (unreadable) {
      diags.push_back(
          Diagnostic::error(ErrorCode::CertFormat, b.field, b.line, "Un certificat du fichier PKCS#7 est illisible."));
      decoded.some_unusable = true;
      continue;
    }
    decoded.bundles.push_back(std::move(b));
  }
  return decoded;
}

/// How the chain of `leaf` ends (docs/reference.md §4 precedence, F21): CERT_AUTOSIGNE, else
/// CERT_AUTORITE_NON_RECONNUE, else CERT_CHAINE_INCOMPLETE naming the missing issuer.
void check_chain_end(X509* leaf, const BuiltChain& chain, const TrustState& trust, BundleFindings& findings) {
  switch (chain.end) {
    case ChainEnd::Anchored:
      return;
    case ChainEnd::SelfSignedLeaf:
      findings.error(ErrorCode::CertAutosigne, leaf,
                     named(leaf, true) +
                         " est auto-signé : il doit être émis par une autorité de certification reconnue. Faites-le "
                         "émettre par une autorité reconnue et envoyez-le avec sa chaîne au format PKCS#7.");
      return;
    case ChainEnd::UntrustedRoot:
      findings.error(ErrorCode::CertAutoriteNonReconnue, leaf,
                     "La chaîne du certificat " + describe(leaf) + " aboutit à l'autorité racine " +
                         describe(chain.path.back()) +
                         (chain.top_name_trusted
                              ? ", qui porte le nom d'une autorité reconnue mais n'est pas celle-ci (autre clé) : ce "
                                "certificat n'est pas émis par l'autorité reconnue."
                              : ", qui n'est pas une autorité reconnue.") +
                         " Faites émettre le certificat par une autorité reconnue et envoyez-le avec sa chaîne.");
      return;
    case ChainEnd::MissingIssuer: {
      const VerifyError* incomplete = chain.first_error(ErrorClass::Incomplete);
      const std::string& missing = incomplete->missing_issuer;
      X509* child = static_cast<std::size_t>(incomplete->depth) < chain.path.size()
                        ? chain.path[static_cast<std::size_t>(incomplete->depth)]
                        : leaf;
      if (std::string why = why_anchor_refused(child, trust); !why.empty()) {
        // The trust store holds the authority of that name: never ask the partner to add it (issue 17).
        findings.error(ErrorCode::CertAutoriteNonReconnue, leaf,
                       "La chaîne du certificat " + describe(leaf) + " ne peut pas être validée : l'autorité « " +
                           missing + " » du magasin de confiance de raccord a été trouvée, mais elle ne peut pas " +
                           "avoir émis le certificat " + describe(child) + " : " + why +
                           ". Faites émettre le certificat par l'autorité reconnue et envoyez-le avec sa chaîne.");
        return;
      }
      findings.error(ErrorCode::CertChaineIncomplete, leaf,
                     "La chaîne du certificat " + describe(leaf) +
                         " est incomplète : le certificat de l'autorité émettrice « " + missing +
                         " » est introuvable. Ajoutez le certificat intermédiaire « " + missing +
                         " » au fichier PKCS#7.");
      return;
    }
    case ChainEnd::Invalid:
      if (const VerifyError* other = chain.first_error(ErrorClass::Other)) {
        // OpenSSL took an authority of the trust store for the issuer and refused it (its keyUsage, its
        // signature): say why in French, naming it, never as if the authority were missing (issue 17).
        const auto depth = static_cast<std::size_t>(other->depth);
        X509* child = nullptr;
        if (depth < chain.path.size()) {
          const bool anchor = trust.fingerprints.count(fingerprint(chain.path[depth])) > 0;
          child = anchor ? (depth > 0 ? chain.path[depth - 1] : nullptr) : chain.path[depth];
        }
        if (std::string why = child != nullptr ? why_anchor_refused(child, trust) : std::string(); !why.empty()) {
          findings.error(ErrorCode::CertAutoriteNonReconnue, leaf,
                         "La chaîne du certificat " + describe(leaf) + " ne peut pas être validée : l'autorité « " +
                             name_text(X509_get_issuer_name(child)) + " » du magasin de confiance de raccord a été " +
                             "trouvée, mais elle ne peut pas avoir émis le certificat " + describe(child) + " : " +
                             why + ". Faites émettre le certificat par l'autorité reconnue et envoyez-le avec sa " +
                             "chaîne.");
          return;
        }
        findings.error(ErrorCode::CertAutoriteNonReconnue, leaf,
                       "La chaîne du certificat " + describe(leaf) + " n'est pas valide (" + other->about + " : " +
                           X509_verify_cert_error_string(other->code) +
                           "). Faites émettre le certificat par une autorité reconnue et envoyez-le avec sa chaîne.");
      }
      return;
  }
}

/// The chain as `raccord cert` shows it (docs/reference.md §7).
LeafChain describe_chain(const BuiltChain& chain, int bundle_index, const TrustState& trust) {
  LeafChain described;
  described.bundle_index = bundle_index;
  described.end = chain.end;
  if (const VerifyError* incomplete = chain.first_error(ErrorClass::Incomplete)) {
    described.missing_issuer = incomplete->missing_issuer;
  }
  for (X509* c : chain.path) {
    ChainLink link;
    link.subject = name_text(X509_get_subject_name(c));
    link.serial = serial_hex(c);
    link.fingerprint_sha256 = fingerprint(c);
    link.from_trust_store = trust.fingerprints.count(link.fingerprint_sha256) > 0;
    described.links.push_back(std::move(link));
  }
  return described;
}

/// CERT_EXPIRE and CERT_PAS_ENCORE_VALIDE (F27: notBefore tolerated up to `skew` ahead of `at`).
void check_dates(X509* c, bool is_leaf, Instant at, std::chrono::seconds skew, BundleFindings& findings) {
  const auto end = not_after(c);
  if (at > end) {
    findings.error(ErrorCode::CertExpire, c,
                   named(c, is_leaf) + " a expiré le " + french_date(end) +
                       (is_leaf ? " : faites émettre un nouveau certificat et envoyez-le."
                                : " : ajoutez au fichier PKCS#7 la version renouvelée de ce certificat d'autorité."));
  }
  const auto start = not_before(c);
  if (start > at + skew) {
    findings.error(ErrorCode::CertPasEncoreValide, c,
                   named(c, is_leaf) + " n'est valide qu'à partir du " + french_date(start) +
                       " : soumettez de nouveau la fiche à partir de cette date.");
  }
}

/// Why the key is weak (French), or empty (F25: our rule, not the library's security level).
std::string weak_key(X509* x, int min_rsa_bits) {
  EVP_PKEY* key = X509_get0_pubkey(x);
  ERR_clear_error();
  if (key == nullptr) return "sa clé publique est illisible";
  int bits = EVP_PKEY_get_bits(key);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      if (bits < min_rsa_bits) {
        return "sa clé RSA fait " + std::to_string(bits) + " bits, moins que le minimum de " +
               std::to_string(min_rsa_bits) + " bits (" + std::to_string(bits) + " < " + std::to_string(min_rsa_bits) +
               ")";
      }
      return {};
    case EVP_PKEY_DSA:
      return "c'est une clé DSA (" + std::to_string(bits) +
             " bits), un algorithme qui n'est plus admis quelle que soit sa taille (utilisez RSA d'au moins " +
             std::to_string(min_rsa_bits) + " bits, EC d'au moins 256 bits ou Ed25519)";
    case EVP_PKEY_EC:
      if (bits < 256) return "sa clé EC fait " + std::to_string(bits) + " bits, moins que le minimum de 256 bits";
      return {};
    default:
      return {};  // Ed25519, Ed448: strong
  }
}

/// What is weak in x's signature: the digest name ("SHA1", "MD5") or "DSA" (any digest), or empty.
std::string weak_signature(X509* x) {
  int md = NID_undef;
  int pk = NID_undef;
  int secbits = 0;
  uint32_t flags = 0;
  if (X509_get_signature_info(x, &md, &pk, &secbits, &flags) != 1) {
    OBJ_find_sigid_algs(X509_get_signature_nid(x), &md, &pk);
  }
  ERR_clear_error();
  if (pk == NID_dsa || pk == NID_dsaWithSHA1) return "DSA";
  switch (md) {
    case NID_md2:
    case NID_md4:
    case NID_md5:
    case NID_md5_sha1:
    case NID_sha1: {
      const char* sn = OBJ_nid2sn(md);
      return sn != nullptr ? sn : "MD5/SHA-1";
    }
    default:
      return {};
  }
}

/// CERT_CLE_FAIBLE (F25: our minimum, not the library's security level).
void check_key_strength(X509* c, bool is_leaf, int min_rsa_bits, BundleFindings& findings) {
  if (std::string why = weak_key(c, min_rsa_bits); !why.empty()) {
    findings.error(ErrorCode::CertCleFaible, c,
                   named(c, is_leaf) + " a une clé trop faible : " + why +
                       ". Générez une nouvelle clé plus forte et faites émettre un nouveau certificat.");
  }
}

/// CERT_SIGNATURE_FAIBLE (F24): signed with MD2, MD4, MD5 or SHA-1, or with DSA (docs/reference.md §4).
void check_signature_digest(X509* c, bool is_leaf, BundleFindings& findings) {
  if (std::string md = weak_signature(c); !md.empty()) {
    findings.error(ErrorCode::CertSignatureFaible, c,
                   named(c, is_leaf) + " est signé avec l'algorithme faible " + md + " (" +
                       OBJ_nid2ln(X509_get_signature_nid(c)) +
                       (md == "DSA" ? ") : faites-le émettre de nouveau par une autorité qui signe en RSA, ECDSA ou "
                                      "Ed25519, avec SHA-256 ou plus fort."
                                    : ") : faites-le émettre de nouveau avec une signature SHA-256 ou plus forte."));
  }
}

/// Dates, key and signature of every certificate of the chain, in chain order; the self-signature
/// of the anchor is not judged (F24 c: nobody verifies it).
void check_chain_certificates(const BuiltChain& chain, Instant at, const CertificatePolicy& policy,
                              BundleFindings& findings) {
  const auto skew = std::chrono::seconds(policy.clock_skew_s);
  for (std::size_t i = 0; i < chain.path.size(); ++i) {
    X509* c = chain.path[i];
    const bool is_leaf = i == 0;
    check_dates(c, is_leaf, at, skew, findings);
    check_key_strength(c, is_leaf, policy.min_rsa_bits, findings);
    const bool anchor_self_signature = i + 1 == chain.path.size() && i > 0 && chain.anchored && is_self_issued(c);
    if (!anchor_self_signature) check_signature_digest(c, is_leaf, findings);
  }
}

/// The RFC 5280 serial number rule (§4.1.2.2): positive, at most 20 octets; the rule broken, or empty.
std::string serial_rule(X509* c) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(c);
  if (serial == nullptr) return {};
  const int length = ASN1_STRING_length(serial);
  const unsigned char* data = ASN1_STRING_get0_data(serial);
  bool zero = true;
  for (int i = 0; i < length; ++i) zero = zero && data[i] == 0;
  if (zero) return "son numéro de série est zéro, or il doit être un entier positif (RFC 5280 §4.1.2.2)";
  // The DER content octets: the magnitude, plus a leading zero octet when its first bit is set.
  const int octets = length + ((data[0] & 0x80) != 0 ? 1 : 0);
  if (octets > 20) {
    return "son numéro de série fait " + std::to_string(octets) + " octets, plus que les 20 permis (RFC 5280 §4.1.2.2)";
  }
  return {};
}

/// The RFC 5280 extension encoding rule (§4.1.2.9, §4.2: extnValue is the DER encoding of the extension's
/// ASN.1 value): each extension whose syntax OpenSSL knows (authorityInfoAccess, crlDistributionPoints,
/// certificatePolicies...) but whose value does not decode with it; the rule broken, or empty. OpenSSL's
/// verification decodes only the extensions it needs for the path (basicConstraints, keyUsage, key
/// identifiers, name constraints...), so it lets the others through undecoded. Unknown extensions are not
/// looked at: a critical one is refused by the verification already, a non-critical one may be ignored.
std::string extension_rule(X509* c) {
  std::string broken;
  for (int i = 0; i < X509_get_ext_count(c); ++i) {
    X509_EXTENSION* ext = X509_get_ext(c, i);
    const X509V3_EXT_METHOD* method = X509V3_EXT_get(ext);
    if (method == nullptr) continue;
    void* value = X509V3_EXT_d2i(ext);
    if (value != nullptr) {
      if (method->it != nullptr) {
        ASN1_item_free(static_cast<ASN1_VALUE*>(value), ASN1_ITEM_ptr(method->it));
      } else {
        method->ext_free(value);
      }
      continue;
    }
    ERR_clear_error();
    const char* name = OBJ_nid2sn(OBJ_obj2nid(X509_EXTENSION_get_object(ext)));
    broken += std::string(broken.empty() ? "" : ", ") + "« " + (name != nullptr ? name : "?") + " »";
  }
  if (broken.empty()) return {};
  return "le contenu de son extension " + broken +
         " n'est pas l'encodage DER de la valeur que la RFC 5280 définit pour elle (RFC 5280 §4.1.2.9 et §4.2)";
}

/// CERT_NON_CONFORME (docs/reference.md §4): the RFC 5280 profile rules every certificate of the chain,
/// the anchor included, breaks: those OpenSSL's strict mode reported (ErrorClass::Profile), the serial
/// number rule and the extension encoding rule. One message per certificate, naming every rule it breaks.
void check_profile(const BuiltChain& chain, const TrustState& trust, BundleFindings& findings) {
  for (std::size_t i = 0; i < chain.path.size(); ++i) {
    X509* c = chain.path[i];
    std::vector<std::string> rules;
    for (const VerifyError& e : chain.errors) {
      if (static_cast<std::size_t>(e.depth) != i || classify(e.code) != ErrorClass::Profile) continue;
      std::string rule = profile_rule(e.code);
      if (std::find(rules.begin(), rules.end(), rule) == rules.end()) rules.push_back(std::move(rule));
    }
    if (std::string rule = serial_rule(c); !rule.empty()) rules.push_back(std::move(rule));
    if (std::string rule = extension_rule(c); !rule.empty()) rules.push_back(std::move(rule));
    if (rules.empty()) continue;
    std::string text;
    for (const std::string& rule : rules) text += (text.empty() ? "" : " ; ") + rule;
    const bool is_leaf = i == 0;
    const bool in_trust_store = trust.fingerprints.count(fingerprint(c)) > 0;
    findings.error(
        ErrorCode::CertNonConforme, c,
        named(c, is_leaf) + " n'est pas conforme au profil des certificats de la RFC 5280 : " + text +
            (is_leaf          ? ". Faites émettre un nouveau certificat conforme et envoyez-le avec sa chaîne."
             : in_trust_store ? ". Ce certificat d'autorité vient du magasin de confiance de raccord : signalez-le à "
                                "l'exploitant de raccord, et faites émettre votre certificat par une autorité conforme."
                              : ". Faites émettre votre certificat par une autorité dont le certificat est conforme et "
                                "envoyez-le avec sa chaîne."));
  }
}

/// The start of an EDI sheet's period (Periode/@du at 00:00 UTC), when it is readable; nullopt for an API
/// sheet or an absent or bad du (PERIODE_INVALIDE is the content rules' business).
std::optional<Instant> period_start(const SheetOperation& sheet) {
  if (sheet.kind != SheetKind::Edi || !sheet.has_period || !sheet.period_from.filled()) return std::nullopt;
  const std::optional<CivilDate> du = parse_iso_date(sheet.period_from.value);
  if (!du) return std::nullopt;
  return Instant{std::chrono::sys_days{*du}};
}

/// CERT_EXPIRE_AVANT_PERIODE: the leaf ends before the period starts, so the sheet could never be
/// activated (docs/reference.md §4); else the warning CERT_EXPIRE_BIENTOT: it ends within policy.expiry_warning_days
/// of the later of `at` and the period's start (a sheet activated at du must not expire soon after).
/// An already expired leaf is CERT_EXPIRE's business only.
void check_leaf_end(X509* leaf, Instant at, std::optional<Instant> du, const CertificatePolicy& policy,
                    BundleFindings& findings) {
  const auto leaf_end = not_after(leaf);
  if (at > leaf_end) return;
  if (du && leaf_end < *du) {
    findings.error(ErrorCode::CertExpireAvantPeriode, leaf,
                   named(leaf, true) + " expire le " + french_date(leaf_end) +
                       ", avant le début de la période de raccordement (" + french_date(*du) +
                       ") : la fiche ne pourrait jamais être activée. Faites émettre un certificat valide pendant la "
                       "période et envoyez-le, ou avancez la date de début.");
    return;
  }
  const Instant from = du ? std::max(at, *du) : at;
  if (leaf_end - from <= std::chrono::days(policy.expiry_warning_days)) {
    findings.warning(ErrorCode::CertExpireBientot, leaf,
                     named(leaf, true) + " expire bientôt, le " + french_date(leaf_end) +
                         (from > at ? ", peu après le début de la période de raccordement (" + french_date(from) + ")"
                                    : std::string()) +
                         " : préparez son renouvellement.");
  }
}

/// CERT_REVOQUE and CERT_REVOCATION_INCONNUE (docs/revocation.md): the status of every certificate of
/// an anchored chain but the anchor, from the CRLs of the certificate that issued it. A chain that does
/// not reach an anchor is refused already, and its keys prove nothing about a CRL: not checked.
void check_revocation(const BuiltChain& chain, Instant at, const CertificatePolicy& policy, const CrlStore& crls,
                      BundleFindings& findings) {
  if (policy.revocation == RevocationMode::Aucune || !chain.anchored) return;
  const CrlSettings settings = policy.crl_settings();
  for (std::size_t i = 0; i + 1 < chain.path.size(); ++i) {
    X509* c = chain.path[i];
    const X509* issuer = chain.issuer_of(i);
    const bool is_leaf = i == 0;
    const RevocationAnswer answer = crls.status(c, issuer, at, settings);
    const std::string issuer_name = name_text(X509_get_issuer_name(c));
    switch (answer.status) {
      case RevocationStatus::Good:
        break;
      case RevocationStatus::Revoked:
        findings.error(ErrorCode::CertRevoque, c,
                       named(c, is_leaf) + " est " + describe(answer, issuer_name, at, settings) +
                           (is_leaf ? " : faites émettre un nouveau certificat et envoyez-le avec sa chaîne."
                                    : " : ce certificat d'autorité ne peut plus être utilisé ; faites émettre votre "
                                      "certificat par une autorité valide et envoyez-le avec sa nouvelle chaîne."));
        break;
      case RevocationStatus::Unknown: {
        std::string message = named(c, is_leaf) + " : son état de révocation est inconnu (" +
                              describe(answer, issuer_name, at, settings) + ").";
        if (policy.revocation == RevocationMode::Stricte) {
          findings.error(
              ErrorCode::CertRevocationInconnue, c,
              message +
                  " La fiche ne peut être acceptée qu'une fois cet état connu : l'exploitant de raccord doit "
                  "mettre à jour les listes de révocation (raccord trust refresh) ; soumettez-la de nouveau "
                  "ensuite.");
        } else {
          findings.warning(ErrorCode::CertRevocationInconnue, c,
                           message +
                               " La fiche est acceptée ; l'exploitant de raccord devrait mettre à jour les listes de "
                               "révocation (raccord trust refresh).");
        }
        break;
      }
    }
  }
}

/// Warning CERT_SANS_EKU (F23): a leaf without extendedKeyUsage is accepted for every purpose.
void warn_leaf_without_eku(X509* leaf, BundleFindings& findings) {
  if (has_eku(leaf)) return;
  findings.warning(ErrorCode::CertSansEku, leaf,
                   named(leaf, true) +
                       " n'a pas d'extension d'usage étendu (extendedKeyUsage) : il est accepté pour tous les usages.");
}

/// A leaf and the CAs of its chain that restrict its purposes: the first certificate above it whose
/// extendedKeyUsage has neither the purpose nor anyExtendedKeyUsage (RFC 5280 §4.2.1.12; OpenSSL's
/// purpose check of CAs, `openssl verify -purpose sslclient`), null when none does.
struct LeafUse {
  X509* leaf = nullptr;
  X509* client_blocker = nullptr;
  X509* server_blocker = nullptr;

  bool client() const { return usable_for_client(leaf) && client_blocker == nullptr; }
  bool server() const { return usable_for_server(leaf) && server_blocker == nullptr; }
};

/// The CA of `chain` (above its leaf, the anchor included) whose EKU excludes `purpose` (XKU_SSL_CLIENT,
/// XKU_SSL_SERVER), or null.
X509* eku_blocker(const BuiltChain& chain, uint32_t purpose) {
  for (std::size_t i = 1; i < chain.path.size(); ++i) {
    X509* ca = chain.path[i];
    if (!has_eku(ca)) continue;
    const uint32_t eku = X509_get_extended_key_usage(ca);
    if ((eku & (purpose | XKU_ANYEKU)) == 0) return ca;
  }
  return nullptr;
}

LeafUse leaf_use(X509* leaf, const BuiltChain& chain) {
  return LeafUse{leaf, eku_blocker(chain, XKU_SSL_CLIENT), eku_blocker(chain, XKU_SSL_SERVER)};
}

/// The CERT_USAGE message for a leaf allowing `purpose` (`eku`) under a CA (`blocker`) whose
/// extendedKeyUsage excludes it, on a sheet of protocol `label` (out of check_usage's loop, where
/// clang-tidy asks not to build strings by `+`).
std::string blocked_usage_message(const std::string& leaf, const std::string& purpose, const char* eku,
                                  const std::string& blocker, std::string_view label) {
  return "Le certificat " + leaf + " autorise " + purpose + " (" + eku + "), mais le certificat d'autorité " + blocker +
         " de sa chaîne limite son usage étendu (extendedKeyUsage) à d'autres usages, sans " + eku +
         " : ce certificat ne peut pas servir à " + purpose + ", exigée pour une fiche " + std::string(label) +
         ". Faites émettre le certificat par une autorité dont l'usage étendu permet " + eku + ".";
}

/// CERT_USAGE (F23): the leaves of all bundles together allow client authentication and, for PESIT
/// and AS2, server authentication, their chains' CAs included (docs/reference.md §4). On the bundle's field when
/// there is one, else on "Certificats".
void check_usage(const SheetOperation& sheet, std::optional<Protocol> protocol, const std::vector<Bundle>& bundles,
                 const std::vector<LeafUse>& leaves, Diagnostics& diags) {
  const std::string_view label = protocol_label(protocol);
  const bool need_server = takes_a_pair(protocol);
  bool client = false;
  bool server = false;
  for (const LeafUse& use : leaves) {
    client = client || use.client();
    server = server || use.server();
  }
  const std::string field = bundles.size() == 1 ? bundles.front().field : "Certificats";
  const int line = bundles.size() == 1 ? bundles.front().line : sheet.certificates_line;
  std::string names;
  for (const LeafUse& use : leaves) {
    names += names.empty() ? "" : ", ";
    names += describe(use.leaf);
  }
  // A leaf that allows the purpose itself, but under a CA whose extendedKeyUsage excludes it: the message
  // names that CA. True when it was reported.
  auto blocked = [&](const std::string& purpose, const char* eku, bool for_client) {
    for (const LeafUse& use : leaves) {
      X509* blocker = for_client ? use.client_blocker : use.server_blocker;
      const bool allowed = for_client ? usable_for_client(use.leaf) : usable_for_server(use.leaf);
      if (!allowed || blocker == nullptr) continue;
      diags.push_back(
          Diagnostic::error(ErrorCode::CertUsage, field, line,
                            blocked_usage_message(describe(use.leaf), purpose, eku, describe(blocker), label)));
      return true;
    }
    return false;
  };
  auto missing = [&](const std::string& purpose, const char* eku) {
    std::string msg;
    if (leaves.empty()) {
      msg =
          "Le fichier PKCS#7 ne contient que des certificats d'autorité, aucun certificat final : il faut un "
          "certificat qui autorise " +
          purpose + " (" + eku + ") pour une fiche " + std::string(label) + ".";
    } else if (leaves.size() == 1) {
      msg = "Le certificat " + names + " n'autorise pas " + purpose + " (" + eku + "), exigée pour une fiche " +
            std::string(label) + " : faites émettre un certificat avec l'usage étendu " + eku + ".";
    } else {
      msg = "Aucun des certificats " + names + " n'autorise " + purpose + " (" + eku + "), exigée pour une fiche " +
            std::string(label) + " : faites émettre un certificat avec l'usage étendu " + eku + ".";
    }
    diags.push_back(Diagnostic::error(ErrorCode::CertUsage, field, line, std::move(msg)));
  };
  if (!client && !blocked("l'authentification client", "clientAuth", true)) {
    missing("l'authentification client", "clientAuth");
  }
  if (need_server && !server && !blocked("l'authentification serveur", "serverAuth", false)) {
    if (client && !leaves.empty()) {
      // A client certificate alone: what is missing is a second certificate, not another usage.
      diags.push_back(
          Diagnostic::error(ErrorCode::CertUsage, "Certificats", sheet.certificates_line,
                            "Une fiche " + std::string(label) +
                                " exige aussi un certificat pour l'authentification serveur (serverAuth) : ajoutez un "
                                "certificat serveur, dans un second "
                                "élément <Certificat> ou dans le même fichier PKCS#7, en plus du certificat client " +
                                names + "."));
    } else {
      missing("l'authentification serveur", "serverAuth");
    }
  }
}

}  // namespace

// =============================================================================================

struct CertificateChecker::Impl {
  // OpenSSL 3.0's decoders take their library context's locks thousands of times per certificate:
  // two threads decoding in the default context run no faster than one (issue 7, measured). Each
  // check therefore decodes and verifies in a context of its own, taken from this pool (one per
  // thread checking at a time). Declared first: destroyed after the trust states, whose proved
  // authorities may hold certificates decoded in these contexts.
  DecodingContextPool contexts;

  mutable std::mutex mutex;
  std::shared_ptr<const TrustState> trust;
  std::vector<TrustStoreNote> log;
  int anchors = 0;
  std::shared_ptr<const CrlStore> crls = std::make_shared<const CrlStore>();
  // A background load of the CRLs (CrlLoading::Background) not yet taken into `crls` (crls()). Its thread
  // uses nothing of this object; the future's destructor joins it.
  std::shared_future<std::shared_ptr<const CrlStore>> pending_crls;
  ChainCounters counters;

  std::shared_ptr<const TrustState> snapshot() const {
    std::lock_guard lock(mutex);
    return trust;
  }
};

namespace {

/// The CRLs of policy.crl_dir (CrlStore::load; none when the mode is `Aucune` or the directory is unset), and
/// their lines in `log` (see CertificateChecker::reload_crls).
std::shared_ptr<const CrlStore> load_crls(const CertificatePolicy& policy, std::vector<TrustStoreNote>& log) {
  std::vector<std::string> lines;
  std::shared_ptr<const CrlStore> loaded = policy.revocation == RevocationMode::Aucune || policy.crl_dir.empty()
                                               ? std::make_shared<const CrlStore>()
                                               : CrlStore::load(policy.crl_dir, lines);
  log.reserve(log.size() + lines.size());
  for (std::string& line : lines) {
    // CrlStore::load's lines: a file's count of CRLs is information; a file skipped, a CRL that does not
    // verify, a directory absent, unreadable or without CRLs is a problem worth a warning.
    const bool problem = line.find("ignoré") != std::string::npos || line.find("absent") != std::string::npos ||
                         line.find("aucune CRL") != std::string::npos ||
                         line.find("lecture du répertoire") != std::string::npos;
    log.push_back(TrustStoreNote{problem, std::move(line)});
  }
  return loaded;
}

}  // namespace

CertificateChecker::CertificateChecker(CertificatePolicy policy, CrlLoading loading, CrlNotesSink on_crl_notes)
    : policy_(std::move(policy)), impl_(std::make_unique<Impl>()) {
  std::vector<TrustStoreNote> log;
  if (loading == CrlLoading::Now) {
    reload_trust_store(log);
    return;
  }
  LoadedTrustStore loaded = load_trust_store(policy_.trust_dir);
  impl_->trust = std::move(loaded.state);
  impl_->log = std::move(loaded.log);
  impl_->anchors = loaded.anchors;
  auto load = [policy = policy_, sink = std::move(on_crl_notes)] {
    std::vector<TrustStoreNote> notes;
    std::shared_ptr<const CrlStore> store = load_crls(policy, notes);
    if (sink) sink(std::move(notes));
    return store;
  };
  try {
    impl_->pending_crls = std::async(std::launch::async, load).share();
  } catch (const std::system_error&) {  // no thread to be had: loaded here, as CrlLoading::Now would
    impl_->crls = load();
  }
}

CertificateChecker::~CertificateChecker() = default;

int CertificateChecker::reload_trust_store(std::vector<TrustStoreNote>& log) {
  LoadedTrustStore loaded = load_trust_store(policy_.trust_dir);
  log.insert(log.end(), loaded.log.begin(), loaded.log.end());
  std::vector<TrustStoreNote> crl_log;
  reload_crls(crl_log);
  log.insert(log.end(), crl_log.begin(), crl_log.end());
  loaded.log.insert(loaded.log.end(), crl_log.begin(), crl_log.end());
  std::lock_guard lock(impl_->mutex);
  impl_->trust = std::move(loaded.state);
  impl_->log = std::move(loaded.log);
  impl_->anchors = loaded.anchors;
  return loaded.anchors;
}

std::size_t CertificateChecker::reload_crls(std::vector<TrustStoreNote>& log) {
  (void)crls();  // a background load still running is taken first, never swapped in over this one
  std::shared_ptr<const CrlStore> loaded = load_crls(policy_, log);
  const std::size_t count = loaded->size();
  std::lock_guard lock(impl_->mutex);
  impl_->crls = std::move(loaded);
  return count;
}

std::shared_ptr<const CrlStore> CertificateChecker::crls() const {
  std::shared_future<std::shared_ptr<const CrlStore>> pending;
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->pending_crls.valid()) return impl_->crls;
    pending = impl_->pending_crls;
  }
  const std::shared_ptr<const CrlStore>& loaded = pending.get();  // waits for the whole store
  std::lock_guard lock(impl_->mutex);
  if (impl_->pending_crls.valid()) {  // the first to get here swaps it in (a reload may have done it since)
    impl_->crls = loaded;
    impl_->pending_crls = {};
  }
  return impl_->crls;
}

std::vector<CrlStore::IssuerCrl> CertificateChecker::newest_verified_crls(
    Instant at, const std::vector<RecordedAuthority>& recorded) const {
  const std::shared_ptr<const CrlStore> store = crls();
  if (store->size() == 0) return {};  // no CRL (or revocation not checked): nothing to name after each group
  const std::shared_ptr<const TrustState> trust = impl_->snapshot();
  std::vector<const X509*> known;
  for (const StoreCert& c : trust->certs) known.push_back(c.cert.get());
  const auto proved = trust->cache.all();  // held while `known` points into their chains
  for (const auto& authority : proved) {
    for (const X509Ptr& c : authority->chain) known.push_back(c.get());
  }
  std::vector<X509Ptr> decoded;  // `recorded`, held while `known` points to them
  for (const RecordedAuthority& a : recorded) {
    if (trust->fingerprints.count(a.anchor_fingerprint) == 0) continue;  // its anchor is no longer trusted
    BioPtr bio(BIO_new_mem_buf(a.pem.data(), static_cast<int>(a.pem.size())));
    X509Ptr x(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    ERR_clear_error();
    if (!x) continue;
    known.push_back(x.get());
    decoded.push_back(std::move(x));
  }
  return store->newest_verified_crls(known, at, policy_.crl_settings());
}

std::vector<RecordedAuthority> CertificateChecker::proved_authorities() const {
  std::vector<RecordedAuthority> out;
  std::set<std::string> seen;
  for (const auto& authority : impl_->snapshot()->cache.all()) {
    for (std::size_t i = 0; i + 1 < authority->chain.size(); ++i) {
      if (!seen.insert(authority->fingerprints[i]).second) continue;
      BioPtr bio(BIO_new(BIO_s_mem()));
      if (!bio || PEM_write_bio_X509(bio.get(), authority->chain[i].get()) != 1) {
        ERR_clear_error();
        continue;
      }
      char* data = nullptr;
      const long size = BIO_get_mem_data(bio.get(), &data);
      out.push_back(RecordedAuthority{authority->fingerprints[i], std::string(data, static_cast<std::size_t>(size)),
                                      authority->fingerprints.back()});
    }
  }
  return out;
}

CertificateCacheStats CertificateChecker::cache_stats() const {
  CertificateCacheStats stats;
  stats.full_verifications = impl_->counters.full_verifications.load();
  stats.cached_verifications = impl_->counters.cached_verifications.load();
  stats.proved_authorities = impl_->snapshot()->cache.size();
  stats.reused_authority_decodings = impl_->contexts.reused_authority_decodings();
  return stats;
}

void CertificateChecker::clear_cache() {
  impl_->snapshot()->cache.clear();
  impl_->counters.full_verifications = 0;
  impl_->counters.cached_verifications = 0;
  impl_->contexts.clear_idle();
}

std::vector<TrustStoreNote> CertificateChecker::trust_store_log() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->log;
}

int CertificateChecker::trust_anchor_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->anchors;
}

CertificateReport CertificateChecker::check(const SheetOperation& sheet, std::optional<Protocol> protocol, Instant at,
                                            bool with_chains) const {
  CertificateReport report;
  if (!has_certificates(sheet, report.diagnostics)) return report;
  check_certificate_count(sheet, protocol, report.diagnostics);
  const DecodingContextPool::Lease decoding(impl_->contexts);
  const DecodedBundles decoded = decode_bundles(sheet, decoding.context(), report);

  const std::shared_ptr<const TrustState> trust = impl_->snapshot();
  const std::shared_ptr<const CrlStore> crls = this->crls();
  const std::optional<Instant> du = period_start(sheet);
  const auto skew = std::chrono::seconds(policy_.clock_skew_s);
  std::vector<LeafUse> leaves;
  for (const Bundle& bundle : decoded.bundles) {
    BundleFindings findings(bundle, report.diagnostics);
    for (const X509Ptr& owned : bundle.certs) {
      X509* leaf = owned.get();
      if (is_ca(leaf)) continue;  // leaves are the bundle's non-CA certificates (docs/reference.md §4)
      const BuiltChain chain = build_chain(leaf, bundle.view(), *trust, at, skew, decoding.libctx(), impl_->counters);
      leaves.push_back(leaf_use(leaf, chain));
      check_chain_end(leaf, chain, *trust, findings);
      if (with_chains) report.chains.push_back(describe_chain(chain, bundle.index, *trust));
      check_chain_certificates(chain, at, policy_, findings);
      check_profile(chain, *trust, findings);
      check_leaf_end(leaf, at, du, policy_, findings);
      check_revocation(chain, at, policy_, *crls, findings);
      warn_leaf_without_eku(leaf, findings);
    }
  }
  if (!decoded.bundles.empty() && !decoded.some_unusable) {
    check_usage(sheet, protocol, decoded.bundles, leaves, report.diagnostics);
  }
  return report;
}

}  // namespace raccord::rules
