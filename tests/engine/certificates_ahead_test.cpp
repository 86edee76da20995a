// Tests of engine/certificates_ahead.cpp: the certificate reports of real dépôts (built as XML and read
// by the dépôt reader, certificates from the test PKI), computed ahead on worker threads, are each
// sheet's own report from the checker, whatever the number of threads, over several dépôts and past
// the look-ahead window (issue 7; docs/reference.md §3.3: only enregistrer and soumettre send content).
#include "engine/certificates_ahead.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "inbox/deposit_reader.hpp"
#include "tests/support/dates.hpp"
#include "tests/support/engine_fixture.hpp"
#include "tests/support/files.hpp"
#include "tests/support/test_pki.hpp"

namespace raccord::testing {
namespace {

const Instant kNow = instant("2026-11-30T10:00:00Z");

/// `xml` read by the dépôt reader (it must be readable).
Deposit read(const std::string& xml) {
  DepositReadResult r = inbox::read_deposit(xml, std::uint64_t{64} << 20);
  EXPECT_TRUE(r.errors.empty()) << xml.substr(0, 500);
  return r.deposit ? std::move(*r.deposit) : Deposit{};
}

const SheetOperation& sheet_of(const Deposit& d, std::size_t i) {
  return body_as<SheetOperation>(d.operations.at(i));
}

/// Everything a report says: its certificates and its diagnostics; "aucun" for no report.
std::string verdict(const std::optional<rules::CertificateReport>& r) {
  if (!r) return "aucun";
  std::string out;
  for (const auto& c : r->certificates) out += "cert " + c.fingerprint_sha256 + " " + c.subject_cn + "\n";
  for (const auto& d : r->diagnostics) {
    out += std::string(to_code(d.code)) + (d.is_error() ? " E " : " W ") + d.field + ":" + std::to_string(d.line) +
           " " + d.message + "\n";
  }
  return out;
}

SheetSpec sftp_with_leaf(const LeafOptions& leaf) {
  SheetSpec s = sftp_sheet();
  s.certificates = {TestPki::instance().bundle_base64(leaf)};
  return s;
}

/// An SFTP sheet whose leaf is "<name>.exemple.fr".
SheetSpec sftp_named(const std::string& name) {
  LeafOptions leaf;
  leaf.common_name = name + ".exemple.fr";
  return sftp_with_leaf(leaf);
}

class CertificatesAheadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TestPki::instance().write_trust_dir(dir_.path() / "trust");
    rules::CertificatePolicy policy;
    policy.trust_dir = dir_.path() / "trust";
    checker_ = std::make_unique<rules::CertificateChecker>(policy);
  }

  TempDir dir_{"raccord-ahead"};
  std::unique_ptr<rules::CertificateChecker> checker_;
};

TEST(SendsContent, OnlyEnregistrerAndSoumettre) {
  SheetOperation sheet;
  for (SheetAction action :
       {SheetAction::Enregistrer, SheetAction::Soumettre, SheetAction::Supprimer, SheetAction::Desactiver}) {
    sheet.action = action;
    EXPECT_EQ(sends_content(sheet), action == SheetAction::Enregistrer || action == SheetAction::Soumettre)
        << to_code(action);
  }
}

TEST_F(CertificatesAheadTest, CheckCertificatesTakesTheSheetsProtocol) {
  SheetSpec unknown = sftp_sheet();
  unknown.protocol = "FTP";
  const Deposit d =
      read(depot_xml(sheet_xml(sftp_sheet()) + sheet_xml(pesit_sheet()) + sheet_xml(api_sheet()) + sheet_xml(unknown)));
  ASSERT_EQ(d.operations.size(), 4u);
  EXPECT_EQ(verdict(check_certificates(*checker_, sheet_of(d, 0), kNow)),
            verdict(checker_->check(sheet_of(d, 0), Protocol::Sftp, kNow)));
  EXPECT_EQ(verdict(check_certificates(*checker_, sheet_of(d, 1), kNow)),
            verdict(checker_->check(sheet_of(d, 1), Protocol::Pesit, kNow)));
  EXPECT_EQ(verdict(check_certificates(*checker_, sheet_of(d, 2), kNow)),
            verdict(checker_->check(sheet_of(d, 2), std::nullopt, kNow)));
  // An invalid protocol hides only the rules that depend on it (issue 18): the chain of an SFTP
  // bundle is checked, and no CERT_USAGE is reported.
  const auto invalid = check_certificates(*checker_, sheet_of(d, 3), kNow);
  ASSERT_TRUE(invalid.has_value());
  EXPECT_EQ(verdict(invalid), verdict(checker_->check(sheet_of(d, 3), Protocol::Sftp, kNow)));
  // The SFTP bundle checked as PESIT lacks serverAuth: the protocol did make the difference.
  EXPECT_NE(verdict(checker_->check(sheet_of(d, 0), Protocol::Pesit, kNow)),
            verdict(checker_->check(sheet_of(d, 0), Protocol::Sftp, kNow)));
}

