// Tests of `raccord trust audit` and `raccord trust refresh` (engine/app/trust_command.cpp; issue 17;
// docs/revocation.md). Sheets are stored by real dépôts with bundles of the test PKI; CRLs are issued by the
// test PKI; `trust refresh` downloads from a real HTTP server on 127.0.0.1 started by the test
// (Poco::Net::HTTPServer): a good CRL, 404, a CRL signed by a stranger, a 60 MiB body, a server that never
// answers, redirects, a private address refused without certificates.crl_allow_private, the URLs of
// unverified certificates never fetched. In process, and through the real binary.
#include "engine/app/trust_command.hpp"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <pugixml.hpp>
#include <regex>
#include <sstream>

#include "rules/crl_store.hpp"
#include "tests/support/cli_parse.hpp"
#include "tests/support/command.hpp"
#include "tests/support/engine_fixture.hpp"
#include "tests/support/files.hpp"
#include "tests/support/xml_check.hpp"

namespace raccord::testing {
namespace {

namespace fs = std::filesystem;
using app::run_trust_audit;
using app::run_trust_refresh;
using app::TrustCommandOptions;
using app::TrustRefreshLimits;
using ::testing::HasSubstr;
using ::testing::Not;

const TestPki& pki() {
  return TestPki::instance();
}

// ---------------------------------------------------------------------------------------------
// A real HTTP server on 127.0.0.1 (an ephemeral port) serving what each test sets per path.

struct Reply {
  int status = 200;
  std::string body = {};
  std::string location = {};        // a redirect (status 3xx)
  std::uintmax_t filler_bytes = 0;  // that many zero bytes instead of `body`
  bool chunked = false;             // no Content-Length (chunked transfer)
};

class CrlServer {
 public:
  CrlServer() : socket_(Poco::Net::SocketAddress("127.0.0.1", 0)) {
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(4);
    params->setKeepAlive(false);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket_, params);
    server_->start();
  }
  ~CrlServer() { server_->stopAll(true); }

  int port() const { return socket_.address().port(); }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port()) + path; }
  void serve(const std::string& path, Reply reply) {
    std::lock_guard lock(mutex_);
    replies_[path] = std::move(reply);
  }
  int hits(const std::string& path) const {
    std::lock_guard lock(mutex_);
    auto it = hits_.find(path);
    return it == hits_.end() ? 0 : it->second;
  }

 private:
  class Handler : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(CrlServer& server) : server_(server) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
      Reply reply;
      {
        std::lock_guard lock(server_.mutex_);
        ++server_.hits_[request.getURI()];
        auto it = server_.replies_.find(request.getURI());
        if (it == server_.replies_.end()) {
          reply.status = 404;
        } else {
          reply = it->second;
        }
      }
      response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(reply.status));
      if (!reply.location.empty()) response.set("Location", reply.location);
      try {
        if (reply.filler_bytes > 0) {
          if (reply.chunked) {
            response.setChunkedTransferEncoding(true);
          } else {
            response.setContentLength64(static_cast<Poco::Int64>(reply.filler_bytes));
          }
          std::ostream& out = response.send();
          const std::string mebibyte(1 << 20, '\0');
          for (std::uintmax_t sent = 0; sent < reply.filler_bytes && out; sent += mebibyte.size()) out << mebibyte;
        } else {
          response.setContentType("application/pkix-crl");
          response.sendBuffer(reply.body.data(), reply.body.size());
        }
      } catch (const std::exception&) {
        // the client hung up (a body it refused to read to the end)
      }
    }

   private:
    CrlServer& server_;
  };
  class Factory : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(CrlServer& server) : server_(server) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
      return new Handler(server_);
    }

   private:
    CrlServer& server_;
  };

  Poco::Net::ServerSocket socket_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  mutable std::mutex mutex_;
  std::map<std::string, Reply> replies_;
  std::map<std::string, int> hits_;
};

// ---------------------------------------------------------------------------------------------

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};

/// "<issuer hash>.crl" of a CA certificate (DER), as trust refresh names its file.
std::string crl_file_of(const std::string& ca_der) {
  const auto* p = reinterpret_cast<const unsigned char*>(ca_der.data());
  std::unique_ptr<X509, X509Free> x(d2i_X509(nullptr, &p, static_cast<long>(ca_der.size())));
  return rules::crl_file_name(x.get());
}

