// Tests of the beta-ELBO: exact values on tiny inputs, the closed-form KL
// against a Monte-Carlo estimate, KL >= 0 and zero at the prior, beta scaling.
#include <gtest/gtest.h>

#include <cmath>

#include "training/loss.h"

namespace dvae {
namespace {

TEST(Loss, ExactValuesOnTinyInputs) {
  // Logits 0: p = 1/2, every pixel costs log 2 whatever the target.
  const auto x = torch::tensor({0.0f, 1.0f, 0.25f, 1.0f, 0.0f, 0.0f, 1.0f, 0.5f}).view({2, 1, 2, 2});
  const auto zero_logits = torch::zeros({2, 1, 2, 2});
  const auto mu = torch::tensor({{1.0f, 0.0f}, {0.0f, -1.0f}});
  const auto logvar = torch::tensor({{0.0f, std::log(2.0f)}, {0.0f, 0.0f}});
  const ElboTerms t = beta_elbo_loss(zero_logits, x, mu, logvar, 1.0);
  EXPECT_NEAR(t.recon.item<double>(), 4.0 * std::log(2.0), 1e-6);
  // KL per latent: [0.5, 0.5*(2-1-log 2)] for sample 0 and [0, 0.5] for sample 1; mean over batch.
  const double kl_b = 0.5 * (2.0 - 1.0 - std::log(2.0));
  EXPECT_NEAR(t.kl_per_latent[0].item<double>(), 0.25, 1e-6);
  EXPECT_NEAR(t.kl_per_latent[1].item<double>(), 0.5 * (kl_b + 0.5), 1e-6);
  EXPECT_NEAR(t.kl.item<double>(), 0.25 + 0.5 * (kl_b + 0.5), 1e-6);
  EXPECT_NEAR(t.loss.item<double>(), t.recon.item<double>() + t.kl.item<double>(), 1e-6);
  // One pixel, logit 2: -log sigmoid(2) when the target is 1, -log(1 - sigmoid(2)) when it is 0.
  const auto l = torch::full({1, 1, 1, 1}, 2.0f);
  EXPECT_NEAR(bernoulli_nll(l, torch::ones({1, 1, 1, 1})).item<double>(), std::log1p(std::exp(-2.0)), 1e-6);
  EXPECT_NEAR(bernoulli_nll(l, torch::zeros({1, 1, 1, 1})).item<double>(), std::log1p(std::exp(2.0)), 1e-5);
}

TEST(Loss, ReconstructionIsStableForLargeLogits) {
  const auto logits = torch::tensor({100.0f, -100.0f}).view({1, 1, 1, 2});
  const auto x = torch::tensor({0.0f, 1.0f}).view({1, 1, 1, 2});
  EXPECT_NEAR(bernoulli_nll(logits, x).item<double>(), 200.0, 1e-3);
  const ElboTerms t = beta_elbo_loss(logits, x, torch::zeros({1, 1}), torch::zeros({1, 1}), 1.0);
  EXPECT_TRUE(std::isfinite(t.loss.item<double>()));
}

TEST(Loss, BernoulliNllSumsOverPixelsPerSample) {
  torch::manual_seed(3);
  const auto logits = torch::randn({3, 1, 4, 4});
  const auto x = torch::rand({3, 1, 4, 4});
  const auto per_sample = bernoulli_nll(logits, x);
  ASSERT_EQ(per_sample.sizes(), (std::vector<int64_t>{3}));
  const auto p = torch::sigmoid(logits);
  const auto expected = -(x * p.log() + (1 - x) * (1 - p).log()).flatten(1).sum(1);
  EXPECT_TRUE(torch::allclose(per_sample, expected, 1e-4, 1e-4));
  const ElboTerms t = beta_elbo_loss(logits, x, torch::zeros({3, 2}), torch::zeros({3, 2}), 1.0);
  EXPECT_NEAR(t.recon.item<double>(), per_sample.mean().item<double>(), 1e-4);
}

TEST(Loss, KlIsZeroAtThePriorAndNonNegative) {
  EXPECT_EQ(kl_to_standard_normal(torch::zeros({2, 5}), torch::zeros({2, 5})).abs().max().item<float>(), 0.0f);
  torch::manual_seed(4);
  const auto kl = kl_to_standard_normal(3 * torch::randn({1000, 10}), 4 * torch::randn({1000, 10}));
  EXPECT_GE(kl.min().item<float>(), 0.0f);
  EXPECT_GT(kl.mean().item<float>(), 0.1f);
}

TEST(Loss, ClosedFormKlMatchesAMonteCarloEstimate) {
  torch::manual_seed(5);
  const auto mu = torch::tensor({0.7, -1.3, 0.0}, torch::kFloat64);
  const auto logvar = torch::tensor({-0.5, 0.8, -2.0}, torch::kFloat64);
  const int64_t n = 400000;
  const auto sigma = (0.5 * logvar).exp();
  const auto z = mu + sigma * torch::randn({n, 3}, torch::kFloat64);  // [N,3]
  // log q(z) - log p(z) per latent, the 0.5 log(2 pi) terms cancel.
  const auto log_q = -0.5 * ((z - mu) / sigma).pow(2) - 0.5 * logvar;
  const auto log_p = -0.5 * z.pow(2);
  const auto mc = (log_q - log_p).mean(0);  // [N,3] -> [3]
  const auto closed = kl_to_standard_normal(mu.unsqueeze(0), logvar.unsqueeze(0)).squeeze(0);
  for (int64_t d = 0; d < 3; ++d) {
    EXPECT_NEAR(mc[d].item<double>(), closed[d].item<double>(), 0.01) << "latent " << d;
  }
}

TEST(Loss, BetaScalesOnlyTheKlTerm) {
  torch::manual_seed(6);
  const auto logits = torch::randn({4, 1, 3, 3});
  const auto x = torch::rand({4, 1, 3, 3});
  const auto mu = torch::randn({4, 5});
  const auto logvar = torch::randn({4, 5});
  const ElboTerms one = beta_elbo_loss(logits, x, mu, logvar, 1.0);
  const ElboTerms four = beta_elbo_loss(logits, x, mu, logvar, 4.0);
  const ElboTerms zero = beta_elbo_loss(logits, x, mu, logvar, 0.0);
  EXPECT_TRUE(torch::equal(one.recon, four.recon));
  EXPECT_TRUE(torch::equal(one.kl, four.kl));
  EXPECT_TRUE(torch::equal(one.kl_per_latent, four.kl_per_latent));
  EXPECT_NEAR(four.loss.item<double>() - one.loss.item<double>(), 3.0 * one.kl.item<double>(), 1e-4);
  EXPECT_NEAR(zero.loss.item<double>(), one.recon.item<double>(), 1e-5);
}

TEST(Loss, GradientsFlowToLogitsMuAndLogvar) {
  const auto logits = torch::zeros({2, 1, 2, 2}, torch::requires_grad());
  const auto mu = torch::ones({2, 3}, torch::requires_grad());
  const auto logvar = torch::zeros({2, 3}, torch::requires_grad());
  beta_elbo_loss(logits, torch::ones({2, 1, 2, 2}), mu, logvar, 2.0).loss.backward();
  // d recon / d logit = (sigmoid(0) - 1) / B = -0.25; d (beta KL) / d mu = beta * mu / B = 1.
  EXPECT_TRUE(torch::allclose(logits.grad(), torch::full({2, 1, 2, 2}, -0.25f)));
  EXPECT_TRUE(torch::allclose(mu.grad(), torch::ones({2, 3})));
  EXPECT_TRUE(torch::allclose(logvar.grad(), torch::zeros({2, 3})));  // 0.5*(e^0 - 1) = 0
}

}  // namespace
}  // namespace dvae
