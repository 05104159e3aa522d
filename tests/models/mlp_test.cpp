// Tests of the MLP encoder and decoder: shapes, parameter counts, exact values
// on a hand-computable tiny network, gradients reaching every parameter.
#include <gtest/gtest.h>

#include "core/check.h"
#include "models/mlp.h"
#include "param_count.h"

namespace dvae {
namespace {

using test::count_params;

TEST(Mlp, ShapesFollowThePaper) {
  torch::manual_seed(0);
  MlpEncoderImpl encoder{MlpOptions{}};
  MlpDecoderImpl decoder{MlpOptions{}};
  const auto x = torch::rand({3, 1, 28, 28});
  const Posterior q = encoder.encode(x);
  EXPECT_EQ(q.mu.sizes(), (std::vector<int64_t>{3, 10}));
  EXPECT_EQ(q.logvar.sizes(), (std::vector<int64_t>{3, 10}));
  EXPECT_EQ(decoder.decode(q.mu).sizes(), (std::vector<int64_t>{3, 1, 28, 28}));
  // 784-500-500-(10,10) and 10-500-500-784, weights + biases.
  EXPECT_EQ(count_params(encoder), 653020);
  EXPECT_EQ(count_params(decoder), 648784);
}

TEST(Mlp, ExactValuesOnATinyNetwork) {
  MlpOptions o;
  o.image_size = 2;  // P = 4
  o.hidden = 2;
  o.latent_dim = 1;
  o.activation = "relu";
  MlpEncoderImpl encoder{o};
  torch::NoGradGuard no_grad;
  for (auto& p : encoder.named_parameters()) {
    if (p.key().find("bias") != std::string::npos) {
      p.value().zero_();
    } else {
      p.value().fill_(p.key().rfind("logvar", 0) == 0 ? -1.0 : 0.5);
    }
  }
  // fc1: 4 * 0.5 = 2 per unit; fc2: 2 * 0.5 * 2 = 2; mu: 2 * 0.5 * 2 = 2; logvar: -(2 + 2) = -4.
  const Posterior q = encoder.encode(torch::ones({1, 1, 2, 2}));
  EXPECT_FLOAT_EQ(q.mu.item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(q.logvar.item<float>(), -4.0f);
}

TEST(Mlp, ActivationsByName) {
  const auto zero = torch::zeros({1});
  EXPECT_FLOAT_EQ(apply_activation("softplus", zero).item<float>(), std::log(2.0f));
  EXPECT_FLOAT_EQ(apply_activation("relu", -torch::ones({1})).item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(apply_activation("tanh", torch::ones({1})).item<float>(), std::tanh(1.0f));
  EXPECT_THROW(apply_activation("gelu", zero), Error);
  MlpOptions o;
  o.activation = "sigmoid";
  EXPECT_THROW(MlpEncoderImpl{o}, Error);
}

TEST(Mlp, EveryParameterReceivesAGradient) {
  torch::manual_seed(1);
  MlpOptions o;
  o.hidden = 16;
  MlpEncoderImpl encoder{o};
  MlpDecoderImpl decoder{o};
  const Posterior q = encoder.encode(torch::rand({4, 1, 28, 28}));
  (decoder.decode(q.mu).sum() + q.logvar.sum()).backward();
  for (auto* m : std::vector<torch::nn::Module*>{&encoder, &decoder}) {
    for (const auto& p : m->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
      EXPECT_GT(p.value().grad().abs().sum().item<float>(), 0.0f) << p.key();
    }
  }
}

}  // namespace
}  // namespace dvae
