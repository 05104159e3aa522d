// Training M2 (Kingma et al. 2014) on one labelled subset: balanced batches
// (every batch holds unlabelled_batch unlabelled images and labelled_batch
// labelled ones, the labelled set cycled in a fresh order), dynamic
// binarisation of pixels or a fresh sample of M1's codes from their Gaussian
// posterior each step (as nips14-ssl does), Adam, and per epoch the classifier's
// validation and test accuracy (the accuracy-against-epochs curve).
//
// Seeded and resumable: with a checkpoint path, an atomic checkpoint (model,
// Adam, the step generator, the curve so far) is written after every epoch, a
// rerun continues from it bit-identically on the CPU, and a checkpoint made
// with other settings or another subset is refused with a one-line error.
//
// Not for: the bound itself (training/m2_objective.h) or protocol rows
// (evaluation/m2_classifier.cpp).
//
// Tensor legend: N images, P input units, B batch.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/m2.h"

namespace dvae {

/// How M2 is trained; defaults follow nips14-ssl where it applies.
struct M2TrainOptions {
  int64_t epochs = 100;           ///< passes over the unlabelled images (default 100)
  double lr = 3e-4;               ///< Adam learning rate of epoch 1 (nips14-ssl: 3e-4)
  double lr_decay = 1.0;          ///< the learning rate is multiplied by this after every epoch (1: constant), m2_epoch_lr()
  double beta = 1.0;              ///< weight of KL(q(z|x,y) || p(z)) (1 = Kingma's M2)
  double alpha = 0.1;             ///< classification weight against one image's bound (Kingma's alpha N / N; 0.1), see m2_weights()
  int64_t unlabelled_batch = 100; ///< unlabelled images per batch (default 100)
  int64_t labelled_batch = 100;   ///< labelled images per batch, drawn cyclically from the subset (default 100)
  int64_t eval_every = 1;         ///< epochs between validation/test evaluations (the last epoch always)
  int64_t eval_batch = 1000;      ///< inference batch
};

/// The learning rate of 1-based epoch: lr * lr_decay^(epoch - 1) (depends on the epoch only, so a resumed run
/// continues the schedule).
double m2_epoch_lr(const M2TrainOptions& options, int64_t epoch);

/// train_options as the JSON that checkpoints compare (everything but epochs).
nlohmann::json m2_train_options_to_json(const M2TrainOptions& options);

/// A data split as M2 sees it.
struct M2Inputs {
  torch::Tensor x;         ///< float [N,1,H,W] pixels in [0,1], or [N,P] code means
  torch::Tensor x_logvar;  ///< float [N,P] code log-variances (codes are resampled each step); undefined for pixels
  torch::Tensor labels;    ///< int64 [N]
};

/// One epoch of the curve.
struct M2EpochRecord {
  int64_t epoch = 0;                ///< 1-based
  double loss = 0;                  ///< mean J over the epoch's batches
  double labelled = 0;              ///< mean -L of labelled rows
  double unlabelled = 0;            ///< mean -U of unlabelled rows
  double cross_entropy = 0;         ///< mean labelled -log q(y|x)
  double validation_loss = -1;      ///< mean -log q(y|x) on the validation rows (-1: not evaluated)
  double validation_accuracy = -1;  ///< their accuracy (-1: not evaluated)
  double test_accuracy = -1;        ///< test accuracy of q(y|x) (-1: not evaluated this epoch)
  double seconds = 0;               ///< training seconds since the start (all sessions)
};

/// The record as JSON (checkpoints and the curve logs).
nlohmann::json m2_epoch_to_json(const M2EpochRecord& record);
/// A record from m2_epoch_to_json's JSON; throws nlohmann::json::exception for a missing key.
M2EpochRecord m2_epoch_from_json(const nlohmann::json& json);

/// What train_m2 returns.
struct M2Fit {
  torch::Tensor test_predictions;    ///< int64 [N_test] on the CPU, from q(y|x) after the last epoch
  std::vector<M2EpochRecord> curve;  ///< one record per epoch trained (resumed epochs included)
  double seconds = 0;                ///< wall time of training (all sessions) and test inference
};

/// Where train_m2 is and what it trains on.
struct M2Run {
  uint64_t seed = 0;                ///< init (LibTorch generator), batch orders (dvae::Rng) and noise derive from it
  torch::Device device = torch::kCPU;
  std::string checkpoint;           ///< checkpoint file ("" = none, not resumable)
  std::string tag;                  ///< names the data (set, subset hash): a checkpoint with another is refused
  std::function<void(const M2EpochRecord&)> on_epoch;  ///< progress (optional)
};

/// Trains a fresh M2 on train's rows: labelled (int64 [M]) with their labels,
/// unlabelled (int64 [U]) without; scores validation rows of train (int64 [V],
/// optional) and test. Throws dvae::Error for a non-finite loss (epoch, batch).
M2Fit train_m2(const M2Options& model, const M2Inputs& train, const torch::Tensor& labelled,
               const torch::Tensor& unlabelled, const torch::Tensor& validation, const M2Inputs& test,
               const M2TrainOptions& options, const M2Run& run);

/// q(y|x)'s predictions for x (eval batches of batch rows): [N,...] -> int64 [N] on the CPU.
torch::Tensor m2_predict(M2Impl& m2, const torch::Tensor& x, int64_t batch, torch::Device device);

}  // namespace dvae
