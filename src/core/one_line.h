// Makes text from a file or a library safe for dvae's one-line error messages.
#pragma once

#include <string>
#include <string_view>

namespace dvae {

/// text with line breaks written as \n and other control characters as spaces
/// (a parser's message may quote the raw bytes it choked on, found by fuzzing).
inline std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c;
    }
  }
  return out;
}

}  // namespace dvae
