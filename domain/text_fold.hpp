// Text compared the way people type it (issue 18: `--etat Activée`, `--raison-sociale "pro shop"`):
// accents and case ignored.
#pragma once

#include <string>
#include <string_view>

namespace raccord {

/// `text` (UTF-8) folded for matching: ASCII letters in lower case; the Latin letters with
/// diacritics of U+00C0..U+017F (French and the other Western European languages) as their base
/// letter in lower case (é, É, ê → e; ç → c; œ → oe; æ → ae; ß → ss); every other character kept as
/// it is (an invalid UTF-8 byte too). Two texts that differ only by accents and case fold to the
/// same string: fold_for_matching("Désactivée") == fold_for_matching("DESACTIVEE") == "desactivee".
std::string fold_for_matching(std::string_view text);

/// Whether fold_for_matching(`part`) occurs in fold_for_matching(`text`) ("part of the name, case and
/// accents ignored"). An empty `part` is found in every text.
bool contains_folded(std::string_view text, std::string_view part);

}  // namespace raccord
