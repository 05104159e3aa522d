// Tests for evaluation/probe: separable data is learnt, stacked heads equal heads
// trained alone, the fused kernel equals LibTorch autograd + torch::optim::Adam,
// and the convergence definition on hand-made curves.
#include "evaluation/probe.h"

#include <gtest/gtest.h>

#include "core/check.h"
#include "core/random.h"
#include "support/kernel_paths.h"

namespace dvae {
namespace {

// Gaussian blobs around well separated class centres: float [N,F], labels [N].
std::pair<torch::Tensor, torch::Tensor> blobs(int64_t n, int64_t f, int64_t classes, double spread, uint64_t seed) {
  torch::manual_seed(seed);
  const auto centres = torch::randn({classes, f}) * 3.0;                 // [C,F]
  const auto labels = torch::arange(n, torch::kLong) % classes;          // [N]
  const auto x = centres.index_select(0, labels) + spread * torch::randn({n, f});  // [N,F]
  return {x.contiguous(), labels};
}

TEST(probe, LinearHeadReachesNinetyNinePercentOnSeparableData) {
  auto [x, y] = blobs(3000, 10, 10, 0.3, 7);
  ProbeTask task{x, y, torch::arange(0, 2000, torch::kLong), 10, 11};
  ProbeOptions opt;
  opt.epochs = 20;
  const auto fits = train_probes({task}, opt);
  const auto test_idx = torch::arange(2000, 3000, torch::kLong);
  const auto pred = probe_predict(fits[0].head, x.index_select(0, test_idx));
  const double acc = pred.eq(y.index_select(0, test_idx)).to(torch::kDouble).mean().item<double>();
  EXPECT_GE(acc, 0.99);
  EXPECT_LT(fits[0].final_loss, fits[0].epoch_loss.front());
  EXPECT_GE(fits[0].epochs_to_convergence, 1);
  EXPECT_LE(fits[0].epochs_to_convergence, 20);
}

TEST(probe, HiddenHeadLearnsXorWhichLinearCannot) {
  // Four XOR clusters: class = sign(x0) != sign(x1).
  torch::manual_seed(3);
  const auto corners = torch::tensor({1.f, 1.f, -1.f, -1.f, 1.f, -1.f, -1.f, 1.f}).view({4, 2});
  const auto which = torch::arange(800, torch::kLong) % 4;
  const auto x = (corners.index_select(0, which) + 0.2 * torch::randn({800, 2})).contiguous();
  const auto y = (which >= 2).to(torch::kLong);
  ProbeTask task{x, y, torch::arange(800, torch::kLong), 2, 5};
  ProbeOptions opt;
  opt.epochs = 60;
  opt.hidden = 16;
  const auto hidden_fit = train_probes({task}, opt)[0];
  opt.hidden = 0;
  const auto linear_fit = train_probes({task}, opt)[0];
  const double hidden_acc = probe_predict(hidden_fit.head, x).eq(y).to(torch::kDouble).mean().item<double>();
  const double linear_acc = probe_predict(linear_fit.head, x).eq(y).to(torch::kDouble).mean().item<double>();
  EXPECT_GE(hidden_acc, 0.98);
  EXPECT_LE(linear_acc, 0.8);
  EXPECT_EQ(hidden_fit.head.hidden_weight.sizes(), (std::vector<int64_t>{2, 16}));
}

// Every kernel path this CPU runs (and a scalar run on every CPU).
class ProbePath : public testing::TestWithParam<KernelPath> {};

TEST_P(ProbePath, StackedHeadsEqualHeadsTrainedAlone) {
  KernelPathScope path(GetParam());
  auto [x, y] = blobs(400, 6, 4, 1.5, 1);
  for (int64_t hidden : {0, 8}) {
    ProbeOptions opt;
    opt.epochs = 7;
    opt.hidden = hidden;
    opt.batch_size = 16;
    std::vector<ProbeTask> tasks;
    for (int64_t t = 0; t < 5; ++t) {
      const auto subset = torch::randperm(400, torch::kLong).narrow(0, 0, 20 + 30 * t);
      tasks.push_back({x, y, subset, 4, derive_seed(9, {static_cast<uint64_t>(t)})});
    }
    const auto stacked = train_probes(tasks, opt, 2);
    for (size_t t = 0; t < tasks.size(); ++t) {
      const auto alone = train_probes({tasks[t]}, opt, 1)[0];
      EXPECT_LE((stacked[t].head.weight - alone.head.weight).abs().max().item<float>(), 1e-5);
      EXPECT_LE((stacked[t].head.bias - alone.head.bias).abs().max().item<float>(), 1e-5);
      if (hidden > 0) {
        EXPECT_LE((stacked[t].head.hidden_weight - alone.head.hidden_weight).abs().max().item<float>(), 1e-5);
      }
      ASSERT_EQ(stacked[t].epoch_loss.size(), alone.epoch_loss.size());
      for (size_t e = 0; e < alone.epoch_loss.size(); ++e) {
        EXPECT_NEAR(stacked[t].epoch_loss[e], alone.epoch_loss[e], 1e-6);
      }
    }
    // Different seeds and subsets give different heads (the comparison above can fail).
    EXPECT_GT((stacked[0].head.weight - stacked[1].head.weight).abs().max().item<float>(), 1e-3);
  }
}

// The same head trained with LibTorch autograd and torch::optim::Adam, replaying
// the kernel's initialisation draws and shuffles from the same dvae::Rng.
TEST_P(ProbePath, FusedKernelMatchesAutogradAndTorchAdam) {
  KernelPathScope path(GetParam());
  auto [x, y] = blobs(60, 5, 3, 2.0, 4);
  const auto subset = torch::arange(3, 53, torch::kLong);  // M = 50
  const uint64_t seed = 123;
  for (int64_t hidden : {0, 6, 19}) {  // 19 hidden: 19*3+3 output parameters, vectors and a tail in Adam
    SCOPED_TRACE("hidden " + std::to_string(hidden));
    ProbeOptions opt;
    opt.epochs = 4;
    opt.batch_size = 20;  // 3 batches per epoch, the last one of 10 examples: full and partial vectors
    opt.hidden = hidden;
    const auto fit = train_probes({ProbeTask{x, y, subset, 3, seed}}, opt)[0];

    Rng rng(seed);
    auto draw = [&](std::vector<int64_t> shape, int64_t fan_in) {
      int64_t count = 1;
      for (auto s : shape) count *= s;
      const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
      std::vector<float> v(count);
      for (auto& e : v) e = static_cast<float>((2.0 * rng.uniform() - 1.0) * bound);
      return torch::tensor(v).view(shape).requires_grad_(true);
    };
    const int64_t k = hidden > 0 ? hidden : 5;
    torch::Tensor w1, b1;
    if (hidden > 0) {
      w1 = draw({5, hidden}, 5);
      b1 = draw({hidden}, 5);
    }
    auto w2 = draw({k, 3}, k);
    auto b2 = draw({3}, k);
    std::vector<torch::Tensor> params = {w2, b2};
    if (hidden > 0) params = {w1, b1, w2, b2};
    torch::optim::Adam adam(params, torch::optim::AdamOptions(opt.lr));
    std::vector<int64_t> order(50);
    std::iota(order.begin(), order.end(), 0);
    for (int64_t epoch = 0; epoch < opt.epochs; ++epoch) {
      rng.shuffle(order);
      double epoch_sum = 0.0;
      for (int64_t start = 0; start < 50; start += opt.batch_size) {
        const int64_t nb = std::min<int64_t>(opt.batch_size, 50 - start);
        std::vector<int64_t> rows;
        for (int64_t i = 0; i < nb; ++i) rows.push_back(subset[order[start + i]].item<int64_t>());
        const auto idx = torch::tensor(rows, torch::kLong);
        auto h = x.index_select(0, idx);
        if (hidden > 0) h = torch::relu(h.mm(w1) + b1);
        const auto loss = torch::nn::functional::cross_entropy(h.mm(w2) + b2, y.index_select(0, idx));
        epoch_sum += loss.item<double>() * nb;
        adam.zero_grad();
        loss.backward();
        adam.step();
      }
      EXPECT_NEAR(fit.epoch_loss[epoch], epoch_sum / 50.0, 1e-5) << "epoch " << epoch;
    }
    EXPECT_LE((fit.head.weight - w2.detach()).abs().max().item<float>(), 1e-5);
    EXPECT_LE((fit.head.bias - b2.detach()).abs().max().item<float>(), 1e-5);
    if (hidden > 0) EXPECT_LE((fit.head.hidden_weight - w1.detach()).abs().max().item<float>(), 1e-5);
  }
}

DVAE_TEST_EVERY_KERNEL_PATH(ProbePath);

TEST(probe, EpochsToConvergenceFollowsDefinition) {
  // band = 0.01 * (4 - 1) = 0.03: epochs 4..6 are within it, epoch 3 (1.5) is not.
  EXPECT_EQ(epochs_to_convergence({4.0, 2.0, 1.5, 1.02, 1.0, 1.0}, 0.01), 4);
  // A late excursion out of the band moves convergence after it.
  EXPECT_EQ(epochs_to_convergence({3.0, 1.0, 2.0, 1.0}, 0.01), 4);
  // A flat curve has converged at epoch 1.
  EXPECT_EQ(epochs_to_convergence({1.0, 1.0, 1.0}, 0.01), 1);
  EXPECT_EQ(epochs_to_convergence({}, 0.01), 0);
  // With tolerance 0.5 the band is 1.5: epochs 2.. are inside it.
  EXPECT_EQ(epochs_to_convergence({4.0, 2.0, 1.5, 1.02, 1.0, 1.0}, 0.5), 2);
}

TEST(probe, RejectsBadInput) {
  auto [x, y] = blobs(20, 3, 2, 1.0, 2);
  EXPECT_THROW(train_probes({ProbeTask{x, y, torch::tensor({0, 25}, torch::kLong), 2, 1}}, ProbeOptions{}), Error);
  EXPECT_THROW(train_probes({ProbeTask{x, y, torch::tensor({0, 1}, torch::kLong), 1, 1}}, ProbeOptions{}), Error);
  ProbeOptions bad;
  bad.epochs = 0;
  EXPECT_THROW(train_probes({ProbeTask{x, y, torch::tensor({0, 1}, torch::kLong), 2, 1}}, bad), Error);
}

}  // namespace
}  // namespace dvae
