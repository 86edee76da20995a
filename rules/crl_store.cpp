// CRL store (see crl_store.hpp; docs/revocation.md). OpenSSL 3.0 C API, private to rules/.
#include "rules/crl_store.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "rules/certificate_facts.hpp"  // name_text

namespace raccord::rules {
namespace {

namespace fs = std::filesystem;

struct CrlFree {
  void operator()(X509_CRL* p) const { X509_CRL_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using CrlPtr = std::unique_ptr<X509_CRL, CrlFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

std::optional<Instant> to_instant(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  using namespace std::chrono;
  const sys_days day{year{tm.tm_year + 1900} / month{static_cast<unsigned>(tm.tm_mon + 1)} /
                     std::chrono::day{static_cast<unsigned>(tm.tm_mday)}};
  return Instant{day} + hours{tm.tm_hour} + minutes{tm.tm_min} + seconds{tm.tm_sec};
}

/// Uppercase hex of an integer, as CertificateFacts::serial (BN_bn2hex).
std::string integer_hex(const ASN1_INTEGER* n) {
  BnPtr bn(ASN1_INTEGER_to_BN(n, nullptr));
  if (!bn) return {};
  char* hex = BN_bn2hex(bn.get());
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  return out;
}

std::string integer_decimal(const ASN1_INTEGER* n) {
  BnPtr bn(ASN1_INTEGER_to_BN(n, nullptr));
  if (!bn) return {};
  char* dec = BN_bn2dec(bn.get());
  std::string out = dec != nullptr ? dec : "";
  OPENSSL_free(dec);
  return out;
}

std::string openssl_error() {
  const unsigned long e = ERR_peek_last_error();
  char buf[256] = {};
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

/// Critical extensions a reader of CRLs is expected to know (RFC 5280 §5.2, §5.3). IDP and delta CRLs are
/// known, but they never prove good anyway.
bool known_crl_extension(int nid) {
  return nid == NID_authority_key_identifier || nid == NID_crl_number || nid == NID_delta_crl ||
         nid == NID_issuing_distribution_point || nid == NID_freshest_crl || nid == NID_info_access ||
         nid == NID_issuer_alt_name;
}
bool known_entry_extension(int nid) {
  return nid == NID_crl_reason || nid == NID_invalidity_date || nid == NID_certificate_issuer ||
         nid == NID_hold_instruction_code;
}

bool has_unknown_critical_extension(const X509_CRL* crl) {
  for (int i = 0; i < X509_CRL_get_ext_count(crl); ++i) {
    X509_EXTENSION* ext = X509_CRL_get_ext(crl, i);
    if (X509_EXTENSION_get_critical(ext) && !known_crl_extension(OBJ_obj2nid(X509_EXTENSION_get_object(ext))))
      return true;
  }
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(const_cast<X509_CRL*>(crl));
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    const STACK_OF(X509_EXTENSION)* exts = X509_REVOKED_get0_extensions(sk_X509_REVOKED_value(revoked, i));
    for (int j = 0; j < sk_X509_EXTENSION_num(exts); ++j) {
      X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, j);
      if (X509_EXTENSION_get_critical(ext) && !known_entry_extension(OBJ_obj2nid(X509_EXTENSION_get_object(ext))))
        return true;
    }
  }
  return false;
}

/// What a CRL says about itself; nullopt when its thisUpdate cannot be read (the CRL is then unusable).
std::optional<CrlInfo> info_of(X509_CRL* crl, const fs::path& file) {
  CrlInfo info;
  info.file = file;
  info.issuer = name_text(X509_CRL_get_issuer(crl));
  const auto this_update = to_instant(X509_CRL_get0_lastUpdate(crl));
  if (!this_update) return std::nullopt;
  info.this_update = *this_update;
  if (const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl)) {
    info.next_update = to_instant(next);
    if (!info.next_update) return std::nullopt;
  }
  int critical = 0;
  if (auto* number = static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl, NID_crl_number, &critical, nullptr))) {
    info.crl_number = integer_decimal(number);
    ASN1_INTEGER_free(number);
  }
  info.delta = X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) >= 0;
  info.issuing_distribution_point = X509_CRL_get_ext_by_NID(crl, NID_issuing_distribution_point, -1) >= 0;
  info.unknown_critical_extension = has_unknown_critical_extension(crl);
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
  info.entries = revoked == nullptr ? 0 : static_cast<std::size_t>(sk_X509_REVOKED_num(revoked));
  return info;
}