/// CRL dates current at the fixture's instant (2026-11-29T10:00:00Z).
CrlOptions current_crl(long number = 1) {
  CrlOptions o;
  o.this_update = "2026-11-28T00:00:00Z";
  o.next_update = "2026-12-05T00:00:00Z";
  o.crl_number = number;
  return o;
}

CrlOptions stale_crl() {
  CrlOptions o;
  o.this_update = "2026-10-01T00:00:00Z";
  o.next_update = "2026-10-08T00:00:00Z";
  return o;
}

std::string bundle_of(const std::vector<std::string>& ders) {
  return TestPki::base64(TestPki::pkcs7_der(ders));
}

class TrustCommandTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    if (IsSkipped()) return;
    config_.crl_dir = tmp_ / "crl";
    fs::create_directories(config_.crl_dir);
    start();
    setup_world();
  }

  /// Stores a sheet whose bundle is `ders` by a dépôt (action soumettre, or enregistrer for a draft); returns
  /// its codeAppli.
  std::string store_sheet(const std::vector<std::string>& ders, const std::string& action = "soumettre") {
    SheetSpec s = sftp_sheet();
    s.action = action;
    s.certificates = {bundle_of(ders)};
    ++n_;
    const ParsedAck ack = process("f_" + std::to_string(n_) + ".xml",
                                  depot_xml(sheet_xml(s), "identifiant=\"F-" + std::to_string(n_) + "\""));
    EXPECT_EQ(ack.statut, "INTEGRE") << ack.xml;
    return ack.operations.empty() ? std::string() : ack.operations.front().code_appli;
  }

  void write_crl(const std::string& name, const std::string& der) { write_file(config_.crl_dir / name, der); }

  CommandRun audit(const std::vector<std::string>& args = {}, Instant at = instant(kNow)) {
    CLI::App app{"raccord"};
    TrustCommandOptions options;
    app::add_trust_command(app, options);
    std::vector<std::string> all{"audit"};
    all.insert(all.end(), args.begin(), args.end());
    if (auto usage = parse_command_line(app, "trust", all)) return *usage;
    CommandRun r;
    std::ostringstream out, err;
    r.code = run_trust_audit(options, config_, at, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  CommandRun refresh(TrustRefreshLimits limits = {}) {
    limits.timeout = std::chrono::milliseconds(700);
    limits.total_timeout = std::chrono::milliseconds(20'000);
    CommandRun r;
    std::ostringstream out, err;
    r.code = run_trust_refresh(config_, instant(kNow), out, err, limits);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  /// A config file for the binary: this fixture's root, store, trust and CRL directories.
  fs::path write_ini() {
    const fs::path ini = tmp_ / "raccord.ini";
    write_file(ini, "[paths]\nroot = " + config_.root.string() + "\nrules = " + config_.rules_dir.string() +
                        "\n[store]\nbackend = " + (config_.store_backend == Backend::Sqlite ? "sqlite" : "postgresql") +
                        "\nconnection = " + config_.effective_connection() + "\n[certificates]\ntrust_dir = " +
                        config_.trust_dir.string() + "\ncrl_dir = " + config_.crl_dir.string() +
                        "\ncrl_allow_private = " + (config_.crl_allow_private ? "true" : "false") + "\n");
    return ini;
  }

  CommandRun binary(const std::vector<std::string>& args) {
    std::vector<std::string> all = args;
    all.insert(all.end(), {"--config", write_ini().string(), "--now", kNow});
    fs::create_directories(tmp_ / "capture");
    return run_command(raccord_command_line(all), tmp_ / "capture");
  }

  int n_ = 0;
};

// ---------------------------------------------------------------------------------------------
// trust audit.

TEST_F(TrustCommandTest, AuditOfAHealthyStoreExitsZero) {
  const std::string code = store_sheet({pki().leaf_der(), pki().intermediate_der()});
  activate_by_sql(code);
  write_crl("racine.crl", pki().root().crl_der(current_crl()));
  write_crl("intermediaire.pem", TestPki::crl_pem({pki().intermediate().crl_der(current_crl())}));
  const CommandRun r = audit();
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  const std::string& t = r.out;
  EXPECT_THAT(t, HasSubstr("Audit du magasin de confiance au 29/11/2026 10:00 UTC (révocation : souple)"));
  EXPECT_THAT(t, HasSubstr("Autorités de confiance (1) :\n  CN=Raccord Test Root CA\n"));
  EXPECT_THAT(t, HasSubstr("validité : du 01/01/2020 00:00 UTC au 31/12/2040 23:59 UTC"));
  EXPECT_TRUE(std::regex_search(t, std::regex("empreinte SHA-256 : [0-9A-F]{64}\n"))) << t;
  EXPECT_THAT(t, HasSubstr("CRL (2) dans " + config_.crl_dir.string()));
  EXPECT_THAT(t, HasSubstr("émise le 28/11/2026 00:00 UTC, prochaine mise à jour le 05/12/2026 00:00 UTC, âge 1 "
                           "jour(s), 0 entrée(s)\n    signature vérifiée, à jour"));
  EXPECT_THAT(t, HasSubstr("(1 fiche(s)) sans CRL à jour (0) :\n  aucune"));
  EXPECT_THAT(t, HasSubstr("Certificats révoqués de ces fiches (0) :\n  aucun"));
  EXPECT_THAT(t, HasSubstr("Bilan : tout est à jour."));
}

TEST_F(TrustCommandTest, AuditNamesTheAuthorityWhoseCrlIsStaleAndExitsOne) {
  const std::string code = store_sheet({pki().leaf_der(), pki().intermediate_der()});
  activate_by_sql(code);
  write_crl("racine.crl", pki().root().crl_der(stale_crl()));
  write_crl("intermediaire.crl", pki().intermediate().crl_der(current_crl()));
  const CommandRun r = audit();
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(r.out,
              HasSubstr("sans CRL à jour (1) :\n  CN=Raccord Test Root CA (1 chaîne(s)) : la CRL de « CN=Raccord "
                        "Test Root CA » émise le 01/10/2026 00:00 UTC"));
  EXPECT_THAT(r.out, HasSubstr("est périmée"));
  EXPECT_THAT(r.out, HasSubstr("  - l'autorité « CN=Raccord Test Root CA » n'a pas de CRL à jour"));
  EXPECT_THAT(r.out, HasSubstr("raccord trust refresh"));
  // Without any CRL of the intermediate either: both named.
  fs::remove(config_.crl_dir / "intermediaire.crl");
  const CommandRun both = audit();
  EXPECT_EQ(both.code, 1);
  EXPECT_THAT(both.out, HasSubstr("  CN=Raccord Test Intermediate CA (1 chaîne(s)) : aucune CRL complète vérifiée"));
}

TEST_F(TrustCommandTest, AuditIgnoresDraftsAndDeactivatedSheetsForMissingCrls) {
  (void)store_sheet({pki().leaf_der(), pki().intermediate_der()}, "enregistrer");
  const CommandRun r = audit();  // no CRL at all, but the only sheet is a draft
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("(0 fiche(s)) sans CRL à jour (0)"));
}

TEST_F(TrustCommandTest, AuditReportsABadlySignedCrlAndExitsOne) {
  CrlOptions forged = current_crl();
  forged.stranger_key = true;
  write_crl("racine.crl", pki().root().crl_der(current_crl()));
  write_crl("faux.crl", pki().root().crl_der(forged));
  write_crl("autre.crl", pki().other_root().crl_der(current_crl()));  // unknown issuer: reported, not a failure
  const CommandRun r = audit();
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("SIGNATURE INVALIDE (ignorée)"));
  EXPECT_THAT(r.out, HasSubstr("émetteur inconnu (non vérifiable, inutilisée)"));
  EXPECT_THAT(r.out, HasSubstr("  - la CRL " + (config_.crl_dir / "faux.crl").string() +
                               " de « CN=Raccord Test Root CA » est mal signée"));
  fs::remove(config_.crl_dir / "faux.crl");
  EXPECT_EQ(audit().code, 0);
}

TEST_F(TrustCommandTest, AuditFlagsAnAnchorEndingWithinThirtyDays) {
  const TestCa short_root =
      TestCa::self_signed({"Raccord Short Root CA", "2020-01-01T00:00:00Z", "2026-12-20T00:00:00Z"});
  write_file(config_.trust_dir / "court.pem", short_root.pem());
  const CommandRun r = audit();
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(r.out,
              HasSubstr("CN=Raccord Short Root CA\n    validité : du 01/01/2020 00:00 UTC au 20/12/2026 00:00 UTC "
                        "— EXPIRE DANS MOINS DE 30 JOURS"));
  EXPECT_THAT(r.out,
              HasSubstr("  - l'autorité de confiance « CN=Raccord Short Root CA » expire dans moins de 30 jours"));
  // 31 days before its end it is fine.
  EXPECT_EQ(audit({}, instant("2026-11-19T00:00:00Z")).code, 0);
  EXPECT_EQ(audit({}, instant("2026-12-21T00:00:00Z")).code, 1);
}

TEST_F(TrustCommandTest, AuditListsRevokedAndExpiringLeavesOfLiveSheets) {
  LeafOptions soon, later, latest, far;
  soon.not_after = "2026-12-19T00:00:00Z";    // 19 days
  later.not_after = "2027-01-18T00:00:00Z";   // 49 days
  latest.not_after = "2027-02-17T00:00:00Z";  // 79 days
  far.not_after = "2027-06-30T00:00:00Z";
  const std::string revoked_leaf = pki().leaf_der();
  const std::string a = store_sheet({pki().leaf_der(soon), pki().intermediate_der()});
  const std::string b = store_sheet({pki().leaf_der(later), pki().intermediate_der()});
  const std::string c = store_sheet({pki().leaf_der(latest), pki().intermediate_der()});
  const std::string d = store_sheet({pki().leaf_der(far), pki().intermediate_der()});
  const std::string e = store_sheet({revoked_leaf, pki().intermediate_der()});
  const std::string draft = store_sheet({pki().leaf_der(soon), pki().intermediate_der()}, "enregistrer");
  activate_by_sql(a);
  activate_by_sql(e);
  CrlOptions listing = current_crl();
  listing.entries.push_back(CrlEntry{TestPki::serial_hex(revoked_leaf), "2026-11-15T08:30:00Z", 1});
  write_crl("racine.crl", pki().root().crl_der(current_crl()));
  write_crl("intermediaire.crl", pki().intermediate().crl_der(listing));
  const CommandRun r = audit();
  EXPECT_EQ(r.code, 0) << r.out;  // revoked and expiring leaves are reported; the trust store itself is healthy
  EXPECT_THAT(r.out, HasSubstr("(5 fiche(s)) sans CRL à jour (0)"));
  EXPECT_THAT(r.out, HasSubstr("expirant sous 30, 60 et 90 jours (3) :\n  " + a));
  EXPECT_THAT(r.out, HasSubstr("fin 19/12/2026 00:00 UTC — dans 19 jour(s) (≤ 30 jours)"));
  EXPECT_THAT(r.out, HasSubstr("  " + b + "     CN=client.exemple.fr"));
  EXPECT_THAT(r.out, HasSubstr("dans 49 jour(s) (≤ 60 jours)"));
  EXPECT_THAT(r.out, HasSubstr("dans 79 jour(s) (≤ 90 jours)"));
  EXPECT_THAT(r.out, Not(HasSubstr("  " + d + " ")));
  EXPECT_THAT(r.out, Not(HasSubstr("  " + draft + " ")));
  EXPECT_THAT(
      r.out, HasSubstr("Certificats révoqués de ces fiches (1) :\n  " + e + "     CN=client.exemple.fr — n° de série " +
                       TestPki::serial_hex(revoked_leaf) +
                       " : révoqué le 15/11/2026 08:30 UTC (compromission de la clé) d'après la CRL de « CN=Raccord "
                       "Test Intermediate CA »"));
  (void)c;
}

TEST_F(TrustCommandTest, AuditXmlIsValidAgainstItsSchema) {
  LeafOptions soon;
  soon.not_after = "2026-12-19T00:00:00Z";
  const std::string revoked_leaf = pki().leaf_der();
  const std::string a = store_sheet({pki().leaf_der(soon), pki().intermediate_der()});
  const std::string b = store_sheet({revoked_leaf, pki().intermediate_der()});
  activate_by_sql(a);
  CrlOptions listing = current_crl();
  listing.entries.push_back(CrlEntry{TestPki::serial_hex(revoked_leaf), "2026-11-15T08:30:00Z", 1});
  CrlOptions delta = current_crl(2);
  delta.delta_base = 1;
  write_crl("racine.crl", pki().root().crl_der(stale_crl()));
  write_crl("intermediaire.crl", pki().intermediate().crl_der(listing));
  write_crl("delta.crl", pki().intermediate().crl_der(delta));
  const CommandRun r = audit({"--format", "xml"});
  EXPECT_EQ(r.code, 1) << r.out;
  const XmllintResult lint = xmllint_text(r.out, xsd_path("audit.xsd"));
  EXPECT_TRUE(lint.ok()) << lint.log << r.out;
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(r.out.c_str()));
  const auto root = doc.child("AuditConfiance");
  EXPECT_STREQ(root.attribute("statut").value(), "A_CORRIGER");
  EXPECT_STREQ(root.attribute("revocation").value(), "souple");
  EXPECT_STREQ(root.attribute("instant").value(), "2026-11-29T10:00:00Z");
  EXPECT_STREQ(root.child("Ancre").attribute("sujet").value(), "CN=Raccord Test Root CA");
  EXPECT_EQ(std::distance(root.children("Crl").begin(), root.children("Crl").end()), 3);
  EXPECT_STREQ(root.find_child_by_attribute("Crl", "delta", "true").attribute("signature").value(), "verifiee");
  EXPECT_STREQ(root.child("AutoriteSansCrlAJour").attribute("sujet").value(), "CN=Raccord Test Root CA");
  EXPECT_STREQ(root.child("CertificatExpirant").attribute("fiche").value(), a.c_str());
  EXPECT_STREQ(root.child("CertificatExpirant").attribute("echeance").value(), "30");
  EXPECT_STREQ(root.child("CertificatRevoque").attribute("fiche").value(), b.c_str());
  EXPECT_STREQ(root.child("CertificatRevoque").attribute("motif").value(), "compromission de la clé");
  EXPECT_STREQ(root.child("CertificatRevoque").attribute("revocation").value(), "2026-11-15T08:30:00Z");
}

