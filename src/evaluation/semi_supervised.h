// What the semi-supervised classifier kinds share: M2 (Kingma et al. 2014) on
// pixels ("m2") and M2 on the codes of a frozen dvae encoder ("m1m2"). Builds
// M2's inputs (pixels in [0,1]; or M1's posterior mean and log-variance of the
// active units, resampled each step as nips14-ssl does) and trains one M2 per
// pending (subset, encoder) row with a resumable checkpoint and an
// accuracy-against-epochs log beside the results.
//
// Not for: the model (models/m2.h), the bound (training/m2_objective.h) or the
// loop (training/m2_trainer.h).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "data/image_set.h"
#include "models/m2.h"
#include "models/vae.h"
#include "training/m2_trainer.h"

namespace dvae {

struct ClassifierRun;

/// Settings of an M2 classifier kind (study keys of the same names).
struct SemiSupervisedOptions {
  M2TrainOptions train;           ///< epochs, lr, beta, alpha, batches (see training/m2_trainer.h)
  int64_t hidden = 500;           ///< hidden width of every network (default 500)
  int64_t hidden_layers = 2;      ///< hidden layers per network (default 2)
  int64_t z_dim = 50;             ///< M2's latent units (default 50)
  std::string trunk = "mlp";      ///< "mlp" or a registered encoder ("cnn") for q(y|x) and q(z|x,y) on pixels
  double active_threshold = 0.1;  ///< m1m2: keep code units whose mean's std over the training set exceeds it
};

/// The settings as JSON (result rows compare them on resume).
nlohmann::json semi_supervised_to_json(const SemiSupervisedOptions& options);

/// Pixels of set as M2 inputs: x float [N,1,H,W] in [0,1], labels.
M2Inputs pixel_inputs(const ImageSet& set);

/// The units of mu (float [N,D]) whose standard deviation over N exceeds threshold
/// (nips14-ssl drops M1's inactive units the same way); all units when none does.
std::vector<int64_t> active_units(const torch::Tensor& mu, double threshold);

/// M2 inputs from codes features float [N,2D] (D means, then D log-variances), restricted to units:
/// x = mu, x_logvar = logvar [N,|units|], with labels (int64 [N]).
M2Inputs code_inputs_from(const torch::Tensor& features, const torch::Tensor& labels,
                          const std::vector<int64_t>& units);

/// Codes of set through a frozen encoder, restricted to units: x = mu, x_logvar = logvar [N,|units|].
M2Inputs code_inputs(EncoderImpl& encoder, const ImageSet& set, const std::vector<int64_t>& units,
                     int64_t batch = 1000);

/// Rows of train that are neither labelled nor validation (int64, sorted): M2's unlabelled images.
torch::Tensor unlabelled_rows(int64_t train_size, const torch::Tensor& labelled, const torch::Tensor& validation);

/// Trains M2 on every pending row of run: on pixels (codes = false, one row per
/// subset) or on every frozen encoder's codes (codes = true, one row per subset and encoder).
void run_semi_supervised(const ClassifierRun& run, bool codes);

}  // namespace dvae
