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
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "rules/certificate_facts.hpp"  // name_text
#include "rules/crl_store_internal.hpp"

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

/// True when `bytes` are read as PEM text (decode_crls and decode_fast decide it the same way).
bool is_pem(std::string_view bytes) {
  return bytes.find("-----BEGIN ") != std::string_view::npos;
}

/// The blocks of PEM text `bytes`, read by PEM_read_bio (the one reader of PEM framing here, for both readings
/// of a file): the bytes of every "X509 CRL" block in `crls`, the names of the other blocks in `ignored`.
/// False (with `why`, French) when a block cannot be read.
bool read_pem_blocks(std::string_view bytes, std::vector<std::string>& crls, std::vector<std::string>& ignored,
                     std::string& why) {
  const auto failed = for_each_pem_block(bytes, [&](std::string_view name, std::string_view der) {
    if (name == "X509 CRL") {
      crls.emplace_back(der);
    } else {
      ignored.emplace_back(name);
    }
  });
  if (failed) why = "bloc PEM illisible (" + *failed + ")";
  return !failed;
}

/// Value of each byte as a base64 digit; -1 for any other byte.
constexpr std::array<int, 256> kBase64 = [] {
  std::array<int, 256> t{};
  t.fill(-1);
  constexpr std::string_view kDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < kDigits.size(); ++i) t[static_cast<unsigned char>(kDigits[i])] = static_cast<int>(i);
  return t;
}();

/// The bytes of `body`: base64 in lines of 64 digits and a last one of 4 to 64, each ending in "\n", with
/// "=" padding only at its end. False for any other shape, or padding bits that are not zero.
bool decode_pem_body(std::string_view body, std::string& der) {
  static constexpr std::size_t kLine = 64;
  if (body.size() < 5 || body.back() != '\n') return false;
  const std::size_t full = (body.size() - 2) / (kLine + 1);  // lines of 64 digits before the last one
  const std::size_t last = body.size() - full * (kLine + 1) - 1;
  if (last < 4 || last > kLine || last % 4 != 0) return false;
  for (std::size_t i = 1; i <= full; ++i) {
    if (body[i * (kLine + 1) - 1] != '\n') return false;
  }
  const std::size_t quanta = (full * kLine + last) / 4;
  der.assign(quanta * 3, '\0');
  std::size_t at = 0;
  std::size_t pad = 0;
  std::size_t quantum = 0;
  for (std::size_t line = 0; line <= full; ++line) {
    const auto* p = reinterpret_cast<const unsigned char*>(body.data() + line * (kLine + 1));
    const std::size_t digits = line < full ? kLine : last;
    for (std::size_t i = 0; i < digits; i += 4, ++quantum) {
      int v[4];
      for (std::size_t j = 0; j < 4; ++j) v[j] = kBase64[p[i + j]];
      if (quantum + 1 == quanta && p[i + 3] == '=') {  // the last quantum: "xx==" or "xxx="
        pad = p[i + 2] == '=' ? 2 : 1;
        v[3] = 0;
        if (pad == 2) v[2] = 0;
        if ((pad == 2 && (v[1] & 0x0F) != 0) || (pad == 1 && v[2] >= 0 && (v[2] & 0x03) != 0)) return false;
      }
      if ((v[0] | v[1] | v[2] | v[3]) < 0) return false;
      const auto n = static_cast<std::uint32_t>((v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3]);
      der[at++] = static_cast<char>(n >> 16);
      der[at++] = static_cast<char>((n >> 8) & 0xFF);
      der[at++] = static_cast<char>(n & 0xFF);
    }
  }
  der.resize(at - pad);
  return true;
}

