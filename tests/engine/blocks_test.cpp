// Tests of engine/blocks.cpp (docs/reference.md §6: a blocked activation is written in the sheet's history —
// actor nightly, from = to = its state, the codes and messages as reason — when it first happens and
// whenever its set of (code, champ) changes). Issue 18 item 3: support asked "why is VFE001 not
// activated?" and `show` had only "Envoyée" and a creation event; the reason (CERT_EXPIRE) was only in
// the nightly reports. Real nightly runs on a store built by dépôts, one Engine per business instant.
#include "engine/blocks.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/nightly.hpp"
#include "tests/support/engine_fixture.hpp"
#include "tests/support/test_pki.hpp"

namespace raccord::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

class BlocksTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    start();  // 2026-11-29T10:00:00Z
    setup_world();
  }

  Engine& at(std::string_view now) {
    engine_.reset();
    engine_ = std::make_unique<Engine>(config_, BusinessClock(instant(now)));
    engine_->open();
    return *engine_;
  }
  NightlyReport night(std::string_view now, std::string_view d) {
    const NightlyResult r = run_nightly(at(now), civil_date(d));
    EXPECT_EQ(r.status, NightlyStatus::Ran);
    return r.reports.empty() ? NightlyReport{} : r.reports.back();
  }
  std::string submit(const SheetSpec& spec) {
    ++n_;
    const ParsedAck ack = process("b_" + std::to_string(n_) + ".xml",
                                  depot_xml(sheet_xml(spec), "identifiant=\"B-" + std::to_string(n_) + "\""));
    EXPECT_EQ(ack.statut, "INTEGRE") << ack.xml;
    return ack.operations.empty() ? std::string() : ack.operations[0].code_appli;
  }
  void ok(const std::string& operations) {
    ++n_;
    const ParsedAck ack = process("b_" + std::to_string(n_) + ".xml",
                                  depot_xml(operations, "identifiant=\"B-" + std::to_string(n_) + "\""));
    ASSERT_EQ(ack.statut, "INTEGRE") << ack.xml;
  }
  /// An SFTP sheet from 29/11 whose leaf ends at `not_after`.
  static SheetSpec sheet_with_leaf_until(std::string not_after) {
    SheetSpec s = sftp_sheet();
    s.period_from = "2026-11-29";
    LeafOptions leaf;
    leaf.common_name = "vfe.exemple.fr";
    leaf.not_after = std::move(not_after);
    s.certificates = {TestPki::instance().bundle_base64(leaf)};
    return s;
  }
  /// The sheet's block events as "from>to|instant|CODE(champ) CODE(champ)…".
  std::vector<std::string> block_events(const std::string& code) {
    std::vector<std::string> out;
    for (const auto& h : sql("SELECT id, from_state, to_state, instant FROM history WHERE code_appli = $1 AND actor = "
                             "'nightly' AND from_state = to_state ORDER BY id",
                             {code})) {
      std::string line = h.text(1) + ">" + h.text(2) + "|" + h.text(3) + "|";
      for (const auto& r :
           sql("SELECT code, field FROM history_reasons WHERE history_id = $1 ORDER BY position", {h.integer(0)})) {
        line += r.text(0) + "(" + (r.is_null(1) ? std::string() : r.text(1)) + ") ";
      }
      out.push_back(line);
    }
    return out;
  }

  int n_ = 0;
};

TEST_F(BlocksTest, ABlockIsRecordedWhenItFirstHappensAndAgainOnlyWhenItsCodesChange) {
  // VFE001's leaf expires at 00:30Z, before the run instant of 30/11 (02:00 Paris = 01:00Z): blocked.
  const std::string code = submit(sheet_with_leaf_until("2026-11-30T00:30:00Z"));
  ASSERT_EQ(code, "VFE001");
  const NightlyReport first = night("2026-11-30T07:00:00Z", "2026-11-30");
  ASSERT_EQ(first.blocked.size(), 1u);
  EXPECT_EQ(state_of(code), "ENVOYEE");
  EXPECT_THAT(block_events(code),
              ElementsAre("ENVOYEE>ENVOYEE|2026-11-30T01:00:00Z|CERT_EXPIRE(Certificats/Certificat[1]) "));
  EXPECT_THAT(history(code), ElementsAre("j.dupont:>ENVOYEE", "nightly:ENVOYEE>ENVOYEE"));
  const auto reason = db().query_one(
      "SELECT reason FROM history WHERE code_appli = $1 AND actor = 'nightly' ORDER BY id DESC LIMIT 1", {code});
  ASSERT_TRUE(reason);
  EXPECT_THAT(reason->text(0), StartsWith("activation bloquée : CERT_EXPIRE (Certificats/Certificat[1]) : "));
  EXPECT_EQ(reason->text(0), block_history_reason(first.blocked[0].reasons));

  // The next night: the same set of (code, champ): nothing new in the history.
  ASSERT_EQ(night("2026-12-01T07:00:00Z", "2026-12-01").blocked.size(), 1u);
  EXPECT_EQ(block_events(code).size(), 1u);

  // The structure becomes inactive: the set changes, the block is written again with both codes.
  StructureSpec inactive;
  inactive.statut = "INACTIF";
  ok(structure_xml(inactive));
  ASSERT_EQ(night("2026-12-02T07:00:00Z", "2026-12-02").blocked.size(), 1u);
  EXPECT_THAT(block_events(code),
              ElementsAre("ENVOYEE>ENVOYEE|2026-11-30T01:00:00Z|CERT_EXPIRE(Certificats/Certificat[1]) ",
                          "ENVOYEE>ENVOYEE|2026-12-02T01:00:00Z|STRUCTURE_INACTIVE(Partenaire) "
                          "CERT_EXPIRE(Certificats/Certificat[1]) "));
  const auto block = current_block(db(), code);
  ASSERT_TRUE(block);
  EXPECT_EQ(format_iso_instant(block->since), "2026-12-02T01:00:00Z");
  ASSERT_EQ(block->reasons.size(), 2u);
  EXPECT_EQ(block->reasons[0].code, "STRUCTURE_INACTIVE");
  EXPECT_EQ(block->reasons[0].field, "Partenaire");
  EXPECT_THAT(block->reasons[0].message, HasSubstr("12345678200010"));
  EXPECT_EQ(block->reasons[1].code, "CERT_EXPIRE");
  EXPECT_EQ(block->reasons[1].field, "Certificats/Certificat[1]");
  EXPECT_FALSE(block->reasons[1].message.empty());

  // Active again: back to CERT_EXPIRE alone, a change of set: written again.
  StructureSpec active;
  ok(structure_xml(active));
  night("2026-12-03T07:00:00Z", "2026-12-03");
  EXPECT_EQ(block_events(code).size(), 3u);
  EXPECT_EQ(current_block(db(), code)->reasons.size(), 1u);
}

