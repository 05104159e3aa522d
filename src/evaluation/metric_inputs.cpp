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

CsvTable parse_factor_csv(const std::string& text, const std::string& what) {
  const std::vector<std::string> lines = csv_lines(text);
  DVAE_CHECK(!lines.empty(), what, ": empty file, expected a header line 'index,...'");
  const std::vector<std::string> header = csv_fields(lines[0]);
  DVAE_CHECK(header[0] == "index", what, ": line 1 column 1: header ", shown(header[0]), ", expected 'index'");
  CsvTable t;
  std::set<std::string> seen{"index"};
  for (size_t c = 1; c < header.size(); ++c) {
    const std::string where = what + ": line 1 column " + std::to_string(c + 1);
    DVAE_CHECK(!header[c].empty(), where, ": empty column name");
    DVAE_CHECK(seen.insert(header[c]).second, where, ": column ", shown(header[c]), " appears twice");
    t.columns.push_back(header[c]);
  }
  DVAE_CHECK(!t.columns.empty(), what, ": line 1: only an index column, expected value columns after it");
  t.index.reserve(lines.size() - 1);
  t.values.reserve((lines.size() - 1) * t.columns.size());
  for (size_t l = 1; l < lines.size(); ++l) {
    const std::string line_at = what + ": line " + std::to_string(l + 1);
    const std::vector<std::string> fields = csv_fields(lines[l]);
    DVAE_CHECK(fields.size() == header.size(), line_at, ": ", fields.size(), " fields, expected ", header.size(),
               " as the header");
    t.index.push_back(parse_index(fields[0], line_at + " column 1"));
    for (size_t c = 1; c < fields.size(); ++c) {
      t.values.push_back(parse_number(fields[c], line_at + " column " + std::to_string(c + 1) + " (" + header[c] + ")"));
    }
  }
  DVAE_CHECK(t.rows() > 0, what, ": a header and no rows, expected at least one row");
  return t;
}

CsvTable read_factor_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  DVAE_CHECK(in, path, ": cannot open for reading");
  std::ostringstream text;
  text << in.rdbuf();
  DVAE_CHECK(!in.bad(), path, ": read failed");
  return parse_factor_csv(text.str(), path);
}

FactorCodes match_codes_to_factors(const CsvTable& codes, const std::string& codes_what,
                                   const CsvTable& factors, const std::string& factors_what, bool with_label) {
  std::vector<int64_t> code_cols, factor_cols;
  for (int64_t c = 0; c < codes.cols(); ++c) {
    if (codes.columns[static_cast<size_t>(c)].rfind("mu_", 0) == 0) code_cols.push_back(c);
  }
  DVAE_CHECK(!code_cols.empty(), codes_what, ": no mu_<k> columns, expected codes as written by dvae encode");
  FactorCodes out;
  for (int64_t c = 0; c < factors.cols(); ++c) {
    const std::string& name = factors.columns[static_cast<size_t>(c)];
    if (name == "label" && !with_label) continue;
    factor_cols.push_back(c);
    out.factor_names.push_back(name);
    out.discrete.push_back(name == "label");
  }
  DVAE_CHECK(!factor_cols.empty(), factors_what, ": no factor columns besides index",
             with_label ? "" : " and label (add --with-label to score the label)");
  std::unordered_map<int64_t, int64_t> factor_row;
  for (int64_t r = 0; r < factors.rows(); ++r) {
    const int64_t i = factors.index[static_cast<size_t>(r)];
    DVAE_CHECK(factor_row.emplace(i, r).second, factors_what, ": index ", i, " appears twice (line ", r + 2, ")");
  }
  std::set<int64_t> code_seen;
  const int64_t n = codes.rows();
  torch::Tensor z = torch::empty({n, static_cast<int64_t>(code_cols.size())}, torch::kDouble);
  torch::Tensor f = torch::empty({n, static_cast<int64_t>(factor_cols.size())}, torch::kDouble);
  auto za = z.accessor<double, 2>();
  auto fa = f.accessor<double, 2>();
  for (int64_t r = 0; r < n; ++r) {
    const int64_t i = codes.index[static_cast<size_t>(r)];
    DVAE_CHECK(code_seen.insert(i).second, codes_what, ": index ", i, " appears twice (line ", r + 2, ")");
    const auto it = factor_row.find(i);
    DVAE_CHECK(it != factor_row.end(), codes_what, ": index ", i, " (line ", r + 2, ") has no row in ", factors_what);
    for (size_t c = 0; c < code_cols.size(); ++c) za[r][static_cast<int64_t>(c)] = codes.at(r, code_cols[c]);
    for (size_t c = 0; c < factor_cols.size(); ++c) fa[r][static_cast<int64_t>(c)] = factors.at(it->second, factor_cols[c]);
  }
  out.codes = z;
  out.factors = f;
  return out;
}

}  // namespace dvae
