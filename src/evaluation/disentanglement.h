// Disentanglement metrics: how well each latent code captures one known factor
// of variation. Two kinds, one registry:
//   table metrics     on codes and factors of the same N images (a data set's
//                     morphometrics or generator factors): MIG, SAP, DCI, modularity
//   interventional    on a generator that renders images from chosen factor
//                     values (InterventionalSource): the BetaVAE and FactorVAE scores
// Defaults follow google-research/disentanglement_lib (20 histogram bins,
// 10000 / 5000 train / test rows, batches of 64), scaled down where the
// interventional scores would render millions of images (README: Disentanglement).
//
// Legend: N items, D latent codes, F factors, B images per interventional batch.
//
// Not for: reading files (evaluation/metric_inputs.h) or running encoders
// (the caller's InterventionalSource::codes does that).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "evaluation/gbt_importance.h"

namespace dvae {

/// Codes and factors of the same N items, row-aligned.
struct FactorCodes {
  torch::Tensor codes;                    ///< [N,D] latent codes (posterior means)
  torch::Tensor factors;                  ///< [N,F] factor values
  std::vector<std::string> factor_names;  ///< F names
  std::vector<bool> discrete;             ///< F flags: discrete factors are class ids, the others continuous
};

/// A generator of images from chosen factor values, with an encoder behind it.
struct InterventionalSource {
  std::vector<std::string> factor_names;  ///< F names
  /// [n,F] factor values drawn from the generator's distribution, from seed.
  std::function<torch::Tensor(int64_t n, uint64_t seed)> sample_factors;
  /// [n,F] -> [n,D]: renders one image per row of factors (randomness from seed) and encodes it.
  std::function<torch::Tensor(const torch::Tensor& factors, uint64_t seed)> codes;
};

/// Settings of every metric; defaults as disentanglement_lib unless noted.
struct MetricOptions {
  int64_t bins = 20;                ///< histogram bins for codes and continuous factors (default 20)
  int64_t num_train = 10000;        ///< most rows used to fit / estimate (default 10000)
  int64_t num_test = 5000;          ///< most held-out rows (SAP, DCI) (default 5000)
  double train_fraction = 2.0 / 3;  ///< share of the given rows for training when fewer than num_train + num_test
  uint64_t seed = 0;                ///< row split, generator draws and XGBoost seed
  GbtOptions gbt;                   ///< DCI's importance model
  int64_t batch_size = 64;          ///< BetaVAE / FactorVAE images per point (default 64)
  int64_t intervention_train = 1000;  ///< BetaVAE / FactorVAE training points (dlib: 10000)
  int64_t intervention_eval = 500;    ///< BetaVAE / FactorVAE evaluation points (dlib: 5000)
  int64_t variance_estimate = 10000;  ///< FactorVAE: images for the global variance (default 10000)
  double prune_threshold = 0.05;      ///< FactorVAE: latents with sd below this are collapsed (default 0.05)
};

/// Named values of one metric, in a fixed order ("mig"; "dci_disentanglement", ...).
using MetricValues = std::vector<std::pair<std::string, double>>;

/// One registered metric: exactly one of table / interventional is set.
struct MetricDef {
  std::string name;  ///< registry name ("mig", "sap", "dci", "modularity", "beta-vae", "factor-vae")
  std::string what;  ///< one line for --help and the report
  std::function<MetricValues(const FactorCodes&, const MetricOptions&)> table;
  std::function<MetricValues(const InterventionalSource&, const MetricOptions&)> interventional;
};

/// Every metric, table metrics first.
const std::vector<MetricDef>& metric_registry();
/// The metric of this name; throws dvae::Error listing the names otherwise.
const MetricDef& find_metric(const std::string& name);
/// Registered names, comma-separated (for messages and --help).
std::string metric_names_text();

/// Checks shapes, sizes and finiteness of a FactorCodes (what names it in errors).
void validate_factor_codes(const FactorCodes& data, const std::string& what);

/// Per column, equal-width bins between its min and max (np.histogram + np.digitize):
/// [N,K] -> [N,K] long values 0..bins-1; a constant column is all 0.
torch::Tensor histogram_discretize(const torch::Tensor& x, int64_t bins);
/// Discrete factors -> class ids 0..K-1 by sorted value; continuous ones -> bins: [N,F] long.
torch::Tensor discretize_factors(const FactorCodes& data, int64_t bins);
/// Mutual information (nats) of two discrete columns [N] of values >= 0.
double discrete_mutual_info(const torch::Tensor& a, const torch::Tensor& b);
/// Entropy (nats) of a discrete column [N] of values >= 0.
double discrete_entropy(const torch::Tensor& a);

/// MIG (Chen et al. 2018): mean over factors of the gap between the two largest
/// I(code; factor), divided by H(factor), codes binned; factors with zero entropy are left out.
double mutual_information_gap(const FactorCodes& data, const MetricOptions& options);
/// SAP (Kumar et al. 2018): mean over factors of the gap between the two best single-code
/// scores, R^2 of a linear fit for continuous factors, test accuracy of a one-code
/// nearest-class-mean classifier for discrete ones.
double separated_attribute_predictability(const FactorCodes& data, const MetricOptions& options);

/// DCI (Eastwood & Williams 2018) from an importance matrix R [D,F].
struct DciScores {
  double disentanglement = 0.0;  ///< sum_d rho_d (1 - H_F(R_d. / sum R_d.)), rho_d = code d's share of R
  double completeness = 0.0;     ///< sum_f rho_f (1 - H_D(R_.f / sum R_.f))
  double informativeness = 0.0;  ///< mean test score of the per-factor fits (accuracy or R^2)
  torch::Tensor importance;      ///< [D,F] total gain
};
/// DCI from an importance matrix [D,F] (informativeness left 0).
DciScores dci_from_importance(const torch::Tensor& importance);
/// DCI with XGBoost importance: one fit per factor (classification or regression).
DciScores dci(const FactorCodes& data, const MetricOptions& options);

/// Modularity (Ridgeway & Mozer 2018, as disentanglement_lib): mean over codes of
/// 1 - (sum_f m_df^2 - max_f m_df^2) / (max_f m_df^2 (F - 1)), m = I(binned code; binned factor);
/// a code with zero information scores 0.
double modularity(const FactorCodes& data, const MetricOptions& options);

/// BetaVAE score (Higgins et al. 2017): accuracy on held-out points of a logistic
/// regression predicting which factor was fixed from mean |z1 - z2| over B pairs sharing it.
double beta_vae_score(const InterventionalSource& source, const MetricOptions& options);
/// FactorVAE score (Kim & Mnih 2018): held-out accuracy of a majority-vote classifier
/// mapping argmin_d Var(z_d) / Var_global(z_d) (over B images sharing a factor, active
/// latents only) to the fixed factor; 0 when every latent has collapsed.
double factor_vae_score(const InterventionalSource& source, const MetricOptions& options);

}  // namespace dvae