/// The "X509 CRL" blocks of `bytes` when the file is exactly such blocks as PEM_write_bio_X509_CRL (and
/// `openssl crl`) writes them, one after the other: "-----BEGIN X509 CRL-----\n", base64 lines of 64 digits
/// and a last one of 4 to 64 each ending in "\n", "-----END X509 CRL-----\n". Their DER in `ders`. False for
/// any other file (left to PEM_read_bio; `ders` is then empty): read_pem_blocks' reading costs ~12 ns a byte
/// (OpenSSL 3.0 grows a memory BIO line by line), 0.25 s for four 5 MB CRLs (figure 8's profile, bench/README.md); on
/// the files taken here both readings give the same bytes (fast_and_openssl_agree compares them).
bool read_canonical_pem(std::string_view bytes, std::vector<std::string>& ders) {
  static constexpr std::string_view kBegin = "-----BEGIN X509 CRL-----\n";
  static constexpr std::string_view kEnd = "-----END X509 CRL-----\n";
  ders.clear();
  for (std::size_t pos = 0; pos < bytes.size();) {
    const std::size_t end = bytes.find(kEnd, pos + kBegin.size());  // '-' is no base64 digit: the first END
    if (bytes.substr(pos, kBegin.size()) != kBegin || end == std::string_view::npos) {
      ders.clear();
      return false;
    }
    pos += kBegin.size();
    std::string der;
    if (!decode_pem_body(bytes.substr(pos, end - pos), der)) {
      ders.clear();
      return false;
    }
    ders.push_back(std::move(der));
    pos = end + kEnd.size();
  }
  return !ders.empty();
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
  if (is_pem(bytes)) {
    std::vector<std::string> blocks;
    if (!read_pem_blocks(bytes, blocks, ignored, why)) return false;
    for (const std::string& der : blocks) {
      const auto* data = reinterpret_cast<const unsigned char*>(der.data());
      const unsigned char* p = data;
      CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
      if (!crl || p != data + der.size()) {
        why = "bloc « X509 CRL » qui n'est pas une CRL (" + openssl_error() + ")";
        out.clear();
        return false;
      }
      out.push_back(std::move(crl));
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

// ---------------------------------------------------------------------------------------------
// The fast reading of a CRL (issue 17, figure 8). OpenSSL's d2i_X509_CRL allocates about ten objects per
// revoked entry (the entry, its serial, its date, its extensions): 100,000 entries cost ~0.5 s and ~40 MB.
// Here the entries are walked in the DER bytes, kept as offsets sorted by serial, and decoded by OpenSSL
// one at a time, only when a certificate is found listed; OpenSSL decodes the rest of the CRL (issuer,
// dates, extensions) from a copy without its entries, and verifies the signature over the original
// tbsCertList bytes. A CRL whose entries this reader does not take as they are (a negative or padded serial,
// a certificateIssuer extension of an indirect CRL, a malformed entry or reason) is read by OpenSSL whole,
// as before: the outcome never depends on the path.

/// One revoked entry, by offsets into the CRL's DER.
struct FastEntry {
  std::uint32_t serial = 0;  // offset of the serial's magnitude (no leading zero byte)
  std::uint32_t serial_length = 0;
  std::uint32_t start = 0;  // the whole entry (for d2i_X509_REVOKED)
  std::uint32_t length = 0;
  bool counts = true;  // not removeFromCRL
};

/// Entry extensions this reader knows (as known_entry_extension): crlReason, invalidityDate,
/// holdInstructionCode (2.5.29.21, .24, .23). certificateIssuer (2.5.29.29) is left to OpenSSL.
constexpr std::string_view kReasonOid{"\x55\x1D\x15", 3};
constexpr std::string_view kInvalidityOid{"\x55\x1D\x18", 3};
constexpr std::string_view kHoldOid{"\x55\x1D\x17", 3};
constexpr std::string_view kCertificateIssuerOid{"\x55\x1D\x1D", 3};

/// True when `content` is an OBJECT IDENTIFIER's content as OpenSSL's decoder takes it (c2i_ASN1_OBJECT):
/// not empty, its last byte ends a subidentifier, no subidentifier starts with a 0x80 padding byte. The
/// entries are decoded by OpenSSL only when a serial is looked up: what its whole reading of the CRL refuses
/// must be refused here (issue 17's fuzzer: an extension OID ending in a continuation byte).
bool valid_oid(std::string_view content) {
  if (content.empty() || (static_cast<unsigned char>(content.back()) & 0x80) != 0) return false;
  for (std::size_t i = 0; i < content.size(); ++i) {
    const bool starts = i == 0 || (static_cast<unsigned char>(content[i - 1]) & 0x80) == 0;
    if (starts && static_cast<unsigned char>(content[i]) == 0x80) return false;
  }
  return true;
}

/// Walks the extensions of an entry (content [from, to) of its Extensions SEQUENCE). False when the reader
/// leaves the CRL to OpenSSL.
bool walk_entry_extensions(std::string_view der, std::size_t from, std::size_t to, FastEntry& entry,
                           bool& unknown_critical) {
  std::vector<std::string_view> seen;  // an extension twice: OpenSSL reads neither (X509V3_get_d2i), and an
                                       // entry whose crlReason it cannot read stops its reading of every later
                                       // entry's reason (crl_set_issuers); issue 17's fuzzer
  for (std::size_t pos = from; pos < to;) {
    const auto ext = read_tlv(der, pos, to);
    if (!ext || ext->tag != 0x30) return false;
    const auto oid = read_tlv(der, ext->content(), ext->end());
    if (!oid || oid->tag != 0x06 || !valid_oid(der.substr(oid->content(), oid->length))) return false;
    std::size_t next = oid->end();
    bool critical = false;
    auto value = read_tlv(der, next, ext->end());
    if (value && value->tag == 0x01) {
      if (value->length != 1) return false;
      critical = der[value->content()] != 0;
      value = read_tlv(der, value->end(), ext->end());
    }
    if (!value || value->tag != 0x04 || value->end() != ext->end()) return false;
    const std::string_view id = der.substr(oid->content(), oid->length);
    if (id == kCertificateIssuerOid || std::find(seen.begin(), seen.end(), id) != seen.end()) return false;
    seen.push_back(id);
    if (id == kReasonOid) {
      const auto reason = read_tlv(der, value->content(), value->end());
      if (!reason || reason->tag != 0x0A || reason->length != 1 || reason->end() != value->end()) return false;
      entry.counts = static_cast<unsigned char>(der[reason->content()]) != CRL_REASON_REMOVE_FROM_CRL;
    } else if (critical && id != kInvalidityOid && id != kHoldOid) {
      unknown_critical = true;
    }
    pos = ext->end();
  }
  return true;
}

/// Walks revokedCertificates (content [from, to)): every entry SEQUENCE { serial INTEGER (non-negative,
/// minimally encoded), revocationDate Time, crlEntryExtensions OPTIONAL }.
bool walk_entries(std::string_view der, std::size_t from, std::size_t to, std::vector<FastEntry>& out,
                  bool& unknown_critical) {
  for (std::size_t pos = from; pos < to;) {
    const auto entry = read_tlv(der, pos, to);
    if (!entry || entry->tag != 0x30) return false;
    const auto serial = read_tlv(der, entry->content(), entry->end());
    if (!serial || serial->tag != 0x02 || serial->length == 0) return false;
    const auto* s = reinterpret_cast<const unsigned char*>(der.data() + serial->content());
    if ((s[0] & 0x80) != 0) return false;                                     // negative
    if (serial->length > 1 && s[0] == 0 && (s[1] & 0x80) == 0) return false;  // padded
    const auto date = read_tlv(der, serial->end(), entry->end());
    if (!date || (date->tag != 0x17 && date->tag != 0x18)) return false;
    FastEntry e;
    const std::size_t skip = s[0] == 0 ? 1 : 0;  // 0 has an empty magnitude
    e.serial = static_cast<std::uint32_t>(serial->content() + skip);
    e.serial_length = static_cast<std::uint32_t>(serial->length - skip);
    e.start = static_cast<std::uint32_t>(entry->start);
    e.length = static_cast<std::uint32_t>(entry->end() - entry->start);
    if (date->end() != entry->end()) {
      const auto exts = read_tlv(der, date->end(), entry->end());
      if (!exts || exts->tag != 0x30 || exts->end() != entry->end()) return false;
      if (!walk_entry_extensions(der, exts->content(), exts->end(), e, unknown_critical)) return false;
    }
    out.push_back(e);
    pos = entry->end();
  }
  return true;
}

/// A CRL read by the fast reader: its DER, the spans the signature needs, its entries sorted by serial.
struct FastCrl {
  std::string der;
  Tlv tbs, outer_algorithm, signature;
  std::vector<FastEntry> entries;
  bool unknown_critical_entry_extension = false;

  std::string_view magnitude(const FastEntry& e) const {
    return std::string_view(der).substr(e.serial, e.serial_length);
  }
};

bool serial_less(std::string_view a, std::string_view b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

/// Reads one CRL (`der`, exactly one element) for the fast path: OpenSSL decodes it without its entries
/// into `meta`. False when the CRL is left to OpenSSL whole.
bool read_fast(std::string der, CrlPtr& meta, std::unique_ptr<FastCrl>& fast) {
  auto f = std::make_unique<FastCrl>();
  f->der = std::move(der);
  const std::string_view d = f->der;
  const auto outer = read_tlv(d, 0, d.size());
  if (!outer || outer->tag != 0x30 || outer->end() != d.size()) return false;
  const auto tbs = read_tlv(d, outer->content(), outer->end());
  if (!tbs || tbs->tag != 0x30) return false;
  const auto algorithm = read_tlv(d, tbs->end(), outer->end());
  if (!algorithm || algorithm->tag != 0x30) return false;
  const auto signature = read_tlv(d, algorithm->end(), outer->end());
  if (!signature || signature->tag != 0x03 || signature->end() != outer->end()) return false;
  // tbsCertList: version?, signature, issuer, thisUpdate, nextUpdate?, revokedCertificates?, [0] extensions?
  std::size_t pos = tbs->content();
  auto next = read_tlv(d, pos, tbs->end());
  if (next && next->tag == 0x02) next = read_tlv(d, next->end(), tbs->end());
  if (!next || next->tag != 0x30) return false;
  const Tlv inner_algorithm = *next;
  const auto issuer = read_tlv(d, inner_algorithm.end(), tbs->end());
  if (!issuer || issuer->tag != 0x30) return false;
  auto field = read_tlv(d, issuer->end(), tbs->end());  // thisUpdate
  if (!field || (field->tag != 0x17 && field->tag != 0x18)) return false;
  pos = field->end();
  field = read_tlv(d, pos, tbs->end());
  if (field && (field->tag == 0x17 || field->tag == 0x18)) {  // nextUpdate
    pos = field->end();
    field = read_tlv(d, pos, tbs->end());
  }
  std::string stripped;
  if (field && field->tag == 0x30) {  // revokedCertificates
    if (!walk_entries(d, field->content(), field->end(), f->entries, f->unknown_critical_entry_extension)) {
      return false;
    }
    const std::string content = std::string(d.substr(tbs->content(), field->start - tbs->content())) +
                                std::string(d.substr(field->end(), tbs->end() - field->end()));
    const std::string new_tbs = der_header(0x30, content.size()) + content;
    const std::string rest(d.substr(algorithm->start, outer->end() - algorithm->start));
    stripped = der_header(0x30, new_tbs.size() + rest.size()) + new_tbs + rest;
  } else if (pos > tbs->end() || (field && field->tag != 0xA0)) {
    return false;
  }
  // The tbsCertList's signature field and signatureAlgorithm in other bytes (another encoding of the same
  // algorithm, NULL parameters added, another algorithm): OpenSSL decides whether the CRL verifies (its
  // X509_CRL_verify compares neither; issue 17's fuzzer probe). Verified here, the same bytes only.
  if (d.substr(inner_algorithm.start, inner_algorithm.end() - inner_algorithm.start) !=
      d.substr(algorithm->start, algorithm->end() - algorithm->start)) {
    return false;
  }
  const std::string_view to_decode = stripped.empty() ? d : std::string_view(stripped);
  const auto* p = reinterpret_cast<const unsigned char*>(to_decode.data());
  CrlPtr decoded(d2i_X509_CRL(nullptr, &p, static_cast<long>(to_decode.size())));
  if (!decoded || p != reinterpret_cast<const unsigned char*>(to_decode.data()) + to_decode.size()) {
    ERR_clear_error();
    return false;
  }
  f->entries.shrink_to_fit();
  std::stable_sort(f->entries.begin(), f->entries.end(), [&f](const FastEntry& a, const FastEntry& b) {
    return serial_less(f->magnitude(a), f->magnitude(b));
  });
  // A serial listed twice: which entry answers (its date, its reason) would depend on the stability of
  // OpenSSL's sort (glibc's qsort is stable up to 2.36 only); such a CRL is read by OpenSSL whole, so
  // that both readings give the same answer whatever the C library.
  const auto twice =
      std::adjacent_find(f->entries.begin(), f->entries.end(),
                         [&f](const FastEntry& a, const FastEntry& b) { return f->magnitude(a) == f->magnitude(b); });
  if (twice != f->entries.end()) return false;
  f->tbs = *tbs;
  f->outer_algorithm = *algorithm;
  f->signature = *signature;
  meta = std::move(decoded);
  fast = std::move(f);
  return true;
}

/// X509_CRL_verify over the original bytes: the signature of tbsCertList with `pkey`, by signatureAlgorithm
/// (read_fast took only CRLs whose tbsCertList names the same algorithm in the same bytes). A signature
/// algorithm that names a digest and a key type (OpenSSL's OBJ_find_sigid_algs: RSA PKCS#1 v1.5, ECDSA, DSA
/// with SHA-x) is verified as ASN1_item_verify does it for those — the key of the named type, no unused bit
/// in the signature, EVP_DigestVerify with that digest — over the tbsCertList bytes where they lie;
/// ASN1_item_verify over a copy (an ASN1_ANY SEQUENCE re-encodes its bytes as they are) verifies the others
/// (RSA-PSS, EdDSA...). Two 5 MB copies per CRL cost more than its digest (figure 8's profile).
bool verify_fast(const FastCrl& f, EVP_PKEY* pkey) {
  if (pkey == nullptr) return false;
  const std::string_view d = f.der;
  const auto* p = reinterpret_cast<const unsigned char*>(d.data() + f.outer_algorithm.start);
  std::unique_ptr<X509_ALGOR, decltype(&X509_ALGOR_free)> algorithm(
      d2i_X509_ALGOR(nullptr, &p, static_cast<long>(f.outer_algorithm.end() - f.outer_algorithm.start)),
      &X509_ALGOR_free);
  p = reinterpret_cast<const unsigned char*>(d.data() + f.signature.start);
  std::unique_ptr<ASN1_BIT_STRING, decltype(&ASN1_BIT_STRING_free)> signature(
      d2i_ASN1_BIT_STRING(nullptr, &p, static_cast<long>(f.signature.end() - f.signature.start)),
      &ASN1_BIT_STRING_free);
  if (!algorithm || !signature) return false;
  const ASN1_OBJECT* oid = nullptr;
  X509_ALGOR_get0(&oid, nullptr, nullptr, algorithm.get());
  int digest_nid = NID_undef;
  int key_nid = NID_undef;
  const EVP_MD* digest = nullptr;
  if (OBJ_find_sigid_algs(OBJ_obj2nid(oid), &digest_nid, &key_nid) == 1 && digest_nid != NID_undef &&
      key_nid != NID_undef && (digest = EVP_get_digestbynid(digest_nid)) != nullptr &&
      EVP_PKEY_is_a(pkey, OBJ_nid2sn(key_nid)) == 1) {
    if (ASN1_STRING_type(signature.get()) == V_ASN1_BIT_STRING && (signature->flags & 0x7) != 0) return false;
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, digest, nullptr, pkey) == 1 &&
           EVP_DigestVerify(ctx.get(), ASN1_STRING_get0_data(signature.get()),
                            static_cast<std::size_t>(ASN1_STRING_length(signature.get())),
                            reinterpret_cast<const unsigned char*>(d.data() + f.tbs.start),
                            f.tbs.end() - f.tbs.start) == 1;
  }
  std::unique_ptr<ASN1_STRING, decltype(&ASN1_STRING_free)> tbs(ASN1_STRING_type_new(V_ASN1_SEQUENCE),
                                                                &ASN1_STRING_free);
  std::unique_ptr<ASN1_TYPE, decltype(&ASN1_TYPE_free)> any(ASN1_TYPE_new(), &ASN1_TYPE_free);
  if (!tbs || !any ||
      ASN1_STRING_set(tbs.get(), d.data() + f.tbs.start, static_cast<int>(f.tbs.end() - f.tbs.start)) != 1) {
    return false;
  }
  ASN1_TYPE_set(any.get(), V_ASN1_SEQUENCE, tbs.release());
  return ASN1_item_verify(ASN1_ITEM_rptr(ASN1_ANY), algorithm.get(), signature.get(), any.get(), pkey) == 1;
}

struct FastDecoded {
  CrlPtr meta;
  std::unique_ptr<FastCrl> fast;
};

/// The fast reading of a whole file: PEM made only of "X509 CRL" blocks, or DER CRLs one after the other, every CRL
/// taken by read_fast. False when the file is left to decode_crls.
bool decode_fast(std::string_view bytes, std::vector<FastDecoded>& out) {
  out.clear();
  std::vector<std::string> ders;
  if (is_pem(bytes)) {
    // The PEM files `openssl crl` and `trust refresh` write, in their one exact shape, are read by
    // read_canonical_pem; any other framing is PEM_read_bio's, as in decode_crls (a lenient hand-written
    // framing disagreed with it: a file this reading took that OpenSSL refuses, issue 17's fuzzer). Only
    // files of "X509 CRL" blocks come here.
    if (!read_canonical_pem(bytes, ders)) {
      ders.clear();
      std::vector<std::string> ignored;
      std::string why;
      if (!read_pem_blocks(bytes, ders, ignored, why) || !ignored.empty()) return false;
      if (ders.empty()) return false;
    }
  } else {
    for (std::size_t pos = 0; pos < bytes.size();) {
      const auto t = read_tlv(bytes, pos, bytes.size());
      if (!t || t->tag != 0x30) return false;
      ders.emplace_back(bytes.substr(pos, t->end() - pos));
      pos = t->end();
    }
    if (ders.empty()) return false;
  }
  for (auto& der : ders) {
    FastDecoded d;
    if (!read_fast(std::move(der), d.meta, d.fast)) {
      out.clear();
      return false;
    }
    out.push_back(std::move(d));
  }
  return true;
}

struct LoadedCrl {
  CrlPtr crl;  // the fast path: the CRL without its entries
  CrlInfo info;
  std::unique_ptr<FastCrl> fast;  // null: `crl` is OpenSSL's whole CRL
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

/// Uppercase hex of a serial's magnitude, as integer_hex (BN_bn2hex: two digits a byte, "0" for zero).
std::string magnitude_hex(std::string_view magnitude) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  if (magnitude.empty()) return "0";
  std::string out;
  out.reserve(magnitude.size() * 2);
  for (const char ch : magnitude) {
    const auto b = static_cast<unsigned char>(ch);
    out += kHex[b >> 4];
    out += kHex[b & 0x0F];
  }
  return out;
}

/// Calls `on_serial(serial_hex)` for every entry of `c` that counts for revoked.
void for_each_counting_entry(const LoadedCrl& c, const std::function<void(std::string_view)>& on_serial) {
  if (c.fast) {
    for (const FastEntry& e : c.fast->entries) {
      if (e.counts) on_serial(magnitude_hex(c.fast->magnitude(e)));
    }
    return;
  }
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(c.crl.get());
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    const X509_REVOKED* entry = sk_X509_REVOKED_value(revoked, i);
    if (entry_counts(entry)) on_serial(integer_hex(X509_REVOKED_get0_serialNumber(entry)));
  }
}

/// A CRL entry listing a certificate.
struct Listing {
  std::optional<Instant> revocation_date;
  std::optional<int> reason_code;
};

Listing listing_of(const X509_REVOKED* entry) {
  Listing out;
  out.revocation_date = to_instant(X509_REVOKED_get0_revocationDate(entry));
  int critical = 0;
  if (auto* reason =
          static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, &critical, nullptr))) {
    out.reason_code = static_cast<int>(ASN1_ENUMERATED_get(reason));
    ASN1_ENUMERATED_free(reason);
  }
  return out;
}