TEST_F(TrustCommandTest, AuditWithoutAStoreShowsTheTrustStoreOnly) {
  write_crl("racine.crl", pki().root().crl_der(current_crl()));
  Config no_store = config_;
  no_store.root = tmp_ / "ailleurs";
  no_store.store_backend = Backend::Sqlite;
  no_store.store_connection.clear();
  no_store.crl_dir = config_.crl_dir;
  std::ostringstream out, err;
  EXPECT_EQ(run_trust_audit(TrustCommandOptions{}, no_store, instant(kNow), out, err), 0) << out.str();
  EXPECT_THAT(out.str(), HasSubstr("Aucun store : pas de fiche à auditer."));
  EXPECT_FALSE(fs::exists(tmp_ / "ailleurs")) << "the audit creates nothing";
}

TEST_F(TrustCommandTest, UsageErrorsExitTwo) {
  EXPECT_EQ(audit({"--format", "json"}).code, 2);
  CLI::App app{"raccord"};
  TrustCommandOptions options;
  app::add_trust_command(app, options);
  const auto usage = parse_command_line(app, "trust", {});
  ASSERT_TRUE(usage.has_value());
  EXPECT_EQ(usage->code, 2);
}

// ---------------------------------------------------------------------------------------------
// trust refresh.

class TrustRefreshTest : public TrustCommandTest {
 protected:
  void SetUp() override {
    TrustCommandTest::SetUp();
    if (IsSkipped()) return;
    config_.crl_allow_private = true;  // the test server is on 127.0.0.1
    CaOptions o;
    o.common_name = "Raccord Refresh Intermediate CA";
    o.crl_urls = {server_.url("/racine.crl")};
    inter_ = std::make_unique<TestCa>(pki().root().issue_ca(o));
  }
  /// Stores a sheet whose leaf (issued by inter_) names `urls`.
  std::string store_leaf_naming(const std::vector<std::string>& urls, const std::string& action = "soumettre") {
    LeafOptions l;
    l.crl_urls = urls;
    return store_sheet({inter_->leaf_der(l), inter_->der()}, action);
  }
  fs::path root_file() const { return config_.crl_dir / crl_file_of(pki().root_der()); }
  fs::path inter_file() const { return config_.crl_dir / crl_file_of(inter_->der()); }

