#include "domain/vocabulary.hpp"

namespace raccord {

std::optional<bool> parse_boolean(std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return std::nullopt;
}

}  // namespace raccord