/// Decodes every CRL of `bytes` (PEM: every "X509 CRL" block, other blocks named in `ignored`; DER: CRLs one
/// after the other). False (with `why`, French) when any part is not a CRL, or there is none.
bool decode_crls(std::string_view bytes, std::vector<CrlPtr>& out, std::vector<std::string>& ignored,
                 std::string& why) {
  out.clear();
  if (bytes.empty()) {
    why = "fichier vide";
    return false;
  }
  if (bytes.find("-----BEGIN ") != std::string_view::npos) {
    BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    for (;;) {
      char* name = nullptr;
      char* header = nullptr;
      unsigned char* data = nullptr;
      long len = 0;
      if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
        const unsigned long e = ERR_peek_last_error();
        const bool end = ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
        const std::string detail = openssl_error();
        if (end) break;
        why = "bloc PEM illisible (" + detail + ")";
        return false;
      }
      const std::string block = name;
      bool ok = true;
      if (block == "X509 CRL") {
        const unsigned char* p = data;
        CrlPtr crl(d2i_X509_CRL(nullptr, &p, len));
        if (!crl || p != data + len) {
          why = "bloc « X509 CRL » qui n'est pas une CRL (" + openssl_error() + ")";
          ok = false;
        } else {
          out.push_back(std::move(crl));
        }
      } else {
        ignored.push_back(block);
      }
      OPENSSL_free(name);
      OPENSSL_free(header);
      OPENSSL_free(data);
      if (!ok) return false;
    }
    if (out.empty()) {
      why = "aucun bloc PEM « X509 CRL »";
      return false;
    }
    return true;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  while (p < end) {
    CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(end - p)));
    if (!crl) {
      why = out.empty() ? "ni PEM ni CRL DER (" + openssl_error() + ")"
                        : "octets après la CRL DER n° " + std::to_string(out.size()) + " qui ne sont pas une CRL (" +
                              openssl_error() + ")";
      out.clear();
      return false;
    }
    out.push_back(std::move(crl));
  }
  return true;
}

using KeyDigest = std::array<unsigned char, 32>;

KeyDigest key_digest(const X509* issuer) {
  KeyDigest d{};
  unsigned int len = 0;
  if (X509_pubkey_digest(issuer, EVP_sha256(), d.data(), &len) != 1) ERR_clear_error();
  return d;
}

struct LoadedCrl {
  CrlPtr crl;
  CrlInfo info;
};

/// The serial of an entry that counts for revoked: not removeFromCRL.
bool entry_counts(const X509_REVOKED* entry) {
  int critical = 0;
  auto* reason = static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, &critical, nullptr));
  if (reason == nullptr) return true;
  const long code = ASN1_ENUMERATED_get(reason);
  ASN1_ENUMERATED_free(reason);
  return code != CRL_REASON_REMOVE_FROM_CRL;
}

