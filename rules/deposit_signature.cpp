// Detached CMS signatures of dépôts with OpenSSL 3 (see deposit_signature.hpp; RFC 5652).
#include "rules/deposit_signature.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <climits>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "rules/certificate_facts.hpp"
#include "rules/input_file.hpp"
#include "rules/openssl_ptr.hpp"

namespace raccord::rules {

struct MdFree {
  void operator()(EVP_MD* p) const { EVP_MD_free(p); }
};
using MdPtr = std::unique_ptr<EVP_MD, MdFree>;

/// The pinned certificates as verify_deposit_signature uses them, made once per configuration: OpenSSL 3
/// decodes a certificate's public key through its decoder framework and fetches each algorithm under the
/// library context's locks, which cost more per dépôt than the ECDSA verification itself when done at each
/// call (bench/README.md "Figure 11"). Read-only once made (OpenSSL's certificates and keys may be shared by
/// threads), so a PinnedSigners and its copies share it.
struct PreparedSigners {
  std::vector<X509Ptr> certificates;  // parallel to PinnedSigners::signers
  std::vector<BnPtr> ec_orders;       // the curve order of each certificate's EC key (replay keys), else null
  ShallowStackPtr stack;              // `certificates`, searched first for the signer
  MdPtr sha256;                       // fetched once (replay keys)
};

namespace {

std::string hex_upper(const unsigned char* data, std::size_t len) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(len * 2);
  for (std::size_t i = 0; i < len; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0x0F]);
  }
  return out;
}

std::string french_date(Instant t) {
  return format_french_date(CivilDate{std::chrono::floor<std::chrono::days>(t)});
}

bool only_whitespace(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

bool looks_like_pem(std::string_view bytes) {
  const auto first = bytes.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && bytes.substr(first).starts_with("-----BEGIN ");
}

/// The remaining bytes of a memory BIO.
std::string_view remaining(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string_view(data, static_cast<std::size_t>(len)) : std::string_view();
}

/// `der` (a DER ContentInfo of SignedData, definite lengths) without its `certificates` field, when every
/// certificate in it is, byte for byte, one of `pinned` (already parsed when the configuration was read);
/// else nullopt (absent field, another certificate or choice, or a structure this reader does not follow).
/// Those certificates are never used (the pinned ones are searched first for the signer, and no chain is
/// built), and decoding one again costs OpenSSL 3 more than the verification itself (bench/README.md
/// "Figure 11"): a signature carrying its pinned signer's certificate, the usual case, is then decoded
/// without it, with the same verdict.
std::optional<std::string> without_pinned_certificates(std::string_view der, const std::vector<PinnedSigner>& pinned) {
  const auto info = read_tlv(der, 0, der.size());
  if (!info || info->tag != 0x30 || info->end() != der.size()) return std::nullopt;  // ContentInfo
  const auto type = read_tlv(der, info->content(), info->end());
  if (!type || type->tag != 0x06) return std::nullopt;  // contentType
  const auto explicit0 = read_tlv(der, type->end(), info->end());
  if (!explicit0 || explicit0->tag != 0xA0 || explicit0->end() != info->end()) return std::nullopt;
  const auto signed_data = read_tlv(der, explicit0->content(), explicit0->end());
  if (!signed_data || signed_data->tag != 0x30 || signed_data->end() != explicit0->end()) return std::nullopt;
  std::size_t at = signed_data->content();
  for (const unsigned char tag :
       std::array<unsigned char, 3>{0x02, 0x31, 0x30}) {  // version, digestAlgorithms, encapContentInfo
    const auto e = read_tlv(der, at, signed_data->end());
    if (!e || e->tag != tag) return std::nullopt;
    at = e->end();
  }
  const auto certificates = read_tlv(der, at, signed_data->end());
  if (!certificates || certificates->tag != 0xA0) return std::nullopt;
  for (std::size_t c = certificates->content(); c < certificates->end();) {
    const auto cert = read_tlv(der, c, certificates->end());
    if (!cert) return std::nullopt;
    const std::string_view bytes = der.substr(cert->start, cert->end() - cert->start);
    if (std::none_of(pinned.begin(), pinned.end(), [&](const PinnedSigner& s) { return s.der == bytes; })) {
      return std::nullopt;
    }
    c = cert->end();
  }
  const std::string_view before = der.substr(signed_data->content(), certificates->start - signed_data->content());
  const std::string_view after = der.substr(certificates->end(), signed_data->end() - certificates->end());
  const std::size_t signed_len = before.size() + after.size();
  const std::string signed_header = der_header(0x30, signed_len);
  const std::string explicit_header = der_header(0xA0, signed_header.size() + signed_len);
  const std::string_view type_bytes = der.substr(type->start, type->end() - type->start);
  const std::size_t info_len = type_bytes.size() + explicit_header.size() + signed_header.size() + signed_len;
  std::string out = der_header(0x30, info_len);
  out.reserve(out.size() + info_len);
  out.append(type_bytes).append(explicit_header).append(signed_header).append(before).append(after);
  return out;
}

/// One CMS ContentInfo, DER or PEM ("CMS" or "PKCS7" block, whitespace only after it); null otherwise. A DER
/// one that carries only certificates of `pinned` is decoded without them (without_pinned_certificates).
CmsPtr parse_cms(std::string_view bytes, const std::vector<PinnedSigner>& pinned) {
  CmsPtr cms;
  if (!looks_like_pem(bytes)) {
    if (const auto lighter = without_pinned_certificates(bytes, pinned)) {
      const unsigned char* p = bytes_of(*lighter);
      cms.reset(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(lighter->size())));
      if (cms && p == bytes_of(*lighter) + lighter->size()) {
        ERR_clear_error();
        return cms;
      }
      cms.reset();  // decoded whole below, as any other
    }
  }
  if (looks_like_pem(bytes)) {
    BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    if (bio) {
      cms.reset(PEM_read_bio_CMS(bio.get(), nullptr, nullptr, nullptr));
      if (cms && !only_whitespace(remaining(bio.get()))) cms.reset();
    }
  } else {
    const unsigned char* p = bytes_of(bytes);
    cms.reset(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(bytes.size())));
    if (cms && p != bytes_of(bytes) + bytes.size()) cms.reset();  // bytes after the signature
  }
  ERR_clear_error();
  return cms;
}

