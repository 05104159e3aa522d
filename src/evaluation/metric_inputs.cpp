// Strict numeric CSV reading and the codes-to-factors join of `dvae metrics`.
#include "evaluation/metric_inputs.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

#include "core/check.h"

namespace dvae {
namespace {

// Splits text into lines (LF or CRLF); a final empty line is dropped.
std::vector<std::string> csv_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    start = end + 1;
  }
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    fields.push_back(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return fields;
}

std::string shown(const std::string& field) {
  return field.size() > 40 ? "'" + field.substr(0, 40) + "...'" : "'" + field + "'";
}

// A complete decimal number: [+-]digits[.digits][e[+-]digits], finite.
double parse_number(const std::string& field, const std::string& where) {
  DVAE_CHECK(!field.empty(), where, ": empty field, expected a number");
  for (char c : field) {
    const bool ok = (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E';
    DVAE_CHECK(ok, where, ": ", shown(field), " is not a finite decimal number (NaN and infinities are refused)");
  }
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(field.c_str(), &end);
  DVAE_CHECK(end == field.c_str() + field.size(), where, ": ", shown(field), " is not a number");
  DVAE_CHECK(std::isfinite(v) && errno != ERANGE, where, ": ", shown(field), " is out of the range of a double");
  return v;
}

int64_t parse_index(const std::string& field, const std::string& where) {
  DVAE_CHECK(!field.empty() && field.size() <= 18, where, ": index ", shown(field),
             ", expected a non-negative integer");
  int64_t v = 0;
  for (char c : field) {
    DVAE_CHECK(c >= '0' && c <= '9', where, ": index ", shown(field), ", expected a non-negative integer");
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

FactorTable parse_factor_csv(const std::string& text, const std::string& what) {
  const std::vector<std::string> lines = csv_lines(text);
  DVAE_CHECK(!lines.empty(), what, ": empty file, expected a header line 'index,label,...'");
  const std::vector<std::string> header = csv_fields(lines[0]);
  DVAE_CHECK(header[0] == "index", what, ": line 1 column 1: header ", shown(header[0]), ", expected 'index'");
  DVAE_CHECK(header.size() >= 2 && header[1] == "label", what, ": line 1 column 2: header ",
             header.size() >= 2 ? shown(header[1]) : "missing", ", expected 'label'");
  FactorTable t;
  std::set<std::string> seen{"index", "label"};
  for (size_t c = 2; c < header.size(); ++c) {
    const std::string where = what + ": line 1 column " + std::to_string(c + 1);
    DVAE_CHECK(!header[c].empty(), where, ": empty column name");
    DVAE_CHECK(seen.insert(header[c]).second, where, ": column ", shown(header[c]), " appears twice");
    t.names.push_back(header[c]);
  }
  DVAE_CHECK(!t.names.empty(), what, ": line 1: only index and label, expected value columns after them");
  const auto rows = static_cast<int64_t>(lines.size()) - 1;
  DVAE_CHECK(rows > 0, what, ": a header and no rows, expected at least one row");
  const auto cols = static_cast<int64_t>(t.names.size());
  t.index = torch::empty({rows}, torch::kLong);
  t.labels = torch::empty({rows}, torch::kLong);
  t.values = torch::empty({rows, cols}, torch::kDouble);
  auto index = t.index.accessor<int64_t, 1>();
  auto labels = t.labels.accessor<int64_t, 1>();
  auto values = t.values.accessor<double, 2>();
  for (int64_t r = 0; r < rows; ++r) {
    const std::string line_at = what + ": line " + std::to_string(r + 2);
    const std::vector<std::string> fields = csv_fields(lines[static_cast<size_t>(r + 1)]);
    DVAE_CHECK(fields.size() == header.size(), line_at, ": ", fields.size(), " fields, expected ", header.size(),
               " as the header");
    index[r] = parse_index(fields[0], line_at + " column 1 (index)");
    labels[r] = parse_index(fields[1], line_at + " column 2 (label)");
    for (int64_t c = 0; c < cols; ++c) {
      const auto f = static_cast<size_t>(c + 2);
      values[r][c] = parse_number(fields[f], line_at + " column " + std::to_string(f + 1) + " (" + header[f] + ")");
    }
  }
  return t;
}

FactorTable read_factor_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  DVAE_CHECK(in, path, ": cannot open for reading");
  std::ostringstream text;
  text << in.rdbuf();
  DVAE_CHECK(!in.bad(), path, ": read failed");
  return parse_factor_csv(text.str(), path);
}

FactorCodes match_codes_to_factors(const FactorTable& codes, const std::string& codes_what,
                                   const FactorTable& factors, const std::string& factors_what, bool with_label) {
  std::vector<int64_t> code_cols;
  for (size_t c = 0; c < codes.names.size(); ++c) {
    if (codes.names[c].rfind("mu_", 0) == 0) code_cols.push_back(static_cast<int64_t>(c));
  }
  DVAE_CHECK(!code_cols.empty(), codes_what, ": no mu_<k> columns, expected codes as written by dvae encode");
  DVAE_CHECK(!factors.names.empty() || with_label, factors_what,
             ": no factor columns besides index and label (add --with-label to score the label)");
  FactorCodes out;
  if (with_label) {
    out.factor_names.push_back("label");
    out.discrete.push_back(true);
  }
  for (const auto& name : factors.names) {
    out.factor_names.push_back(name);
    out.discrete.push_back(false);
  }
  const auto f_index = factors.index.accessor<int64_t, 1>();
  std::unordered_map<int64_t, int64_t> factor_row;
  for (int64_t r = 0; r < f_index.size(0); ++r) {
    DVAE_CHECK(factor_row.emplace(f_index[r], r).second, factors_what, ": index ", f_index[r], " appears twice (line ",
               r + 2, ")");
  }
  const auto c_index = codes.index.accessor<int64_t, 1>();
  const int64_t n = c_index.size(0);
  std::set<int64_t> code_seen;
  std::vector<int64_t> rows(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) {
    const int64_t i = c_index[r];
    DVAE_CHECK(code_seen.insert(i).second, codes_what, ": index ", i, " appears twice (line ", r + 2, ")");
    const auto it = factor_row.find(i);
    DVAE_CHECK(it != factor_row.end(), codes_what, ": index ", i, " (line ", r + 2, ") has no row in ", factors_what);
    rows[static_cast<size_t>(r)] = it->second;
  }
  const torch::Tensor at = torch::tensor(rows, torch::kLong);
  out.codes = codes.values.index_select(1, torch::tensor(code_cols, torch::kLong)).to(torch::kDouble);  // [N,D]
  torch::Tensor f = factors.values.to(torch::kDouble).index_select(0, at);                            // [N,F]
  if (with_label) f = torch::cat({factors.labels.index_select(0, at).to(torch::kDouble).unsqueeze(1), f}, 1);
  out.factors = f;
  return out;
}

}  // namespace dvae