std::string two_digits(long v) {
  return (v < 10 ? "0" : "") + std::to_string(v);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Free functions.

std::optional<RevocationMode> parse_revocation_mode(std::string_view text) {
  if (text == "aucune") return RevocationMode::Aucune;
  if (text == "souple") return RevocationMode::Souple;
  if (text == "stricte") return RevocationMode::Stricte;
  return std::nullopt;
}

std::string_view to_string(RevocationMode mode) {
  switch (mode) {
    case RevocationMode::Aucune:
      return "aucune";
    case RevocationMode::Souple:
      return "souple";
    case RevocationMode::Stricte:
      return "stricte";
  }
  return "souple";
}

bool is_current(const CrlInfo& crl, Instant at, const CrlSettings& settings) {
  using namespace std::chrono;
  if (crl.this_update > at + seconds{settings.clock_skew_s}) return false;
  if (crl.next_update && at > *crl.next_update + hours{settings.grace_h}) return false;
  return at - crl.this_update <= days{settings.max_age_days};
}

bool can_prove_good(const CrlInfo& crl) {
  return !crl.delta && !crl.issuing_distribution_point && !crl.unknown_critical_extension;
}

bool is_newer(const CrlInfo& a, const CrlInfo& b) {
  if (a.this_update != b.this_update) return a.this_update > b.this_update;
  if (a.crl_number.empty() || b.crl_number.empty()) return !a.crl_number.empty() && b.crl_number.empty();
  // Non-negative decimals without leading zeros (BN_bn2dec): longer is greater, else compare the text.
  if (a.crl_number.size() != b.crl_number.size()) return a.crl_number.size() > b.crl_number.size();
  return a.crl_number > b.crl_number;
}

std::string reason_label(int code) {
  switch (code) {
    case 0:
      return "motif non précisé";
    case 1:
      return "compromission de la clé";
    case 2:
      return "compromission de l'autorité";
    case 3:
      return "changement d'affiliation";
    case 4:
      return "certificat remplacé";
    case 5:
      return "cessation d'activité";
    case 6:
      return "certificat suspendu";
    case 8:
      return "retiré de la CRL";
    case 9:
      return "privilège retiré";
    case 10:
      return "compromission de l'autorité d'attributs";
    default:
      return "motif inconnu (" + std::to_string(code) + ")";
  }
}

std::string format_crl_instant(Instant instant) {
  using namespace std::chrono;
  const auto day = floor<days>(instant);
  const hh_mm_ss<seconds> time{instant - day};
  return format_french_date(CivilDate{day}) + " " + two_digits(time.hours().count()) + ":" +
         two_digits(time.minutes().count()) + " UTC";
}

namespace {

std::string crl_text(const CrlInfo& c) {
  std::string s = "la CRL de « " + c.issuer + " » émise le " + format_crl_instant(c.this_update);
  s += c.next_update ? " (prochaine mise à jour le " + format_crl_instant(*c.next_update) + ")"
                     : std::string(" (sans date de prochaine mise à jour)");
  return s;
}

}  // namespace

std::string describe(const RevocationAnswer& a, std::string_view issuer, Instant at, const CrlSettings& settings) {
  using namespace std::chrono;
  switch (a.status) {
    case RevocationStatus::Revoked: {
      std::string s = "révoqué";
      if (a.revocation_date) s += " le " + format_crl_instant(*a.revocation_date);
      if (a.reason_code) s += " (" + reason_label(*a.reason_code) + ")";
      if (a.crl) s += " d'après " + crl_text(*a.crl);
      return s;
    }
    case RevocationStatus::Good:
      return a.crl ? "non révoqué d'après " + crl_text(*a.crl) : std::string("non révoqué");
    case RevocationStatus::Unknown:
      break;
  }
  switch (a.cause) {
    case UnknownCause::None:
    case UnknownCause::NoCrl:
      return "aucune CRL de l'autorité « " + std::string(issuer) + " » dans le répertoire des CRL";
    case UnknownCause::BadSignature:
      return "les CRL de l'autorité « " + std::string(issuer) +
             " » présentes ne sont pas signées par sa clé et sont ignorées" +
             (a.crl ? " (dont " + crl_text(*a.crl) + ")" : std::string());
    case UnknownCause::Stale: {
      if (!a.crl) return "aucune CRL à jour de l'autorité « " + std::string(issuer) + " »";
      const CrlInfo& c = *a.crl;
      if (c.this_update > at + seconds{settings.clock_skew_s}) return crl_text(c) + " n'est pas encore en vigueur";
      if (c.next_update && at > *c.next_update + hours{settings.grace_h}) {
        return crl_text(c) + " est périmée (prochaine mise à jour dépassée de plus de " +
               std::to_string(settings.grace_h) + " h)";
      }
      return crl_text(c) + " est trop ancienne (plus de " + std::to_string(settings.max_age_days) + " jours)";
    }
    case UnknownCause::CannotProveGood:
      return (a.crl ? crl_text(*a.crl) : "la CRL de « " + std::string(issuer) + " »") +
             " ne peut pas établir qu'il n'est pas révoqué (CRL delta, partielle ou à extension critique inconnue) "
             "et aucune CRL complète à jour n'est présente";
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// CrlStore.

struct CrlStore::Impl {
  std::vector<LoadedCrl> crls;
  std::unordered_multimap<unsigned long, std::size_t> by_issuer_hash;  // X509_NAME_hash_ex of the CRL issuer

  // Signature verifications, by (CRL index, SHA-256 of the issuer's SubjectPublicKeyInfo).
  mutable std::shared_mutex cache_mutex;
  mutable std::map<std::pair<std::size_t, KeyDigest>, bool> verified;
  mutable std::mutex verify_mutex;  // one verification at a time (each is done once per CRL and key)
  mutable std::mutex log_mutex;
  mutable std::vector<std::string> log;

  mutable std::once_flag entries_once;
  mutable std::unordered_set<std::string> entries;  // issuer RFC 2253 + '\n' + serial hex

  static unsigned long name_hash(const X509_NAME* name) {
    int ok = 0;
    const unsigned long h = X509_NAME_hash_ex(name, nullptr, nullptr, &ok);
    if (ok != 1) ERR_clear_error();
    return h;
  }

  /// Indexes of the CRLs whose issuer is `name`.
  std::vector<std::size_t> named(const X509_NAME* name) const {
    std::vector<std::size_t> out;
    const auto range = by_issuer_hash.equal_range(name_hash(name));
    for (auto it = range.first; it != range.second; ++it) {
      if (X509_NAME_cmp(X509_CRL_get_issuer(crls[it->second].crl.get()), name) == 0) out.push_back(it->second);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  bool verifies(std::size_t index, const X509* issuer) const {
    const LoadedCrl& c = crls.at(index);
    if (X509_NAME_cmp(X509_get_subject_name(issuer), X509_CRL_get_issuer(c.crl.get())) != 0) return false;
    const auto key = std::make_pair(index, key_digest(issuer));
    {
      std::shared_lock lock(cache_mutex);
      if (auto it = verified.find(key); it != verified.end()) return it->second;
    }
    bool ok = false;
    {
      std::lock_guard lock(verify_mutex);
      {
        std::shared_lock read(cache_mutex);
        if (auto it = verified.find(key); it != verified.end()) return it->second;
      }
      EVP_PKEY* pkey = X509_get0_pubkey(issuer);
      ok = pkey != nullptr && X509_CRL_verify(c.crl.get(), pkey) == 1;
      ERR_clear_error();
      std::unique_lock write(cache_mutex);
      verified.emplace(key, ok);
    }
    if (!ok) {
      std::lock_guard lock(log_mutex);
      log.push_back("CRL : " + c.info.file.string() + " (émetteur « " + c.info.issuer + " », émise le " +
                    format_crl_instant(c.info.this_update) +
                    ") ne se vérifie pas avec la clé de cette autorité : ignorée");
    }
    return ok;
  }

  void build_entries() const {
    for (const auto& c : crls) {
      STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(c.crl.get());
      for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
        const X509_REVOKED* entry = sk_X509_REVOKED_value(revoked, i);
        if (!entry_counts(entry)) continue;
        entries.insert(c.info.issuer + '\n' + integer_hex(X509_REVOKED_get0_serialNumber(entry)));
      }
    }
  }
};

CrlStore::CrlStore() : impl_(std::make_unique<Impl>()) {}
CrlStore::~CrlStore() = default;

bool CrlStore::add(std::string_view bytes, const fs::path& file, std::string& why) {
  std::vector<CrlPtr> decoded;
  std::vector<std::string> ignored;
  if (!decode_crls(bytes, decoded, ignored, why)) return false;
  std::vector<LoadedCrl> loaded;
  for (auto& crl : decoded) {
    auto info = info_of(crl.get(), file);
    if (!info) {
      why = "date thisUpdate ou nextUpdate illisible";
      return false;
    }
    // Sorted once here, before any concurrent lookup (X509_CRL_get0_by_serial sorts lazily otherwise).
    if (STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get())) sk_X509_REVOKED_sort(revoked);
    loaded.push_back(LoadedCrl{std::move(crl), std::move(*info)});
  }
  if (!ignored.empty()) {
    why = "blocs PEM ignorés :";
    for (const auto& name : ignored) why += " « " + name + " »";
  }
  for (auto& c : loaded) {
    impl_->by_issuer_hash.emplace(Impl::name_hash(X509_CRL_get_issuer(c.crl.get())), impl_->crls.size());
    impl_->crls.push_back(std::move(c));
  }
  return true;
}

std::shared_ptr<const CrlStore> CrlStore::load(const fs::path& dir, std::vector<std::string>& log) {
  auto store = std::make_shared<CrlStore>();
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) {
    log.push_back("CRL : répertoire des CRL absent (" + dir.string() +
                  ") ; la révocation de tout certificat sera inconnue");
    return store;
  }
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.front() == '.') continue;
    std::error_code sec;
    if (!fs::is_regular_file(it->status(sec))) continue;  // symbolic links followed, like trust_dir
    files.push_back(it->path());
  }
  if (ec) log.push_back("CRL : lecture du répertoire " + dir.string() + " : " + ec.message());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::error_code sec;
    const auto size = fs::file_size(file, sec);
    if (sec) {
      log.push_back("CRL : " + file.string() + " ignoré, illisible (" + sec.message() + ")");
      continue;
    }
    if (size > kMaxCrlBytes) {
      log.push_back("CRL : " + file.string() + " ignoré, " + std::to_string(size) + " octets dépassent la limite de " +
                    std::to_string(kMaxCrlBytes) + " octets (50 Mio)");
      continue;
    }
    std::ifstream in(file, std::ios::binary);
    std::string bytes;
    bytes.resize(static_cast<std::size_t>(size) + 1);
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    bytes.resize(static_cast<std::size_t>(in.gcount()));
    if (in.bad() || bytes.size() > kMaxCrlBytes) {
      log.push_back("CRL : " + file.string() + " ignoré, illisible ou grossi pendant la lecture");
      continue;
    }
    const std::size_t before = store->size();
    std::string why;
    if (!store->add(bytes, file, why)) {
      log.push_back("CRL : " + file.string() + " ignoré, illisible : " + why);
      continue;
    }
    log.push_back("CRL : " + file.string() + " : " + std::to_string(store->size() - before) + " CRL" +
                  (why.empty() ? std::string() : " (" + why + ")"));
  }
  if (store->size() == 0) {
    log.push_back("CRL : aucune CRL dans " + dir.string() + " ; la révocation de tout certificat sera inconnue");
  }
  return store;
}

