// Tests of the batched-GEMM transposed convolution: forward and gradients equal
// LibTorch's conv_transpose2d, parameters and initialisation equal
// torch::nn::ConvTranspose2d's, and the CNN VAE keeps its parameter names.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "models/conv_transpose.h"
#include "models/vae.h"
#include "support/kernel_paths.h"

namespace dvae {
namespace {

/// One shape to compare: input [B,Ci,H,W], Co, kernel, stride, padding.
struct Case {
  int64_t b, ci, h, w, co, k, stride, padding;
};

float max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<float>(); }

/// Tolerance relative to the size of the reference values.
float tolerance(const torch::Tensor& reference) { return 1e-5f * std::max(1.0f, reference.abs().max().item<float>()); }

/// Forward and all three gradients of the fast path against LibTorch's conv_transpose2d.
void expect_matches_libtorch(const Case& c, bool with_bias, TransposedConvPath path) {
  SCOPED_TRACE(std::string(transposed_conv_path_name(path)) + " " + "B=" + std::to_string(c.b) + " Ci=" + std::to_string(c.ci) + " H=" + std::to_string(c.h) +
               " W=" + std::to_string(c.w) + " Co=" + std::to_string(c.co) + " k=" + std::to_string(c.k) +
               " s=" + std::to_string(c.stride) + " p=" + std::to_string(c.padding));
  const auto x0 = torch::randn({c.b, c.ci, c.h, c.w});
  const auto w0 = torch::randn({c.ci, c.co, c.k, c.k}) * 0.1;
  const auto b0 = with_bias ? torch::randn({c.co}) : torch::Tensor();
  auto x1 = x0.clone().requires_grad_(true);
  auto w1 = w0.clone().requires_grad_(true);
  auto b1 = with_bias ? b0.clone().requires_grad_(true) : torch::Tensor();
  auto x2 = x0.clone().requires_grad_(true);
  auto w2 = w0.clone().requires_grad_(true);
  auto b2 = with_bias ? b0.clone().requires_grad_(true) : torch::Tensor();

  ASSERT_TRUE(transposed_conv2d_fast_path(x1, w1));
  const auto ours = transposed_conv2d(x1, w1, b1, c.stride, c.padding, path);
  const auto ref = torch::conv_transpose2d(x2, w2, b2, c.stride, c.padding);
  ASSERT_EQ(ours.sizes(), ref.sizes());
  ASSERT_TRUE(ours.grad_fn() != nullptr);
  const std::string node = ours.grad_fn()->name();
  EXPECT_NE(node.find("TransposedConv2dFunction"), std::string::npos) << node;
  EXPECT_EQ(node.find("Adjoint") != std::string::npos, path == TransposedConvPath::kAdjoint) << node;
  EXPECT_LE(max_abs_diff(ours, ref), tolerance(ref));

  const auto upstream = torch::randn(ref.sizes());
  (ours * upstream).sum().backward();
  (ref * upstream).sum().backward();
  EXPECT_LE(max_abs_diff(x1.grad(), x2.grad()), tolerance(x2.grad()));
  EXPECT_LE(max_abs_diff(w1.grad(), w2.grad()), tolerance(w2.grad()));
  if (with_bias) EXPECT_LE(max_abs_diff(b1.grad(), b2.grad()), tolerance(b2.grad()));
}

/// Runs each case through both fast paths.
void expect_paths_match_libtorch(const std::vector<std::pair<Case, bool>>& cases) {
  for (const auto path : {TransposedConvPath::kGemm, TransposedConvPath::kAdjoint}) {
    for (const auto& [c, with_bias] : cases) expect_matches_libtorch(c, with_bias, path);
  }
}

// Every kernel path this CPU runs (the GEMM path's col2im follows it), and a scalar run on every CPU.
class TransposedConv2dPath : public testing::TestWithParam<KernelPath> {};

TEST_P(TransposedConv2dPath, ForwardAndGradientsEqualLibTorchForTheDecoderLayers) {
  KernelPathScope path(GetParam());
  torch::manual_seed(0);
  expect_paths_match_libtorch({
      {{8, 128, 7, 7, 64, 4, 2, 1}, true},  // deconv1: [B,128,7,7] -> [B,64,14,14]
      {{8, 64, 14, 14, 1, 4, 2, 1}, true},  // deconv2: [B,64,14,14] -> [B,1,28,28]
  });
}

TEST_P(TransposedConv2dPath, ForwardAndGradientsEqualLibTorchForOtherShapes) {
  KernelPathScope path(GetParam());
  torch::manual_seed(1);
  expect_paths_match_libtorch({
      {{3, 5, 4, 6, 7, 3, 1, 0}, true},   // stride 1, no padding, non-square input
      {{1, 2, 5, 3, 3, 5, 3, 2}, true},   // stride 3, padding 2, kernel 5
      {{2, 4, 3, 3, 2, 2, 2, 0}, false},  // no bias, kernel = stride
      {{2, 3, 1, 1, 4, 4, 1, 1}, true},   // 1x1 input
  });
}

DVAE_TEST_EVERY_KERNEL_PATH(TransposedConv2dPath);

TEST(TransposedConv2d, AutoPathIsAFastPathOnCpuFloat) {
  const auto x = torch::randn({2, 3, 4, 4}, torch::requires_grad());
  const auto w = torch::randn({3, 2, 4, 4});
  const auto y = transposed_conv2d(x, w, torch::Tensor(), 2, 1);
  EXPECT_NE(y.grad_fn()->name().find("TransposedConv2dFunction"), std::string::npos) << y.grad_fn()->name();
  const auto y_lib = transposed_conv2d(x, w, torch::Tensor(), 2, 1, TransposedConvPath::kLibTorch);
  EXPECT_EQ(y_lib.grad_fn()->name().find("TransposedConv2dFunction"), std::string::npos) << y_lib.grad_fn()->name();
  EXPECT_LE(max_abs_diff(y, y_lib), tolerance(y_lib));
}

TEST(TransposedConv2d, NonContiguousInputIsHandled) {
  torch::manual_seed(2);
  const auto x = torch::randn({4, 3, 5, 6}).transpose(2, 3);  // [4,3,6,5], non-contiguous
  const auto w = torch::randn({3, 2, 4, 4});
  const auto b = torch::randn({2});
  const auto ref = torch::conv_transpose2d(x, w, b, 2, 1);
  for (const auto path : {TransposedConvPath::kGemm, TransposedConvPath::kAdjoint}) {
    EXPECT_LE(max_abs_diff(transposed_conv2d(x, w, b, 2, 1, path), ref), tolerance(ref))
        << transposed_conv_path_name(path);
  }
}

TEST(TransposedConv2d, RepeatedCallsReuseNothingStale) {
  for (const auto path : {TransposedConvPath::kGemm, TransposedConvPath::kAdjoint}) {
    SCOPED_TRACE(transposed_conv_path_name(path));
    torch::manual_seed(3);
    TransposedConv2d layer{TransposedConv2dOptions(6, 3, 4).stride(2).padding(1).path(path)};
    const auto xa = torch::randn({5, 6, 7, 7}, torch::requires_grad());
    const auto xb = torch::randn({2, 6, 3, 4}, torch::requires_grad());  // other batch and spatial size
    const auto ya = layer->forward(xa);
    const auto yb = layer->forward(xb);
    EXPECT_EQ(yb.sizes(), (std::vector<int64_t>{2, 3, 6, 8}));
    EXPECT_LE(max_abs_diff(ya, torch::conv_transpose2d(xa, layer->weight, layer->bias, 2, 1)), 1e-5f * 10);
    EXPECT_LE(max_abs_diff(yb, torch::conv_transpose2d(xb, layer->weight, layer->bias, 2, 1)), 1e-5f * 10);
    // Backward of the second graph first, then the first: each uses its own saved input.
    yb.sum().backward();
    const auto wgrad_b = layer->weight.grad().clone();
    layer->weight.mutable_grad().zero_();
    ya.sum().backward();
    auto w_ref = layer->weight.detach().clone().requires_grad_(true);
    torch::conv_transpose2d(xa.detach(), w_ref, layer->bias.detach(), 2, 1).sum().backward();
    EXPECT_LE(max_abs_diff(layer->weight.grad(), w_ref.grad()), tolerance(w_ref.grad()));
    EXPECT_GT(max_abs_diff(wgrad_b, w_ref.grad()), 1e-3f);  // the two graphs really differ
  }
}

TEST(TransposedConv2d, InputWithoutGradStillGivesWeightGradients) {
  for (const auto path : {TransposedConvPath::kGemm, TransposedConvPath::kAdjoint}) {
    SCOPED_TRACE(transposed_conv_path_name(path));
    torch::manual_seed(4);
    TransposedConv2d layer{TransposedConv2dOptions(3, 2, 3).path(path)};
    const auto x = torch::randn({2, 3, 4, 4});  // no requires_grad
    layer->forward(x).pow(2).sum().backward();
    auto w_ref = layer->weight.detach().clone().requires_grad_(true);
    auto b_ref = layer->bias.detach().clone().requires_grad_(true);
    torch::conv_transpose2d(x, w_ref, b_ref).pow(2).sum().backward();
    EXPECT_LE(max_abs_diff(layer->weight.grad(), w_ref.grad()), tolerance(w_ref.grad()));
    EXPECT_LE(max_abs_diff(layer->bias.grad(), b_ref.grad()), tolerance(b_ref.grad()));
  }
}

TEST(TransposedConv2d, OtherDtypesFallBackToLibTorch) {
  const auto x = torch::randn({2, 3, 4, 4}, torch::kDouble);
  const auto w = torch::randn({3, 2, 4, 4}, torch::kDouble);
  EXPECT_FALSE(transposed_conv2d_fast_path(x, w));
  const auto y = transposed_conv2d(x, w, torch::Tensor(), 2, 1);
  EXPECT_EQ(y.scalar_type(), torch::kDouble);
  EXPECT_TRUE(torch::allclose(y, torch::conv_transpose2d(x, w, torch::Tensor(), 2, 1)));
}

TEST(TransposedConv2d, ParametersAndInitialisationEqualConvTranspose2d) {
  torch::manual_seed(5);
  torch::nn::ConvTranspose2d reference{torch::nn::ConvTranspose2dOptions(128, 64, 4).stride(2).padding(1)};
  torch::manual_seed(5);
  TransposedConv2d ours{TransposedConv2dOptions(128, 64, 4).stride(2).padding(1)};
  const auto ref_params = reference->named_parameters();
  const auto our_params = ours->named_parameters();
  ASSERT_EQ(our_params.keys(), ref_params.keys());
  for (const auto& key : ref_params.keys()) {
    EXPECT_EQ(our_params[key].sizes(), ref_params[key].sizes()) << key;
    EXPECT_TRUE(torch::equal(our_params[key], ref_params[key])) << key;
    EXPECT_TRUE(our_params[key].requires_grad()) << key;
  }
  EXPECT_EQ(ours->buffers().size(), reference->buffers().size());
  // A clone has its own parameters with the same values.
  const auto copy = std::dynamic_pointer_cast<TransposedConv2dImpl>(ours->clone());
  ASSERT_TRUE(copy != nullptr);
  EXPECT_TRUE(torch::equal(copy->weight, ours->weight));
  EXPECT_NE(copy->weight.data_ptr(), ours->weight.data_ptr());
}

TEST(TransposedConv2d, RejectsNonPositiveSizes) {
  EXPECT_ANY_THROW(TransposedConv2d(TransposedConv2dOptions(0, 2, 3)));
  EXPECT_ANY_THROW(TransposedConv2d(TransposedConv2dOptions(2, 2, 3).stride(0)));
}

TEST(TransposedConv2d, CnnVaeParameterNamesAndShapesAreUnchanged) {
  ModelOptions options;
  options.arch = "cnn";
  Vae vae{options};
  // The list as it was with torch::nn::ConvTranspose2d (checkpoints and `dvae export` rely on it).
  const std::vector<std::pair<std::string, std::vector<int64_t>>> expected = {
      {"encoder.conv1.weight", {32, 1, 5, 5}},
      {"encoder.conv1.bias", {32}},
      {"encoder.conv2.weight", {64, 32, 5, 5}},
      {"encoder.conv2.bias", {64}},
      {"encoder.fc.weight", {1024, 1024}},
      {"encoder.fc.bias", {1024}},
      {"encoder.mu.weight", {10, 1024}},
      {"encoder.mu.bias", {10}},
      {"encoder.logvar.weight", {10, 1024}},
      {"encoder.logvar.bias", {10}},
      {"decoder.fc1.weight", {1024, 10}},
      {"decoder.fc1.bias", {1024}},
      {"decoder.bn1.weight", {1024}},
      {"decoder.bn1.bias", {1024}},
      {"decoder.fc2.weight", {6272, 1024}},
      {"decoder.fc2.bias", {6272}},
      {"decoder.bn2.weight", {6272}},
      {"decoder.bn2.bias", {6272}},
      {"decoder.deconv1.weight", {128, 64, 4, 4}},
      {"decoder.deconv1.bias", {64}},
      {"decoder.bn3.weight", {64}},
      {"decoder.bn3.bias", {64}},
      {"decoder.deconv2.weight", {64, 1, 4, 4}},
      {"decoder.deconv2.bias", {1}},
  };
  const auto params = vae->named_parameters();
  ASSERT_EQ(params.size(), expected.size());
  size_t i = 0;
  for (const auto& p : params) {
    EXPECT_EQ(p.key(), expected[i].first);
    EXPECT_EQ(p.value().sizes().vec(), expected[i].second) << p.key();
    ++i;
  }
}

}  // namespace
}  // namespace dvae
