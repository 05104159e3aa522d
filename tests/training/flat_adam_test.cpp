// FlatAdam must give the same parameters as torch::optim::Adam.
#include "training/flat_adam.h"

#include <gtest/gtest.h>

namespace dvae {

namespace {

torch::nn::Sequential tiny_net() {
  return torch::nn::Sequential(torch::nn::Linear(6, 5), torch::nn::Softplus(), torch::nn::Linear(5, 3));
}

}  // namespace

TEST(FlatAdam, MatchesTorchAdamOverManySteps) {
  torch::manual_seed(3);
  auto a = tiny_net();
  auto b = tiny_net();
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < a->parameters().size(); ++i) b->parameters()[i].copy_(a->parameters()[i]);
  }
  torch::optim::Adam reference(a->parameters(), torch::optim::AdamOptions(1e-2));
  FlatAdam flat(b->parameters(), FlatAdamOptions{1e-2});
  auto x = torch::randn({8, 6});
  auto y = torch::randn({8, 3});
  for (int step = 0; step < 25; ++step) {
    reference.zero_grad();
    torch::mse_loss(a->forward(x), y).backward();
    reference.step();
    flat.zero_grad();
    torch::mse_loss(b->forward(x), y).backward();
    flat.step();
  }
  for (size_t i = 0; i < a->parameters().size(); ++i) {
    EXPECT_TRUE(torch::allclose(a->parameters()[i], b->parameters()[i], 1e-6, 1e-7)) << "parameter " << i;
  }
  EXPECT_EQ(flat.steps(), 25);
}

TEST(FlatAdam, ParametersAndGradientsAreViewsOfTheFlatBuffers) {
  auto net = tiny_net();
  const auto before = net->parameters()[0].clone();
  FlatAdam flat(net->parameters(), {});
  EXPECT_TRUE(torch::equal(net->parameters()[0], before));  // values preserved
  EXPECT_EQ(flat.flat_params().numel(), 6 * 5 + 5 + 5 * 3 + 3);
  flat.flat_params().fill_(0.5);
  EXPECT_FLOAT_EQ(net->parameters()[2].view(-1)[0].item<float>(), 0.5f);
  torch::mse_loss(net->forward(torch::ones({2, 6})), torch::zeros({2, 3})).backward();
  EXPECT_GT(net->parameters()[3].grad().abs().sum().item<float>(), 0.0f);
  flat.zero_grad();
  EXPECT_EQ(net->parameters()[3].grad().abs().sum().item<float>(), 0.0f);
}

}  // namespace dvae
