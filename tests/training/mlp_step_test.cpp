// The hand-written MLP step must give autograd's loss and gradients.
#include "training/mlp_step.h"

#include <gtest/gtest.h>

#include <set>

#include "core/check.h"
#include "support/gemm_backends.h"
#include "support/kernel_paths.h"
#include "training/flat_optimizer.h"
#include "training/loss.h"

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

// Loss and gradients from VaeImpl::forward + beta_elbo_loss + backward, with
// the default generator seeded as given (so eps is the same draw).
std::pair<ElboTerms, std::map<std::string, torch::Tensor>> autograd_reference(Vae& vae, const torch::Tensor& x,
                                                                             double beta, uint64_t seed) {
  for (auto& p : vae->parameters()) p.mutable_grad() = torch::Tensor();
  torch::manual_seed(seed);
  const VaeOutput out = vae->forward(x);
  ElboTerms terms = beta_elbo_loss(out.x_logits, x, out.mu, out.logvar, beta);
  terms.loss.backward();
  std::map<std::string, torch::Tensor> grads;
  for (const auto& item : vae->named_parameters()) grads[item.key()] = item.value().grad().clone();
  return {terms, grads};
}

void expect_matches_autograd(const std::string& activation, int64_t batch, double beta, int64_t image_size = 6,
                             int64_t hidden = 24) {
  SCOPED_TRACE(activation + ", batch " + std::to_string(batch) + ", beta " + std::to_string(beta) + ", path " +
               kernel_path_name(kernel_path()));
  torch::manual_seed(11);
  Vae vae(mlp(activation, image_size, hidden));
  // Scale the weights up so that activations leave their linear ranges.
  {
    torch::NoGradGuard no_grad;
    for (auto& p : vae->parameters()) p.mul_(3.0);
  }
  const auto x = torch::rand({batch, 1, image_size, image_size});
  const auto [terms, grads] = autograd_reference(vae, x, beta, 99);

  FlatOptimizer optimizer(vae->parameters(), {});  // binds gradient views
  optimizer.flat_grad().fill_(123.0f);             // run() must overwrite, not accumulate
  MlpTrainingStep step(*vae, 8);
  const StepTerms got = step.run(x, beta, at::detail::createCPUGenerator(99));  // the draws of manual_seed(99)
  EXPECT_NEAR(got.recon, terms.recon.item<double>(), 1e-4 * std::abs(terms.recon.item<double>()));
  EXPECT_NEAR(got.kl, terms.kl.item<double>(), 1e-4 * std::abs(terms.kl.item<double>()) + 1e-6);
  EXPECT_NEAR(got.loss, terms.loss.item<double>(), 1e-4 * std::abs(terms.loss.item<double>()));
  for (const auto& item : vae->named_parameters()) {
    const auto& want = grads.at(item.key());
    const auto have = item.value().grad();
    const double scale = want.abs().max().item<double>();
    EXPECT_GT(scale, 0.0) << item.key();
    EXPECT_LE((have - want).abs().max().item<double>(), 1e-4 * scale + 1e-6) << item.key();
  }
}

}  // namespace

// Every kernel path this CPU runs against autograd (and a scalar run on every CPU).
class MlpTrainingStepPath : public testing::TestWithParam<KernelPath> {};

TEST_P(MlpTrainingStepPath, MatchesAutogradWithSoftplus) {
  KernelPathScope path(GetParam());
  expect_matches_autograd("softplus", 8, 4.0);
}

TEST_P(MlpTrainingStepPath, MatchesAutogradWithSoftplusOnAPartialBatchWiderThanAVector) {
  KernelPathScope path(GetParam());
  expect_matches_autograd("softplus", 5, 1.0, 20, 37);  // 400 pixels, 37 hidden: vector bodies and scalar tails
}

TEST_P(MlpTrainingStepPath, MatchesAutogradWithReluOnAPartialBatch) {
  KernelPathScope path(GetParam());
  expect_matches_autograd("relu", 5, 1.0);
}

TEST_P(MlpTrainingStepPath, MatchesAutogradWithTanh) {
  KernelPathScope path(GetParam());
  expect_matches_autograd("tanh", 8, 6.0);
}

DVAE_TEST_EVERY_KERNEL_PATH(MlpTrainingStepPath);

// Every matrix-product backend this build has (core/gemm.h) against autograd.
class MlpTrainingStepGemm : public testing::TestWithParam<GemmBackend> {};

TEST_P(MlpTrainingStepGemm, MatchesAutogradWithSoftplusOnAPartialBatch) {
  GemmBackendScope gemm(GetParam());
  expect_matches_autograd("softplus", 5, 4.0, 20, 37);
}

TEST_P(MlpTrainingStepGemm, MatchesAutogradWithRelu) {
  GemmBackendScope gemm(GetParam());
  expect_matches_autograd("relu", 8, 1.0);
}

DVAE_TEST_EVERY_GEMM_BACKEND(MlpTrainingStepGemm);