  CrlServer server_;
  std::unique_ptr<TestCa> inter_;
};

TEST_F(TrustRefreshTest, GoodCrlsAreWrittenUnderTheIssuerHashAndUsed) {
  const std::string code = store_leaf_naming({server_.url("/inter.crl")});
  server_.serve("/racine.crl", {200, pki().root().crl_der(current_crl())});
  server_.serve("/inter.crl", {200, inter_->crl_der(current_crl())});
  const CommandRun r = refresh();
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("MISE À JOUR " + server_.url("/racine.crl") + " → " + root_file().string() +
                               " : CRL de « CN=Raccord Test Root CA » émise le 28/11/2026 00:00 UTC, prochaine mise à "
                               "jour le 05/12/2026 00:00 UTC, 0 entrée(s)\n"));
  EXPECT_THAT(r.out, HasSubstr("MISE À JOUR " + server_.url("/inter.crl") + " → " + inter_file().string()));
  ASSERT_TRUE(fs::exists(root_file()));
  ASSERT_TRUE(fs::exists(inter_file()));
  EXPECT_THAT(read_file(inter_file()), HasSubstr("-----BEGIN X509 CRL-----"));
  EXPECT_TRUE(std::regex_match(root_file().filename().string(), std::regex("[0-9a-f]{8}\\.crl")));
  // The audit now sees both authorities with a current CRL.
  activate_by_sql(code);
  const CommandRun a = audit();
  EXPECT_EQ(a.code, 0) << a.out;
  // Once more: nothing newer, nothing written.
  const std::string before = read_file(inter_file());
  const CommandRun again = refresh();
  EXPECT_EQ(again.code, 0) << again.out;
  EXPECT_THAT(again.out, HasSubstr("INCHANGÉE   " + server_.url("/inter.crl") +
                                   " : CRL de « CN=Raccord Refresh "
                                   "Intermediate CA » émise le 28/11/2026 00:00 UTC, pas plus récente"));
  EXPECT_EQ(read_file(inter_file()), before);
}

