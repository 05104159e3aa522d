// MIG, SAP, DCI, modularity, BetaVAE and FactorVAE scores, and their registry.
// See disentanglement.h; each formula is implemented once, here.
#include "evaluation/disentanglement.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "core/check.h"
#include "core/random.h"

namespace dvae {
namespace {

constexpr uint64_t kSplitStream = 0xD15Au;
constexpr uint64_t kBetaVaeStream = 0xBE7Au;
constexpr uint64_t kFactorVaeStream = 0xFAC7u;

// The rows used to fit (train) and to evaluate (test): a seeded permutation of
// 0..N-1, num_train + num_test rows when there are that many, else split by train_fraction.
struct RowSplit {
  torch::Tensor train, test;  // long [N_train], [N_test]
};

RowSplit split_rows(int64_t n, const MetricOptions& o) {
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), int64_t{0});
  Rng rng(derive_seed(o.seed, {kSplitStream}));
  rng.shuffle(perm);
  int64_t n_train = o.num_train, n_test = o.num_test;
  if (n < n_train + n_test) {
    n_train = std::clamp<int64_t>(std::llround(static_cast<double>(n) * o.train_fraction), 1, n - 1);
    n_test = n - n_train;
  }
  const torch::Tensor all = torch::tensor(perm, torch::kLong);
  return {all.slice(0, 0, n_train), all.slice(0, n_train, n_train + n_test)};
}

// The first min(N, num_train) rows of the permutation (MIG and modularity use one sample).
torch::Tensor estimate_rows(int64_t n, const MetricOptions& o) {
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), int64_t{0});
  Rng rng(derive_seed(o.seed, {kSplitStream}));
  rng.shuffle(perm);
  perm.resize(static_cast<size_t>(std::min(n, o.num_train)));
  return torch::tensor(perm, torch::kLong);
}

// scipy.stats.entropy(x + 1e-11, base) as disentanglement_lib uses it for DCI.
double entropy_base(const std::vector<double>& x, double base) {
  double total = 0;
  for (double v : x) total += v + 1e-11;
  double h = 0;
  for (double v : x) {
    const double p = (v + 1e-11) / total;
    h -= p * std::log(p);
  }
  return h / std::log(base);
}

// Mutual information matrix [D,F] of binned codes with discretised factors.
torch::Tensor mutual_info_matrix(const FactorCodes& data, const torch::Tensor& rows, int64_t bins) {
  const torch::Tensor codes = histogram_discretize(data.codes.index_select(0, rows), bins);  // [n,D]
  const torch::Tensor factors = discretize_factors(data, bins).index_select(0, rows);     // [n,F]
  const int64_t d = codes.size(1), f = factors.size(1);
  torch::Tensor m = torch::zeros({d, f}, torch::kDouble);
  for (int64_t i = 0; i < d; ++i) {
    for (int64_t j = 0; j < f; ++j) m[i][j] = discrete_mutual_info(codes.select(1, i), factors.select(1, j));
  }
  return m;
}

// Largest minus second largest of each column of s [D,F], averaged over columns.
double mean_top_two_gap(const torch::Tensor& s) {
  double sum = 0;
  for (int64_t j = 0; j < s.size(1); ++j) {
    const torch::Tensor sorted = std::get<0>(s.select(1, j).sort(0, /*descending=*/true));
    sum += sorted[0].item<double>() - (s.size(0) > 1 ? sorted[1].item<double>() : 0.0);
  }
  return s.size(1) > 0 ? sum / static_cast<double>(s.size(1)) : 0.0;
}