/// The order of `pkey`'s curve when it is an EC key of a named curve, else null.
BnPtr ec_order(EVP_PKEY* pkey) {
  if (pkey == nullptr || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC) return nullptr;
  char group[80] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1) {
    return nullptr;
  }
  int nid = OBJ_sn2nid(group);
  if (nid == NID_undef) nid = EC_curve_nist2nid(group);
  if (nid == NID_undef) return nullptr;
  EcGroupPtr g(EC_GROUP_new_by_curve_name(nid));
  if (!g) return nullptr;
  return BnPtr(BN_dup(EC_GROUP_get0_order(g.get())));
}

std::string bn_hex(const BIGNUM* n) {
  char* hex = BN_bn2hex(n);
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  return out;
}

/// The replay key of the signature of `si` (deposit_signature.hpp, SignatureCheck::replay_key). `pkey`: the
/// order of the signer's curve when its key is a known EC key (an ECDSA value is then taken in its low-S form);
/// `sha256`: the fetched digest.
std::string replay_key_of(CMS_SignerInfo* si, const BIGNUM* order, const EVP_MD* sha256) {
  const ASN1_OCTET_STRING* sig = CMS_SignerInfo_get0_signature(si);
  if (sig == nullptr) return {};
  const unsigned char* data = ASN1_STRING_get0_data(sig);
  const int len = ASN1_STRING_length(sig);
  std::string value(reinterpret_cast<const char*>(data), static_cast<std::size_t>(std::max(len, 0)));
  if (order != nullptr) {
    const unsigned char* p = data;
    EcdsaSigPtr es(d2i_ECDSA_SIG(nullptr, &p, len));
    if (es && p == data + len) {
      const BIGNUM* r = nullptr;
      const BIGNUM* s = nullptr;
      ECDSA_SIG_get0(es.get(), &r, &s);
      BnPtr other(BN_new());
      if (other && BN_sub(other.get(), order, s) == 1) {
        const BIGNUM* low = BN_cmp(other.get(), s) < 0 ? other.get() : s;
        value = "ecdsa:" + bn_hex(r) + ":" + bn_hex(low);
      }
    }
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(value.data(), value.size(), md, &md_len, sha256, nullptr) != 1) return {};
  return "sha256:" + hex_upper(md, md_len);
}