/// The entry of `serial` in `c` that counts for revoked (X509_CRL_get0_by_serial's answer 1: listed, not
/// removeFromCRL), by binary search.
std::optional<Listing> find_listing(const LoadedCrl& c, const ASN1_INTEGER* serial) {
  if (!c.fast) {
    X509_REVOKED* entry = nullptr;
    if (X509_CRL_get0_by_serial(c.crl.get(), &entry, serial) != 1 || entry == nullptr) return std::nullopt;
    return listing_of(entry);
  }
  if (ASN1_STRING_type(serial) != V_ASN1_INTEGER) return std::nullopt;  // negative: never in a fast CRL
  std::string_view magnitude(reinterpret_cast<const char*>(ASN1_STRING_get0_data(serial)),
                             static_cast<std::size_t>(ASN1_STRING_length(serial)));
  while (!magnitude.empty() && magnitude.front() == '\0') magnitude.remove_prefix(1);
  const FastCrl& f = *c.fast;
  const auto it =
      std::lower_bound(f.entries.begin(), f.entries.end(), magnitude,
                       [&f](const FastEntry& e, std::string_view m) { return serial_less(f.magnitude(e), m); });
  if (it == f.entries.end() || f.magnitude(*it) != magnitude || !it->counts) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(f.der.data() + it->start);
  std::unique_ptr<X509_REVOKED, decltype(&X509_REVOKED_free)> entry(d2i_X509_REVOKED(nullptr, &p, it->length),
                                                                    &X509_REVOKED_free);
  if (!entry) {
    ERR_clear_error();
    return Listing{};
  }
  return listing_of(entry.get());
}