// SAP's score of one code for one discrete factor: a nearest-class-mean rule on the
// code alone, fitted on the training rows, accuracy on the test rows.
double one_code_class_accuracy(const torch::Tensor& z_train, const torch::Tensor& y_train, const torch::Tensor& z_test,
                               const torch::Tensor& y_test) {
  std::map<int64_t, std::pair<double, int64_t>> sums;  // class -> (sum, count)
  const auto zt = z_train.accessor<double, 1>();
  const auto yt = y_train.accessor<int64_t, 1>();
  for (int64_t i = 0; i < zt.size(0); ++i) {
    auto& s = sums[yt[i]];
    s.first += zt[i];
    ++s.second;
  }
  const auto ze = z_test.accessor<double, 1>();
  const auto ye = y_test.accessor<int64_t, 1>();
  int64_t correct = 0;
  for (int64_t i = 0; i < ze.size(0); ++i) {
    int64_t best = -1;
    double best_d = std::numeric_limits<double>::infinity();
    for (const auto& [c, s] : sums) {
      const double dist = std::abs(ze[i] - s.first / static_cast<double>(s.second));
      if (dist < best_d) best_d = dist, best = c;
    }
    correct += best == ye[i];
  }
  return ze.size(0) > 0 ? static_cast<double>(correct) / static_cast<double>(ze.size(0)) : 0.0;
}

