// FlatOptimizer must update parameters as torch::optim::Adam / SGD do, keep
// parameters and gradients as views of its flat buffers, and round-trip its state.
#include "training/flat_optimizer.h"

#include <gtest/gtest.h>

#include "core/check.h"
#include "support/kernel_paths.h"

namespace dvae {
namespace {

torch::nn::Sequential tiny_net() {
  // 6*5+5 + 5*40+40 + 40*3+3 parameters: the last layer's weight spans several
  // AVX-512 vectors plus a scalar tail.
  return torch::nn::Sequential(torch::nn::Linear(6, 5), torch::nn::Softplus(), torch::nn::Linear(5, 40),
                               torch::nn::Tanh(), torch::nn::Linear(40, 3));
}

void copy_parameters(torch::nn::Sequential& from, torch::nn::Sequential& to) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < from->parameters().size(); ++i) to->parameters()[i].copy_(from->parameters()[i]);
}

// Trains a with the reference optimiser and b with FlatOptimizer on the same data.
void expect_same_training(torch::optim::Optimizer& reference, torch::nn::Sequential& a, FlatOptimizer& flat,
                          torch::nn::Sequential& b, int steps) {
  auto x = torch::randn({8, 6});
  auto y = torch::randn({8, 3});
  for (int step = 0; step < steps; ++step) {
    reference.zero_grad();
    torch::mse_loss(a->forward(x), y).backward();
    reference.step();
    flat.zero_grad();
    torch::mse_loss(b->forward(x), y).backward();
    flat.step();
  }
  for (size_t i = 0; i < a->parameters().size(); ++i) {
    EXPECT_TRUE(torch::allclose(a->parameters()[i], b->parameters()[i], 1e-5, 1e-6)) << "parameter " << i;
  }
}

}  // namespace

// Every kernel path this CPU runs against torch::optim (and a scalar run on every CPU).
class FlatOptimizerPath : public testing::TestWithParam<KernelPath> {};

TEST_P(FlatOptimizerPath, AdamMatchesTorchAdamOverManySteps) {
  KernelPathScope path(GetParam());
  torch::manual_seed(3);
  auto a = tiny_net();
  auto b = tiny_net();
  copy_parameters(a, b);
  const auto start = b->parameters()[4].clone();
  torch::optim::Adam reference(a->parameters(), torch::optim::AdamOptions(1e-2));
  FlatOptimizerOptions o;
  o.lr = 1e-2;
  FlatOptimizer flat(b->parameters(), o);
  expect_same_training(reference, a, flat, b, 25);
  EXPECT_EQ(flat.steps(), 25);
  EXPECT_GT((b->parameters()[4] - start).abs().max().item<float>(), 1e-3);
}

TEST_P(FlatOptimizerPath, SgdMatchesTorchSgdWithMomentum) {
  KernelPathScope path(GetParam());
  torch::manual_seed(4);
  auto a = tiny_net();
  auto b = tiny_net();
  copy_parameters(a, b);
  torch::optim::SGD reference(a->parameters(), torch::optim::SGDOptions(5e-2).momentum(0.9));
  FlatOptimizerOptions o;
  o.kind = "sgd";
  o.lr = 5e-2;
  o.momentum = 0.9;
  FlatOptimizer flat(b->parameters(), o);
  expect_same_training(reference, a, flat, b, 25);
}

DVAE_TEST_EVERY_KERNEL_PATH(FlatOptimizerPath);

TEST(FlatOptimizer, ParametersAndGradientsAreViewsOfTheFlatBuffers) {
  auto net = tiny_net();
  const auto before = net->parameters()[0].clone();
  FlatOptimizer flat(net->parameters(), {});
  EXPECT_TRUE(torch::equal(net->parameters()[0], before));  // values preserved
  EXPECT_EQ(flat.flat_params().numel(), 6 * 5 + 5 + 5 * 40 + 40 + 40 * 3 + 3);
  flat.flat_params().fill_(0.5);
  EXPECT_FLOAT_EQ(net->parameters()[2].view(-1)[0].item<float>(), 0.5f);
  torch::mse_loss(net->forward(torch::ones({2, 6})), torch::zeros({2, 3})).backward();
  EXPECT_GT(flat.flat_grad().abs().sum().item<float>(), 0.0f);
  EXPECT_GT(net->parameters()[5].grad().abs().sum().item<float>(), 0.0f);
  flat.zero_grad();
  EXPECT_EQ(net->parameters()[5].grad().abs().sum().item<float>(), 0.0f);
}

TEST(FlatOptimizer, SaveLoadRestoresStateAndRebindsReplacedParameters) {
  torch::manual_seed(5);
  auto a = tiny_net();
  FlatOptimizer first(a->parameters(), {});
  torch::mse_loss(a->forward(torch::ones({2, 6})), torch::zeros({2, 3})).backward();
  first.step();
  torch::serialize::OutputArchive out;
  first.save(out);
  std::stringstream buffer;
  out.save_to(buffer);

  auto b = tiny_net();
  FlatOptimizer second(b->parameters(), {});
  {
    // As Module::load does: the parameter gets new storage.
    torch::NoGradGuard no_grad;
    b->parameters()[0].set_(a->parameters()[0].clone());
  }
  torch::serialize::InputArchive in;
  in.load_from(buffer);
  second.load(in);
  EXPECT_EQ(second.steps(), 1);
  ASSERT_EQ(second.state().size(), 2u);
  EXPECT_TRUE(torch::equal(second.state()[0], first.state()[0]));
  EXPECT_TRUE(torch::equal(second.state()[1], first.state()[1]));
  // The replaced parameter is a view of the flat buffer again, with its new values.
  EXPECT_EQ(b->parameters()[0].data_ptr<float>(), second.flat_params().data_ptr<float>());
  EXPECT_TRUE(torch::equal(b->parameters()[0], a->parameters()[0]));
}

TEST(FlatOptimizer, LoadRejectsAnotherKindOrSize) {
  auto a = tiny_net();
  FlatOptimizer adam(a->parameters(), {});
  torch::serialize::OutputArchive out;
  adam.save(out);
  std::stringstream buffer;
  out.save_to(buffer);
  auto b = tiny_net();
  FlatOptimizerOptions sgd;
  sgd.kind = "sgd";
  FlatOptimizer other(b->parameters(), sgd);
  torch::serialize::InputArchive in;
  in.load_from(buffer);
  EXPECT_THROW(other.load(in), Error);

  auto c = torch::nn::Sequential(torch::nn::Linear(3, 2));
  FlatOptimizer smaller(c->parameters(), {});
  buffer.seekg(0);
  torch::serialize::InputArchive in2;
  in2.load_from(buffer);
  EXPECT_THROW(smaller.load(in2), Error);
}

TEST(FlatOptimizer, RejectsUnknownKindAndEmptyParameters) {
  auto net = tiny_net();
  FlatOptimizerOptions bad;
  bad.kind = "rmsprop";
  EXPECT_THROW(FlatOptimizer(net->parameters(), bad), Error);
  EXPECT_THROW(FlatOptimizer({}, {}), Error);
}

}  // namespace dvae