RevocationAnswer CrlStore::status(const X509* cert, const X509* issuer, Instant at, const CrlSettings& settings) const {
  RevocationAnswer answer;
  const auto candidates = impl_->named(X509_get_issuer_name(cert));
  if (candidates.empty()) {
    answer.cause = UnknownCause::NoCrl;
    return answer;
  }
  std::vector<std::size_t> verified;
  for (std::size_t i : candidates) {
    if (impl_->verifies(i, issuer)) verified.push_back(i);
  }
  auto newest = [&](const std::vector<std::size_t>& among) -> std::optional<std::size_t> {
    std::optional<std::size_t> best;
    for (std::size_t i : among) {
      if (!best || is_newer(impl_->crls[i].info, impl_->crls[*best].info)) best = i;
    }
    return best;
  };
  if (verified.empty()) {
    answer.cause = UnknownCause::BadSignature;
    answer.crl = impl_->crls[*newest(candidates)].info;
    return answer;
  }
  // Revoked: listed in any verified CRL, whatever its dates and kind (removeFromCRL excepted).
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  std::optional<std::size_t> listing;
  X509_REVOKED* listing_entry = nullptr;
  for (std::size_t i : verified) {
    X509_REVOKED* entry = nullptr;
    if (X509_CRL_get0_by_serial(impl_->crls[i].crl.get(), &entry, serial) == 1 && entry != nullptr) {
      if (!listing || is_newer(impl_->crls[i].info, impl_->crls[*listing].info)) {
        listing = i;
        listing_entry = entry;
      }
    }
  }
  if (listing) {
    answer.status = RevocationStatus::Revoked;
    answer.cause = UnknownCause::None;
    answer.crl = impl_->crls[*listing].info;
    answer.revocation_date = to_instant(X509_REVOKED_get0_revocationDate(listing_entry));
    int critical = 0;
    if (auto* reason = static_cast<ASN1_ENUMERATED*>(
            X509_REVOKED_get_ext_d2i(listing_entry, NID_crl_reason, &critical, nullptr))) {
      answer.reason_code = static_cast<int>(ASN1_ENUMERATED_get(reason));
      ASN1_ENUMERATED_free(reason);
    }
    return answer;
  }
  // Good: a verified, complete CRL current at the instant.
  std::vector<std::size_t> complete, current;
  for (std::size_t i : verified) {
    if (!can_prove_good(impl_->crls[i].info)) continue;
    complete.push_back(i);
    if (is_current(impl_->crls[i].info, at, settings)) current.push_back(i);
  }
  if (!current.empty()) {
    answer.status = RevocationStatus::Good;
    answer.cause = UnknownCause::None;
    answer.crl = impl_->crls[*newest(current)].info;
    return answer;
  }
  answer.cause = complete.empty() ? UnknownCause::CannotProveGood : UnknownCause::Stale;
  answer.crl = impl_->crls[*newest(complete.empty() ? verified : complete)].info;
  return answer;
}