// Multinomial logistic regression as scikit-learn's default (L2, C = 1, L-BFGS,
// 100 iterations): minimises 0.5 |W|^2 + C sum_i CE_i; returns test accuracy.
double logistic_accuracy(const torch::Tensor& x_train, const torch::Tensor& y_train, const torch::Tensor& x_test,
                         const torch::Tensor& y_test, int64_t classes) {
  torch::NoGradGuard outer;  // re-enabled below for the fit only
  const torch::Tensor xt = x_train.to(torch::kDouble), xe = x_test.to(torch::kDouble);
  torch::Tensor w = torch::zeros({xt.size(1), classes}, torch::kDouble);
  torch::Tensor b = torch::zeros({classes}, torch::kDouble);
  {
    torch::AutoGradMode grad(true);
    w.set_requires_grad(true);
    b.set_requires_grad(true);
    torch::optim::LBFGS opt({w, b}, torch::optim::LBFGSOptions(1.0).max_iter(100).line_search_fn("strong_wolfe"));
    auto closure = [&]() {
      opt.zero_grad();
      const torch::Tensor logits = xt.matmul(w) + b;  // [N,D] x [D,K] -> [N,K]
      const torch::Tensor loss = 0.5 * w.pow(2).sum() +
                                 torch::nn::functional::cross_entropy(
                                     logits, y_train, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
      loss.backward();
      return loss;
    };
    opt.step(closure);
  }
  const torch::Tensor pred = (xe.matmul(w.detach()) + b.detach()).argmax(1);
  return pred.eq(y_test).to(torch::kDouble).mean().item<double>();
}

// Draws the factors of `points` interventional batches: row p*B .. p*B+B-1 of
// the result share factor fixed[p]. pair_rows: a second batch per point that shares
// the fixed factor with the first (BetaVAE); otherwise one batch sharing it (FactorVAE).
struct Interventions {
  torch::Tensor factors;        // [P*B*(pairs?2:1), F]
  std::vector<int64_t> fixed;   // [P]
};

Interventions draw_interventions(const InterventionalSource& s, int64_t points, int64_t batch, bool pairs, Rng& rng) {
  const auto f = static_cast<int64_t>(s.factor_names.size());
  Interventions out;
  std::vector<torch::Tensor> first, second;
  for (int64_t p = 0; p < points; ++p) {
    const auto k = static_cast<int64_t>(rng.below(static_cast<uint64_t>(f)));
    out.fixed.push_back(k);
    torch::Tensor a = s.sample_factors(batch, rng.next()).to(torch::kDouble).clone();  // [B,F]
    DVAE_CHECK(a.dim() == 2 && a.size(0) == batch && a.size(1) == f, "interventional source: factors of shape ",
               a.sizes(), ", expected [", batch, ",", f, "]");
    if (pairs) {
      torch::Tensor b = s.sample_factors(batch, rng.next()).to(torch::kDouble).clone();
      b.select(1, k).copy_(a.select(1, k));
      second.push_back(b);
    } else {
      a.select(1, k).fill_(a[0][k].item<double>());
    }
    first.push_back(a);
  }
  first.insert(first.end(), second.begin(), second.end());
  out.factors = torch::cat(first, 0);
  return out;
}

torch::Tensor checked_codes(const InterventionalSource& s, const torch::Tensor& factors, uint64_t seed) {
  const torch::Tensor z = s.codes(factors, seed).to(torch::kDouble);
  DVAE_CHECK(z.dim() == 2 && z.size(0) == factors.size(0), "interventional source: codes of shape ", z.sizes(),
             " for ", factors.size(0), " factor rows, expected [", factors.size(0), ",D]");
  DVAE_CHECK(torch::isfinite(z).all().item<bool>(), "interventional source: codes not finite");
  return z;
}

constexpr int64_t kPointsPerCall = 16;  // interventional points rendered and encoded per call

// BetaVAE features [P,D] (mean |z1 - z2| over B pairs) and labels [P] (the fixed factor).
std::pair<torch::Tensor, torch::Tensor> beta_vae_features(const InterventionalSource& s, int64_t points,
                                                          const MetricOptions& o, uint64_t stream) {
  Rng rng(derive_seed(o.seed, {kBetaVaeStream, stream}));
  std::vector<torch::Tensor> feats;
  std::vector<int64_t> labels;
  for (int64_t done = 0; done < points; done += kPointsPerCall) {
    const int64_t p = std::min(kPointsPerCall, points - done);
    const Interventions iv = draw_interventions(s, p, o.batch_size, /*pairs=*/true, rng);
    const torch::Tensor z = checked_codes(s, iv.factors, rng.next());  // [2PB,D]
    const int64_t d = z.size(1);
    const torch::Tensor z1 = z.slice(0, 0, p * o.batch_size).view({p, o.batch_size, d});
    const torch::Tensor z2 = z.slice(0, p * o.batch_size).view({p, o.batch_size, d});
    feats.push_back((z1 - z2).abs().mean(1));  // [P,B,D] -> [P,D]
    labels.insert(labels.end(), iv.fixed.begin(), iv.fixed.end());
  }
  return {torch::cat(feats, 0), torch::tensor(labels, torch::kLong)};
}

// FactorVAE votes [D,F]: how often latent d had the smallest normalised variance
// in a batch with factor f fixed.
torch::Tensor factor_vae_votes(const InterventionalSource& s, int64_t points, const torch::Tensor& global_var,
                               const torch::Tensor& active, const MetricOptions& o, uint64_t stream) {
  Rng rng(derive_seed(o.seed, {kFactorVaeStream, stream}));
  const int64_t d = global_var.size(0);
  const auto f = static_cast<int64_t>(s.factor_names.size());
  torch::Tensor votes = torch::zeros({d, f}, torch::kLong);
  for (int64_t done = 0; done < points; done += kPointsPerCall) {
    const int64_t p = std::min(kPointsPerCall, points - done);
    const Interventions iv = draw_interventions(s, p, o.batch_size, /*pairs=*/false, rng);
    const torch::Tensor z = checked_codes(s, iv.factors, rng.next()).view({p, o.batch_size, -1});  // [P,B,D]
    DVAE_CHECK(z.size(2) == d, "interventional source: ", z.size(2), " codes, expected ", d);
    torch::Tensor ratio = z.var(1, /*unbiased=*/true) / global_var;  // [P,D]
    ratio.masked_fill_(active.logical_not().unsqueeze(0), std::numeric_limits<double>::infinity());
    const torch::Tensor argmin = ratio.argmin(1);  // [P]
    for (int64_t i = 0; i < p; ++i) votes[argmin[i].item<int64_t>()][iv.fixed[static_cast<size_t>(i)]] += 1;
  }
  return votes;
}

void validate_source(const InterventionalSource& s, const MetricOptions& o) {
  DVAE_CHECK(!s.factor_names.empty() && s.sample_factors && s.codes,
             "interventional source: expected factor names, a sampler and an encoder");
  DVAE_CHECK(o.batch_size >= 2, "interventional metrics: batch size ", o.batch_size, ", expected >= 2");
  DVAE_CHECK(o.intervention_train >= 1 && o.intervention_eval >= 1, "interventional metrics: ", o.intervention_train,
             " training and ", o.intervention_eval, " evaluation points, expected >= 1 each");
}

}  // namespace

