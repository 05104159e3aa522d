// The supervised baseline's hand-written MLP step must give autograd's loss and
// gradients on every kernel path, and train_supervised with it must follow the
// autograd run.
#include "evaluation/supervised_step.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/check.h"
#include "data/datasets.h"
#include "support/fixtures.h"
#include "support/gemm_backends.h"
#include "support/kernel_paths.h"
#include "training/flat_optimizer.h"

namespace dvae {
namespace {

ModelOptions mlp(const std::string& activation, int64_t image_size = 6, int64_t hidden = 24) {
  ModelOptions o;
  o.arch = "mlp";
  o.image_size = image_size;
  o.mlp_hidden = hidden;
  o.latent_dim = 3;
  o.mlp_activation = activation;
  return o;
}

void expect_matches_autograd(const std::string& activation, int64_t head_hidden, int64_t batch,
                             int64_t image_size = 6, int64_t hidden = 24) {
  SCOPED_TRACE(activation + ", head hidden " + std::to_string(head_hidden) + ", batch " + std::to_string(batch) +
               ", path " + kernel_path_name(kernel_path()));
  torch::manual_seed(5);
  const ModelOptions model = mlp(activation, image_size, hidden);
  SupervisedClassifier net(model, head_hidden, 4);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters()) p.mul_(3.0);  // activations leave their linear ranges
  }
  const auto x = torch::rand({batch, 1, image_size, image_size});
  const auto y = torch::randint(0, 4, {batch}, torch::kLong);
  for (auto& p : net->parameters()) p.mutable_grad() = torch::Tensor();
  const auto want_loss = torch::nn::functional::cross_entropy(net->forward(x), y);
  want_loss.backward();
  std::map<std::string, torch::Tensor> want;
  for (const auto& item : net->named_parameters()) {
    want[item.key()] = item.value().grad().defined() ? item.value().grad().clone() : torch::Tensor();
  }

  FlatOptimizer optimizer(net->parameters(), {});  // binds gradient views (zeroed)
  SupervisedMlpStep step(*net, model, 8);
  const double loss = step.run(x, y);
  EXPECT_NEAR(loss, want_loss.item<double>(), 1e-5 * std::abs(want_loss.item<double>()) + 1e-7);
  for (const auto& item : net->named_parameters()) {
    const auto have = item.value().grad();
    if (!want.at(item.key()).defined()) {  // the logvar head: no gradient, left at zero
      EXPECT_EQ(have.abs().max().item<double>(), 0.0) << item.key();
      continue;
    }
    const double scale = want.at(item.key()).abs().max().item<double>();
    EXPECT_GT(scale, 0.0) << item.key();
    EXPECT_LE((have - want.at(item.key())).abs().max().item<double>(), 1e-4 * scale + 1e-7) << item.key();
  }
}

// logits() against net->forward on more images than the step's capacity (three
// chunks, the last one partial); the gradients stay untouched.
void expect_logits_match_forward(const std::string& activation, int64_t head_hidden) {
  SCOPED_TRACE(activation + ", head hidden " + std::to_string(head_hidden) + ", path " +
               kernel_path_name(kernel_path()) + ", gemm " + gemm_backend_name(gemm_backend()));
  torch::manual_seed(9);
  const ModelOptions model = mlp(activation, 20, 37);
  SupervisedClassifier net(model, head_hidden, 4);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters()) p.mul_(3.0);
  }
  net->eval();
  const auto x = torch::rand({11, 1, 20, 20});
  torch::Tensor want;
  {
    torch::NoGradGuard no_grad;
    want = net->forward(x);  // [11,4]
  }
  FlatOptimizer optimizer(net->parameters(), {});
  for (auto& p : net->parameters()) p.mutable_grad().fill_(0.5);
  SupervisedMlpStep step(*net, model, 4);
  auto have = torch::full({11, 4}, std::nan(""));
  step.logits(x, have);
  const double scale = want.abs().max().item<double>();
  EXPECT_GT(scale, 0.0);
  EXPECT_LE((have - want).abs().max().item<double>(), 1e-5 * scale + 1e-6);
  for (const auto& p : net->parameters()) EXPECT_EQ(p.grad().eq(0.5).all().item<bool>(), true);
  EXPECT_THROW(step.logits(x, torch::empty({10, 4})), Error);
  EXPECT_THROW(step.logits(x, torch::empty({11, 3})), Error);
}

}  // namespace

class SupervisedMlpStepPath : public testing::TestWithParam<KernelPath> {};

TEST_P(SupervisedMlpStepPath, MatchesAutogradWithSoftplusAndALinearHead) {
  KernelPathScope path(GetParam());
  expect_matches_autograd("softplus", 0, 8);
}

TEST_P(SupervisedMlpStepPath, MatchesAutogradWithSoftplusWiderThanAVectorOnAPartialBatch) {
  KernelPathScope path(GetParam());
  expect_matches_autograd("softplus", 0, 5, 20, 37);  // 400 pixels, 37 hidden: vector bodies and scalar tails
}

TEST_P(SupervisedMlpStepPath, MatchesAutogradWithReluAndAHiddenHead) {
  KernelPathScope path(GetParam());
  expect_matches_autograd("relu", 7, 6);
}

TEST_P(SupervisedMlpStepPath, MatchesAutogradWithTanhAndAHiddenHead) {
  KernelPathScope path(GetParam());
  expect_matches_autograd("tanh", 5, 8);
}

