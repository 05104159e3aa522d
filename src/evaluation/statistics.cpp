// Sample statistics, Student's t, paired and equivalence tests, Holm's correction,
// the normal distribution and Spearman's rank correlation.
#include "evaluation/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/check.h"

namespace dvae {

namespace {

// Continued fraction of the regularised incomplete beta function (modified
// Lentz's method, as in Press et al., "Numerical Recipes", section 6.4).
double beta_continued_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  constexpr double kEps = 1e-15;
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::abs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 10000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1.0) < kEps) break;
  }
  return h;
}

// I_x(a, b), the regularised incomplete beta function, x in [0, 1].
double incomplete_beta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) +
                           b * std::log1p(-x);
  const double front = std::exp(log_front);
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_continued_fraction(a, b, x) / a;
  return 1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b;
}

}  // namespace

double sample_mean(const std::vector<double>& x) {
  if (x.empty()) return 0.0;
  return std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
}

double sample_sd(const std::vector<double>& x) {
  if (x.size() < 2) return 0.0;
  const double m = sample_mean(x);
  double s = 0.0;
  for (double v : x) s += (v - m) * (v - m);
  return std::sqrt(s / static_cast<double>(x.size() - 1));
}

double student_t_cdf(double t, double df) {
  DVAE_CHECK(df > 0, "student_t_cdf: df ", df, ", expected > 0");
  if (std::isinf(t)) return t > 0 ? 1.0 : 0.0;
  // P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2).
  const double tail = 0.5 * incomplete_beta(0.5 * df, 0.5, df / (df + t * t));
  return t >= 0 ? 1.0 - tail : tail;
}

