// Replays the libFuzzer seeds (fuzz/corpus/<target>/) and the inputs that once
// crashed a target (fuzz/regressions/<target>/) through the fuzz targets
// themselves, compiled here without libFuzzer: the normal build and CI keep
// the harnesses compiling and every past finding fixed. A target returns for
// any input; it aborts on a multi-line dvae error and lets anything other
// than dvae::Error and c10::Error escape, which fails the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#define LLVMFuzzerTestOneInput dvae_fuzz_idx
#include "../../fuzz/fuzz_idx.cpp"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput dvae_fuzz_study
#include "../../fuzz/fuzz_study.cpp"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput dvae_fuzz_results
#include "../../fuzz/fuzz_results.cpp"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput dvae_fuzz_checkpoint
#include "../../fuzz/fuzz_checkpoint.cpp"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput dvae_fuzz_factors
#include "../../fuzz/fuzz_factors.cpp"
#undef LLVMFuzzerTestOneInput

namespace dvae {
namespace {

namespace fs = std::filesystem;

using Target = int (*)(const uint8_t*, size_t);

struct Input {
  std::string target;
  std::string path;
};

void PrintTo(const Input& in, std::ostream* os) { *os << in.target << ": " << in.path; }

std::vector<Input> inputs() {
  std::vector<Input> out;
  for (const std::string t : {"idx", "study", "results", "checkpoint", "factors"}) {
    for (const std::string kind : {"corpus", "regressions"}) {
      const fs::path dir = fs::path(DVAE_SOURCE_DIR) / "fuzz" / kind / t;
      if (!fs::is_directory(dir)) continue;
      for (const auto& e : fs::directory_iterator(dir)) out.push_back({t, e.path().string()});
    }
  }
  std::sort(out.begin(), out.end(), [](const Input& a, const Input& b) { return a.path < b.path; });
  return out;
}

Target target_of(const std::string& name) {
  if (name == "idx") return dvae_fuzz_idx;
  if (name == "study") return dvae_fuzz_study;
  if (name == "results") return dvae_fuzz_results;
  if (name == "factors") return dvae_fuzz_factors;
  return dvae_fuzz_checkpoint;
}

class FuzzInput : public ::testing::TestWithParam<Input> {};

TEST_P(FuzzInput, IsAcceptedOrRejectedWithADvaeError) {
  std::ifstream in(GetParam().path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  const std::string data = bytes.str();
  EXPECT_EQ(target_of(GetParam().target)(reinterpret_cast<const uint8_t*>(data.data()), data.size()), 0);
}

TEST(FuzzCorpus, HasSeedsForEveryTarget) {
  std::set<std::string> targets;
  for (const auto& in : inputs()) targets.insert(in.target);
  EXPECT_EQ(targets, (std::set<std::string>{"checkpoint", "factors", "idx", "results", "study"}));
}

std::string input_name(const ::testing::TestParamInfo<Input>& info) {
  const fs::path path(info.param.path);
  std::string name = info.param.target + "_" + path.parent_path().parent_path().filename().string() + "_" +
                     path.filename().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Seeds, FuzzInput, ::testing::ValuesIn(inputs()), input_name);

}  // namespace
}  // namespace dvae
