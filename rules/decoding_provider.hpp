// The OpenSSL provider of the library contexts a check decodes certificates in (issue 21). Private to rules/.
#pragma once

#include <openssl/types.h>

namespace raccord::rules {

/// The name of the provider load_decoding_provider loads.
inline constexpr const char* kDecodingProviderName = "raccord-decoding";

/// Loads into `libctx` (a context of its own, made by OSSL_LIB_CTX_new) a provider that offers every algorithm
/// of OpenSSL's default provider (digests, signatures, key management, ... the same implementations, in a
/// default provider of its own) except that its decoders are only those that read a DER SubjectPublicKeyInfo
/// (RFC 5280 §4.1.2.7): the only decoders a certificate's decoding asks for.
///
/// Why: OpenSSL 3.0 decodes the key of every certificate through OSSL_DECODER_CTX_new_for_pkey
/// (crypto/x509/x_pubkey.c, x509_pubkey_ex_d2i_ex), which walks every decoder of the library context (about
/// 80 in the default provider: PEM, MSBLOB, PVK, PKCS#8, type-specific structures...) to keep those that read
/// "DER"/"SubjectPublicKeyInfo" of the key type: 22 % of figure 1's CPU. With only the 12 that can match, the
/// walk is shorter and the same decoder is chosen, so each key is decoded by the same code as before.
///
/// Returns the provider (to unload with OSSL_PROVIDER_unload before `libctx` is freed), or null when OpenSSL
/// refused it (then the caller loads the default provider itself). Thread-safe.
OSSL_PROVIDER* load_decoding_provider(OSSL_LIB_CTX* libctx);

}  // namespace raccord::rules
