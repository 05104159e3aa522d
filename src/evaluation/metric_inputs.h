// The inputs of `dvae metrics`: a strict reader of numeric CSV tables keyed by
// an `index` column (codes as `dvae encode` writes them, factors as `dvae
// factors` writes them) and the row matching that turns the two into
// FactorCodes (evaluation/disentanglement.h).
//
// parse_factor_csv is a pure function of the text, so a fuzz target can call it.
// Not for: writing CSV, or any CSV with quoting or text fields.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "evaluation/disentanglement.h"

namespace dvae {

/// A numeric table whose first column is `index`.
struct CsvTable {
  std::vector<std::string> columns;  ///< C header names after `index`
  std::vector<int64_t> index;        ///< [R] the index column (integers >= 0)
  std::vector<double> values;        ///< [R*C] the other columns, row-major, all finite

  /// Number of rows R.
  int64_t rows() const { return static_cast<int64_t>(index.size()); }
  /// Number of columns C (without `index`).
  int64_t cols() const { return static_cast<int64_t>(columns.size()); }
  /// Value at row r, column c.
  double at(int64_t r, int64_t c) const { return values[static_cast<size_t>(r * cols() + c)]; }
};

/// Parses CSV text: a header starting with `index`, unique non-empty names, then
/// rows of exactly as many fields, each a complete decimal number (NaN and
/// infinities refused), the index a non-negative integer. LF or CRLF line ends;
/// one final empty line allowed. Errors name `what`, the line and the column.
CsvTable parse_factor_csv(const std::string& text, const std::string& what);

/// Reads and parses the file at path (errors name it).
CsvTable read_factor_csv(const std::string& path);

/// Joins codes (columns mu_0.. as written by `dvae encode`; logvar_* and label
/// ignored) with factors (every column but label; label too, as a discrete factor,
/// when with_label) on `index`. Every code row needs exactly one factor row;
/// factor rows without codes are ignored. Duplicate indices in either table, or a
/// code index without a factor row, are errors naming the file and the index.
FactorCodes match_codes_to_factors(const CsvTable& codes, const std::string& codes_what,
                                   const CsvTable& factors, const std::string& factors_what, bool with_label);

}  // namespace dvae