TEST_F(CertificatesAheadTest, EachOperationGetsItsOwnSheetsReportWhateverTheThreads) {
  LeafOptions expired;
  expired.not_after = "2026-06-30T00:00:00Z";
  SheetSpec draft = sftp_with_leaf(expired);
  draft.action = "enregistrer";
  SheetSpec removal = sftp_sheet();
  removal.action = "supprimer";
  removal.code_appli = "EDI000001";
  SheetSpec unknown_protocol = sftp_sheet();
  unknown_protocol.protocol = "FTP";
  SheetSpec schema_error = sftp_sheet();
  schema_error.extra = "<Inconnu/>";
  SheetSpec leaf_only = pesit_sheet();
  leaf_only.certificates = {TestPki::base64(TestPki::pkcs7_der({TestPki::instance().leaf_der()}))};
  const Deposit d = read(depot_xml(sheet_xml(sftp_sheet()) + sheet_xml(draft) + sheet_xml(removal) +
                                   user_xml("a.nouveau") + sheet_xml(unknown_protocol) + sheet_xml(api_sheet()) +
                                   sheet_xml(schema_error) + sheet_xml(as2_sheet()) + sheet_xml(leaf_only)));
  ASSERT_EQ(d.operations.size(), 9u);
  ASSERT_TRUE(has_error(d.operations[6].schema_errors));
  for (std::size_t i : {0, 1, 2, 4, 5, 7, 8}) ASSERT_FALSE(has_error(d.operations[i].schema_errors)) << i;
  ASSERT_EQ(sheet_of(d, 2).action, SheetAction::Supprimer);
  // What each operation must get: its sheet checked alone, or no report.
  const std::vector<std::string> expected{
      verdict(checker_->check(sheet_of(d, 0), Protocol::Sftp, kNow)),
      verdict(checker_->check(sheet_of(d, 1), Protocol::Sftp, kNow)),
      "aucun",                                                       // supprimer sends no content
      "aucun",                                                       // not a sheet
      verdict(check_certificates(*checker_, sheet_of(d, 4), kNow)),  // unknown protocol: its own rules
      verdict(checker_->check(sheet_of(d, 5), std::nullopt, kNow)),
      "aucun",  // schema error
      verdict(checker_->check(sheet_of(d, 7), Protocol::As2, kNow)),
      verdict(checker_->check(sheet_of(d, 8), Protocol::Pesit, kNow)),
  };
  ASSERT_NE(expected[1].find("CERT_EXPIRE"), std::string::npos) << expected[1];
  ASSERT_NE(expected[8].find("CERT_CHAINE_INCOMPLETE"), std::string::npos) << expected[8];
  for (unsigned threads : {0u, 1u, 3u}) {
    CertificatesAhead ahead(*checker_, {&d}, kNow, threads);
    for (std::size_t i = 0; i < d.operations.size(); ++i) {
      EXPECT_EQ(verdict(ahead.take(0, i)), expected[i]) << threads << " fils, opération " << i;
    }
  }
}

TEST_F(CertificatesAheadTest, SeveralDepositsAreTakenByTheirOwnIndex) {
  const Deposit a = read(depot_xml(sheet_xml(sftp_named("a0")) + sheet_xml(sftp_named("a1"))));
  const Deposit b = read(depot_xml(user_xml("b.utilisateur")));
  const Deposit c =
      read(depot_xml(sheet_xml(sftp_named("c0")) + sheet_xml(sftp_named("c1")) + sheet_xml(sftp_named("c2"))));
  const std::vector<const Deposit*> deposits{&a, &b, &c};
  CertificatesAhead ahead(*checker_, deposits, kNow, 2);
  for (std::size_t k = 0; k < deposits.size(); ++k) {
    for (std::size_t i = 0; i < deposits[k]->operations.size(); ++i) {
      const auto report = ahead.take(k, i);
      if (k == 1) {
        EXPECT_EQ(report, std::nullopt);
        continue;
      }
      ASSERT_TRUE(report) << k << " " << i;
      EXPECT_EQ(verdict(report), verdict(checker_->check(sheet_of(*deposits[k], i), Protocol::Sftp, kNow)));
      EXPECT_EQ(report->certificates.front().subject_cn,
                std::string(1, static_cast<char>('a' + k)) + std::to_string(i) + ".exemple.fr");
    }
  }
}

