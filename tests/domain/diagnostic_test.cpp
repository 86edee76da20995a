// Tests of domain/diagnostic.hpp: the severities' spellings (the elements of an accusé, docs/reference.md
// §5.1; the heads of the text reports) and the error/warning helpers.
#include "domain/diagnostic.hpp"

#include <gtest/gtest.h>

namespace raccord {
namespace {

TEST(Diagnostic, SeverityCodesAreTheAccuseElementsAndLabelsTheTextHeads) {
  EXPECT_EQ(to_code(Severity::Error), "Erreur");
  EXPECT_EQ(to_code(Severity::Warning), "Avertissement");
  EXPECT_EQ(to_label(Severity::Error), "ERREUR");
  EXPECT_EQ(to_label(Severity::Warning), "AVERTISSEMENT");
  EXPECT_EQ(parse<Severity>("Avertissement"), Severity::Warning);
  EXPECT_FALSE(parse<Severity>("ERREUR"));
}

TEST(Diagnostic, ErrorsAndWarnings) {
  const Diagnostic e = Diagnostic::error(ErrorCode::CertExpire, "Certificats/Certificat[1]", 12, "expiré");
  const Diagnostic w = Diagnostic::warning(ErrorCode::CertExpireBientot, "Certificats/Certificat[1]", 12, "bientôt");
  EXPECT_TRUE(e.is_error());
  EXPECT_FALSE(w.is_error());
  EXPECT_EQ(e.severity, Severity::Error);
  EXPECT_EQ(w.severity, Severity::Warning);
  EXPECT_EQ(e.line, 12);
  EXPECT_EQ(e.column, 0);
  EXPECT_FALSE(has_error({w}));
  EXPECT_TRUE(has_error({w, e}));
  EXPECT_FALSE(has_error({}));
}

}  // namespace
}  // namespace raccord
