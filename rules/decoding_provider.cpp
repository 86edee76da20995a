// The provider of the decoding contexts (issue 21): OpenSSL's default provider with only its SubjectPublicKeyInfo
// decoders (see decoding_provider.hpp). OpenSSL's provider interface: provider-base(7), OSSL_PROVIDER(3).
#include "rules/decoding_provider.hpp"

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/err.h>
#include <openssl/provider.h>

#include <map>
#include <mutex>
#include <string_view>
#include <vector>

namespace raccord::rules {
namespace {

/// One loaded instance: the default provider it forwards to, in a library context of its own (the
/// implementations run there, as they would in the outer context: one per check at a time, issue 7).
struct Instance {
  OSSL_LIB_CTX* inner = nullptr;
  OSSL_PROVIDER* deflt = nullptr;
  std::vector<OSSL_ALGORITHM> decoders;  // the default's SubjectPublicKeyInfo decoders, then the end marker
};

/// The instances by their provider context (the default provider's, which the implementations are given).
/// Never destroyed: OpenSSL's own cleanup at exit may tear down a provider after the static destructors ran.
std::mutex& instances_mutex() {
  static auto* m = new std::mutex;  // NOLINT(cppcoreguidelines-owning-memory): lives until the process ends
  return *m;
}
std::map<void*, Instance*>& instances() {
  static auto* map = new std::map<void*, Instance*>;  // NOLINT(cppcoreguidelines-owning-memory): as above
  return *map;
}

Instance* instance_of(void* provctx) {
  std::lock_guard lock(instances_mutex());
  const auto it = instances().find(provctx);
  return it == instances().end() ? nullptr : it->second;
}

void destroy(Instance* instance) {
  if (instance->deflt != nullptr) OSSL_PROVIDER_unload(instance->deflt);
  OSSL_LIB_CTX_free(instance->inner);
  delete instance;  // NOLINT(cppcoreguidelines-owning-memory): owned through the provider context map
}

/// True for a decoder that reads a DER SubjectPublicKeyInfo: its property definition (providers/decoders.inc)
/// names "input=der" and "structure=SubjectPublicKeyInfo".
bool reads_der_subject_public_key_info(const OSSL_ALGORITHM& a) {
  const std::string_view properties = a.property_definition != nullptr ? a.property_definition : "";
  return properties.find("input=der") != std::string_view::npos &&
         properties.find("structure=SubjectPublicKeyInfo") != std::string_view::npos;
}

const OSSL_ALGORITHM* query_operation(void* provctx, int operation_id, int* no_cache) {
  Instance* instance = instance_of(provctx);
  if (instance == nullptr) return nullptr;
  if (operation_id == OSSL_OP_DECODER) {
    *no_cache = 0;
    return instance->decoders.data();
  }
  return OSSL_PROVIDER_query_operation(instance->deflt, operation_id, no_cache);
}

void unquery_operation(void* provctx, int operation_id, const OSSL_ALGORITHM* algorithms) {
  Instance* instance = instance_of(provctx);
  if (instance != nullptr && operation_id != OSSL_OP_DECODER) {
    OSSL_PROVIDER_unquery_operation(instance->deflt, operation_id, algorithms);
  }
}

const OSSL_PARAM* gettable_params(void* provctx) {
  Instance* instance = instance_of(provctx);
  return instance == nullptr ? nullptr : OSSL_PROVIDER_gettable_params(instance->deflt);
}

int get_params(void* provctx, OSSL_PARAM params[]) {
  Instance* instance = instance_of(provctx);
  return instance == nullptr ? 0 : OSSL_PROVIDER_get_params(instance->deflt, params);
}

int get_capabilities(void* provctx, const char* capability, OSSL_CALLBACK* cb, void* arg) {
  Instance* instance = instance_of(provctx);
  return instance == nullptr ? 0 : OSSL_PROVIDER_get_capabilities(instance->deflt, capability, cb, arg);
}

void teardown(void* provctx) {
  Instance* instance = nullptr;
  {
    std::lock_guard lock(instances_mutex());
    const auto it = instances().find(provctx);
    if (it == instances().end()) return;
    instance = it->second;
    instances().erase(it);
  }
  destroy(instance);
}

// The provider interface passes functions as void (*)(void) (OSSL_DISPATCH, core.h).
// NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast)
const OSSL_DISPATCH kDispatch[] = {
    {OSSL_FUNC_PROVIDER_TEARDOWN, reinterpret_cast<void (*)()>(teardown)},
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, reinterpret_cast<void (*)()>(query_operation)},
    {OSSL_FUNC_PROVIDER_UNQUERY_OPERATION, reinterpret_cast<void (*)()>(unquery_operation)},
    {OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, reinterpret_cast<void (*)()>(gettable_params)},
    {OSSL_FUNC_PROVIDER_GET_PARAMS, reinterpret_cast<void (*)()>(get_params)},
    {OSSL_FUNC_PROVIDER_GET_CAPABILITIES, reinterpret_cast<void (*)()>(get_capabilities)},
    {0, nullptr},
};
// NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)

int init(const OSSL_CORE_HANDLE* /*handle*/, const OSSL_DISPATCH* /*in*/, const OSSL_DISPATCH** out, void** provctx) {
  auto* instance = new Instance;  // NOLINT(cppcoreguidelines-owning-memory): owned through the map, freed by teardown
  instance->inner = OSSL_LIB_CTX_new();
  if (instance->inner != nullptr) instance->deflt = OSSL_PROVIDER_load(instance->inner, "default");
  int no_cache = 0;
  const OSSL_ALGORITHM* all =
      instance->deflt != nullptr ? OSSL_PROVIDER_query_operation(instance->deflt, OSSL_OP_DECODER, &no_cache) : nullptr;
  void* context = instance->deflt != nullptr ? OSSL_PROVIDER_get0_provider_ctx(instance->deflt) : nullptr;
  if (all == nullptr || context == nullptr) {
    destroy(instance);
    return 0;
  }
  for (const OSSL_ALGORITHM* a = all; a->algorithm_names != nullptr; ++a) {
    if (reads_der_subject_public_key_info(*a)) instance->decoders.push_back(*a);
  }
  OSSL_PROVIDER_unquery_operation(instance->deflt, OSSL_OP_DECODER, all);
  instance->decoders.push_back(OSSL_ALGORITHM{nullptr, nullptr, nullptr, nullptr});
  {
    std::lock_guard lock(instances_mutex());
    instances()[context] = instance;
  }
  *provctx = context;
  *out = kDispatch;
  return 1;
}

}  // namespace

OSSL_PROVIDER* load_decoding_provider(OSSL_LIB_CTX* libctx) {
  OSSL_PROVIDER* provider = nullptr;
  if (OSSL_PROVIDER_add_builtin(libctx, kDecodingProviderName, init) == 1) {
    provider = OSSL_PROVIDER_load(libctx, kDecodingProviderName);
  }
  ERR_clear_error();
  return provider;
}

}  // namespace raccord::rules
