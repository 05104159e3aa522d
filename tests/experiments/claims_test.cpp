// Tests for experiments/claims: each kind's verdict on hand-made results, and the
// rule's error rate on pure noise (models that differ only by training noise).
#include "experiments/claims.h"

#include <gtest/gtest.h>

#include <random>

#include "core/check.h"
#include "experiments/study_spec.h"

namespace dvae {
namespace {

ResultRow row(const std::string& model, int64_t n, int64_t trial, int64_t seed, double accuracy,
              double loss = 0.0) {
  ResultRow r;
  r.dataset = "mnist";
  r.arch = "mlp";
  r.model = model;
  r.classifier = "probe";
  r.vae_seed = seed;
  r.n = n;
  r.trial = trial;
  r.accuracy = accuracy;
  r.train_loss = loss;
  return r;
}

ClaimSpec beats(const std::string& a, const std::string& b) {
  ClaimSpec c;
  c.kind = "beats";
  c.a = {a};
  c.b = {b};
  return c;
}

// K seeds x T trials of A and B in cells n in sizes; A = B + shift + seed noise + trial noise.
std::vector<ResultRow> simulate(std::mt19937_64& gen, double shift, int K, int T, const std::vector<int64_t>& sizes) {
  std::normal_distribution<double> seed_noise(0.0, 0.02), trial_noise(0.0, 0.01);
  std::vector<ResultRow> rows;
  for (int64_t n : sizes) {
    for (int k = 0; k < K; ++k) {
      const double ua = seed_noise(gen), ub = seed_noise(gen);
      for (int t = 0; t < T; ++t) {
        const double subset = trial_noise(gen);  // the shared labelled subset
        rows.push_back(row("A", n, t, k, 0.7 + shift + ua + subset + trial_noise(gen)));
        rows.push_back(row("B", n, t, k, 0.7 + ub + subset + trial_noise(gen)));
      }
    }
  }
  return rows;
}

TEST(claims, PureNoiseIsInconclusiveAtLeast95PercentOfTheTime) {
  std::mt19937_64 gen(12345);
  const std::vector<VaeOutcome> vaes;
  int inconclusive = 0;
  const int replicates = 400;
  for (int i = 0; i < replicates; ++i) {
    const auto rows = simulate(gen, 0.0, 5, 5, {1, 3, 5});
    const ClaimInputs in{rows, vaes, {"mnist"}, {"mlp"}, {1, 3, 5}, false};
    inconclusive += evaluate_claim(beats("A", "B"), in).verdict == "inconclusive" ? 1 : 0;
  }
  // Holm bounds the family-wise error at 5%: expect >= 95% inconclusive (binomial slack: 92%).
  EXPECT_GE(inconclusive, static_cast<int>(0.92 * replicates)) << inconclusive << " of " << replicates;
}

// The same simulation on two architectures, with A's advantage shift_cnn on cnn and shift_mlp on mlp.
std::vector<ResultRow> two_archs(std::mt19937_64& gen, double shift_cnn, double shift_mlp, int K, int T) {
  auto rows = simulate(gen, shift_cnn, K, T, {1, 3});
  for (auto& r : rows) r.arch = "cnn";
  for (const auto& r : simulate(gen, shift_mlp, K, T, {1, 3})) rows.push_back(r);
  return rows;
}

ClaimSpec gap(const std::string& first, const std::string& second) {
  ClaimSpec c = beats("A", "B");
  c.kind = "gap";
  c.archs = {first, second};
  return c;
}

TEST(claims, GapComparesTheArchitecturesDifferencesUnpaired) {
  std::mt19937_64 gen(99);
  const std::vector<VaeOutcome> vaes;
  const auto rows = two_archs(gen, 0.10, 0.01, 5, 5);
  const ClaimInputs in{rows, vaes, {"mnist"}, {"mlp", "cnn"}, {1, 3}, false};
  const ClaimResult yes = evaluate_claim(gap("cnn", "mlp"), in);
  EXPECT_EQ(yes.verdict, "supported") << yes.evidence;
  ASSERT_EQ(yes.tests.size(), 2u);
  EXPECT_EQ(yes.tests[0].arch, "cnn vs mlp");
  EXPECT_NEAR(yes.tests[0].comparison.difference_mean, 0.09, 0.03);
  EXPECT_LT(yes.tests[0].comparison.ci_low, yes.tests[0].comparison.difference_mean);
  EXPECT_EQ(evaluate_claim(gap("mlp", "cnn"), in).verdict, "contradicted");
  // A study with one of the two architectures cannot test it.
  std::vector<ResultRow> mlp_rows;
  for (const auto& r : rows)
    if (r.arch == "mlp") mlp_rows.push_back(r);
  const ClaimInputs only{mlp_rows, vaes, {"mnist"}, {"mlp"}, {1, 3}, false};
  EXPECT_EQ(evaluate_claim(gap("cnn", "mlp"), only).verdict, "not tested");
  // Equal gaps (pure noise) come out inconclusive nearly always.
  int inconclusive = 0;
  for (int i = 0; i < 200; ++i) {
    const auto noise = two_archs(gen, 0.05, 0.05, 5, 5);
    const ClaimInputs nin{noise, vaes, {"mnist"}, {"mlp", "cnn"}, {1, 3}, false};
    inconclusive += evaluate_claim(gap("cnn", "mlp"), nin).verdict == "inconclusive" ? 1 : 0;
  }
  EXPECT_GE(inconclusive, 184) << inconclusive << " of 200";
  // Validation: two different architectures, the larger gap first.
  ClaimSpec bad = gap("cnn", "cnn");
  EXPECT_THROW(validate_claim(bad, {"A", "B"}, "claims[0]"), UsageError);
  bad.archs = {"cnn"};
  EXPECT_THROW(validate_claim(bad, {"A", "B"}, "claims[0]"), UsageError);
}

TEST(claims, AClearDifferenceAcrossSeedsIsSupportedAndTheReverseContradicted) {
  std::mt19937_64 gen(7);
  const std::vector<VaeOutcome> vaes;
  const auto rows = simulate(gen, 0.08, 5, 5, {1, 3, 5});
  const ClaimInputs in{rows, vaes, {"mnist"}, {"mlp"}, {1, 3, 5}, false};
  const ClaimResult yes = evaluate_claim(beats("A", "B"), in);
  EXPECT_EQ(yes.verdict, "supported") << yes.evidence;
  EXPECT_EQ(yes.tests.size(), 3u);
  EXPECT_EQ(yes.tests[0].comparison.unit, "VAE seeds");
  EXPECT_NE(yes.basis.find("5 VAE seeds"), std::string::npos) << yes.basis;
  EXPECT_FALSE(yes.indicative);
  EXPECT_EQ(evaluate_claim(beats("B", "A"), in).verdict, "contradicted");
}

TEST(claims, OneSeedRestsOnOneTrainedModelAndIsIndicative) {
  std::mt19937_64 gen(9);
  const std::vector<VaeOutcome> vaes;
  const auto rows = simulate(gen, 0.1, 1, 5, {1});
  const ClaimInputs in{rows, vaes, {"mnist"}, {"mlp"}, {1}, false};
  const ClaimResult r = evaluate_claim(beats("A", "B"), in);
  EXPECT_EQ(r.tests[0].comparison.unit, "label trials");
  EXPECT_NE(r.basis.find("one trained model each"), std::string::npos) << r.basis;
  EXPECT_TRUE(r.indicative);
}

TEST(claims, MatchesNeedsTheIntervalInsideTheMargin) {
  std::mt19937_64 gen(11);
  const std::vector<VaeOutcome> vaes;
  ClaimSpec m;
  m.kind = "matches";
  m.a = {"A"};
  m.b = {"B"};
  m.margin = 0.05;
  const auto same = simulate(gen, 0.0, 10, 5, {10});
  EXPECT_EQ(evaluate_claim(m, {same, vaes, {"mnist"}, {"mlp"}, {10}, false}).verdict, "supported");
  const auto far = simulate(gen, 0.2, 10, 5, {10});
  EXPECT_EQ(evaluate_claim(m, {far, vaes, {"mnist"}, {"mlp"}, {10}, false}).verdict, "contradicted");
}

TEST(claims, OrderOnALowerIsBetterMetric) {
  std::vector<ResultRow> rows;
  for (int k = 0; k < 4; ++k) {
    for (int t = 0; t < 3; ++t) {
      rows.push_back(row("S", 1, t, k, 0.5, 0.10 + 0.001 * k + 0.002 * t));
      rows.push_back(row("A", 1, t, k, 0.5, 0.50 + 0.003 * k));
      rows.push_back(row("B", 1, t, k, 0.5, 0.90 - 0.002 * k + 0.001 * t));
    }
  }
  ClaimSpec c;
  c.kind = "order";
  c.models = {"S", "A", "B"};
  c.metric = "train_loss";
  const std::vector<VaeOutcome> vaes;
  const ClaimInputs in{rows, vaes, {"mnist"}, {"mlp"}, {1}, false};
  EXPECT_EQ(evaluate_claim(c, in).verdict, "supported");
  c.models = {"B", "A"};
  EXPECT_EQ(evaluate_claim(c, in).verdict, "contradicted");
}

TEST(claims, CollapseCountsLatentsOfEveryTrainedVae) {
  const std::vector<ResultRow> rows;
  std::vector<VaeOutcome> vaes = {{"mnist", "mlp", "D", 0, 4, {1, 0.001, 2, 0.002}},
                                  {"mnist", "mlp", "D", 1, 4, {1, 0.001, 2, 3}}};
  ClaimSpec c;
  c.kind = "collapse";
  c.a = {"D"};
  c.min_fraction = 0.4;
  c.max_fraction = 0.6;
  EXPECT_EQ(evaluate_claim(c, {rows, vaes, {"mnist"}, {"mlp"}, {1}, false}).verdict, "inconclusive");
  c.min_fraction = 0.2;
  EXPECT_EQ(evaluate_claim(c, {rows, vaes, {"mnist"}, {"mlp"}, {1}, false}).verdict, "supported");
  c.min_fraction = 0.9;
  c.max_fraction = 1.0;
  EXPECT_EQ(evaluate_claim(c, {rows, vaes, {"mnist"}, {"mlp"}, {1}, false}).verdict, "contradicted");
}

TEST(claims, ValidationNamesTheUnknownModel) {
  ClaimSpec c = beats("A", "nobody");
  try {
    validate_claim(c, {"A", "B"}, "spec.toml: claims[0]");
    FAIL() << "expected a usage error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("claims[0].b: 'nobody'"), std::string::npos) << e.what();
  }
  c.kind = "wins";
  EXPECT_THROW(validate_claim(c, {"A", "B"}, "x"), UsageError);
}

}  // namespace
}  // namespace dvae
