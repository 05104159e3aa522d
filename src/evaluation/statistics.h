// The statistics behind every comparison dvae reports: sample mean and
// standard deviation, Student's t distribution, the paired t-test with its
// confidence interval, two one-sided tests (TOST) for equivalence within a
// margin, Holm's step-down correction for a family of tests, and Spearman's
// rank correlation with its Fisher-z interval.
//
// Not for: deciding what the replicates are (evaluation/comparison.h pairs
// results by VAE seed or label trial) or what a verdict is (experiments/claims.h).
//
// Every formula lives here once; tests check them against textbook values.
#pragma once

#include <cstdint>
#include <vector>

namespace dvae {

/// Arithmetic mean; 0 for an empty sample.
double sample_mean(const std::vector<double>& x);

/// Sample standard deviation (divisor n - 1); 0 for fewer than two values.
double sample_sd(const std::vector<double>& x);

/// P(T <= t) for Student's t with df > 0 degrees of freedom.
double student_t_cdf(double t, double df);

/// The q-quantile of Student's t with df > 0 degrees of freedom, q in (0, 1).
double student_t_quantile(double q, double df);

/// A paired t-test on differences d_i = a_i - b_i (H0: mean difference 0).
struct PairedTest {
  int64_t n = 0;            ///< number of pairs
  double mean = 0.0;        ///< mean difference
  double sd = 0.0;          ///< sample standard deviation of the differences
  double ci_low = 0.0;      ///< lower end of the confidence interval of the mean (= mean when n < 2)
  double ci_high = 0.0;     ///< upper end
  double t = 0.0;           ///< mean / (sd / sqrt(n)); 0 when n < 2 or sd = 0 with mean = 0
  double p_two_sided = 1.0; ///< two-sided p-value; 1 when n < 2 (no test possible)
  bool testable = false;    ///< n >= 2
};

/// Paired t-test of the differences with a `confidence` (default 0.95) interval.
/// With sd = 0 and mean != 0 the p-value is 0 (every pair agrees exactly).
PairedTest paired_t_test(const std::vector<double>& differences, double confidence = 0.95);

/// Welch's two-sample t-test of H0: mean(x) = mean(y), unequal variances, with
/// Welch-Satterthwaite degrees of freedom. The result reads as for a paired test
/// with mean = mean(x) - mean(y), n = size(x) + size(y) and sd the standard error
/// times sqrt(n); untestable (p = 1) when either sample has fewer than two values.
PairedTest welch_t_test(const std::vector<double>& x, const std::vector<double>& y, double confidence = 0.95);

/// TOST p-value for equivalence: H0 |mean difference| >= margin, H1 |mean| < margin.
/// max of the two one-sided t-test p-values; 1 when fewer than two differences.
double equivalence_p(const std::vector<double>& differences, double margin);

/// One-sided p-value of H1: |mean difference| > margin (the larger one-sided side
/// beyond +-margin); 1 when fewer than two differences.
double beyond_margin_p(const std::vector<double>& differences, double margin);

/// Holm's step-down adjusted p-values (same order as p), each capped at 1:
/// sorted ascending p_(1) <= ... <= p_(m), adjusted p_(i) = max_{j<=i} min(1, (m-j+1) p_(j)).
std::vector<double> holm_adjust(const std::vector<double>& p);

/// Standard normal cumulative distribution function Phi(x).
double normal_cdf(double x);

/// The q-quantile of the standard normal, q in (0, 1) (Phi^-1, to ~1e-12).
double normal_quantile(double q);

/// Ranks 1..n of x, ties given their average rank.
std::vector<double> average_ranks(const std::vector<double>& x);

/// Spearman's rank correlation of paired samples with a confidence interval.
struct RankCorrelation {
  int64_t n = 0;          ///< number of pairs
  double rho = 0.0;       ///< Pearson correlation of the average ranks; 0 when a sample is constant
  double ci_low = -1.0;   ///< lower end of the interval; -1 when n < 4 (no interval)
  double ci_high = 1.0;   ///< upper end; 1 when n < 4
  bool has_interval = false;  ///< n >= 4 and neither sample constant
};

/// Spearman's rho of (x_i, y_i) with a `confidence` interval from Fisher's z,
/// z = atanh(rho) +- q sqrt(1.06 / (n - 3)) (Fieller, Hartley and Pearson 1957),
/// mapped back by tanh. x and y must have the same size.
RankCorrelation spearman(const std::vector<double>& x, const std::vector<double>& y, double confidence = 0.95);

}  // namespace dvae
