// The disentanglement stage of a study: every trained VAE's metrics
// (evaluation/disentanglement.h) on its data set's test split, recorded in the
// results store (table disentanglement(vae, metric, value) and one unit per
// VAE, so a rerun skips them), and the report section that sets them against
// few-label probe accuracy with Spearman's rank correlation.
//
// Factors: a data set whose images carry generator factors (mnist-affine) is
// scored on those, plus the BetaVAE and FactorVAE scores on its generator; any
// other data set on its Morpho-MNIST morphometrics (data/factor_table.h, cached
// under OUT/factors).
//
// Not for: training or probing (experiments/study.cpp runs those and passes
// each VAE's checkpoint, stats and probe rows here).
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "data/image_set.h"
#include "evaluation/disentanglement.h"
#include "evaluation/protocol.h"
#include "experiments/report.h"
#include "experiments/results_db.h"

namespace dvae {

/// One trained VAE to score.
struct DisentanglementUnit {
  std::string vae_key;               ///< the VAE unit's key in the store
  std::string label;                 ///< its study label (progress lines)
  std::string dataset;               ///< data set name
  std::string arch;                  ///< architecture
  std::string model;                 ///< model name from the study
  std::string weights;               ///< the objective's weights in words ("beta 4"; objective_weights_text)
  int64_t seed_index = 0;            ///< VAE seed index
  std::string checkpoint;            ///< its checkpoint.pt
  std::string checkpoint_sha;        ///< SHA-256 of the checkpoint (part of the unit's key)
  nlohmann::json stats;              ///< last epoch's stats (test_elbo, active_latents)
  const Dataset* data = nullptr;     ///< the data set (test split scored)
  std::string fingerprint;           ///< the data set's content fingerprint (cache key)
  std::vector<ResultRow> probe_rows; ///< the VAE's rows of the study's first probe classifier
};

/// A unit and its values.
struct DisentanglementScore {
  DisentanglementUnit unit;  ///< what was scored
  MetricValues metrics;      ///< value name -> value, registry order
  double seconds = 0.0;      ///< time spent scoring (0 when read from the store)
};

/// Where and how the stage runs.
struct DisentanglementContext {
  ResultsDb* db = nullptr;             ///< the study's store
  std::string out_dir;                 ///< OUT
  std::string data_root;               ///< folder of named data sets (for generators)
  torch::Device device = torch::kCPU;  ///< encoder device
  bool force = false;                  ///< rescore units found in the store
  std::vector<std::string> metrics;    ///< registry names
  MetricOptions options;               ///< metric settings
  std::function<void(const std::string&)> log;  ///< progress lines; may be empty
};

/// The metric settings of a study: disentanglement_lib's defaults with `points`
/// BetaVAE / FactorVAE training points, points / 2 evaluation points and a
/// FactorVAE variance estimate of min(10000, 10 points) images.
MetricOptions study_metric_options(int64_t points, uint64_t seed);

/// Scores every unit (or reads its values from the store) in order.
std::vector<DisentanglementScore> score_disentanglement(const std::vector<DisentanglementUnit>& units,
                                                        const DisentanglementContext& context);

/// Mean probe accuracy of a unit at n labels per class over its trials (NaN when none).
double probe_accuracy_at(const DisentanglementUnit& unit, int64_t n);

/// The rule that turns Spearman intervals into the report's answer, in words.
std::string disentanglement_rule_text();

/// The report section: per-model table (metrics, active latents, test ELBO, probe
/// accuracy), a scatter plot of each metric against accuracy at the study's sizes
/// up to 100 (one point per VAE), Spearman's rho with its 95% interval and the answer
/// per data set. Figures are written under figure_dir.
ReportSection disentanglement_section(const std::vector<DisentanglementScore>& scores, const std::vector<int64_t>& sizes,
                                      const std::string& figure_dir);

}  // namespace dvae
