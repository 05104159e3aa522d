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

#include "data/factor_table.h"
#include "evaluation/disentanglement.h"

namespace dvae {

/// Parses CSV text into a FactorTable (data/factor_table.h): a header
/// `index,label,<names...>` with unique non-empty names (at least one), then rows
/// of exactly as many fields; index and label non-negative integers, every other
/// field a complete decimal number (NaN and infinities refused). LF or CRLF line
/// ends; one final empty line allowed. Errors name `what`, the line and the column.
FactorTable parse_factor_csv(const std::string& text, const std::string& what);

/// Reads and parses the file at path (errors name it).
FactorTable read_factor_csv(const std::string& path);

/// Joins codes (columns mu_0.. as written by `dvae encode`; logvar_* and label
/// ignored) with factors (every column but label; label too, as a discrete factor,
/// when with_label) on `index`. Every code row needs exactly one factor row;
/// factor rows without codes are ignored. Duplicate indices in either table, or a
/// code index without a factor row, are errors naming the file and the index.
FactorCodes match_codes_to_factors(const FactorTable& codes, const std::string& codes_what,
                                   const FactorTable& factors, const std::string& factors_what, bool with_label);

}  // namespace dvae