bool CrlStore::has_current_crl(const X509* issuer, Instant at, const CrlSettings& settings) const {
  for (std::size_t i : impl_->named(X509_get_subject_name(issuer))) {
    const CrlInfo& info = impl_->crls[i].info;
    if (can_prove_good(info) && is_current(info, at, settings) && impl_->verifies(i, issuer)) return true;
  }
  return false;
}

std::optional<CrlInfo> CrlStore::newest_complete_crl(const X509* issuer) const {
  std::optional<std::size_t> best;
  for (std::size_t i : impl_->named(X509_get_subject_name(issuer))) {
    const CrlInfo& info = impl_->crls[i].info;
    if (info.delta || !impl_->verifies(i, issuer)) continue;
    if (!best || is_newer(info, impl_->crls[*best].info)) best = i;
  }
  if (!best) return std::nullopt;
  return impl_->crls[*best].info;
}

std::size_t CrlStore::size() const {
  return impl_->crls.size();
}

const CrlInfo& CrlStore::info(std::size_t index) const {
  return impl_->crls.at(index).info;
}

bool CrlStore::verifies(std::size_t index, const X509* issuer) const {
  return impl_->verifies(index, issuer);
}

bool CrlStore::listed(std::string_view issuer_rfc2253, std::string_view serial_hex) const {
  std::call_once(impl_->entries_once, [this] { impl_->build_entries(); });
  std::string key;
  key.reserve(issuer_rfc2253.size() + 1 + serial_hex.size());
  key.append(issuer_rfc2253).append(1, '\n').append(serial_hex);
  return impl_->entries.contains(key);
}