TEST_F(TrustRefreshTest, ANewerCrlReplacesTheOneInUseAndAnOlderOneNever) {
  store_leaf_naming({server_.url("/inter.crl")});
  server_.serve("/racine.crl", {200, pki().root().crl_der(current_crl())});
  write_crl("a-la-main.crl", inter_->crl_der(current_crl(5)));  // in use, another file name
  // Same thisUpdate, a greater CRL Number: newer.
  server_.serve("/inter.crl", {200, inter_->crl_der(current_crl(6))});
  CommandRun r = refresh();
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("MISE À JOUR " + server_.url("/inter.crl")));
  const std::string newest = read_file(inter_file());
  // Older (number 4, then an earlier thisUpdate): unchanged.
  server_.serve("/inter.crl", {200, inter_->crl_der(current_crl(4))});
  r = refresh();
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("INCHANGÉE   " + server_.url("/inter.crl")));
  CrlOptions earlier = current_crl(9);
  earlier.this_update = "2026-11-27T00:00:00Z";
  server_.serve("/inter.crl", {200, inter_->crl_der(earlier)});
  EXPECT_THAT(refresh().out, HasSubstr("INCHANGÉE   " + server_.url("/inter.crl")));
  EXPECT_EQ(read_file(inter_file()), newest);
}