/// The name of the weak digest (MD2, MD4, MD5 or SHA-1: collisions can be made) that signer info `si` uses,
/// as its digestAlgorithm or within its signatureAlgorithm (sha1WithRSAEncryption, ecdsa-with-SHA1); null when
/// it uses none. The same digests as CERT_SIGNATURE_FAIBLE refuses in a chain (docs/reference.md).
const char* weak_digest_of(CMS_SignerInfo* si) {
  X509_ALGOR* digest = nullptr;
  X509_ALGOR* signature = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest, &signature);
  std::array<int, 2> nids{NID_undef, NID_undef};
  const ASN1_OBJECT* oid = nullptr;
  if (digest != nullptr) {
    X509_ALGOR_get0(&oid, nullptr, nullptr, digest);
    nids[0] = OBJ_obj2nid(oid);
  }
  if (signature != nullptr) {
    X509_ALGOR_get0(&oid, nullptr, nullptr, signature);
    int pkey_nid = NID_undef;
    if (OBJ_find_sigid_algs(OBJ_obj2nid(oid), &nids[1], &pkey_nid) != 1) nids[1] = NID_undef;
  }
  for (const int nid : nids) {
    switch (nid) {
      case NID_md2:
        return "MD2";
      case NID_md4:
        return "MD4";
      case NID_md5:
        return "MD5";
      case NID_sha1:
        return "SHA-1";
      default:
        break;
    }
  }
  return nullptr;
}

std::string sign_command(std::string_view deposit_name) {
  const std::string name(deposit_name.empty() ? std::string_view("F.xml") : deposit_name);
  return "openssl cms -sign -binary -outform DER -in " + name + " -signer certificat.pem -inkey cle.pem -out " + name +
         ".p7s";
}

SignatureCheck refused(SignatureCheck check, const std::string& message) {
  check.refusal = Diagnostic::error(ErrorCode::SignatureInvalide, "", 0, message);
  return check;
}

std::string named(X509* x) {
  return describe(x) + " (empreinte SHA-256 " + fingerprint(x) + ")";
}

/// `signers` prepared (PreparedSigners); null when OpenSSL cannot (memory, an unreadable certificate).
std::shared_ptr<const PreparedSigners> prepare(const std::vector<PinnedSigner>& signers) {
  auto made = std::make_shared<PreparedSigners>();
  made->stack.reset(sk_X509_new_null());
  made->sha256.reset(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  if (!made->stack || !made->sha256) return nullptr;
  for (const auto& s : signers) {
    X509Ptr x = parse_x509(s.der);
    if (!x || sk_X509_push(made->stack.get(), x.get()) <= 0) return nullptr;
    made->ec_orders.push_back(ec_order(X509_get0_pubkey(x.get())));
    made->certificates.push_back(std::move(x));
  }
  ERR_clear_error();
  return made;
}

}  // namespace

const PinnedSigner* PinnedSigners::find(std::string_view fingerprint_sha256) const {
  for (const auto& s : signers) {
    if (s.fingerprint_sha256 == fingerprint_sha256) return &s;
  }
  return nullptr;
}

PinnedSigners parse_pinned_signers(std::string_view pem, const std::filesystem::path& file) {
  PinnedSigners pinned;
  pinned.file = file;
  const std::string where = "Le fichier de signataires " + file.string();
  int block = 0;
  const auto failed = for_each_pem_block(pem, [&](std::string_view kind, std::string_view der) {
    ++block;
    if (kind != PEM_STRING_X509) {
      std::string message = where + " : le bloc PEM n° " + std::to_string(block);
      message += " est un « ";
      message += kind;
      message +=
          " », pas un certificat. Ce fichier ne doit contenir que des blocs « BEGIN CERTIFICATE » (jamais une "
          "clé privée).";
      throw std::runtime_error(message);
    }
    X509Ptr x = parse_x509(der);
    if (!x) {
      throw std::runtime_error(where + " : le certificat n° " + std::to_string(block) +
                               " est illisible. Remplacez-le par le certificat PEM du signataire.");
    }
    PinnedSigner signer{std::string(der), fingerprint(x.get()), name_text(X509_get_subject_name(x.get())),
                        rules::not_before(x.get()), rules::not_after(x.get())};
    if (pinned.find(signer.fingerprint_sha256) == nullptr) pinned.signers.push_back(std::move(signer));
  });
  if (failed) {
    throw std::runtime_error(where + " : le bloc PEM n° " + std::to_string(block + 1) +
                             " est mal formé (base64 ou ligne de fin). Remplacez-le par le certificat PEM "
                             "du signataire.");
  }
  ERR_clear_error();
  if (pinned.signers.empty()) {
    throw std::runtime_error(where +
                             " ne contient aucun certificat. Mettez-y le certificat PEM (« BEGIN CERTIFICATE ») "
                             "de chaque signataire du compte.");
  }
  pinned.prepared = prepare(pinned.signers);
  if (!pinned.prepared) throw std::runtime_error(where + " n'a pas pu être préparé (mémoire).");
  return pinned;
}

