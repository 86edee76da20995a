// raccord_bench_floor: the floor of the end-to-end harness bench/run (issue 7). Single-threaded, it does only
// the libraries' unavoidable work on the same dépôts as the engine:
//   1. pugixml parse of each file (pugi::parse_default, like reading a dépôt);
//   2. OpenSSL: base64 decode of each <Certificat>, d2i_PKCS7, and X509_verify_cert of the first certificate
//      (the leaf) with the bundle's other certificates; each CA is verified once (a CA already proved is put
//      in the store and X509_V_FLAG_PARTIAL_CHAIN lets the leaf stop at it: one signature check per leaf);
//   3. SQLite: one INSERT per sheet (partner, protocol, period, the bundle as a blob)
//      into a fresh file database, all in one transaction (default journal, synchronous=FULL).
//
// Usage: raccord_bench_floor TRUST_DIR DB_FILE DEPOT.xml...
// Output (stdout, one line, key=value): sheets=N files=F parse_s=.. crypto_s=.. sqlite_s=.. total_s=..
// rate=<sheets per second>. Exit 0; 1 when a file does not parse, a bundle does not decode or verify.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <pugixml.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Sheet {
  std::string partner;
  std::string protocol;
  std::string du;
  std::string au;
  std::string bundle;  // DER
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string base64_decode(const char* text) {
  std::string compact;
  for (const char* p = text; *p != '\0'; ++p) {
    if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') compact.push_back(*p);
  }
  std::string out(compact.size() / 4 * 3 + 3, '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(compact.data()), static_cast<int>(compact.size()));
  if (n < 0) return {};
  std::size_t size = static_cast<std::size_t>(n);
  if (!compact.empty() && compact.back() == '=') --size;
  if (compact.size() > 1 && compact[compact.size() - 2] == '=') --size;
  out.resize(size);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: raccord_bench_floor TRUST_DIR DB_FILE DEPOT.xml...\n";
    return 2;
  }
  std::vector<std::string> contents;
  for (int i = 3; i < argc; ++i) contents.push_back(read_file(argv[i]));

  // 1. pugixml.
  const auto t0 = Clock::now();
  std::vector<Sheet> sheets;
  for (const std::string& text : contents) {
    pugi::xml_document doc;
    if (!doc.load_buffer(text.data(), text.size())) {
      std::cerr << "parse failed\n";
      return 1;
    }
    for (pugi::xml_node op : doc.document_element().children()) {
      if (std::string_view(op.name()) != "FicheEDI" && std::string_view(op.name()) != "FicheAPI") continue;
      Sheet s;
      s.partner = op.child_value("Partenaire");
      s.protocol = op.child_value("Protocole");
      s.du = op.child("Periode").attribute("du").value();
      s.au = op.child("Periode").attribute("au").value();
      s.bundle = op.child("Certificats").child_value("Certificat");  // base64 for now
      sheets.push_back(std::move(s));
    }
  }
  const double parse_s = seconds_since(t0);

  // 2. OpenSSL.
  const auto t1 = Clock::now();
  X509_STORE* store = X509_STORE_new();
  for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
    FILE* f = std::fopen(entry.path().c_str(), "r");
    if (f == nullptr) continue;
    while (X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store, cert);
      X509_free(cert);
    }
    std::fclose(f);
  }
  X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
  std::set<std::string> proved;  // DER of the CAs already verified and added to the store
  for (Sheet& s : sheets) {
    s.bundle = base64_decode(s.bundle.c_str());
    const auto* p = reinterpret_cast<const unsigned char*>(s.bundle.data());
    PKCS7* p7 = d2i_PKCS7(nullptr, &p, static_cast<long>(s.bundle.size()));
    if (p7 == nullptr || OBJ_obj2nid(p7->type) != NID_pkcs7_signed || p7->d.sign->cert == nullptr ||
        sk_X509_num(p7->d.sign->cert) < 1) {
      std::cerr << "bundle does not decode\n";
      return 1;
    }
    STACK_OF(X509)* certs = p7->d.sign->cert;
    X509* leaf = sk_X509_value(certs, 0);
    STACK_OF(X509)* untrusted = sk_X509_new_null();
    for (int i = 1; i < sk_X509_num(certs); ++i) {
      X509* ca = sk_X509_value(certs, i);
      unsigned char* der = nullptr;
      const int len = i2d_X509(ca, &der);
      std::string key(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
      OPENSSL_free(der);
      if (proved.count(key) == 0) {
        X509_STORE_CTX* ctx = X509_STORE_CTX_new();
        X509_STORE_CTX_init(ctx, store, ca, nullptr);
        if (X509_verify_cert(ctx) != 1) {
          std::cerr << "CA does not verify: " << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)) << "\n";
          return 1;
        }
        X509_STORE_CTX_free(ctx);
        X509_STORE_add_cert(store, ca);
        proved.insert(std::move(key));
      }
    }
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, leaf, untrusted);
    if (X509_verify_cert(ctx) != 1) {
      std::cerr << "leaf does not verify: " << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)) << "\n";
      return 1;
    }
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    PKCS7_free(p7);
  }
  X509_STORE_free(store);
  const double crypto_s = seconds_since(t1);

  // 3. SQLite, one transaction.
  const auto t2 = Clock::now();
  std::filesystem::remove(argv[2]);
  sqlite3* db = nullptr;
  if (sqlite3_open(argv[2], &db) != SQLITE_OK) return 1;
  sqlite3_exec(db,
               "CREATE TABLE sheets(id INTEGER PRIMARY KEY, partner TEXT, protocol TEXT, du TEXT, au TEXT, "
               "bundle BLOB)",
               nullptr, nullptr, nullptr);
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO sheets(partner, protocol, du, au, bundle) VALUES(?,?,?,?,?)", -1, &insert,
                     nullptr);
  for (const Sheet& s : sheets) {
    sqlite3_bind_text(insert, 1, s.partner.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(insert, 2, s.protocol.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(insert, 3, s.du.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(insert, 4, s.au.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_blob(insert, 5, s.bundle.data(), static_cast<int>(s.bundle.size()), SQLITE_STATIC);
    if (sqlite3_step(insert) != SQLITE_DONE) return 1;
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  const double sqlite_s = seconds_since(t2);

  const double total = parse_s + crypto_s + sqlite_s;
  std::printf("sheets=%zu files=%zu parse_s=%.4f crypto_s=%.4f sqlite_s=%.4f total_s=%.4f rate=%.1f\n", sheets.size(),
              contents.size(), parse_s, crypto_s, sqlite_s, total,
              total > 0 ? static_cast<double>(sheets.size()) / total : 0.0);
  return 0;
}