TEST_F(TrustRefreshTest, FailedDownloadsKeepTheCrlInUseAndExitOne) {
  store_leaf_naming({server_.url("/absent.crl"), server_.url("/etranger.crl"), server_.url("/autre-autorite.crl"),
                     server_.url("/pas-une-crl.crl")});
  server_.serve("/racine.crl", {200, pki().root().crl_der(current_crl())});
  CrlOptions forged = current_crl(7);
  forged.stranger_key = true;
  server_.serve("/etranger.crl", {200, inter_->crl_der(forged)});
  server_.serve("/autre-autorite.crl", {200, pki().intermediate().crl_der(current_crl(7))});
  server_.serve("/pas-une-crl.crl", {200, "<html>maintenance</html>"});
  const std::string in_use = TestPki::crl_pem({inter_->crl_der(current_crl(1))});
  write_file(inter_file(), in_use);
  const CommandRun r = refresh();
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("ÉCHEC       " + server_.url("/absent.crl") + " : réponse HTTP 404"));
  EXPECT_THAT(r.out, HasSubstr("ÉCHEC       " + server_.url("/etranger.crl") +
                               " : la signature de la CRL ne se vérifie pas avec la clé de « CN=Raccord Refresh "
                               "Intermediate CA » — la CRL en usage reste"));
  EXPECT_THAT(r.out, HasSubstr("ÉCHEC       " + server_.url("/autre-autorite.crl") +
                               " : CRL émise par « CN=Raccord Test Intermediate CA »"));
  EXPECT_THAT(r.out,
              HasSubstr("ÉCHEC       " + server_.url("/pas-une-crl.crl") + " : le contenu reçu n'est pas une CRL"));
  EXPECT_THAT(r.out, HasSubstr("MISE À JOUR " + server_.url("/racine.crl")));  // the others still done
  EXPECT_EQ(read_file(inter_file()), in_use);
}