double student_t_quantile(double q, double df) {
  DVAE_CHECK(q > 0 && q < 1, "student_t_quantile: q ", q, ", expected in (0, 1)");
  if (q == 0.5) return 0.0;
  // Bisection on the monotone CDF; the bracket grows until it holds q.
  double lo = -1.0, hi = 1.0;
  while (student_t_cdf(lo, df) > q) lo *= 2.0;
  while (student_t_cdf(hi, df) < q) hi *= 2.0;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * std::max(1.0, std::abs(hi)); ++i) {
    const double mid = 0.5 * (lo + hi);
    (student_t_cdf(mid, df) < q ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

namespace {

// The t statistic, two-sided p and interval of r.mean with standard error se on
// df degrees of freedom (every pair agreeing exactly, se = 0, gives p = 0 or 1).
void finish_t_test(PairedTest& r, double se, double df, double confidence) {
  r.testable = true;
  if (se == 0.0) {
    r.t = r.mean == 0.0 ? 0.0 : std::copysign(std::numeric_limits<double>::infinity(), r.mean);
    r.p_two_sided = r.mean == 0.0 ? 1.0 : 0.0;
    return;
  }
  const double half = student_t_quantile(0.5 + 0.5 * confidence, df) * se;
  r.ci_low = r.mean - half;
  r.ci_high = r.mean + half;
  r.t = r.mean / se;
  r.p_two_sided = std::min(1.0, 2.0 * student_t_cdf(-std::abs(r.t), df));
}

}  // namespace

PairedTest paired_t_test(const std::vector<double>& d, double confidence) {
  DVAE_CHECK(confidence > 0 && confidence < 1, "paired_t_test: confidence ", confidence, ", expected in (0, 1)");
  PairedTest r;
  r.n = static_cast<int64_t>(d.size());
  r.mean = sample_mean(d);
  r.sd = sample_sd(d);
  r.ci_low = r.ci_high = r.mean;
  if (r.n < 2) return r;
  finish_t_test(r, r.sd / std::sqrt(static_cast<double>(r.n)), static_cast<double>(r.n - 1), confidence);
  return r;
}

PairedTest welch_t_test(const std::vector<double>& x, const std::vector<double>& y, double confidence) {
  DVAE_CHECK(confidence > 0 && confidence < 1, "welch_t_test: confidence ", confidence, ", expected in (0, 1)");
  PairedTest r;
  r.n = static_cast<int64_t>(x.size() + y.size());
  r.mean = sample_mean(x) - sample_mean(y);
  r.ci_low = r.ci_high = r.mean;
  if (x.size() < 2 || y.size() < 2) return r;
  const double nx = static_cast<double>(x.size()), ny = static_cast<double>(y.size());
  const double vx = sample_sd(x) * sample_sd(x) / nx, vy = sample_sd(y) * sample_sd(y) / ny;
  const double se = std::sqrt(vx + vy);
  r.sd = se * std::sqrt(static_cast<double>(r.n));
  // Welch-Satterthwaite degrees of freedom.
  const double df = se == 0.0 ? 1.0 : (vx + vy) * (vx + vy) / (vx * vx / (nx - 1.0) + vy * vy / (ny - 1.0));
  finish_t_test(r, se, df, confidence);
  return r;
}

namespace {

// One-sided p-value of H1: mean > shift (upper) or mean < shift (lower).
double one_sided_p(const std::vector<double>& d, double shift, bool upper) {
  const double n = static_cast<double>(d.size());
  const double m = sample_mean(d), sd = sample_sd(d);
  const double se = sd / std::sqrt(n);
  if (se == 0.0) return (upper ? m > shift : m < shift) ? 0.0 : 1.0;
  const double t = (m - shift) / se;
  return upper ? 1.0 - student_t_cdf(t, n - 1) : student_t_cdf(t, n - 1);
}

}  // namespace

double equivalence_p(const std::vector<double>& d, double margin) {
  DVAE_CHECK(margin > 0, "equivalence_p: margin ", margin, ", expected > 0");
  if (d.size() < 2) return 1.0;
  return std::max(one_sided_p(d, -margin, true), one_sided_p(d, margin, false));
}

double beyond_margin_p(const std::vector<double>& d, double margin) {
  DVAE_CHECK(margin > 0, "beyond_margin_p: margin ", margin, ", expected > 0");
  if (d.size() < 2) return 1.0;
  return std::min(one_sided_p(d, margin, true), one_sided_p(d, -margin, false));
}

std::vector<double> holm_adjust(const std::vector<double>& p) {
  const size_t m = p.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> adjusted(m);
  double running = 0.0;
  for (size_t i = 0; i < m; ++i) {
    running = std::max(running, std::min(1.0, static_cast<double>(m - i) * p[order[i]]));
    adjusted[order[i]] = running;
  }
  return adjusted;
}

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

double normal_quantile(double q) {
  DVAE_CHECK(q > 0 && q < 1, "normal_quantile: q ", q, ", expected in (0, 1)");
  // Bisection on Phi, then Newton steps on the density: exact to double rounding.
  double lo = -40.0, hi = 40.0;
  for (int i = 0; i < 200 && hi - lo > 1e-10; ++i) {
    const double mid = 0.5 * (lo + hi);
    (normal_cdf(mid) < q ? lo : hi) = mid;
  }
  double x = 0.5 * (lo + hi);
  for (int i = 0; i < 3; ++i) {
    const double density = std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI);
    if (density <= 0) break;
    x -= (normal_cdf(x) - q) / density;
  }
  return x;
}

std::vector<double> average_ranks(const std::vector<double>& x) {
  std::vector<size_t> order(x.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
  std::vector<double> rank(x.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
    const double average = 0.5 * static_cast<double>(i + j) + 1.0;  // ranks i+1..j+1
    for (size_t k = i; k <= j; ++k) rank[order[k]] = average;
    i = j + 1;
  }
  return rank;
}

RankCorrelation spearman(const std::vector<double>& x, const std::vector<double>& y, double confidence) {
  DVAE_CHECK(x.size() == y.size(), "spearman: ", x.size(), " x values and ", y.size(), " y values, expected as many");
  DVAE_CHECK(confidence > 0 && confidence < 1, "spearman: confidence ", confidence, ", expected in (0, 1)");
  RankCorrelation r;
  r.n = static_cast<int64_t>(x.size());
  if (r.n < 2) return r;
  const std::vector<double> rx = average_ranks(x), ry = average_ranks(y);
  const double mx = sample_mean(rx), my = sample_mean(ry);
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < rx.size(); ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  if (sxx <= 0 || syy <= 0) return r;  // a constant sample: no correlation defined
  r.rho = std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
  if (r.n < 4) return r;
  // Fisher's z with the variance 1.06 / (n - 3) of Fieller, Hartley and Pearson (1957).
  const double z = std::atanh(std::clamp(r.rho, -1 + 1e-15, 1 - 1e-15));
  const double half = normal_quantile(0.5 + confidence / 2) * std::sqrt(1.06 / static_cast<double>(r.n - 3));
  r.ci_low = std::tanh(z - half);
  r.ci_high = std::tanh(z + half);
  r.has_interval = true;
  return r;
}

}  // namespace dvae
