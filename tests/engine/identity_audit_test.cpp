// Tests of engine/identity_audit.cpp (docs/reference.md §2.1 "Every refusal for identity"): one warning
// line per refusal naming the account, the file, the owner uid and the demandeur; apply_deposit audits
// each refused demandeur of a dépôt once, with its count of operations.
#include "engine/identity_audit.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tests/support/engine_fixture.hpp"

namespace raccord::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::internal::CaptureStderr;
using ::testing::internal::GetCapturedStderr;

TEST(IdentityRefusalLine, NamesAccountFileUidDemandeurAndCode) {
  EXPECT_EQ(identity_refusal_line(
                IdentityRefusal{"acme", "lot.xml", std::nullopt, "support.n1", ErrorCode::DemandeurNonAutorise, 1}),
            "refus d'identité DEMANDEUR_NON_AUTORISE : compte acme, fichier lot.xml, uid -, demandeur « support.n1 »");
  EXPECT_EQ(identity_refusal_line(
                IdentityRefusal{"acme", "lot.xml", std::nullopt, "g.martin", ErrorCode::DemandeurNonAutorise, 3}),
            "refus d'identité DEMANDEUR_NON_AUTORISE : compte acme, fichier lot.xml, uid -, demandeur « g.martin » (3 "
            "opérations)");
  EXPECT_EQ(
      identity_refusal_line(IdentityRefusal{"acme", "lot.xml", 1001U, std::nullopt, ErrorCode::CompteNonAutorise, 1}),
      "refus d'identité COMPTE_NON_AUTORISE : compte acme, fichier lot.xml, uid 1001, demandeur -");
}

TEST(IdentityRefusalLog, IsAWarning) {
  CaptureStderr();
  log_identity_refusal(IdentityRefusal{"acme", "lot.xml", std::nullopt, std::nullopt, ErrorCode::SignatureAbsente, 1});
  EXPECT_EQ(GetCapturedStderr(),
            "<4>refus d'identité SIGNATURE_ABSENTE : compte acme, fichier lot.xml, uid -, demandeur -\n");
}

// apply_deposit through an account: one line per refused demandeur of the dépôt (with its count), none
// for the allowed operations, none without an account.
TEST_F(EngineTest, ApplyDepositAuditsEachRefusedDemandeurOnce) {
  config_.revocation = rules::RevocationMode::Aucune;
  start();
  setup_world();
  const SenderAccount acme{"acme", {kSubscriber}, std::nullopt, SignatureRequirement::None, {}};
  const std::string xml =
      depot_xml(user_xml("a.z") + user_xml("b.z") + activation_xml(kManager, kNoSpace) + sheet_xml(sftp_sheet()),
                R"(mode="partielle")");
  CaptureStderr();
  const AppliedDeposit a = apply_through(&acme, xml, "usurpe.xml");
  const std::string log = GetCapturedStderr();
  EXPECT_EQ(a.outcome.accepted, 1u);
  EXPECT_THAT(log, HasSubstr("<4>refus d'identité DEMANDEUR_NON_AUTORISE : compte acme, fichier usurpe.xml, uid -, "
                             "demandeur « support.n1 » (2 opérations)\n"));
  EXPECT_THAT(log, HasSubstr("<4>refus d'identité DEMANDEUR_NON_AUTORISE : compte acme, fichier usurpe.xml, uid -, "
                             "demandeur « g.martin »\n"));
  EXPECT_EQ(log.find("j.dupont"), std::string::npos);

  CaptureStderr();
  apply_through(nullptr, depot_xml(user_xml("c.z")));
  EXPECT_EQ(GetCapturedStderr().find("refus d'identité"), std::string::npos);
}

}  // namespace
}  // namespace raccord::testing
