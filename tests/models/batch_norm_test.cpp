// global_batch_norm: with a one-process BatchSum it is LibTorch's BatchNorm
// (output, gradients, running statistics); with two shards whose sums are
// exchanged it normalises each shard with the whole batch's statistics.
#include "models/batch_norm.h"

#include <gtest/gtest.h>

#include "core/check.h"

namespace dvae {
namespace {

const BatchSum kOneProcess = [](const torch::Tensor& t) { return t * 1.0; };

template <typename BatchNorm>
void expect_matches_libtorch(BatchNorm bn, BatchNorm copy, const torch::Tensor& x_in) {
  torch::manual_seed(3);
  {
    torch::NoGradGuard no_grad;
    bn->weight.uniform_(0.5, 1.5);
    bn->bias.uniform_(-0.5, 0.5);
    copy->weight.copy_(bn->weight);
    copy->bias.copy_(bn->bias);
  }
  auto x1 = x_in.clone().requires_grad_(true);
  auto x2 = x_in.clone().requires_grad_(true);
  const auto probe = torch::randn_like(x_in);
  const auto want = bn->forward(x1);
  const auto have = global_batch_norm(x2, copy->weight, copy->bias, copy->running_mean, copy->running_var,
                                      copy->num_batches_tracked, copy->options, kOneProcess);
  EXPECT_TRUE(torch::allclose(have, want, 1e-4, 1e-5)) << (have - want).abs().max();
  (want * probe).sum().backward();
  (have * probe).sum().backward();
  EXPECT_TRUE(torch::allclose(x2.grad(), x1.grad(), 1e-4, 1e-5)) << (x2.grad() - x1.grad()).abs().max();
  EXPECT_TRUE(torch::allclose(copy->weight.grad(), bn->weight.grad(), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(copy->bias.grad(), bn->bias.grad(), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(copy->running_mean, bn->running_mean, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(copy->running_var, bn->running_var, 1e-5, 1e-6));
  EXPECT_EQ(copy->num_batches_tracked.template item<int64_t>(), 1);
}

TEST(GlobalBatchNorm, OneProcessIsLibTorchsBatchNorm1d) {
  expect_matches_libtorch(torch::nn::BatchNorm1d(6), torch::nn::BatchNorm1d(6), torch::randn({9, 6}) * 3 + 1);
}

TEST(GlobalBatchNorm, OneProcessIsLibTorchsBatchNorm2d) {
  expect_matches_libtorch(torch::nn::BatchNorm2d(4), torch::nn::BatchNorm2d(4), torch::rand({5, 4, 3, 3}) * 2);
}

TEST(GlobalBatchNorm, ShardsNormaliseWithTheWholeBatchsStatistics) {
  torch::manual_seed(8);
  const auto x = torch::randn({10, 3}) * 2 + 5;
  torch::nn::BatchNorm1d whole(3);
  const auto want = whole->forward(x);  // [10,3]
  const auto a = x.narrow(0, 0, 6), b = x.narrow(0, 6, 4);
  // Each shard's sums, as the process group would see them.
  torch::Tensor stats_a, stats_b;
  torch::nn::BatchNorm1d scratch(3);
  const auto record = [](torch::Tensor* out) {
    return BatchSum([out](const torch::Tensor& t) {
      *out = t.detach().clone();
      return t;
    });
  };
  global_batch_norm(a, scratch->weight, scratch->bias, scratch->running_mean, scratch->running_var,
                    scratch->num_batches_tracked, scratch->options, record(&stats_a));
  global_batch_norm(b, scratch->weight, scratch->bias, scratch->running_mean, scratch->running_var,
                    scratch->num_batches_tracked, scratch->options, record(&stats_b));
  ASSERT_EQ(stats_a.numel(), 7);  // [sum x (3), sum x^2 (3), rows]
  EXPECT_DOUBLE_EQ(stats_a[6].item<double>(), 6.0);
  torch::nn::BatchNorm1d rank0(3), rank1(3);
  const auto ya = global_batch_norm(a, rank0->weight, rank0->bias, rank0->running_mean, rank0->running_var,
                                    rank0->num_batches_tracked, rank0->options,
                                    [&](const torch::Tensor& t) { return t + stats_b; });
  const auto yb = global_batch_norm(b, rank1->weight, rank1->bias, rank1->running_mean, rank1->running_var,
                                    rank1->num_batches_tracked, rank1->options,
                                    [&](const torch::Tensor& t) { return t + stats_a; });
  EXPECT_TRUE(torch::allclose(torch::cat({ya, yb}), want, 1e-4, 1e-5));
  // Both ranks' running statistics are the whole batch's (unbiased variance over 10 rows).
  EXPECT_TRUE(torch::allclose(rank0->running_var, whole->running_var, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(rank1->running_mean, whole->running_mean, 1e-5, 1e-6));
  // Per-shard statistics would differ: the test can tell.
  torch::nn::BatchNorm1d alone(3);
  EXPECT_FALSE(torch::allclose(alone->forward(a), want.narrow(0, 0, 6), 1e-3, 1e-3));
}

TEST(GlobalBatchNorm, RejectsOtherShapesAndAMissingSum) {
  torch::nn::BatchNorm1d bn(3);
  EXPECT_THROW(global_batch_norm(torch::zeros({2, 3, 4}), bn->weight, bn->bias, bn->running_mean, bn->running_var,
                                 bn->num_batches_tracked, bn->options, kOneProcess),
               Error);
  EXPECT_THROW(global_batch_norm(torch::zeros({2, 3}), bn->weight, bn->bias, bn->running_mean, bn->running_var,
                                 bn->num_batches_tracked, bn->options, BatchSum()),
               Error);
}

}  // namespace
}  // namespace dvae
