// Small text helpers shared by the commands that print for a terminal or write XML (show, trust, cert,
// search): one line of terminal text, ASCII case of option values.
#pragma once

#include <string>
#include <string_view>

namespace raccord::app {

/// `text` as one line of terminal text: every control character (below U+0020, and U+007F; a newline
/// in a comment, an escape sequence a sender wrote) becomes a space, so that a value can neither break
/// a listing's lines nor drive the terminal. Bytes of 0x80 and above (UTF-8) are kept. Never throws
/// beyond std::bad_alloc.
std::string terminal_line(std::string_view text);

/// `text` with the ASCII letters a–z upper-cased and every other byte kept (an option value such as
/// `--protocole edi` compared with the vocabulary's codes, docs/reference.md §1). Never throws beyond
/// std::bad_alloc.
std::string upper_ascii(std::string text);

}  // namespace raccord::app
