// Validators for numeric flags: every numeric option of every subcommand goes
// through one of these, so that a bad value (negative, zero where a count is
// expected, NaN, infinite, huge, text) is a usage error naming the flag and the
// accepted range before any work starts. Not for flags with their own syntax
// (--sizes, --base), which parse and check themselves.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>

namespace dvae::cli {

/// An integer in [lo, hi], written in decimal: "--epochs: '0', expected an integer in [1, 100000]".
CLI::Validator int_in(int64_t lo, int64_t hi);

/// A finite number in [lo, hi] ((lo, hi] when open_lo); NaN and infinities are refused.
CLI::Validator real_in(double lo, double hi, bool open_lo = false);

/// The largest seed a flag or study key accepts (seeds are stored as signed 64-bit integers).
inline constexpr int64_t kMaxSeed = INT64_MAX;

}  // namespace dvae::cli