/// The fast path of CrlStore::add: every CRL of `bytes` read by decode_fast and info_of. False (nothing in
/// `out`) when the file is left to load_whole.
bool load_fast(std::string_view bytes, const fs::path& file, std::vector<LoadedCrl>& out) {
  out.clear();
  std::vector<FastDecoded> fast;
  if (!decode_fast(bytes, fast)) return false;
  for (auto& d : fast) {
    auto info = info_of(d.meta.get(), file);
    if (!info) {  // OpenSSL's reading says why
      out.clear();
      return false;
    }
    info->entries = d.fast->entries.size();
    info->unknown_critical_extension = info->unknown_critical_extension || d.fast->unknown_critical_entry_extension;
    out.push_back(LoadedCrl{std::move(d.meta), std::move(*info), std::move(d.fast)});
  }
  return true;
}

/// OpenSSL's reading of a whole file (decode_crls): false with `why` as CrlStore::add; on success `why` names
/// the PEM blocks ignored, if any.
bool load_whole(std::string_view bytes, const fs::path& file, std::vector<LoadedCrl>& out, std::string& why) {
  out.clear();
  std::vector<CrlPtr> decoded;
  std::vector<std::string> ignored;
  if (!decode_crls(bytes, decoded, ignored, why)) return false;
  for (auto& crl : decoded) {
    auto info = info_of(crl.get(), file);
    if (!info) {
      why = "date thisUpdate ou nextUpdate illisible";
      out.clear();
      return false;
    }
    // Sorted once here, before any concurrent lookup (X509_CRL_get0_by_serial sorts lazily otherwise).
    if (STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get())) sk_X509_REVOKED_sort(revoked);
    out.push_back(LoadedCrl{std::move(crl), std::move(*info), nullptr});
  }
  if (!ignored.empty()) {
    why = "blocs PEM ignorés :";
    for (const auto& name : ignored) why += " « " + name + " »";
  }
  return true;
}