void validate_factor_codes(const FactorCodes& data, const std::string& what) {
  DVAE_CHECK(data.codes.defined() && data.factors.defined() && data.codes.dim() == 2 && data.factors.dim() == 2,
             what, ": codes and factors must be [N,D] and [N,F] tables");
  DVAE_CHECK(data.codes.size(0) == data.factors.size(0), what, ": ", data.codes.size(0), " code rows and ",
             data.factors.size(0), " factor rows, expected as many");
  DVAE_CHECK(data.codes.size(0) >= 4, what, ": ", data.codes.size(0), " rows, expected at least 4");
  DVAE_CHECK(data.codes.size(1) >= 1 && data.factors.size(1) >= 1, what, ": ", data.codes.size(1), " codes and ",
             data.factors.size(1), " factors, expected at least one of each");
  const auto f = static_cast<size_t>(data.factors.size(1));
  DVAE_CHECK(data.factor_names.size() == f && data.discrete.size() == f, what, ": ", data.factor_names.size(),
             " factor names and ", data.discrete.size(), " discrete flags for ", f, " factors");
  DVAE_CHECK(torch::isfinite(data.codes).all().item<bool>() && torch::isfinite(data.factors).all().item<bool>(), what,
             ": codes and factors must be finite");
}

torch::Tensor histogram_discretize(const torch::Tensor& x, int64_t bins) {
  DVAE_CHECK(x.dim() == 2 && bins >= 1, "histogram_discretize: shape ", x.sizes(), " and ", bins,
             " bins, expected [N,K] and >= 1");
  const torch::Tensor xd = x.to(torch::kDouble);
  const torch::Tensor lo = std::get<0>(xd.min(0, /*keepdim=*/true));  // [1,K]
  const torch::Tensor hi = std::get<0>(xd.max(0, /*keepdim=*/true));
  const torch::Tensor width = (hi - lo) / static_cast<double>(bins);
  const torch::Tensor safe = torch::where(width > 0, width, torch::ones_like(width));
  torch::Tensor b = ((xd - lo) / safe).floor().clamp(0, static_cast<double>(bins - 1));
  b.masked_fill_((width <= 0).expand_as(b), 0.0);
  return b.to(torch::kLong);  // [N,K]
}

torch::Tensor discretize_factors(const FactorCodes& data, int64_t bins) {
  const int64_t n = data.factors.size(0), f = data.factors.size(1);
  const torch::Tensor binned = histogram_discretize(data.factors, bins);  // [N,F]
  torch::Tensor out = torch::empty({n, f}, torch::kLong);
  const torch::Tensor values = data.factors.to(torch::kDouble).contiguous();
  const auto v = values.accessor<double, 2>();
  for (int64_t j = 0; j < f; ++j) {
    if (!data.discrete[static_cast<size_t>(j)]) {
      out.select(1, j).copy_(binned.select(1, j));
      continue;
    }
    std::map<double, int64_t> ids;
    for (int64_t i = 0; i < n; ++i) ids.emplace(v[i][j], 0);
    int64_t next = 0;
    for (auto& [value, id] : ids) id = next++;
    auto o = out.accessor<int64_t, 2>();
    for (int64_t i = 0; i < n; ++i) o[i][j] = ids[v[i][j]];
  }
  return out;
}

