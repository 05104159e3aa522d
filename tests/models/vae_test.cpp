// Tests of VaeImpl: shapes for every architecture, z = mu in eval mode and
// deterministic evaluation, the reparameterisation, ModelOptions <-> JSON.
#include <gtest/gtest.h>

#include "core/check.h"
#include "models/vae.h"

namespace dvae {
namespace {

ModelOptions small(const std::string& arch) {
  ModelOptions o;
  o.arch = arch;
  o.latent_dim = 3;
  o.mlp_hidden = 16;
  o.cnn_fc = 16;
  return o;
}

class VaeArch : public ::testing::TestWithParam<std::string> {};

TEST_P(VaeArch, ForwardShapes) {
  torch::manual_seed(0);
  Vae vae(small(GetParam()));
  const VaeOutput out = vae->forward(torch::rand({4, 1, 28, 28}));
  EXPECT_EQ(out.x_logits.sizes(), (std::vector<int64_t>{4, 1, 28, 28}));
  EXPECT_EQ(out.mu.sizes(), (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(out.logvar.sizes(), (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(out.z.sizes(), (std::vector<int64_t>{4, 3}));
  EXPECT_FALSE(torch::equal(out.z, out.mu));  // sampled in training mode
}

TEST_P(VaeArch, EvalIsDeterministicWithZEqualToMu) {
  torch::manual_seed(0);
  Vae vae(small(GetParam()));
  vae->train();
  vae->forward(torch::rand({8, 1, 28, 28}));  // moves BatchNorm running statistics
  vae->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::rand({4, 1, 28, 28});
  const VaeOutput a = vae->forward(x);
  const VaeOutput b = vae->forward(x);
  EXPECT_TRUE(torch::equal(a.z, a.mu));
  EXPECT_TRUE(torch::equal(a.x_logits, b.x_logits));
  EXPECT_TRUE(torch::equal(a.mu, b.mu));
}

TEST_P(VaeArch, EveryParameterReceivesAGradient) {
  torch::manual_seed(2);
  Vae vae(small(GetParam()));
  const VaeOutput out = vae->forward(torch::rand({4, 1, 28, 28}));
  (out.x_logits.pow(2).sum() + out.logvar.exp().sum() + out.mu.pow(2).sum()).backward();
  for (const auto& p : vae->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<float>(), 0.0f) << p.key();
  }
}

INSTANTIATE_TEST_SUITE_P(Archs, VaeArch, ::testing::Values("mlp", "cnn"));

TEST(Vae, ReparameteriseIsMuPlusSigmaTimesNoise) {
  const auto mu = torch::tensor({{1.0f, -2.0f, 0.5f}});
  const auto logvar = torch::tensor({{0.0f, std::log(4.0f), -100.0f}});
  torch::manual_seed(7);
  const auto eps = torch::randn_like(mu);
  torch::manual_seed(7);
  const auto z = VaeImpl::reparameterise(mu, logvar);
  EXPECT_TRUE(torch::allclose(z, mu + torch::tensor({{1.0f, 2.0f, 0.0f}}) * eps));
  EXPECT_FLOAT_EQ(z[0][2].item<float>(), 0.5f);  // sigma ~ 0: z = mu
}

TEST(Vae, ParameterNamesAreStable) {
  Vae vae(small("mlp"));
  std::vector<std::string> names;
  for (const auto& p : vae->named_parameters()) names.push_back(p.key());
  EXPECT_EQ(names.front(), "encoder.fc1.weight");
  EXPECT_EQ(names.back(), "decoder.out.bias");
}

TEST(Vae, ModelOptionsRoundTripThroughJson) {
  ModelOptions o;
  o.arch = "cnn";
  o.latent_dim = 7;
  o.image_size = 32;
  o.mlp_hidden = 300;
  o.mlp_activation = "relu";
  o.cnn_fc = 256;
  const nlohmann::json j = model_options_to_json(o);
  EXPECT_EQ(j.at("arch"), "cnn");
  EXPECT_EQ(j.at("latent_dim"), 7);
  const ModelOptions back = model_options_from_json(j);
  EXPECT_EQ(back.arch, o.arch);
  EXPECT_EQ(back.latent_dim, o.latent_dim);
  EXPECT_EQ(back.image_size, o.image_size);
  EXPECT_EQ(back.mlp_hidden, o.mlp_hidden);
  EXPECT_EQ(back.mlp_activation, o.mlp_activation);
  EXPECT_EQ(back.cnn_fc, o.cnn_fc);
  EXPECT_EQ(model_options_from_json(nlohmann::json::object()).latent_dim, 10);  // defaults
}

TEST(Vae, ModelOptionsFromJsonRejectsBadInput) {
  EXPECT_THROW(model_options_from_json(nlohmann::json::array()), Error);
  EXPECT_THROW(model_options_from_json({{"latent_dim", "ten"}}), Error);
  EXPECT_THROW(model_options_from_json({{"depth", 3}}), Error);
}

}  // namespace
}  // namespace dvae
