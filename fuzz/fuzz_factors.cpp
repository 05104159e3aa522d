// libFuzzer target: the CSV reader of `dvae metrics` (parse_factor_csv in
// src/evaluation/metric_inputs.cpp, for codes and factors alike), the row
// matching of codes to factors, and the table metrics on what they accept.
// The input is two CSV texts separated by the first NUL byte (codes, then
// factors; without a NUL both are the same text). When both parse and match,
// MIG, SAP and modularity run on the rows (at most 64 of them, so that an
// execution stays in milliseconds); DCI is left out (XGBoost's trees are slow
// and are XGBoost's parser-free code, not dvae's).
#include <string>

#include "core/check.h"
#include "evaluation/disentanglement.h"
#include "evaluation/metric_inputs.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string codes_text = nul == std::string::npos ? input : input.substr(0, nul);
  const std::string factors_text = nul == std::string::npos ? input : input.substr(nul + 1);
  DVAE_FUZZ_EXPECTED_ERRORS({
    const dvae::FactorTable codes = dvae::parse_factor_csv(codes_text, "codes.csv");
    const dvae::FactorTable factors = dvae::parse_factor_csv(factors_text, "factors.csv");
    for (const bool with_label : {false, true}) {
      DVAE_FUZZ_EXPECTED_ERRORS({
        const dvae::FactorCodes fc =
            dvae::match_codes_to_factors(codes, "codes.csv", factors, "factors.csv", with_label);
        if (fc.codes.size(0) <= 64) {
          dvae::MetricOptions options;
          for (const char* name : {"mig", "sap", "modularity"}) {
            DVAE_FUZZ_EXPECTED_ERRORS((void)dvae::find_metric(name).table(fc, options));
          }
        }
      });
    }
  });
  return 0;
}
