// Tests for models/m2: shapes of every network, the split first layer equals a
// layer on [x, onehot y], the batched enumeration equals one class at a time.
#include "models/m2.h"

#include <gtest/gtest.h>

#include "core/check.h"

namespace dvae {
namespace {

M2Options tiny(const std::string& likelihood = "bernoulli") {
  M2Options o;
  o.x_dim = 64;
  o.image_size = 8;
  o.likelihood = likelihood;
  o.hidden = 12;
  o.hidden_layers = 2;
  o.z_dim = 3;
  o.num_classes = 4;
  return o;
}

TEST(M2, ShapesOfEveryNetwork) {
  torch::manual_seed(0);
  M2 m2(tiny("gaussian"));
  const auto x = torch::rand({5, 1, 8, 8});
  EXPECT_EQ(m2->classify(x).sizes(), (std::vector<int64_t>{5, 4}));
  const auto y = torch::nn::functional::one_hot(torch::tensor({0, 1, 2, 3, 0}), 4).to(torch::kFloat32);
  const Posterior q = m2->encode(x, y);
  EXPECT_EQ(q.mu.sizes(), (std::vector<int64_t>{5, 3}));
  EXPECT_EQ(m2->encode_all(x).logvar.sizes(), (std::vector<int64_t>{4, 5, 3}));
  const M2Likelihood p = m2->decode(q.mu, y);
  EXPECT_EQ(p.mean.sizes(), (std::vector<int64_t>{5, 64}));
  EXPECT_EQ(p.logvar.sizes(), (std::vector<int64_t>{5, 64}));
  EXPECT_FALSE(M2(tiny("bernoulli"))->decode(q.mu, y).logvar.defined());
}

TEST(M2, EnumerationEqualsEachClassAlone) {
  torch::manual_seed(1);
  M2 m2(tiny());
  const auto x = torch::rand({3, 64});
  const Posterior all = m2->encode_all(x);  // [C,B,Z]
  for (int64_t c = 0; c < 4; ++c) {
    const auto y = torch::zeros({3, 4}).index_fill_(1, torch::tensor({c}), 1.0);
    const Posterior one = m2->encode(x, y);
    EXPECT_TRUE(torch::allclose(all.mu[c], one.mu, 1e-5, 1e-6)) << "class " << c;
    EXPECT_TRUE(torch::allclose(all.logvar[c], one.logvar, 1e-5, 1e-6)) << "class " << c;
  }
}

TEST(M2, SplitFirstLayerIsALayerOnXAndOnehotY) {
  torch::manual_seed(2);
  M2 m2(tiny());
  const auto x = torch::rand({2, 64});
  const auto y = torch::tensor({{0.f, 0.f, 1.f, 0.f}, {1.f, 0.f, 0.f, 0.f}});
  auto params = m2->named_parameters();
  // One Linear on [x, y]: weight [K, P + C] = [W_x, W_y], bias b_x.
  const auto w = torch::cat({params["z_in_x.weight"], params["z_in_y.weight"]}, 1);
  const auto h = torch::softplus(torch::addmm(params["z_in_x.bias"], torch::cat({x, y}, 1), w.t()));
  auto h2 = torch::softplus(torch::addmm(params["z_hidden.0.bias"], h, params["z_hidden.0.weight"].t()));
  const auto mu = torch::addmm(params["z_mu.bias"], h2, params["z_mu.weight"].t());
  EXPECT_TRUE(torch::allclose(m2->encode(x, y).mu, mu, 1e-5, 1e-6));
}

TEST(M2, CnnTrunkTakesImages) {
  M2Options o = tiny();
  o.x_dim = 28 * 28;
  o.image_size = 28;
  o.trunk = "cnn";
  o.hidden_layers = 1;
  torch::manual_seed(3);
  M2 m2(o);
  const auto x = torch::rand({2, 1, 28, 28});
  EXPECT_EQ(m2->classify(x).sizes(), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(m2->encode_all(x).mu.sizes(), (std::vector<int64_t>{4, 2, 3}));
}

TEST(M2, BadOptionsAreOneLineErrors) {
  M2Options o = tiny();
  o.likelihood = "poisson";
  EXPECT_THROW(M2{o}, Error);
  o = tiny();
  o.trunk = "cnn";
  o.image_size = 0;
  EXPECT_THROW(M2{o}, Error);
  o = tiny();
  o.hidden_layers = 0;
  EXPECT_THROW(M2{o}, Error);
}

}  // namespace
}  // namespace dvae