TEST_P(SupervisedMlpStepPath, LogitsMatchTheForwardPassInChunks) {
  KernelPathScope path(GetParam());
  expect_logits_match_forward("softplus", 0);
  expect_logits_match_forward("tanh", 5);
}

DVAE_TEST_EVERY_KERNEL_PATH(SupervisedMlpStepPath);

// Every matrix-product backend this build has (core/gemm.h) against autograd.
class SupervisedMlpStepGemm : public testing::TestWithParam<GemmBackend> {};

TEST_P(SupervisedMlpStepGemm, MatchesAutogradWithSoftplusAndALinearHead) {
  GemmBackendScope gemm(GetParam());
  expect_matches_autograd("softplus", 0, 5, 20, 37);
}

TEST_P(SupervisedMlpStepGemm, MatchesAutogradWithReluAndAHiddenHead) {
  GemmBackendScope gemm(GetParam());
  expect_matches_autograd("relu", 7, 6);
}

TEST_P(SupervisedMlpStepGemm, LogitsMatchTheForwardPassInChunks) {
  GemmBackendScope gemm(GetParam());
  expect_logits_match_forward("softplus", 0);
  expect_logits_match_forward("relu", 7);
}

DVAE_TEST_EVERY_GEMM_BACKEND(SupervisedMlpStepGemm);

TEST(SupervisedMlpStep, CrossEntropyOfEqualLogitsIsLogC) {
  // All-zero weights: every logit is 0, so the loss is log(C) whatever the
  // labels, and the output bias gradient is (1/C - share of label j) summed.
  const ModelOptions model = mlp("softplus");
  SupervisedClassifier net(model, 0, 4);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters()) p.zero_();
  }
  FlatOptimizer optimizer(net->parameters(), {});
  SupervisedMlpStep step(*net, model, 4);
  const auto y = torch::tensor({0, 0, 1, 3}, torch::kLong);
  EXPECT_NEAR(step.run(torch::rand({4, 1, 6, 6}), y), std::log(4.0), 1e-6);
  torch::Tensor db;
  for (const auto& item : net->named_parameters()) {
    if (item.key() == "out.bias") db = item.value().grad();
  }
  // dL/db_j = mean over rows of (1/4 - [y = j]): labels 0,0,1,3 -> 1/4 - {2,1,0,1}/4.
  EXPECT_NEAR(db[0].item<double>(), -0.25, 1e-6);
  EXPECT_NEAR(db[1].item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(db[2].item<double>(), 0.25, 1e-6);
  EXPECT_NEAR(db[3].item<double>(), 0.0, 1e-6);
}

TEST(SupervisedMlpStep, RejectsACnnOversizedBatchesBadLabelsAndUnboundGradients) {
  ModelOptions cnn;
  cnn.arch = "cnn";
  cnn.image_size = 16;
  cnn.cnn_fc = 8;
  SupervisedClassifier conv(cnn, 0, 4);
  EXPECT_THROW(SupervisedMlpStep(*conv, cnn, 4), Error);
  const ModelOptions model = mlp("softplus");
  SupervisedClassifier net(model, 0, 4);
  SupervisedMlpStep unbound(*net, model, 4);
  EXPECT_THROW(unbound.run(torch::rand({2, 1, 6, 6}), torch::zeros({2}, torch::kLong)), Error);
  FlatOptimizer optimizer(net->parameters(), {});
  SupervisedMlpStep step(*net, model, 4);
  EXPECT_THROW(step.run(torch::rand({5, 1, 6, 6}), torch::zeros({5}, torch::kLong)), Error);
  EXPECT_THROW(step.run(torch::rand({2, 1, 6, 6}), torch::tensor({0, 4}, torch::kLong)), Error);
  EXPECT_THROW(step.run(torch::rand({2, 1, 6, 6}), torch::zeros({3}, torch::kLong)), Error);
}

TEST(SupervisedMlpStep, TrainingRunEqualsTheAutogradRunToTolerance) {
  test::TempDir dir;
  test::write_synthetic_mnist(dir.path(), 120, 60, 12, false, 5);
  const Dataset data = load_dataset_dir(dir.path(), "synthetic");
  ModelOptions model = mlp("softplus", 12, 32);
  SupervisedOptions hand;
  hand.epochs = 4;
  hand.batch_size = 16;  // 8 batches an epoch, the last one partial
  SupervisedOptions autograd = hand;
  autograd.autograd = true;
  const auto subset = torch::arange(120, torch::kLong);
  const auto validation = torch::arange(0, 120, 4, torch::kLong);
  const auto a = train_supervised(model, data.train, subset, data.test, hand, 7, torch::kCPU, {}, validation);
  const auto b = train_supervised(model, data.train, subset, data.test, autograd, 7, torch::kCPU, {}, validation);
  ASSERT_EQ(a.epoch_loss.size(), 4u);
  ASSERT_EQ(a.validation_loss.size(), 4u);
  EXPECT_LT(a.epoch_loss.back(), a.epoch_loss.front());  // it learns
  for (size_t e = 0; e < 4; ++e) {
    EXPECT_NEAR(a.epoch_loss[e], b.epoch_loss[e], 1e-4 * b.epoch_loss[e]) << "epoch " << e + 1;
    EXPECT_NEAR(a.validation_loss[e], b.validation_loss[e], 1e-4 * b.validation_loss[e]) << "epoch " << e + 1;
  }
  EXPECT_EQ(a.epochs_to_convergence, b.epochs_to_convergence);
  EXPECT_GE(a.test_predictions.eq(b.test_predictions).to(torch::kDouble).mean().item<double>(), 0.98);
}

}  // namespace dvae