/// The signature of `c` verifies with `pkey` (X509_CRL_verify, over the original bytes on the fast path).
bool verify_crl(const LoadedCrl& c, EVP_PKEY* pkey) {
  return pkey != nullptr && (c.fast ? verify_fast(*c.fast, pkey) : X509_CRL_verify(c.crl.get(), pkey) == 1);
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
      ok = verify_crl(c, pkey);
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
      for_each_counting_entry(
          c, [&](std::string_view serial) { entries.insert(c.info.issuer + '\n' + std::string(serial)); });
    }
  }
};

CrlStore::CrlStore() : impl_(std::make_unique<Impl>()) {}
CrlStore::~CrlStore() = default;

bool CrlStore::add(std::string_view bytes, const fs::path& file, std::string& why) {
  std::vector<LoadedCrl> loaded;
  if (!load_fast(bytes, file, loaded) && !load_whole(bytes, file, loaded, why)) return false;
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
  Listing listing_entry;
  for (std::size_t i : verified) {
    if (auto found = find_listing(impl_->crls[i], serial)) {
      if (!listing || is_newer(impl_->crls[i].info, impl_->crls[*listing].info)) {
        listing = i;
        listing_entry = *found;
      }
    }
  }
  if (listing) {
    answer.status = RevocationStatus::Revoked;
    answer.cause = UnknownCause::None;
    answer.crl = impl_->crls[*listing].info;
    answer.revocation_date = listing_entry.revocation_date;
    answer.reason_code = listing_entry.reason_code;
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

std::vector<CrlStore::IssuerCrl> CrlStore::newest_verified_crls(const std::vector<const X509*>& known_issuers,
                                                                Instant at, const CrlSettings& settings) const {
  std::map<std::string, IssuerCrl> by_subject;
  std::set<std::pair<std::string, KeyDigest>> seen;
  std::time_t when = std::chrono::system_clock::to_time_t(at);
  const Instant latest = at + std::chrono::seconds{settings.clock_skew_s};  // in force: thisUpdate up to here
  for (const X509* issuer : known_issuers) {
    std::vector<std::size_t> candidates;
    for (std::size_t i : impl_->named(X509_get_subject_name(issuer))) {
      if (can_prove_good(impl_->crls[i].info)) candidates.push_back(i);
    }
    if (candidates.empty()) continue;  // most known certificates: a hash lookup, nothing else
    // An expired authority certificate (a CA re-keyed, its old certificate left in trust_dir) issues nothing any
    // more: its last CRL must not stand for the name's live key.
    if (X509_cmp_time(X509_get0_notAfter(issuer), &when) < 0) continue;
    std::string subject = name_text(X509_get_subject_name(issuer));
    if (!seen.emplace(subject, key_digest(issuer)).second) continue;
    // In force first, then newest first.
    std::sort(candidates.begin(), candidates.end(), [&](std::size_t a, std::size_t b) {
      const CrlInfo& x = impl_->crls[a].info;
      const CrlInfo& y = impl_->crls[b].info;
      const bool x_in_force = x.this_update <= latest;
      const bool y_in_force = y.this_update <= latest;
      if (x_in_force != y_in_force) return x_in_force;
      return is_newer(x, y);
    });
    const auto verified =
        std::find_if(candidates.begin(), candidates.end(), [&](std::size_t i) { return impl_->verifies(i, issuer); });
    if (verified == candidates.end()) continue;
    const CrlInfo& crl = impl_->crls[*verified].info;
    const auto [it, first] = by_subject.try_emplace(subject, IssuerCrl{subject, crl});
    if (!first && crl.this_update < it->second.crl.this_update) it->second.crl = crl;
  }
  std::vector<IssuerCrl> out;
  out.reserve(by_subject.size());
  for (auto& [subject, entry] : by_subject) out.push_back(std::move(entry));
  return out;
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
    for_each_counting_entry(c, [&](std::string_view serial) { on_entry(c.info.issuer, serial); });
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

// ---------------------------------------------------------------------------------------------
// The differential check of the fast reading (fuzz/crl_fuzzer.cpp, tests).

namespace internal {
namespace {

struct IntegerFree {
  void operator()(ASN1_INTEGER* p) const { ASN1_INTEGER_free(p); }
};
using IntegerPtr = std::unique_ptr<ASN1_INTEGER, IntegerFree>;

/// `hex` (uppercase magnitude) as an ASN1_INTEGER, negative when `negative`; null for "0" negated.
IntegerPtr integer_of(const std::string& hex, bool negative) {
  BIGNUM* raw = nullptr;
  if (BN_hex2bn(&raw, hex.c_str()) == 0) return nullptr;
  const std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(raw, &BN_free);
  BN_set_negative(bn.get(), negative ? 1 : 0);
  return IntegerPtr(BN_to_ASN1_INTEGER(bn.get(), nullptr));
}

/// `hex` plus `delta` (-1 or 1), as uppercase hex; "" when negative.
std::string shifted(const std::string& hex, int delta) {
  BIGNUM* raw = nullptr;
  if (BN_hex2bn(&raw, hex.c_str()) == 0) return {};
  const std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(raw, &BN_free);
  if ((delta > 0 ? BN_add_word(bn.get(), 1) : BN_sub_word(bn.get(), 1)) != 1 || BN_is_negative(bn.get())) return {};
  char* text = BN_bn2hex(bn.get());
  std::string out = text != nullptr ? text : "";
  OPENSSL_free(text);
  return out;
}

std::string listing_text(const std::optional<Listing>& l) {
  if (!l) return "absent";
  std::string s = "listé";
  s += l->revocation_date ? " le " + format_crl_instant(*l->revocation_date) : std::string(" sans date");
  s += l->reason_code ? " motif " + std::to_string(*l->reason_code) : std::string(" sans motif");
  return s;
}

std::string info_text(const CrlInfo& i) {
  return i.issuer + " | " + format_crl_instant(i.this_update) + " | " +
         (i.next_update ? format_crl_instant(*i.next_update) : std::string("-")) + " | n°" + i.crl_number +
         " | delta " + std::to_string(i.delta) + " idp " + std::to_string(i.issuing_distribution_point) + " critique " +
         std::to_string(i.unknown_critical_extension) + " | " + std::to_string(i.entries) + " entrées";
}

std::vector<std::string> counting_serials(const LoadedCrl& c) {
  std::vector<std::string> out;
  for_each_counting_entry(c, [&out](std::string_view serial) { out.emplace_back(serial); });
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::optional<std::vector<std::string>> canonical_pem_blocks(std::string_view bytes) {
  std::vector<std::string> ders;
  if (!is_pem(bytes) || !read_canonical_pem(bytes, ders)) return std::nullopt;
  return ders;
}

bool fast_and_openssl_agree(std::string_view bytes, const std::vector<const X509*>& issuers, std::string& why,
                            bool* fast_taken) {
  why.clear();
  if (fast_taken != nullptr) *fast_taken = false;
  std::vector<LoadedCrl> fast;
  if (!load_fast(bytes, {}, fast)) return true;  // OpenSSL reads it whole: one path
  if (fast_taken != nullptr) *fast_taken = true;
  if (std::vector<std::string> canonical; is_pem(bytes) && read_canonical_pem(bytes, canonical)) {
    std::vector<std::string> blocks, ignored;
    std::string refused;
    if (!read_pem_blocks(bytes, blocks, ignored, refused) || !ignored.empty() || blocks != canonical) {
      why = "PEM lu par read_canonical_pem, autrement par PEM_read_bio" + (refused.empty() ? "" : " (" + refused + ")");
      return false;
    }
  }
  std::vector<LoadedCrl> whole;
  std::string refusal;
  if (!load_whole(bytes, {}, whole, refusal)) {
    why = "lecture rapide acceptée, lecture OpenSSL refusée : " + refusal;
    return false;
  }
  if (!refusal.empty()) {
    why = "lecture OpenSSL : " + refusal;
    return false;
  }
  if (fast.size() != whole.size()) {
    why = std::to_string(fast.size()) + " CRL en lecture rapide, " + std::to_string(whole.size()) + " pour OpenSSL";
    return false;
  }
  for (std::size_t i = 0; i < fast.size(); ++i) {
    const LoadedCrl& f = fast[i];
    const LoadedCrl& w = whole[i];
    const std::string at = "CRL n° " + std::to_string(i + 1) + " : ";
    if (info_text(f.info) != info_text(w.info)) {
      why = at + "rapide « " + info_text(f.info) + " », OpenSSL « " + info_text(w.info) + " »";
      return false;
    }
    if (counting_serials(f) != counting_serials(w)) {
      why = at + "numéros listés différents";
      return false;
    }
    std::vector<std::string> serials = {
        "0", "1", "7F", "80", "FF", "100", "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"};
    STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(w.crl.get());
    for (int k = 0; k < sk_X509_REVOKED_num(revoked); ++k) {
      const std::string hex = integer_hex(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, k)));
      if (hex.empty()) continue;
      if (hex.front() == '-') {
        serials.push_back(hex.substr(1));
        continue;
      }
      serials.push_back(hex);
      serials.push_back(shifted(hex, 1));
      serials.push_back(shifted(hex, -1));
    }
    for (const std::string& hex : serials) {
      if (hex.empty()) continue;
      for (const bool negative : {false, true}) {
        const IntegerPtr serial = integer_of(hex, negative);
        if (!serial) continue;
        const std::string a = listing_text(find_listing(f, serial.get()));
        const std::string b = listing_text(find_listing(w, serial.get()));
        if (a != b) {
          why = at;
          why.append("numéro ").append(negative ? "-" : "").append(hex);
          why.append(" : rapide ").append(a).append(", OpenSSL ").append(b);
          return false;
        }
      }
    }
    for (std::size_t k = 0; k < issuers.size(); ++k) {
      EVP_PKEY* pkey = X509_get0_pubkey(issuers[k]);
      const bool a = verify_crl(f, pkey);
      const bool b = verify_crl(w, pkey);
      ERR_clear_error();
      if (a != b) {
        why = at + "signature avec la clé n° " + std::to_string(k + 1) + " : rapide " + std::to_string(a) +
              ", OpenSSL " + std::to_string(b);
        return false;
      }
    }
  }
  return true;
}

}  // namespace internal

}  // namespace raccord::rules
