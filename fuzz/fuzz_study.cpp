// libFuzzer target: the study TOML parser (parse_study in
// src/experiments/study_spec.cpp): toml++ syntax, every key's type and range,
// presets, validation, and the JSON form of whatever it accepts.
#include <string>

#include "core/check.h"
#include "experiments/study_spec.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  DVAE_FUZZ_EXPECTED_ERRORS({
    const dvae::StudySpec spec = dvae::parse_study(text, "fuzz.toml");
    (void)dvae::study_to_json(spec).dump();
    (void)dvae::study_protocol(spec);
  });
  return 0;
}