double discrete_mutual_info(const torch::Tensor& a, const torch::Tensor& b) {
  DVAE_CHECK(a.dim() == 1 && b.dim() == 1 && a.size(0) == b.size(0) && a.size(0) > 0,
             "discrete_mutual_info: shapes ", a.sizes(), " and ", b.sizes(), ", expected [N] each");
  const torch::Tensor ac = a.to(torch::kLong).contiguous(), bc = b.to(torch::kLong).contiguous();
  const int64_t ka = ac.max().item<int64_t>() + 1, kb = bc.max().item<int64_t>() + 1;
  const torch::Tensor joint = torch::bincount(ac * kb + bc, {}, ka * kb).to(torch::kDouble).view({ka, kb});
  const double n = static_cast<double>(a.size(0));
  const torch::Tensor p = joint / n;                          // [Ka,Kb]
  const torch::Tensor pa = p.sum(1, true), pb = p.sum(0, true);  // [Ka,1], [1,Kb]
  const torch::Tensor terms = torch::where(p > 0, p * (p / (pa * pb)).log(), torch::zeros_like(p));
  return std::max(0.0, terms.sum().item<double>());
}

double discrete_entropy(const torch::Tensor& a) {
  const torch::Tensor counts = torch::bincount(a.to(torch::kLong).contiguous()).to(torch::kDouble);
  const torch::Tensor p = counts / counts.sum();
  return -torch::where(p > 0, p * p.log(), torch::zeros_like(p)).sum().item<double>();
}

double mutual_information_gap(const FactorCodes& data, const MetricOptions& options) {
  validate_factor_codes(data, "MIG");
  const torch::Tensor rows = estimate_rows(data.codes.size(0), options);
  const torch::Tensor m = mutual_info_matrix(data, rows, options.bins);  // [D,F]
  const torch::Tensor factors = discretize_factors(data, options.bins).index_select(0, rows);
  double sum = 0;
  int64_t counted = 0;
  for (int64_t j = 0; j < m.size(1); ++j) {
    const double h = discrete_entropy(factors.select(1, j));
    if (h <= 0) continue;  // a constant factor carries nothing to capture
    const torch::Tensor sorted = std::get<0>(m.select(1, j).sort(0, /*descending=*/true));
    const double second = m.size(0) > 1 ? sorted[1].item<double>() : 0.0;
    sum += (sorted[0].item<double>() - second) / h;
    ++counted;
  }
  return counted > 0 ? sum / static_cast<double>(counted) : 0.0;
}

double separated_attribute_predictability(const FactorCodes& data, const MetricOptions& options) {
  validate_factor_codes(data, "SAP");
  const RowSplit split = split_rows(data.codes.size(0), options);
  const torch::Tensor z = data.codes.to(torch::kDouble);
  const torch::Tensor y = data.factors.to(torch::kDouble);
  const torch::Tensor ids = discretize_factors(data, options.bins);
  const int64_t d = z.size(1), f = y.size(1);
  torch::Tensor score = torch::zeros({d, f}, torch::kDouble);  // [D,F]
  for (int64_t j = 0; j < f; ++j) {
    for (int64_t i = 0; i < d; ++i) {
      const torch::Tensor zi = z.select(1, i).index_select(0, split.train).contiguous();
      const double var_z = zi.var().item<double>();
      if (!(var_z > 1e-12)) continue;  // a constant code predicts nothing
      if (data.discrete[static_cast<size_t>(j)]) {
        score[i][j] = one_code_class_accuracy(zi, ids.select(1, j).index_select(0, split.train).contiguous(),
                                              z.select(1, i).index_select(0, split.test).contiguous(),
                                              ids.select(1, j).index_select(0, split.test).contiguous());
      } else {
        const torch::Tensor yj = y.select(1, j).index_select(0, split.train);
        const double var_y = yj.var().item<double>();
        if (!(var_y > 0)) continue;
        const double cov = ((zi - zi.mean()) * (yj - yj.mean())).sum().item<double>() /
                           static_cast<double>(zi.size(0) - 1);
        score[i][j] = cov * cov / (var_z * var_y);
      }
    }
  }
  return mean_top_two_gap(score);
}