// Reports computed while a dépôt was read ahead (docs/design.md "Reading ahead"): precheck_certificates gives
// exactly what CertificatesAhead would (same operations, same verdicts), and CertificatesAhead hands them over as
// they are, never computing them again, beside dépôts it checks itself.
TEST_F(CertificatesAheadTest, PrecheckedReportsAreTheSameAndAreTakenAsTheyAre) {
  SheetSpec removal = sftp_sheet();
  removal.action = "supprimer";
  removal.code_appli = "EDI000001";
  SheetSpec schema_error = sftp_sheet();
  schema_error.extra = "<Inconnu/>";
  const Deposit a = read(depot_xml(sheet_xml(sftp_named("a0")) + sheet_xml(removal) + user_xml("a.nouveau") +
                                   sheet_xml(schema_error) + sheet_xml(sftp_named("a4"))));
  const Deposit b = read(depot_xml(sheet_xml(sftp_named("b0"))));
  EXPECT_EQ(sheets_to_check(a), 2u);
  EXPECT_EQ(sheets_to_check(b), 1u);
  Prechecked pre = precheck_certificates(*checker_, a, kNow);
  ASSERT_EQ(pre.size(), 2u);
  EXPECT_EQ(pre[0].first, 0u);
  EXPECT_EQ(pre[1].first, 4u);
  EXPECT_EQ(verdict(pre[0].second), verdict(check_certificates(*checker_, sheet_of(a, 0), kNow)));
  EXPECT_EQ(verdict(pre[1].second), verdict(check_certificates(*checker_, sheet_of(a, 4), kNow)));
  // Marked, so that a report computed again would show.
  for (auto& [operation, report] : pre) {
    ASSERT_TRUE(report);
    report->diagnostics.push_back(
        Diagnostic::error(ErrorCode::CertExpire, "Marque", 0, "précalculé " + std::to_string(operation)));
  }
  for (unsigned threads : {0u, 2u}) {
    Prechecked copy = pre;
    CertificatesAhead ahead(*checker_, {&a, &b}, kNow, threads, {&copy, nullptr});
    EXPECT_NE(verdict(ahead.take(0, 0)).find("précalculé 0"), std::string::npos) << threads;
    EXPECT_EQ(ahead.take(0, 1), std::nullopt);
    EXPECT_EQ(ahead.take(0, 2), std::nullopt);
    EXPECT_EQ(ahead.take(0, 3), std::nullopt);
    EXPECT_NE(verdict(ahead.take(0, 4)).find("précalculé 4"), std::string::npos) << threads;
    EXPECT_EQ(verdict(ahead.take(1, 0)), verdict(check_certificates(*checker_, sheet_of(b, 0), kNow))) << threads;
  }
}

// 300 sheets: more than the 256 operations the workers may run ahead of the caller.
TEST_F(CertificatesAheadTest, PastTheLookAheadWindowEachReportIsItsOwn) {
  constexpr int kSheets = 300;
  std::string operations;
  for (int i = 0; i < kSheets; ++i) operations += sheet_xml(sftp_named("client" + std::to_string(i)));
  const Deposit d = read(depot_xml(operations));
  ASSERT_EQ(d.operations.size(), static_cast<std::size_t>(kSheets));
  {
    CertificatesAhead ahead(*checker_, {&d}, kNow, 1);
    for (int i = 0; i < kSheets; ++i) {
      const auto report = ahead.take(0, static_cast<std::size_t>(i));
      ASSERT_TRUE(report) << i;
      EXPECT_TRUE(report->diagnostics.empty()) << i << "\n" << verdict(report);
      ASSERT_FALSE(report->certificates.empty()) << i;
      EXPECT_EQ(report->certificates.front().subject_cn, "client" + std::to_string(i) + ".exemple.fr");
    }
  }
  // Only the first ten taken (a dépôt abandoned on the way): the workers stop and are joined.
  CertificatesAhead abandoned(*checker_, {&d}, kNow, 1);
  for (std::size_t i = 0; i < 10; ++i) {
    const auto report = abandoned.take(0, i);
    ASSERT_TRUE(report) << i;
    EXPECT_EQ(report->certificates.front().subject_cn, "client" + std::to_string(i) + ".exemple.fr");
  }
}

// An operation refused before its rules (a sender account's DEMANDEUR_NON_AUTORISE) is discarded: the
// caller moves past it, its report is not given (computed or not), and the others keep their own,
// whatever the threads.
TEST_F(CertificatesAheadTest, DiscardedOperationsGiveNoReportAndTheOthersTheirOwn) {
  std::string operations;
  for (int i = 0; i < 6; ++i) operations += sheet_xml(sftp_named("d" + std::to_string(i)));
  const Deposit d = read(depot_xml(operations));
  for (unsigned threads : {0U, 1U, 2U}) {
    CertificatesAhead ahead(*checker_, {&d}, kNow, threads);
    for (std::size_t i = 0; i < 6; ++i) {
      if (i % 2 == 0) {
        ahead.discard(0, i);
        EXPECT_EQ(ahead.take(0, i), std::nullopt) << threads << " " << i;
        continue;
      }
      const auto report = ahead.take(0, i);
      ASSERT_TRUE(report) << threads << " " << i;
      EXPECT_EQ(report->certificates.front().subject_cn, "d" + std::to_string(i) + ".exemple.fr");
    }
  }
}

}  // namespace
}  // namespace raccord::testing
