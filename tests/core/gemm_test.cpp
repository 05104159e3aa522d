// core/gemm.h: names, the CPU rule, the process-wide setting, and gemm_out on
// every backend against a float64 product for every layout the steps use.
#include "core/gemm.h"

#include <gtest/gtest.h>

#include "core/check.h"
#include "support/gemm_backends.h"

namespace dvae {
namespace {

CpuInfo cpu_with(bool avx2, bool avx512f) {
  CpuInfo cpu;
  cpu.avx2 = avx2;
  cpu.avx512f = avx512f;
  cpu.avx512vl = avx512f;
  return cpu;
}

TEST(Gemm, NamesRoundTripAndUnknownNamesAreUsageErrors) {
  for (GemmBackend b : available_gemm_backends()) EXPECT_EQ(parse_gemm_backend(gemm_backend_name(b), "DVAE_GEMM"), b);
  try {
    parse_gemm_backend("mkl", "DVAE_GEMM");
    FAIL() << "expected dvae::UsageError";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), "DVAE_GEMM=mkl: expected blas or onednn");
  }
  if (!onednn_available()) EXPECT_THROW(parse_gemm_backend("onednn", "DVAE_GEMM"), UsageError);
}

TEST(Gemm, RuleIsOneDnnOnlyOnAvx2CpusWithoutAvx512AndOnZen4) {
  std::string why;
  EXPECT_EQ(default_gemm_backend(cpu_with(true, true), &why), GemmBackend::kBlas);
  EXPECT_FALSE(why.empty());
  CpuInfo zen = cpu_with(true, true);
  zen.vendor = "AuthenticAMD";
  zen.family = 25;  // Zen 3 and Zen 4; only Zen 4 has AVX-512
  EXPECT_EQ(default_gemm_backend(zen), onednn_available() ? GemmBackend::kOneDnn : GemmBackend::kBlas);
  zen.family = 26;  // Zen 5, where OpenBLAS's figures were taken
  EXPECT_EQ(default_gemm_backend(zen), GemmBackend::kBlas);
  CpuInfo xeon = cpu_with(true, true);
  xeon.vendor = "GenuineIntel";
  xeon.family = 6;
  EXPECT_EQ(default_gemm_backend(xeon), GemmBackend::kBlas);
  EXPECT_EQ(default_gemm_backend(cpu_with(false, false)), GemmBackend::kBlas);
  EXPECT_EQ(default_gemm_backend(cpu_with(true, false)),
            onednn_available() ? GemmBackend::kOneDnn : GemmBackend::kBlas);
}

TEST(Gemm, ScopeSetsAndRestores) {
  const GemmBackend before = gemm_backend();
  for (GemmBackend b : available_gemm_backends()) {
    GemmBackendScope scope(b);
    EXPECT_EQ(gemm_backend(), b);
  }
  EXPECT_EQ(gemm_backend(), before);
}

class GemmBackendTest : public testing::TestWithParam<GemmBackend> {};

// out = a b (or out += a b) for a, b row-major or transposed views, out a view with a row stride above its width.
TEST_P(GemmBackendTest, MatchesAFloat64ProductForEveryLayout) {
  GemmBackendScope gemm(GetParam());
  torch::manual_seed(3);
  const int64_t M = 37, K = 53, N = 29;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (bool accumulate : {false, true}) {
        const auto a = ta ? torch::randn({K, M}).t() : torch::randn({M, K});  // [M,K]
        const auto b = tb ? torch::randn({N, K}).t() : torch::randn({K, N});  // [K,N]
        auto storage = torch::randn({M, N + 7});
        auto out = storage.narrow(1, 2, N);  // [M,N], row stride N + 7
        const auto before = out.to(torch::kFloat64);
        gemm_out(out, a, b, accumulate);
        auto want = torch::mm(a.to(torch::kFloat64), b.to(torch::kFloat64));
        if (accumulate) want += before;
        EXPECT_LE((out.to(torch::kFloat64) - want).abs().max().item<double>(), 1e-4)
            << "ta " << ta << " tb " << tb << " accumulate " << accumulate;
        // The columns beside the view are untouched.
        EXPECT_TRUE(torch::equal(storage.narrow(1, 0, 2), storage.narrow(1, 0, 2).clone()));
      }
    }
  }
}

TEST_P(GemmBackendTest, OtherLayoutsAndDtypesFallBackToLibTorch) {
  GemmBackendScope gemm(GetParam());
  const auto a = torch::randn({6, 4}, torch::kFloat64), b = torch::randn({4, 5}, torch::kFloat64);
  auto out = torch::empty({6, 5}, torch::kFloat64);
  gemm_out(out, a, b);
  EXPECT_TRUE(torch::allclose(out, torch::mm(a, b)));
  const auto strided = torch::randn({8, 12}).slice(1, 0, 12, 3);  // [8,4], column stride 3
  auto out2 = torch::empty({8, 5});
  const auto b2 = torch::randn({4, 5});
  gemm_out(out2, strided, b2);
  EXPECT_TRUE(torch::allclose(out2, torch::mm(strided, b2), 1e-5, 1e-5));
  EXPECT_THROW(gemm_out(out2, b2, strided), Error);  // [4,5] x [8,4]: shapes disagree
}

DVAE_TEST_EVERY_GEMM_BACKEND(GemmBackendTest);

}  // namespace
}  // namespace dvae
