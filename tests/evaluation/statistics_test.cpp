// Tests for evaluation/statistics: values from tables of Student's t, a paired
// t-test worked by hand, TOST and Holm's correction on textbook examples.
#include "evaluation/statistics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/check.h"

namespace dvae {
namespace {

TEST(statistics, MeanAndSdOfAHandSample) {
  EXPECT_DOUBLE_EQ(sample_mean({2, 4, 4, 4, 5, 5, 7, 9}), 5.0);
  EXPECT_NEAR(sample_sd({2, 4, 4, 4, 5, 5, 7, 9}), std::sqrt(32.0 / 7.0), 1e-12);
  EXPECT_EQ(sample_sd({3}), 0.0);
  EXPECT_EQ(sample_mean({}), 0.0);
}

TEST(statistics, TQuantilesMatchTheTable) {
  // Two-sided 95% critical values: df 1 12.706, 2 4.303, 4 2.776, 9 2.262, 30 2.042.
  EXPECT_NEAR(student_t_quantile(0.975, 1), 12.7062, 1e-3);
  EXPECT_NEAR(student_t_quantile(0.975, 2), 4.3027, 1e-3);
  EXPECT_NEAR(student_t_quantile(0.975, 4), 2.7764, 1e-3);
  EXPECT_NEAR(student_t_quantile(0.975, 9), 2.2622, 1e-3);
  EXPECT_NEAR(student_t_quantile(0.975, 30), 2.0423, 1e-3);
  EXPECT_NEAR(student_t_quantile(0.025, 4), -2.7764, 1e-3);
  // df 1 is the Cauchy distribution: F(t) = 1/2 + atan(t)/pi.
  EXPECT_NEAR(student_t_cdf(1.0, 1), 0.75, 1e-12);
  EXPECT_NEAR(student_t_cdf(-3.0, 1), 0.5 + std::atan(-3.0) / M_PI, 1e-12);
  // df 2: F(t) = 1/2 + t / (2 sqrt(2 + t^2)).
  EXPECT_NEAR(student_t_cdf(1.5, 2), 0.5 + 1.5 / (2 * std::sqrt(2 + 2.25)), 1e-12);
}

TEST(statistics, PairedTTestWorkedByHand) {
  // d = {1, 2, 3, 4, 5}: mean 3, sd sqrt(2.5), se sqrt(0.5), t = 3 / 0.7071 = 4.2426, df 4.
  const PairedTest r = paired_t_test({1, 2, 3, 4, 5});
  EXPECT_TRUE(r.testable);
  EXPECT_EQ(r.n, 5);
  EXPECT_DOUBLE_EQ(r.mean, 3.0);
  EXPECT_NEAR(r.t, 4.242641, 1e-5);
  EXPECT_NEAR(r.p_two_sided, 0.013236, 1e-5);  // 2 * (1 - F_4(4.2426))
  const double half = 2.776445 * std::sqrt(0.5);
  EXPECT_NEAR(r.ci_low, 3 - half, 1e-5);
  EXPECT_NEAR(r.ci_high, 3 + half, 1e-5);
}

TEST(statistics, WelchTTestWorkedByHand) {
  // x = {1, 2, 3, 4}, y = {2, 4, 6}: se^2 = 1.6667/4 + 4/3 = 1.75, t = -1.5 / 1.3229 = -1.1339,
  // Welch-Satterthwaite df = 1.75^2 / (0.41667^2 / 3 + 1.3333^2 / 2) = 3.2347 (p and t quantile
  // by numerical integration of the t density).
  const PairedTest r = welch_t_test({1, 2, 3, 4}, {2, 4, 6});
  EXPECT_TRUE(r.testable);
  EXPECT_EQ(r.n, 7);
  EXPECT_DOUBLE_EQ(r.mean, -1.5);
  EXPECT_NEAR(r.t, -1.133893, 1e-5);
  EXPECT_NEAR(r.p_two_sided, 0.333824, 1e-4);
  EXPECT_NEAR(r.ci_low, -5.542328, 1e-3);
  EXPECT_NEAR(r.ci_high, 2.542328, 1e-3);
  EXPECT_FALSE(welch_t_test({1}, {2, 3}).testable);
  EXPECT_DOUBLE_EQ(welch_t_test({1, 1}, {1, 1}).p_two_sided, 1.0);
  EXPECT_DOUBLE_EQ(welch_t_test({2, 2}, {1, 1}).p_two_sided, 0.0);
}

TEST(statistics, PairedTTestDegenerateCases) {
  const PairedTest one = paired_t_test({0.3});
  EXPECT_FALSE(one.testable);
  EXPECT_EQ(one.p_two_sided, 1.0);
  EXPECT_EQ(one.ci_low, 0.3);
  EXPECT_LT(paired_t_test({0.2, 0.2, 0.2}).p_two_sided, 1e-12);
  EXPECT_EQ(paired_t_test({0.25, 0.25, 0.25}).p_two_sided, 0.0);
  EXPECT_EQ(paired_t_test({0, 0, 0}).p_two_sided, 1.0);
  const PairedTest sym = paired_t_test({-1, 1});
  EXPECT_EQ(sym.mean, 0.0);
  EXPECT_NEAR(sym.p_two_sided, 1.0, 1e-12);
}

TEST(statistics, EquivalenceNeedsTheIntervalInsideTheMargin) {
  const std::vector<double> tight = {0.001, -0.002, 0.0015, 0.0, -0.001};
  EXPECT_LT(equivalence_p(tight, 0.02), 0.001);
  EXPECT_GT(beyond_margin_p(tight, 0.02), 0.99);
  const std::vector<double> far = {0.10, 0.11, 0.09, 0.105, 0.095};
  EXPECT_GT(equivalence_p(far, 0.02), 0.99);
  EXPECT_LT(beyond_margin_p(far, 0.02), 0.001);
  EXPECT_EQ(equivalence_p({0.0}, 0.02), 1.0);
}

TEST(statistics, HolmMatchesTheTextbookExample) {
  // p = (0.01, 0.04, 0.03, 0.005), m = 4: sorted 0.005*4 = 0.02, 0.01*3 = 0.03,
  // 0.03*2 = 0.06, 0.04*1 = 0.04 -> max-accumulated 0.06.
  const auto adj = holm_adjust({0.01, 0.04, 0.03, 0.005});
  ASSERT_EQ(adj.size(), 4u);
  EXPECT_NEAR(adj[3], 0.02, 1e-12);
  EXPECT_NEAR(adj[0], 0.03, 1e-12);
  EXPECT_NEAR(adj[2], 0.06, 1e-12);
  EXPECT_NEAR(adj[1], 0.06, 1e-12);
  EXPECT_EQ(holm_adjust({0.9, 0.8})[0], 1.0);
  EXPECT_TRUE(holm_adjust({}).empty());
}

TEST(statistics, NormalQuantilesMatchTheTable) {
  EXPECT_NEAR(normal_quantile(0.975), 1.959963985, 1e-9);
  EXPECT_NEAR(normal_quantile(0.5), 0.0, 1e-12);
  EXPECT_NEAR(normal_quantile(0.05), -1.644853627, 1e-9);
  EXPECT_NEAR(normal_cdf(1.0), 0.841344746, 1e-9);
  EXPECT_THROW(normal_quantile(1.0), Error);
}

TEST(statistics, AverageRanksShareTies) {
  const std::vector<double> r = average_ranks({10, 20, 20, 5, 30});
  EXPECT_EQ(r, (std::vector<double>{2, 3.5, 3.5, 1, 5}));
}

TEST(statistics, SpearmanWorkedByHand) {
  // Adjacent pairs swapped: sum d^2 = 10, rho = 1 - 6 * 10 / (10 * 99) = 0.939394;
  // z = atanh(rho) = 1.732868, half-width 1.959964 * sqrt(1.06 / 7) = 0.762702.
  const RankCorrelation r = spearman({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {2, 1, 4, 3, 6, 5, 8, 7, 10, 9});
  EXPECT_EQ(r.n, 10);
  EXPECT_NEAR(r.rho, 0.9393939394, 1e-9);
  EXPECT_TRUE(r.has_interval);
  EXPECT_NEAR(r.ci_low, 0.7487794272, 1e-8);
  EXPECT_NEAR(r.ci_high, 0.9864958412, 1e-8);
}

TEST(statistics, SpearmanIsInvariantToMonotoneMapsAndFlipsSign) {
  const std::vector<double> x{0.3, 1.2, -0.5, 2.2, 0.9, 1.7};
  const std::vector<double> y{1.0, 0.2, 0.5, 3.0, 2.5, 2.0};
  std::vector<double> x_exp, y_neg;
  for (double v : x) x_exp.push_back(std::exp(3 * v));
  for (double v : y) y_neg.push_back(-v);
  const RankCorrelation a = spearman(x, y), b = spearman(x_exp, y), c = spearman(x, y_neg);
  EXPECT_DOUBLE_EQ(a.rho, b.rho);
  EXPECT_DOUBLE_EQ(a.rho, -c.rho);
  EXPECT_NEAR(a.ci_low, -c.ci_high, 1e-12);
  EXPECT_LT(a.ci_low, a.rho);
  EXPECT_GT(a.ci_high, a.rho);
}

TEST(statistics, SpearmanWithoutAnInterval) {
  EXPECT_FALSE(spearman({1, 2, 3}, {1, 2, 3}).has_interval);    // n < 4
  EXPECT_DOUBLE_EQ(spearman({1, 2, 3}, {1, 2, 3}).rho, 1.0);
  EXPECT_DOUBLE_EQ(spearman({1, 1, 1, 1, 1}, {1, 2, 3, 4, 5}).rho, 0.0);  // constant sample
  EXPECT_FALSE(spearman({1, 1, 1, 1, 1}, {1, 2, 3, 4, 5}).has_interval);
  EXPECT_THROW(spearman({1, 2}, {1}), Error);
}

}  // namespace
}  // namespace dvae