DciScores dci_from_importance(const torch::Tensor& importance) {
  DVAE_CHECK(importance.dim() == 2 && importance.size(0) >= 1 && importance.size(1) >= 1,
             "DCI: importance matrix of shape ", importance.sizes(), ", expected [D,F]");
  torch::Tensor r = importance.to(torch::kDouble).abs();
  const int64_t d = r.size(0), f = r.size(1);
  if (r.sum().item<double>() <= 0) r = torch::ones_like(r);  // as disentanglement_lib: uniform weights
  const double total = r.sum().item<double>();
  DciScores s;
  s.importance = r;
  for (int64_t i = 0; i < d; ++i) {
    const torch::Tensor row = r[i];
    const std::vector<double> v(row.data_ptr<double>(), row.data_ptr<double>() + f);
    const double per_code = f > 1 ? 1.0 - entropy_base(v, static_cast<double>(f)) : 1.0;
    s.disentanglement += per_code * row.sum().item<double>() / total;
  }
  for (int64_t j = 0; j < f; ++j) {
    const torch::Tensor col = r.select(1, j).contiguous();
    const std::vector<double> v(col.data_ptr<double>(), col.data_ptr<double>() + d);
    const double per_factor = d > 1 ? 1.0 - entropy_base(v, static_cast<double>(d)) : 1.0;
    s.completeness += per_factor * col.sum().item<double>() / total;
  }
  return s;
}

DciScores dci(const FactorCodes& data, const MetricOptions& options) {
  validate_factor_codes(data, "DCI");
  const RowSplit split = split_rows(data.codes.size(0), options);
  const torch::Tensor z = data.codes.to(torch::kFloat);
  const torch::Tensor x_train = z.index_select(0, split.train), x_test = z.index_select(0, split.test);
  const torch::Tensor ids = discretize_factors(data, options.bins);
  const int64_t d = z.size(1), f = data.factors.size(1);
  torch::Tensor importance = torch::zeros({d, f}, torch::kDouble);
  double informativeness = 0;
  int64_t scored = 0;
  GbtOptions gbt = options.gbt;
  gbt.seed = options.seed;
  for (int64_t j = 0; j < f; ++j) {
    const bool discrete = data.discrete[static_cast<size_t>(j)];
    const torch::Tensor y = discrete ? ids.select(1, j).to(torch::kDouble) : data.factors.select(1, j).to(torch::kDouble);
    const int64_t classes = discrete ? ids.select(1, j).max().item<int64_t>() + 1 : 0;
    if (discrete ? classes < 2 : !(y.var().item<double>() > 0)) continue;  // constant factor: nothing to fit
    const GbtFit fit = fit_gbt(x_train, y.index_select(0, split.train), x_test, y.index_select(0, split.test),
                               classes, gbt);
    // Each factor's importances sum to 1, as scikit-learn's feature_importances_.
    const double sum = std::accumulate(fit.importance.begin(), fit.importance.end(), 0.0);
    for (int64_t i = 0; i < d; ++i) {
      importance[i][j] = sum > 0 ? fit.importance[static_cast<size_t>(i)] / sum : 0.0;
    }
    informativeness += std::max(0.0, fit.test_score);
    ++scored;
  }
  DciScores s = dci_from_importance(importance);
  s.informativeness = scored > 0 ? informativeness / static_cast<double>(scored) : 0.0;
  return s;
}

double modularity(const FactorCodes& data, const MetricOptions& options) {
  validate_factor_codes(data, "modularity");
  const torch::Tensor rows = estimate_rows(data.codes.size(0), options);
  const torch::Tensor m2 = mutual_info_matrix(data, rows, options.bins).pow(2);  // [D,F]
  const int64_t d = m2.size(0), f = m2.size(1);
  double sum = 0;
  for (int64_t i = 0; i < d; ++i) {
    const double max_sq = m2[i].max().item<double>();
    if (max_sq <= 0) continue;  // a code with no information scores 0
    const double rest = m2[i].sum().item<double>() - max_sq;
    sum += f > 1 ? 1.0 - rest / (max_sq * static_cast<double>(f - 1)) : 1.0;
  }
  return sum / static_cast<double>(d);
}

