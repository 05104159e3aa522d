// libFuzzer target: the JSON-lines readers of user-visible results files: the
// one results.jsonl reader (read_results in src/evaluation/protocol.cpp, both
// with and without its repair of a torn last line) and the training-log reader
// (src/analysis/records.cpp).
#include <string>

#include "analysis/records.h"
#include "core/check.h"
#include "evaluation/protocol.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = dvae::fuzz::write_input("results.jsonl", data, size);
  DVAE_FUZZ_EXPECTED_ERRORS((void)dvae::read_results(path, dvae::TornTail::kSkip));
  DVAE_FUZZ_EXPECTED_ERRORS((void)dvae::read_training_log(path));
  DVAE_FUZZ_EXPECTED_ERRORS({  // last: it may rewrite the file
    const auto rows = dvae::read_results(path);
    for (const auto& row : rows) (void)dvae::row_to_json(row).dump();
  });
  return 0;
}
