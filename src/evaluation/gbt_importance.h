// Gradient-boosted trees from XGBoost (Debian's libxgboost-dev, through its C
// API) as the importance model of the DCI metric (evaluation/disentanglement.h):
// fit one target from the codes, report each code's total split gain and the
// fit's score on held-out rows.
//
// Not for: anything but DCI's importance matrix; no model is kept or saved.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace dvae {

/// Boosting settings: scikit-learn's GradientBoosting defaults (100 rounds of
/// depth-3 trees, learning rate 0.1) as disentanglement_lib uses them.
struct GbtOptions {
  int64_t rounds = 100;    ///< boosting rounds (default 100)
  double eta = 0.1;        ///< learning rate (default 0.1)
  int64_t max_depth = 3;   ///< tree depth (default 3)
  int64_t threads = 1;     ///< XGBoost nthread (default 1: with 2 threads on a loaded 2-core machine
                           ///< one DCI took 175 s instead of 2.6 s, its OpenMP threads waiting on each other)
  uint64_t seed = 0;       ///< XGBoost seed (hist trees without subsampling are deterministic)
};

/// One fitted target.
struct GbtFit {
  std::vector<double> importance;  ///< [D] total gain of the splits on each code (0 for unused codes)
  double train_score = 0.0;        ///< accuracy (classification) or R^2 (regression) on the training rows
  double test_score = 0.0;         ///< the same on the test rows
};

/// Fits y from x with tree_method=hist. classes >= 2: y holds class ids
/// 0..classes-1 (multi:softprob, score = accuracy); classes == 0: regression
/// (reg:squarederror, score = R^2, 0 for a constant target). x_*: [N,D], y_*: [N].
GbtFit fit_gbt(const torch::Tensor& x_train, const torch::Tensor& y_train, const torch::Tensor& x_test,
               const torch::Tensor& y_test, int64_t classes, const GbtOptions& options);

}  // namespace dvae