TEST_F(BlocksTest, ASheetNeverBlockedOrActivatedSinceHasNoCurrentBlock) {
  SheetSpec later = sftp_sheet();
  later.period_from = "2026-12-10";  // waits for its du: not a candidate, never blocked
  const std::string waiting = submit(later);
  const std::string activated = submit(sheet_with_leaf_until("2030-12-31T23:59:59Z"));
  const NightlyReport r = night("2026-11-30T07:00:00Z", "2026-11-30");
  EXPECT_THAT(r.blocked, IsEmpty());
  EXPECT_EQ(state_of(activated), "ACTIVEE");
  EXPECT_FALSE(current_block(db(), waiting));
  EXPECT_FALSE(current_block(db(), activated));
  EXPECT_FALSE(current_block(db(), "VFE999"));
  EXPECT_THAT(block_events(waiting), IsEmpty());

  // A blocked update (ENVOYEE_MAJ) is recorded with from = to = ENVOYEE_MAJ; once the sheet is
  // deactivated by its user, the block is over.
  at("2026-11-30T10:00:00Z");
  SheetSpec update = sheet_with_leaf_until("2026-12-01T00:30:00Z");
  update.code_appli = activated;
  ASSERT_EQ(submit(update), activated);
  night("2026-12-01T07:00:00Z", "2026-12-01");
  EXPECT_THAT(block_events(activated),
              ElementsAre("ENVOYEE_MAJ>ENVOYEE_MAJ|2026-12-01T01:00:00Z|CERT_EXPIRE(Certificats/Certificat[1]) "));
  ASSERT_TRUE(current_block(db(), activated));
  ok("  <FicheEDI demandeur=\"j.dupont\" action=\"desactiver\" codeAppli=\"" + activated + "\"><Partenaire>" +
     std::string(kAcme) + "</Partenaire></FicheEDI>\n");
  EXPECT_EQ(state_of(activated), "DESACTIVEE");
  EXPECT_FALSE(current_block(db(), activated));
}

TEST_F(BlocksTest, RecordBlocksSkipsASheetWhoseStateChangedMeanwhile) {
  const std::string code = submit(sheet_with_leaf_until("2026-11-30T00:30:00Z"));
  BlockedActivation b{code,
                      kAcme,
                      SheetState::EnvoyeeMaj,
                      {Diagnostic::error(ErrorCode::CertExpire, "Certificats/Certificat[1]", 0, "expiré")}};
  Transaction tx(db());
  EXPECT_EQ(record_blocks(db(), {b}, instant("2026-11-30T01:00:00Z")), 0u);  // the sheet is ENVOYEE
  b.state = SheetState::Envoyee;
  EXPECT_EQ(record_blocks(db(), {b}, instant("2026-11-30T01:00:00Z")), 1u);
  EXPECT_EQ(record_blocks(db(), {b}, instant("2026-12-01T01:00:00Z")), 0u);  // same set
  b.reasons[0].message = "autre texte";                                      // same (code, champ)
  EXPECT_EQ(record_blocks(db(), {b}, instant("2026-12-02T01:00:00Z")), 0u);
  b.reasons[0].field = "Certificats/Certificat[2]";
  EXPECT_EQ(record_blocks(db(), {b}, instant("2026-12-03T01:00:00Z")), 1u);
  tx.commit();
  EXPECT_EQ(block_events(code).size(), 2u);
}

TEST(BlockHistoryReasonTest, CodesFieldsAndMessagesInOrder) {
  EXPECT_EQ(block_history_reason({Diagnostic::error(ErrorCode::CertExpire, "Certificats/Certificat[1]", 3, "a"),
                                  Diagnostic::error(ErrorCode::StructureInactive, "", 0, "b")}),
            "activation bloquée : CERT_EXPIRE (Certificats/Certificat[1]) : a ; STRUCTURE_INACTIVE : b");
}

}  // namespace
}  // namespace raccord::testing
