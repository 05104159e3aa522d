// Tests for evaluation/disentanglement: hand-computed pieces (bins, mutual
// information, DCI from a given importance matrix), then every metric on codes
// whose answer is known: the factors themselves (up to permutation, scale and
// sign) score near the top, independent codes near zero, a code mixing two
// factors lower than the unmixed one; invariance to permuting and rescaling
// latents; BetaVAE / FactorVAE on a tiny generator whose encoder returns the factors.
#include "evaluation/disentanglement.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/check.h"

namespace dvae {
namespace {

constexpr int64_t kRows = 3000;

// Three continuous factors, uniform on [0, 1], seeded.
FactorCodes with_codes(const torch::Tensor& factors, const torch::Tensor& codes) {
  FactorCodes d;
  d.factors = factors;
  d.codes = codes;
  for (int64_t j = 0; j < factors.size(1); ++j) {
    d.factor_names.push_back("f" + std::to_string(j));
    d.discrete.push_back(false);
  }
  return d;
}

torch::Tensor uniform_factors(int64_t n, int64_t f, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::rand({n, f}, gen, torch::kDouble);
}

// Codes = the factors, permuted (2, 0, 1), scaled and one sign flipped.
torch::Tensor aligned_codes(const torch::Tensor& f) {
  return torch::stack({-2.0 * f.select(1, 2), 5.0 * f.select(1, 0) + 1.0, 0.5 * f.select(1, 1)}, 1);
}

MetricOptions fast_options() {
  MetricOptions o;
  o.gbt.rounds = 30;
  return o;
}

double metric(const std::string& name, const FactorCodes& d, const MetricOptions& o, size_t value = 0) {
  return find_metric(name).table(d, o).at(value).second;
}

TEST(disentanglement, HistogramBinsAreEqualWidth) {
  const torch::Tensor x = torch::arange(0, 21, torch::kDouble).unsqueeze(1);  // 0..20, width 1
  const torch::Tensor b = histogram_discretize(x, 20);
  EXPECT_EQ(b[0][0].item<int64_t>(), 0);
  EXPECT_EQ(b[7][0].item<int64_t>(), 7);
  EXPECT_EQ(b[19][0].item<int64_t>(), 19);
  EXPECT_EQ(b[20][0].item<int64_t>(), 19);  // the maximum falls in the last bin
  EXPECT_EQ(histogram_discretize(torch::full({5, 1}, 3.0), 20).sum().item<int64_t>(), 0);  // constant column
}

TEST(disentanglement, MutualInformationByHand) {
  const torch::Tensor a = torch::tensor({0, 0, 1, 1}, torch::kLong);
  EXPECT_NEAR(discrete_mutual_info(a, a), std::log(2.0), 1e-12);
  EXPECT_NEAR(discrete_mutual_info(a, torch::tensor({0, 1, 0, 1}, torch::kLong)), 0.0, 1e-12);
  EXPECT_NEAR(discrete_entropy(torch::tensor({0, 1, 2, 3}, torch::kLong)), std::log(4.0), 1e-12);
  // p(a,b) = {1/2 at (0,0), 1/4 at (1,0), 1/4 at (1,1)}: I = H(b) - H(b|a) = H(3/4,1/4) - 1/2 ln 2.
  const double hb = -(0.75 * std::log(0.75) + 0.25 * std::log(0.25));
  EXPECT_NEAR(discrete_mutual_info(a, torch::tensor({0, 0, 0, 1}, torch::kLong)), hb - 0.5 * std::log(2.0), 1e-12);
}

TEST(disentanglement, DciFromImportanceByHand) {
  const DciScores diag = dci_from_importance(torch::eye(3, torch::kDouble));
  EXPECT_NEAR(diag.disentanglement, 1.0, 1e-8);
  EXPECT_NEAR(diag.completeness, 1.0, 1e-8);
  const DciScores flat = dci_from_importance(torch::ones({3, 3}, torch::kDouble));
  EXPECT_NEAR(flat.disentanglement, 0.0, 1e-8);
  EXPECT_NEAR(flat.completeness, 0.0, 1e-8);
  // One code explains both factors: it is not disentangled (D = 0), each factor
  // is captured by one code (C = 1).
  const DciScores one = dci_from_importance(torch::tensor({{1.0, 1.0}, {0.0, 0.0}}, torch::kDouble));
  EXPECT_NEAR(one.disentanglement, 0.0, 1e-8);
  EXPECT_NEAR(one.completeness, 1.0, 1e-8);
}

TEST(disentanglement, FactorsAsCodesScoreNearTheTop) {
  const torch::Tensor f = uniform_factors(kRows, 3, 1);
  const FactorCodes d = with_codes(f, aligned_codes(f));
  const MetricOptions o = fast_options();
  EXPECT_GT(metric("mig", d, o), 0.95);
  EXPECT_GT(metric("sap", d, o), 0.95);
  const DciScores s = dci(d, o);
  EXPECT_GT(s.disentanglement, 0.9);
  EXPECT_GT(s.completeness, 0.9);
  EXPECT_GT(s.informativeness, 0.95);
  EXPECT_GT(metric("modularity", d, o), 0.95);
}

TEST(disentanglement, IndependentCodesScoreNearZero) {
  const torch::Tensor f = uniform_factors(kRows, 3, 2);
  const FactorCodes d = with_codes(f, uniform_factors(kRows, 3, 3));
  const MetricOptions o = fast_options();
  EXPECT_LT(metric("mig", d, o), 0.05);
  EXPECT_LT(metric("sap", d, o), 0.02);
  const DciScores s = dci(d, o);
  EXPECT_LT(s.informativeness, 0.05);
  EXPECT_LT(s.disentanglement, 0.35);
  EXPECT_LT(s.completeness, 0.35);
}

TEST(disentanglement, MixingTwoFactorsScoresLower) {
  const torch::Tensor f = uniform_factors(kRows, 3, 4);
  const FactorCodes clean = with_codes(f, f.clone());
  const torch::Tensor mixed_codes = torch::stack({f.select(1, 0) + f.select(1, 1), f.select(1, 0) - f.select(1, 1),
                                                  f.select(1, 2)}, 1);
  const FactorCodes mixed = with_codes(f, mixed_codes);
  const MetricOptions o = fast_options();
  for (const std::string name : {"mig", "sap", "modularity"}) {
    EXPECT_LT(metric(name, mixed, o), metric(name, clean, o) - 0.2) << name;
  }
  EXPECT_LT(dci(mixed, o).disentanglement, dci(clean, o).disentanglement - 0.2);
  EXPECT_LT(dci(mixed, o).completeness, dci(clean, o).completeness - 0.2);
}

TEST(disentanglement, InvariantToPermutingAndRescalingLatents) {
  const torch::Tensor f = uniform_factors(kRows, 3, 5);
  // Partly informative codes, so that the scores are away from their bounds.
  auto gen = at::detail::createCPUGenerator(6);
  const torch::Tensor noisy = f + 0.3 * torch::randn({kRows, 3}, gen, torch::kDouble);
  const torch::Tensor codes = torch::stack({noisy.select(1, 0) + 0.5 * noisy.select(1, 1), noisy.select(1, 1),
                                            noisy.select(1, 2)}, 1);
  const torch::Tensor moved = torch::stack({4.0 * codes.select(1, 2), -0.25 * codes.select(1, 0) + 3.0,
                                            2.0 * codes.select(1, 1)}, 1);
  const FactorCodes a = with_codes(f, codes), b = with_codes(f, moved);
  const MetricOptions o = fast_options();
  for (const std::string name : {"mig", "modularity"}) EXPECT_NEAR(metric(name, a, o), metric(name, b, o), 2e-3) << name;
  EXPECT_NEAR(metric("sap", a, o), metric("sap", b, o), 1e-9);
  const DciScores da = dci(a, o), db = dci(b, o);
  EXPECT_NEAR(da.disentanglement, db.disentanglement, 0.03);
  EXPECT_NEAR(da.completeness, db.completeness, 0.03);
  EXPECT_NEAR(da.informativeness, db.informativeness, 0.03);
}

TEST(disentanglement, DiscreteFactorsAreClassified) {
  // Factor 0: five classes; factor 1 continuous. Code 0 reads the class, code 1 the other.
  auto gen = at::detail::createCPUGenerator(7);
  const torch::Tensor cls = torch::randint(0, 5, {kRows}, gen, torch::kLong).to(torch::kDouble);
  const torch::Tensor cont = torch::rand({kRows}, gen, torch::kDouble);
  FactorCodes d;
  d.factors = torch::stack({cls, cont}, 1);
  d.codes = torch::stack({cont * 3.0, cls + 0.05 * torch::randn({kRows}, gen, torch::kDouble)}, 1);
  d.factor_names = {"label", "x"};
  d.discrete = {true, false};
  const MetricOptions o = fast_options();
  EXPECT_GT(metric("mig", d, o), 0.9);
  EXPECT_GT(metric("sap", d, o), 0.6);  // accuracy ~1 of the class code vs ~0.2-0.3 of the other
  const DciScores s = dci(d, o);
  EXPECT_GT(s.informativeness, 0.95);
  EXPECT_GT(s.disentanglement, 0.9);
}

TEST(disentanglement, RejectsBadInput) {
  FactorCodes d = with_codes(uniform_factors(10, 2, 1), uniform_factors(9, 2, 2));
  EXPECT_THROW(find_metric("mig").table(d, MetricOptions{}), Error);
  d.codes = uniform_factors(10, 2, 2);
  d.codes[3][1] = std::nan("");
  EXPECT_THROW(find_metric("sap").table(d, MetricOptions{}), Error);
  EXPECT_THROW(find_metric("nope"), Error);
}

// A generator of factors uniform on [0,1]^3 whose "encoder" returns codes from
// the factors directly (no images): codes_of maps [n,3] factors to [n,D] codes.
InterventionalSource toy_source(std::function<torch::Tensor(const torch::Tensor&, uint64_t)> codes_of) {
  InterventionalSource s;
  s.factor_names = {"a", "b", "c"};
  s.sample_factors = [](int64_t n, uint64_t seed) { return uniform_factors(n, 3, seed); };
  s.codes = std::move(codes_of);
  return s;
}

MetricOptions intervention_options() {
  MetricOptions o;
  o.intervention_train = 300;
  o.intervention_eval = 300;
  o.variance_estimate = 2000;
  return o;
}

TEST(disentanglement, InterventionalScoresOfTheFactorsNearOne) {
  // Permuted, scaled, with a collapsed latent (constant) that pruning must ignore.
  const InterventionalSource s = toy_source([](const torch::Tensor& f, uint64_t) {
    return torch::stack({3.0 * f.select(1, 1), torch::zeros({f.size(0)}, torch::kDouble), -f.select(1, 0),
                         f.select(1, 2)}, 1);
  });
  const MetricOptions o = intervention_options();
  EXPECT_GT(beta_vae_score(s, o), 0.97);
  EXPECT_GT(factor_vae_score(s, o), 0.99);
}

TEST(disentanglement, InterventionalScoresOfNoiseNearChance) {
  const InterventionalSource s = toy_source([](const torch::Tensor& f, uint64_t seed) {
    auto gen = at::detail::createCPUGenerator(seed);
    return torch::randn({f.size(0), 3}, gen, torch::kDouble);
  });
  const MetricOptions o = intervention_options();
  EXPECT_LT(beta_vae_score(s, o), 0.45);  // chance is 1/3
  EXPECT_LT(factor_vae_score(s, o), 0.45);
}

TEST(disentanglement, FactorVaeScoreIsZeroWhenEveryLatentCollapsed) {
  const InterventionalSource s =
      toy_source([](const torch::Tensor& f, uint64_t) { return torch::zeros({f.size(0), 2}, torch::kDouble); });
  EXPECT_EQ(factor_vae_score(s, intervention_options()), 0.0);
}

TEST(disentanglement, RegistryNamesAreUniqueAndEachHasOneKind) {
  std::set<std::string> names;
  for (const auto& m : metric_registry()) {
    EXPECT_TRUE(names.insert(m.name).second) << m.name;
    EXPECT_NE(static_cast<bool>(m.table), static_cast<bool>(m.interventional)) << m.name;
    EXPECT_EQ(&find_metric(m.name), &m);
  }
}

}  // namespace
}  // namespace dvae