TEST(MlpTrainingStep, RejectsOtherArchitecturesAndOversizedBatches) {
  ModelOptions cnn;
  cnn.arch = "cnn";
  cnn.image_size = 16;
  cnn.cnn_fc = 8;
  Vae conv(cnn);
  EXPECT_THROW(MlpTrainingStep(*conv, 4), Error);
  Vae vae(mlp("softplus"));
  FlatOptimizer optimizer(vae->parameters(), {});
  MlpTrainingStep step(*vae, 4);
  EXPECT_THROW(step.run(torch::rand({5, 1, 6, 6}), 1.0, at::detail::createCPUGenerator(1)), Error);
}

TEST(MlpTrainingStep, RequiresBoundGradients) {
  Vae vae(mlp("softplus"));
  MlpTrainingStep step(*vae, 4);
  EXPECT_THROW(step.run(torch::rand({2, 1, 6, 6}), 1.0, at::detail::createCPUGenerator(1)), Error);
}

}  // namespace dvae

namespace dvae {
namespace {

// Data-parallel slices: the gradients and terms of rows [0,3) and [3,7) of a
// batch of 7, summed, are the whole batch's (each slice draws the whole
// batch's eps and uses its own rows).
TEST(MlpTrainingStep, SlicesOfABatchSumToTheWholeBatch) {
  torch::manual_seed(5);
  Vae vae(mlp("softplus"));
  FlatOptimizer optimizer(vae->parameters(), {});
  MlpTrainingStep step(*vae, 7);
  const auto x = torch::rand({7, 1, 6, 6});
  const StepTerms whole = step.run(x, 2.0, at::detail::createCPUGenerator(3));
  const auto want = optimizer.flat_grad().clone();
  const StepTerms first = step.run(x.narrow(0, 0, 3), 2.0, at::detail::createCPUGenerator(3), RowSlice{0, 7});
  const auto g0 = optimizer.flat_grad().clone();
  const StepTerms second = step.run(x.narrow(0, 3, 4), 2.0, at::detail::createCPUGenerator(3), RowSlice{3, 7});
  const auto sum = g0 + optimizer.flat_grad();
  EXPECT_NEAR(first.recon + second.recon, whole.recon, 1e-5 * whole.recon);
  EXPECT_NEAR(first.kl + second.kl, whole.kl, 1e-5 * whole.kl + 1e-7);
  EXPECT_GT(first.recon, 0.3 * whole.recon);  // shares of the mean, not two means
  EXPECT_LT(first.recon, 0.6 * whole.recon);
  EXPECT_TRUE(torch::allclose(sum, want, 1e-4, 1e-6)) << (sum - want).abs().max();
  EXPECT_THROW(step.run(x.narrow(0, 3, 4), 2.0, at::detail::createCPUGenerator(3), RowSlice{4, 7}), Error);
  EXPECT_THROW(step.run(x.narrow(0, 0, 3), 2.0, at::detail::createCPUGenerator(3), RowSlice{0, 8}), Error);
}

// Overlapped all-reduce relies on this: each gradient is reported once, from
// the output layer back, and already holds its final value when reported.
TEST(MlpTrainingStep, ReportsEachGradientOnceWhenFinalFromTheOutputLayerBack) {
  torch::manual_seed(6);
  Vae vae(mlp("softplus"));
  FlatOptimizer optimizer(vae->parameters(), {});
  MlpTrainingStep step(*vae, 5);
  std::map<const void*, std::string> name_of;
  for (const auto& p : vae->named_parameters()) name_of[p.value().grad().data_ptr()] = p.key();
  std::vector<std::string> order;
  std::map<std::string, torch::Tensor> at_report;
  const GradReady ready = [&](const torch::Tensor& grad) {
    const std::string& name = name_of.at(grad.data_ptr());
    order.push_back(name);
    at_report[name] = grad.clone();
  };
  step.run(torch::rand({5, 1, 6, 6}), 2.0, at::detail::createCPUGenerator(4), RowSlice{0, 5}, ready);
  ASSERT_EQ(order.size(), 14u);
  EXPECT_EQ(order.front(), "decoder.out.weight");
  EXPECT_EQ(order.back(), "encoder.fc1.bias");
  for (const auto& p : vae->named_parameters()) {
    ASSERT_EQ(at_report.count(p.key()), 1u) << p.key();
    EXPECT_TRUE(torch::equal(at_report[p.key()], p.value().grad())) << p.key() << " changed after it was reported";
  }
  // Layer by layer in the reverse of the flat buffer's order: the decoder's 6
  // gradients are the first 6 reported (bucket boundaries fall between layers).
  const auto names = vae->named_parameters().keys();
  std::set<std::string> first6(order.begin(), order.begin() + 6);
  EXPECT_EQ(first6, std::set<std::string>(names.rbegin(), names.rbegin() + 6));
}

}  // namespace
}  // namespace dvae
