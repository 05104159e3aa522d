// The MLP steps' fused kernels on hand-computable values, on every kernel path.
#include "training/mlp_kernels.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/check.h"
#include "support/kernel_paths.h"

namespace dvae {

class MlpKernelsPath : public testing::TestWithParam<KernelPath> {};

TEST_P(MlpKernelsPath, BiasSoftplusAtZeroIsLog2AndItsDerivativeIsOneHalf) {
  KernelPathScope path(GetParam());
  // 2 rows x 19 columns: one AVX-512 vector, then a scalar tail.
  auto pre = torch::full({2, 19}, -1.0f);
  const auto bias = torch::ones({19});
  auto post = torch::empty({2, 19});
  bias_softplus(pre, bias, post);
  EXPECT_EQ(pre.abs().max().item<float>(), 0.0f);  // -1 + 1
  EXPECT_NEAR((post - std::log(2.0)).abs().max().item<double>(), 0.0, 1e-6);
  auto grad = torch::full({2, 19}, 4.0f);
  softplus_grad(grad, pre);  // 4 * sigmoid(0)
  EXPECT_NEAR((grad - 2.0).abs().max().item<double>(), 0.0, 1e-6);
  // Above the threshold softplus is the identity, as torch::softplus.
  auto big = torch::full({1, 19}, 30.0f);
  auto out = torch::empty({1, 19});
  bias_softplus(big, torch::zeros({19}), out);
  EXPECT_TRUE(torch::equal(out, big));
}

TEST_P(MlpKernelsPath, BceLogitsAtZeroLogitsIsLog2PerPixelWithGradientOneHalfMinusX) {
  KernelPathScope path(GetParam());
  auto logits = torch::zeros({2, 21});
  const auto bias = torch::zeros({21});
  const auto x = torch::cat({torch::ones({1, 21}), torch::zeros({1, 21})});  // row 0 all 1, row 1 all 0
  auto dlogits = torch::empty({2, 21});
  const double sum = bce_logits(logits, bias, x, dlogits, 0.5);
  EXPECT_NEAR(sum, 42 * std::log(2.0), 1e-4);           // softplus(0) - x * 0 per pixel
  EXPECT_NEAR(dlogits[0][0].item<double>(), -0.25, 1e-6);  // (1/2 - 1) / 2
  EXPECT_NEAR(dlogits[1][20].item<double>(), 0.25, 1e-6);  // (1/2 - 0) / 2
}

DVAE_TEST_EVERY_KERNEL_PATH(MlpKernelsPath);

TEST(MlpKernels, ReluColumnSumAndUnknownActivations) {
  auto pre = torch::tensor({{-1.0f, 0.5f}});
  auto post = torch::empty({1, 2});
  bias_activation("relu", post, pre, torch::tensor({0.0f, 1.0f}));
  EXPECT_TRUE(torch::equal(post, torch::tensor({{0.0f, 1.5f}})));
  auto grad = torch::ones({1, 2});
  activation_backward("relu", grad, pre, post);
  EXPECT_TRUE(torch::equal(grad, torch::tensor({{0.0f, 1.0f}})));
  EXPECT_THROW(bias_activation("gelu", post, pre, torch::zeros({2})), Error);
  EXPECT_THROW(activation_backward("gelu", grad, pre, post), Error);
  auto sums = torch::empty({2});
  column_sum_into(sums, torch::tensor({{1.0f, 2.0f}, {3.0f, 4.0f}}));
  EXPECT_TRUE(torch::equal(sums, torch::tensor({4.0f, 6.0f})));
}

}  // namespace dvae