TEST_F(TrustRefreshTest, BodiesOverFiftyMebibytesAreAbandoned) {
  store_leaf_naming({server_.url("/enorme.crl"), server_.url("/enorme-en-morceaux.crl")});
  server_.serve("/racine.crl", {200, pki().root().crl_der(current_crl())});
  Reply big;
  big.filler_bytes = 60ULL << 20;
  server_.serve("/enorme.crl", big);
  big.chunked = true;
  server_.serve("/enorme-en-morceaux.crl", big);
  const CommandRun r = refresh();
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("ÉCHEC       " + server_.url("/enorme.crl") +
                               " : réponse de 62914560 octets : plus que la limite de 52428800 octets"));
  EXPECT_THAT(r.out, HasSubstr("ÉCHEC       " + server_.url("/enorme-en-morceaux.crl") +
                               " : réponse de plus de 52428800 octets : abandonnée"));
  EXPECT_FALSE(fs::exists(inter_file()));
}

TEST_F(TrustRefreshTest, AServerThatNeverAnswersTimesOut) {
  Poco::Net::ServerSocket silent(Poco::Net::SocketAddress("127.0.0.1", 0), 16);  // listens, never accepts
  const std::string url = "http://127.0.0.1:" + std::to_string(silent.address().port()) + "/muet.crl";
  store_leaf_naming({url});
  server_.serve("/racine.crl", {200, pki().root().crl_der(current_crl())});
  const auto start = std::chrono::steady_clock::now();
  const CommandRun r = refresh();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("ÉCHEC       " + url + " : pas de réponse en 700 ms — la CRL en usage reste"));
  EXPECT_LT(elapsed, std::chrono::seconds(15));
}

TEST_F(TrustRefreshTest, RedirectsOnlyToTheSameSchemeAndHost) {
  store_leaf_naming(
      {server_.url("/vers-localhost.crl"), server_.url("/vers-https.crl"), server_.url("/meme-hote.crl")});
  server_.serve("/racine.crl", {200, pki().root().crl_der(current_crl())});
  server_.serve("/inter.crl", {200, inter_->crl_der(current_crl())});
  const std::string port = std::to_string(server_.port());
  server_.serve("/vers-localhost.crl", {302, "", "http://localhost:" + port + "/inter.crl"});
  server_.serve("/vers-https.crl", {301, "", "https://127.0.0.1:" + port + "/inter.crl"});
  server_.serve("/meme-hote.crl", {307, "", "/inter.crl"});
  const CommandRun r = refresh();
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("ÉCHEC       " + server_.url("/vers-localhost.crl") +
                               " : redirection vers http://localhost:" + port +
                               "/inter.crl refusée (autre hôte ou autre schéma)"));
  EXPECT_THAT(r.out, HasSubstr("ÉCHEC       " + server_.url("/vers-https.crl") +
                               " : redirection vers https://127.0.0.1:" + port + "/inter.crl refusée"));
  EXPECT_THAT(r.out, HasSubstr("MISE À JOUR " + server_.url("/meme-hote.crl")));
  EXPECT_EQ(server_.hits("/inter.crl"), 1);  // only through the same-host redirect
}

TEST_F(TrustRefreshTest, PrivateAddressesAreRefusedWithoutCrlAllowPrivate) {
  store_leaf_naming({server_.url("/inter.crl"), "http://[::1]:" + std::to_string(server_.port()) + "/inter.crl",
                     "http://169.254.169.254/latest/meta-data/"});
  server_.serve("/racine.crl", {200, pki().root().crl_der(current_crl())});
  server_.serve("/inter.crl", {200, inter_->crl_der(current_crl())});
  config_.crl_allow_private = false;
  const CommandRun r = refresh();
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("ÉCHEC       " + server_.url("/inter.crl") +
                               " : adresse 127.0.0.1 de « 127.0.0.1 » refusée : locale, privée ou réservée "
                               "(certificates.crl_allow_private = true pour l'autoriser)"));
  EXPECT_THAT(r.out, HasSubstr("adresse ::1 de « ::1 » refusée"));
  EXPECT_THAT(r.out, HasSubstr("adresse 169.254.169.254 de « 169.254.169.254 » refusée"));
  EXPECT_EQ(server_.hits("/inter.crl"), 0);
  EXPECT_EQ(server_.hits("/racine.crl"), 0);
  EXPECT_FALSE(fs::exists(inter_file()));
}

