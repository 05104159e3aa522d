// Replays fuzz_serve's seeds (fuzz/corpus/serve/) and past findings
// (fuzz/regressions/serve/) through the target itself, compiled here without
// libFuzzer, so the harness keeps building and every finding stays fixed. The
// target aborts on a 5xx answer, a multi-line JSON answer or an escaping
// exception, which fails this test.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#define LLVMFuzzerTestOneInput dvae_fuzz_serve
#include "../../fuzz/fuzz_serve.cpp"
#undef LLVMFuzzerTestOneInput

namespace dvae {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> serve_inputs() {
  std::vector<std::string> out;
  for (const std::string kind : {"corpus", "regressions"}) {
    const fs::path dir = fs::path(DVAE_SOURCE_DIR) / "fuzz" / kind / "serve";
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(FuzzServe, EverySeedAndFindingIsAnsweredWithoutAFault) {
  const auto inputs = serve_inputs();
  ASSERT_GE(inputs.size(), 10u) << "fuzz/corpus/serve lost its seeds";
  for (const auto& path : inputs) {
    SCOPED_TRACE(path);
    std::ifstream in(path, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    const std::string data = bytes.str();
    EXPECT_EQ(dvae_fuzz_serve(reinterpret_cast<const uint8_t*>(data.data()), data.size()), 0);
  }
}

// The seeds reach each endpoint's valid path: a seed that no longer parses would
// leave the fuzzer exploring only the error answers.
TEST(FuzzServe, SeedsReachEveryEndpointsValidAnswer) {
  for (const auto& path : serve_inputs()) {
    if (path.find("/corpus/") == std::string::npos || path.find("unknown") != std::string::npos) continue;
    SCOPED_TRACE(path);
    std::ifstream in(path, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    const std::string data = bytes.str();
    const auto& endpoints = api_endpoints();
    const std::string name = endpoints.at(static_cast<uint8_t>(data[0]) % (endpoints.size() + 1)).name;
    ApiLimits limits;
    limits.max_image_side = 64;
    const ApiReply reply = api_call(fuzz::explorer(), name, data.substr(1), limits);
    EXPECT_EQ(reply.status, 200) << reply.body.substr(0, 200);
  }
}

}  // namespace
}  // namespace dvae