PinnedSigners load_pinned_signers(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    throw std::runtime_error("Le fichier de signataires " + file.string() +
                             " est introuvable ou n'est pas un fichier ordinaire.");
  }
  // Read through read_input_file: an EIO is a failure of the machine naming the file and its error, never an
  // empty file (before, "ne contient aucun certificat"; the fault sweep's read:EIO:@signataires/acme.pem).
  const std::optional<std::string> text = read_input_file(file);
  if (!text) {
    throw std::runtime_error("Le fichier de signataires " + file.string() +
                             " est introuvable ou n'est pas un fichier ordinaire.");
  }
  return parse_pinned_signers(*text, file);
}

SignatureCheck oversized_signature(std::uint64_t size, std::string_view deposit_name) {
  return refused(SignatureCheck{}, "Le fichier de signature " + std::string(deposit_name) + ".p7s fait " +
                                       std::to_string(size) + " octets, plus que le maximum de " +
                                       std::to_string(kMaxSignatureBytes) + " octets d'une signature détachée." +
                                       " Signez à nouveau le dépôt avec : " + sign_command(deposit_name) + ".");
}

SignatureCheck verify_deposit_signature(std::string_view deposit, std::string_view signature,
                                        const PinnedSigners& pinned, Instant now, std::string_view deposit_name,
                                        const RejectedSignatureLookup& rejected_before) {
  SignatureCheck check;
  const std::string p7s = std::string(deposit_name) + ".p7s";
  const std::string again = " Signez à nouveau le dépôt avec : " + sign_command(deposit_name) + ".";
  if (signature.empty()) return refused(check, "Le fichier de signature " + p7s + " est vide." + again);
  if (signature.size() > kMaxSignatureBytes) return oversized_signature(signature.size(), deposit_name);
  if (deposit.size() > INT_MAX) {
    return refused(check, "Le dépôt est trop volumineux pour que sa signature soit vérifiée.");
  }
  std::shared_ptr<const PreparedSigners> prepared = pinned.prepared;
  if (!prepared || prepared->certificates.size() != pinned.signers.size()) prepared = prepare(pinned.signers);
  if (!prepared) return refused(check, "La signature n'a pas pu être vérifiée (mémoire).");
  CmsPtr cms = parse_cms(signature, pinned.signers);
  if (!cms) {
    return refused(check, "Le fichier de signature " + p7s +
                              " n'est pas une signature CMS (PKCS#7) lisible, ni en DER ni en PEM (fichier tronqué "
                              "ou d'un autre format)." +
                              again);
  }
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
    return refused(check, "Le fichier " + p7s + " est une structure CMS mais pas une signature (SignedData)." + again);
  }
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms.get());
  const int count = infos != nullptr ? sk_CMS_SignerInfo_num(infos) : 0;
  if (count == 0) {  // a certificates-only SignedData (a <Certificat> bundle, `openssl crl2pkcs7`)
    return refused(check, "Le fichier " + p7s +
                              " compte 0 signataires : c'est un paquet de certificats, pas une signature. Joignez "
                              "au dépôt la signature produite par openssl cms -sign." +
                              again);
  }
  if (count != 1) {
    return refused(check, "La signature " + p7s + " compte " + std::to_string(count) +
                              " signataires ; elle doit en compter exactement un, le certificat déclaré pour le "
                              "compte." +
                              again);
  }
  if (CMS_is_detached(cms.get()) != 1) {
    return refused(check, "La signature " + p7s +
                              " contient elle-même les données signées (signature attachée) : une signature "
                              "détachée est attendue, sans l'option -nodetach." +
                              again);
  }
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(infos, 0);
  if (const char* weak = weak_digest_of(si)) {
    return refused(check, "La signature " + p7s + " utilise l'empreinte " + weak +
                              ", trop faible pour prouver qui a déposé le fichier (MD5 et SHA-1 sont refusés) : "
                              "signez avec SHA-256, l'empreinte par défaut de la commande." +
                              again);
  }

  // The signer: the pinned certificates are searched first, then those embedded in the signature.
  STACK_OF(X509)* certs = prepared->stack.get();
  CMS_set1_signers_certs(cms.get(), certs, 0);
  ERR_clear_error();
  EVP_PKEY* pkey = nullptr;
  X509* signer = nullptr;
  CMS_SignerInfo_get0_algs(si, &pkey, &signer, nullptr, nullptr);
  // A pinned certificate found: what is known of it already (fingerprint, validity, curve order) is used.
  const PinnedSigner* known = nullptr;
  BnPtr embedded_order;
  const BIGNUM* order = nullptr;
  for (std::size_t i = 0; signer != nullptr && i < prepared->certificates.size(); ++i) {
    if (prepared->certificates[i].get() == signer) {
      known = &pinned.signers[i];
      order = prepared->ec_orders[i].get();
    }
  }
  if (signer != nullptr && known == nullptr) {
    embedded_order = ec_order(X509_get0_pubkey(signer));
    order = embedded_order.get();
  }
  check.replay_key = replay_key_of(si, order, prepared->sha256.get());
  ERR_clear_error();
  if (signer == nullptr) {
    return refused(check, "Le certificat du signataire n'est pas joint à la signature " + p7s +
                              " et n'est aucun des signataires déclarés pour le compte : signez avec le "
                              "certificat déclaré auprès de l'exploitant." +
                              again);
  }
  check.signer_fingerprint = known != nullptr ? known->fingerprint_sha256 : fingerprint(signer);
  if (known == nullptr) known = pinned.find(check.signer_fingerprint);  // an embedded copy of a pinned one
  if (known == nullptr) {
    return refused(check, "Le signataire " + named(signer) +
                              " n'est pas un signataire déclaré pour ce compte : signez avec le certificat déclaré "
                              "auprès de l'exploitant, ou faites-lui déclarer ce nouveau certificat (fichier "
                              "signataires du compte)." +
                              again);
  }
  // Verified over the bytes before the validity is judged: a genuine signature refused for its signer's dates
  // is still one that came with a REJETE dépôt (check.verified), never to be accepted later (hostile16).
  BioPtr content(BIO_new_mem_buf(deposit.data(), static_cast<int>(deposit.size())));
  const unsigned int flags = CMS_BINARY | CMS_DETACHED | CMS_NO_SIGNER_CERT_VERIFY;
  check.verified = content && CMS_verify(cms.get(), certs, nullptr, content.get(), nullptr, flags) == 1;
  ERR_clear_error();
  if (now < known->not_before) {
    return refused(check, "Le certificat du signataire " + named(signer) + " n'est valide qu'à partir du " +
                              french_date(known->not_before) +
                              " : signez avec un certificat déclaré et valide aujourd'hui.");
  }
  if (now > known->not_after) {
    return refused(check, "Le certificat du signataire " + named(signer) + " a expiré le " +
                              french_date(known->not_after) +
                              " : renouvelez-le, faites déclarer le nouveau auprès de l'exploitant (fichier "
                              "signataires du compte), puis signez à nouveau le dépôt.");
  }
  if (!check.verified) {
    return refused(check, "La signature " + p7s + " ne correspond pas aux octets du dépôt " +
                              std::string(deposit_name) +
                              " (fichier modifié après la signature, signature d'un autre fichier, ou signé sans "
                              "l'option -binary qui garde les octets tels quels)." +
                              again);
  }
  if (rejected_before && !check.replay_key.empty() && rejected_before(check.replay_key)) {
    return refused(check, "La signature " + p7s +
                              " a déjà accompagné un dépôt rejeté : elle n'est plus acceptée (un dépôt rejeté ne "
                              "peut pas être rejoué plus tard). Corrigez le dépôt si besoin, puis signez-le de "
                              "nouveau avec : " +
                              sign_command(deposit_name) + ".");
  }
  return check;
}

}  // namespace raccord::rules