double beta_vae_score(const InterventionalSource& source, const MetricOptions& options) {
  validate_source(source, options);
  const auto [x_train, y_train] = beta_vae_features(source, options.intervention_train, options, 1);
  const auto [x_eval, y_eval] = beta_vae_features(source, options.intervention_eval, options, 2);
  return logistic_accuracy(x_train, y_train, x_eval, y_eval, static_cast<int64_t>(source.factor_names.size()));
}

double factor_vae_score(const InterventionalSource& source, const MetricOptions& options) {
  validate_source(source, options);
  DVAE_CHECK(options.variance_estimate >= 2, "FactorVAE score: ", options.variance_estimate,
             " images for the variance, expected >= 2");
  Rng rng(derive_seed(options.seed, {kFactorVaeStream, 0}));
  const torch::Tensor factors = source.sample_factors(options.variance_estimate, rng.next()).to(torch::kDouble);
  const torch::Tensor global_var = checked_codes(source, factors, rng.next()).var(0, /*unbiased=*/true);  // [D]
  const torch::Tensor active = global_var.sqrt() >= options.prune_threshold;
  if (!active.any().item<bool>()) return 0.0;
  const torch::Tensor train = factor_vae_votes(source, options.intervention_train, global_var, active, options, 1);
  const torch::Tensor eval = factor_vae_votes(source, options.intervention_eval, global_var, active, options, 2);
  const torch::Tensor classifier = train.argmax(1);  // [D]: the factor each latent votes for
  const double right = eval.gather(1, classifier.unsqueeze(1)).sum().item<double>();
  return right / eval.sum().item<double>();
}

const std::vector<MetricDef>& metric_registry() {
  static const std::vector<MetricDef> registry = {
      {"mig", "mutual information gap (Chen et al. 2018), 20-bin codes, normalised by factor entropy",
       [](const FactorCodes& d, const MetricOptions& o) { return MetricValues{{"mig", mutual_information_gap(d, o)}}; },
       nullptr},
      {"sap", "separated attribute predictability (Kumar et al. 2018)",
       [](const FactorCodes& d, const MetricOptions& o) {
         return MetricValues{{"sap", separated_attribute_predictability(d, o)}};
       },
       nullptr},
      {"dci", "DCI disentanglement, completeness, informativeness (Eastwood & Williams 2018), XGBoost importance",
       [](const FactorCodes& d, const MetricOptions& o) {
         const DciScores s = dci(d, o);
         return MetricValues{{"dci_disentanglement", s.disentanglement},
                             {"dci_completeness", s.completeness},
                             {"dci_informativeness", s.informativeness}};
       },
       nullptr},
      {"modularity", "modularity (Ridgeway & Mozer 2018)",
       [](const FactorCodes& d, const MetricOptions& o) { return MetricValues{{"modularity", modularity(d, o)}}; },
       nullptr},
      {"beta-vae", "BetaVAE score (Higgins et al. 2017), on a generator", nullptr,
       [](const InterventionalSource& s, const MetricOptions& o) { return MetricValues{{"beta_vae", beta_vae_score(s, o)}}; }},
      {"factor-vae", "FactorVAE score (Kim & Mnih 2018), on a generator", nullptr,
       [](const InterventionalSource& s, const MetricOptions& o) {
         return MetricValues{{"factor_vae", factor_vae_score(s, o)}};
       }},
  };
  return registry;
}

const MetricDef& find_metric(const std::string& name) {
  for (const auto& m : metric_registry()) {
    if (m.name == name) return m;
  }
  throw Error("metric '" + name + "': unknown, expected one of " + metric_names_text());
}

std::string metric_names_text() {
  std::string out;
  for (const auto& m : metric_registry()) out += (out.empty() ? "" : ", ") + m.name;
  return out;
}

}  // namespace dvae
