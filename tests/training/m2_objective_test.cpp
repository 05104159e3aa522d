// Tests for training/m2_objective: the bounds on hand-computable inputs, the
// labelled bound against a conditional VAE's ELBO, gradients to every parameter.
#include "training/m2_objective.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/check.h"
#include "training/loss.h"

namespace dvae {
namespace {

M2Options tiny() {
  M2Options o;
  o.x_dim = 6;
  o.image_size = 0;
  o.hidden = 5;
  o.hidden_layers = 1;
  o.z_dim = 2;
  o.num_classes = 3;
  return o;
}

TEST(M2Objective, NegativeBoundAddsLogCAndBetaKl) {
  // -(log_px - log 4 - beta kl) with log_px = -10, kl = 2, beta = 3: 10 + log 4 + 6
  const auto f64 = torch::kFloat64;
  const auto nb = m2_negative_bound(torch::tensor({-10.0}, f64), torch::tensor({2.0}, f64), 4, 3.0);
  EXPECT_NEAR(nb.item<double>(), 16.0 + std::log(4.0), 1e-12);
}

TEST(M2Objective, UnlabelledLossIsTheExplicitSumOverClasses) {
  // Two classes, logits (0, log 3): q = (1/4, 3/4); bounds (-L) = (8, 4).
  // -U = 1/4 * 8 + 3/4 * 4 + (1/4 log 1/4 + 3/4 log 3/4) = 5 - H(q).
  const auto logits = torch::tensor({{0.0, std::log(3.0)}}, torch::kFloat64);
  const auto nb = torch::tensor({{8.0, 4.0}}, torch::kFloat64);
  const double h = -(0.25 * std::log(0.25) + 0.75 * std::log(0.75));
  EXPECT_NEAR(m2_unlabelled_loss(logits, nb).item<double>(), 5.0 - h, 1e-12);
  // Uniform q over equal bounds: -U = bound - log C.
  const auto f64 = torch::kFloat64;
  const auto flat = m2_unlabelled_loss(torch::zeros({1, 4}, f64), torch::full({1, 4}, 7.0, f64));
  EXPECT_NEAR(flat.item<double>(), 7.0 - std::log(4.0), 1e-12);
}

TEST(M2Objective, WeightsAreKingmasObjectivePerImage) {
  // nips14-ssl at 100 labels: minibatches of 1 labelled + 499 unlabelled rows, the labelled cross-entropy summed
  // with weight alpha * n_tot / n_labeled = 50 and the whole divided by n_tot / n_minibatches = 500: per image of
  // the batch that is 0.1 on the cross-entropy, 1/500 on each bound.
  const M2Weights w = m2_weights(0.1, 100, 49900);
  EXPECT_DOUBLE_EQ(w.classification, 0.1);
  EXPECT_DOUBLE_EQ(w.labelled, 100.0 / 50000.0);
  EXPECT_DOUBLE_EQ(w.unlabelled, 49900.0 / 50000.0);
  // That minibatch's objective / 500 equals J from batch means with these weights:
  const double l = 90, u = 95, ce = 2;  // one labelled bound, each unlabelled bound, the labelled cross-entropy
  const double kingma = (1 * l + 499 * u + 50.0 * ce) / 500.0;
  const M2Weights wb = m2_weights(0.1, 1, 499);
  EXPECT_NEAR(wb.labelled * l + wb.unlabelled * u + wb.classification * ce, kingma, 1e-12);
  EXPECT_THROW(m2_weights(0.1, 0, 10), Error);
  EXPECT_THROW(m2_weights(-1, 10, 10), Error);
}

TEST(M2Objective, LogLikelihoodMatchesTheDensitiesByHand) {
  M2Likelihood bern{torch::tensor({{0.0, 0.0}}), {}};
  EXPECT_NEAR(m2_log_likelihood(bern, torch::tensor({{1.0f, 0.0f}})).item<double>(), 2 * std::log(0.5), 1e-6);
  M2Likelihood gauss{torch::tensor({{1.0}}), torch::tensor({{0.0}})};
  // log N(3; 1, 1) = -(log 2 pi + 4) / 2
  EXPECT_NEAR(m2_log_likelihood(gauss, torch::tensor({{3.0f}})).item<double>(), -0.5 * (std::log(2 * M_PI) + 4.0),
              1e-5);
}

TEST(M2Objective, LabelledBoundWithAlphaZeroIsAConditionalVaeElbo) {
  torch::manual_seed(4);
  M2 m2(tiny());
  const auto x = torch::bernoulli(torch::full({4, 6}, 0.5));
  const auto y = torch::tensor({0, 2, 1, 2}, torch::kLong);
  M2Batch batch{x, y, {}};
  at::Generator g1 = at::detail::createCPUGenerator(9);
  const M2Terms t = m2_objective(*m2, batch, /*beta=*/1.0, M2Weights{1, 1, 0}, g1);
  // The conditional VAE by hand: q(z|x,y) on [x, onehot y], the same eps, its ELBO.
  at::Generator g2 = at::detail::createCPUGenerator(9);
  auto p = m2->named_parameters();
  const auto yo = torch::nn::functional::one_hot(y, 3).to(torch::kFloat32);
  const auto xy = torch::cat({x, yo}, 1);
  const auto w_in = torch::cat({p["z_in_x.weight"], p["z_in_y.weight"]}, 1);
  const auto h = torch::softplus(torch::addmm(p["z_in_x.bias"], xy, w_in.t()));
  const auto mu = torch::addmm(p["z_mu.bias"], h, p["z_mu.weight"].t());
  const auto lv = torch::addmm(p["z_logvar.bias"], h, p["z_logvar.weight"].t());
  const auto z = mu + torch::exp(0.5 * lv) * torch::randn(mu.sizes(), g2, torch::kFloat32);
  const auto w_dec = torch::cat({p["x_in_z.weight"], p["x_in_y.weight"]}, 1);
  const auto hd = torch::softplus(torch::addmm(p["x_in_z.bias"], torch::cat({z, yo}, 1), w_dec.t()));
  const auto logits = torch::addmm(p["x_mean.bias"], hd, p["x_mean.weight"].t());
  const auto elbo = -bernoulli_nll(logits, x) - kl_to_standard_normal(mu, lv).sum(1);  // [B]
  EXPECT_NEAR(t.labelled.item<double>(), (-elbo.mean()).item<double>() + std::log(3.0), 1e-4);
  EXPECT_NEAR(t.loss.item<double>(), t.labelled.item<double>(), 1e-6);
  EXPECT_DOUBLE_EQ(t.unlabelled.item<double>(), 0.0);
}

TEST(M2Objective, GradientsReachEveryParameter) {
  for (const std::string lik : {"bernoulli", "gaussian"}) {
    torch::manual_seed(5);
    M2Options o = tiny();
    o.likelihood = lik;
    o.hidden_layers = 2;
    M2 m2(o);
    at::Generator g = at::detail::createCPUGenerator(1);
    M2Batch batch{torch::rand({3, 6}).round(), torch::tensor({0, 1, 2}, torch::kLong), torch::rand({5, 6}).round()};
    const M2Terms t = m2_objective(*m2, batch, 2.0, M2Weights{0.25, 0.75, 10.0}, g);
    EXPECT_NEAR(t.loss.item<double>(),
                (0.25 * t.labelled + 0.75 * t.unlabelled + 10.0 * t.cross_entropy).item<double>(), 1e-4);
    t.loss.backward();
    for (const auto& kv : m2->named_parameters()) {
      ASSERT_TRUE(kv.value().grad().defined()) << lik << " " << kv.key();
      EXPECT_GT(kv.value().grad().abs().sum().item<double>(), 0.0) << lik << " " << kv.key();
    }
  }
}

TEST(M2Objective, UnlabelledTermIsTheSumOverClassesOfLabelledBounds) {
  // Enumeration in one pass equals C labelled passes weighted by q(y|x), given the same z per class.
  torch::manual_seed(6);
  M2Options o = tiny();
  o.likelihood = "gaussian";
  M2 m2(o);
  const auto x = torch::randn({2, 6});
  M2Batch unl{{}, {}, x};
  at::Generator g = at::detail::createCPUGenerator(3);
  const double u = m2_objective(*m2, unl, 1.5, M2Weights{1, 1, 0}, g).unlabelled.item<double>();
  at::Generator g2 = at::detail::createCPUGenerator(3);
  const auto eps = torch::randn({3, 2, 2}, g2, torch::kFloat32);  // [C,B,Z] as the objective draws it
  torch::NoGradGuard no_grad;
  const auto logq = torch::log_softmax(m2->classify(x), 1);  // [B,C]
  double expected = 0;
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t c = 0; c < 3; ++c) {
      const auto yo = torch::zeros({1, 3}).index_fill_(1, torch::tensor({c}), 1.0);
      const Posterior q = m2->encode(x.narrow(0, b, 1), yo);
      const auto z = q.mu + torch::exp(0.5 * q.logvar) * eps[c].narrow(0, b, 1);
      const double lp = m2_log_likelihood(m2->decode(z, yo), x.narrow(0, b, 1)).item<double>();
      const double kl = kl_to_standard_normal(q.mu, q.logvar).sum().item<double>();
      const double nb = -(lp - std::log(3.0) - 1.5 * kl);
      const double qy = logq[b][c].item<double>();
      expected += std::exp(qy) * (nb + qy) / 2.0;
    }
  }
  EXPECT_NEAR(u, expected, 1e-3 * std::abs(expected));
}

}  // namespace
}  // namespace dvae
