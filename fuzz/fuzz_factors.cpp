// libFuzzer target: the strict CSV reader of `dvae metrics` (parse_factor_csv in
// src/evaluation/metric_inputs.cpp, codes and factors tables) and the join of a
// table that parsed with itself.
#include <string>

#include "core/check.h"
#include "evaluation/metric_inputs.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  DVAE_FUZZ_EXPECTED_ERRORS({
    const dvae::FactorTable t = dvae::parse_factor_csv(text, "input.csv");
    (void)dvae::match_codes_to_factors(t, "input.csv", t, "input.csv", true);
  });
  return 0;
}
