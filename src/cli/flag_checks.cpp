// Numeric flag validators (see flag_checks.h).
#include "cli/flag_checks.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace dvae::cli {

namespace {

std::string range_text(const char* what, double lo, double hi, bool open_lo) {
  std::ostringstream out;
  out << what << " in " << (open_lo ? "(" : "[") << lo << ", " << hi << "]";
  return out.str();
}

// True when the number parsed from text ended at end, its last character, with no blanks.
bool whole_token(const std::string& text, const char* end) {
  return !text.empty() && end == text.c_str() + text.size() && text.find_first_of(" \t\n") == std::string::npos;
}

}  // namespace

CLI::Validator int_in(int64_t lo, int64_t hi) {
  const std::string expected = "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  return CLI::Validator(
      [lo, hi, expected](std::string& text) -> std::string {
        errno = 0;
        char* end = nullptr;
        const long long v = std::strtoll(text.c_str(), &end, 10);
        const bool whole = whole_token(text, end);
        if (!whole || errno == ERANGE || v < lo || v > hi) return "'" + text + "', " + expected;
        return {};
      },
      "INT in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

CLI::Validator real_in(double lo, double hi, bool open_lo) {
  const std::string expected = "expected a finite " + range_text("number", lo, hi, open_lo);
  return CLI::Validator(
      [lo, hi, open_lo, expected](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        const bool whole = whole_token(text, end);
        const bool in = std::isfinite(v) && (open_lo ? v > lo : v >= lo) && v <= hi;
        if (!whole || !in) return "'" + text + "', " + expected;
        return {};
      },
      range_text("NUMBER", lo, hi, open_lo));
}

}  // namespace dvae::cli