TEST_F(TrustRefreshTest, UrlsOfUnverifiedCertificatesAreNeverFetched) {
  server_.serve("/racine.crl", {200, pki().root().crl_der(current_crl())});
  // A self-signed leaf saved in a draft, and an untrusted chain in another draft, naming the test server.
  LeafOptions self;
  self.self_signed = true;
  self.crl_urls = {server_.url("/piege.crl")};
  (void)store_sheet({pki().leaf_der(self)}, "enregistrer");
  CaOptions o;
  o.common_name = "Raccord Rogue Intermediate CA";
  o.crl_urls = {server_.url("/piege-racine.crl")};
  const TestCa rogue = pki().other_root().issue_ca(o);
  LeafOptions l;
  l.crl_urls = {server_.url("/piege.crl")};
  (void)store_sheet({rogue.leaf_der(l), rogue.der(), pki().other_root().der()}, "enregistrer");
  const CommandRun r = refresh();
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("Aucun point de distribution de CRL à consulter"));
  EXPECT_EQ(server_.hits("/piege.crl"), 0);
  EXPECT_EQ(server_.hits("/piege-racine.crl"), 0);
  EXPECT_THAT(r.out, Not(HasSubstr("piege")));
  // A verified chain in a draft is fetched.
  store_leaf_naming({server_.url("/inter.crl")}, "enregistrer");
  server_.serve("/inter.crl", {200, inter_->crl_der(current_crl())});
  EXPECT_EQ(refresh().code, 0);
  EXPECT_EQ(server_.hits("/inter.crl"), 1);
  EXPECT_EQ(server_.hits("/piege.crl"), 0);
}

TEST_F(TrustRefreshTest, AtMostFourUrlsPerIssuerAndOnlyHttp) {
  store_leaf_naming({server_.url("/1.crl"), server_.url("/2.crl"), "ldap://annuaire.exemple.fr/cn=crl",
                     server_.url("/3.crl"), server_.url("/4.crl"), server_.url("/5.crl")});
  server_.serve("/racine.crl", {200, pki().root().crl_der(current_crl())});
  for (const char* p : {"/1.crl", "/2.crl", "/3.crl", "/4.crl", "/5.crl"}) {
    server_.serve(p, {200, inter_->crl_der(current_crl())});
  }
  const CommandRun r = refresh();
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_THAT(r.out,
              HasSubstr("IGNORÉE     ldap://annuaire.exemple.fr/cn=crl : schéma « ldap » (http ou https seulement)"));
  EXPECT_THAT(r.out, HasSubstr("IGNORÉE     " + server_.url("/5.crl") + " : au plus 4 adresses par autorité"));
  EXPECT_EQ(server_.hits("/4.crl"), 1);
  EXPECT_EQ(server_.hits("/5.crl"), 0);
  EXPECT_THAT(r.out, HasSubstr("MISE À JOUR " + server_.url("/1.crl")));
  EXPECT_THAT(r.out, HasSubstr("INCHANGÉE   " + server_.url("/2.crl")));
}

// ---------------------------------------------------------------------------------------------
// Through the binary (registered in engine/app/commands.cpp).

TEST_F(TrustRefreshTest, BinaryRefreshesThenAuditsAStaleCrl) {
  const std::string code = store_leaf_naming({server_.url("/inter.crl")});
  activate_by_sql(code);
  server_.serve("/racine.crl", {200, pki().root().crl_der(current_crl())});
  server_.serve("/inter.crl", {200, inter_->crl_der(current_crl())});
  const CommandRun r = binary({"trust", "refresh"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("MISE À JOUR " + server_.url("/inter.crl")));
  const CommandRun healthy = binary({"trust", "audit"});
  EXPECT_EQ(healthy.code, 0) << healthy.out << healthy.err;
  EXPECT_THAT(healthy.out, HasSubstr("Bilan : tout est à jour."));
  // Ten days later the CRLs are stale: exit 1, naming them.
  std::vector<std::string> args{"trust", "audit", "--format", "xml"};
  args.insert(args.end(), {"--config", write_ini().string(), "--now", "2026-12-09T10:00:00Z"});
  const CommandRun stale = run_command(raccord_command_line(args), tmp_ / "capture");
  EXPECT_EQ(stale.code, 1) << stale.out << stale.err;
  EXPECT_THAT(stale.out, HasSubstr("<AutoriteSansCrlAJour sujet=\"CN=Raccord Refresh Intermediate CA\""));
  EXPECT_EQ(binary({"trust"}).code, 2);
  EXPECT_EQ(binary({"trust", "audit", "--format", "json"}).code, 2);
}

}  // namespace
}  // namespace raccord::testing