void CrlStore::for_each_entry(const std::function<void(std::string_view, std::string_view)>& on_entry) const {
  for (const auto& c : impl_->crls) {
    STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(c.crl.get());
    for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
      const X509_REVOKED* entry = sk_X509_REVOKED_value(revoked, i);
      if (!entry_counts(entry)) continue;
      on_entry(c.info.issuer, integer_hex(X509_REVOKED_get0_serialNumber(entry)));
    }
  }
}

std::vector<std::string> CrlStore::take_log() const {
  std::lock_guard lock(impl_->log_mutex);
  std::vector<std::string> out;
  out.swap(impl_->log);
  return out;
}

// ---------------------------------------------------------------------------------------------
// trust refresh.

FetchedCrl judge_fetched_crl(std::string_view bytes, const X509* issuer) {
  FetchedCrl out;
  std::vector<CrlPtr> decoded;
  std::vector<std::string> ignored;
  if (!decode_crls(bytes, decoded, ignored, out.why)) {
    out.why = "le contenu reçu n'est pas une CRL : " + out.why;
    return out;
  }
  if (decoded.size() != 1) {
    out.why = "le contenu reçu contient " + std::to_string(decoded.size()) + " CRL au lieu d'une";
    return out;
  }
  X509_CRL* crl = decoded.front().get();
  auto info = info_of(crl, {});
  if (!info) {
    out.why = "CRL aux dates illisibles";
    return out;
  }
  out.info = *info;
  const std::string expected = name_text(X509_get_subject_name(issuer));
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) {
    out.why = "CRL émise par « " + info->issuer + " » et non par « " + expected + " »";
    return out;
  }
  EVP_PKEY* pkey = X509_get0_pubkey(issuer);
  const bool ok = pkey != nullptr && X509_CRL_verify(crl, pkey) == 1;
  ERR_clear_error();
  if (!ok) {
    out.why = "la signature de la CRL ne se vérifie pas avec la clé de « " + expected + " »";
    return out;
  }
  if (info->delta) {
    out.why = "CRL delta : seule une CRL complète remplace celle en usage";
    return out;
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509_CRL(bio.get(), crl) != 1) {
    out.why = "CRL impossible à réécrire en PEM (" + openssl_error() + ")";
    return out;
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  out.pem.assign(data, static_cast<std::size_t>(len));
  out.accepted = true;
  return out;
}

std::string crl_file_name(const X509* issuer) {
  int ok = 0;
  const unsigned long h = X509_NAME_hash_ex(X509_get_subject_name(issuer), nullptr, nullptr, &ok);
  if (ok != 1) ERR_clear_error();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08lx.crl", h);
  return buf;
}

}  // namespace raccord::rules
