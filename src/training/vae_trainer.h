// Unsupervised training of a beta-VAE (paper section 4.2): Adam at 1e-3, batch
// 100, reshuffled every epoch, one JSON log line and one atomic checkpoint per
// epoch, resumable bit-for-bit on CPU. Not for the classifiers (classifier trainer).
//
// A run folder holds:
//   config.json    resolved model + train options, data set, seed, versions
//   log.jsonl      one EpochStats object per line
//   checkpoint.pt  the latest epoch (see checkpoint.h)
#pragma once

#include <torch/torch.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/image_set.h"
#include "models/vae.h"
#include "training/objectives.h"

namespace dvae {

class DataParallel;

/// Options of train_vae; defaults are the paper's MLP settings.
struct TrainOptions {
  /// The objective and its settings (default beta-vae; training/objectives.h).
  ObjectiveSettings objective;
  /// beta-vae: KL weight (1 = standard VAE; paper: 4 MLP, 6 CNN); beta-tcvae:
  /// TC weight; 1 for the objectives without beta (factor-vae's KL weight).
  double beta = 4.0;
  int64_t epochs = 50;            ///< total epochs (paper: 50 MLP, 75 CNN)
  double lr = 1e-3;               ///< learning rate (default 1e-3)
  int64_t batch_size = 100;       ///< images per step (default 100)
  std::string optimizer = "adam"; ///< "adam" (default) | "sgd" (with momentum)
  double momentum = 0.9;          ///< SGD momentum (default 0.9; unused by Adam)
  bool binarize = false;          ///< dynamically binarise images (input and target ~ Bernoulli(grey level))
  uint64_t seed = 1;              ///< seeds initialisation, shuffles, sampling (default 1)
  /// Execution choice, not part of a run's identity (not in the JSON): the MLP
  /// on CPU trains with the hand-written step of mlp_step.h unless this is set,
  /// which forces LibTorch autograd (same mathematics, float rounding aside).
  bool autograd = false;
};

/// The paper's settings for arch: mlp beta 4, 50 epochs; cnn beta 6, 75 epochs.
TrainOptions default_train_options(const std::string& arch);

/// TrainOptions as a JSON object: a beta-vae's keys are those dvae wrote before
/// it had objectives; another objective adds "objective" and its parameters.
nlohmann::json train_options_to_json(const TrainOptions& options);
/// TrainOptions from a JSON object (missing keys keep defaults, a missing
/// "objective" is beta-vae); throws dvae::Error on bad types or keys, an
/// unknown objective, or a parameter the objective does not use.
TrainOptions train_options_from_json(const nlohmann::json& json);

/// What one epoch measured; also the JSON log line (same key names).
struct EpochStats {
  int64_t epoch = 0;                   ///< 1-based epoch number
  double train_recon = 0;              ///< mean training reconstruction NLL per image (nats)
  double train_kl = 0;                 ///< mean training KL per image (nats)
  double test_recon = 0;               ///< mean test reconstruction NLL per image, one z sample (nats)
  double test_kl = 0;                  ///< mean test KL per image (nats)
  std::vector<double> kl_per_latent;   ///< [D] mean test KL of each latent (nats)
  int64_t active_latents = 0;          ///< latents with test KL > 0.01 nats
  double test_elbo = 0;                ///< -(test_recon + test_kl): the beta = 1 bound (nats, negative)
  double seconds = 0;                  ///< wall time of the epoch, evaluation included
  double images_per_sec = 0;           ///< training images per second (training steps only)
  double beta = 0;                     ///< the beta trained with
};

/// EpochStats as the JSON log line.
nlohmann::json epoch_stats_to_json(const EpochStats& stats);
/// EpochStats from a log line; throws dvae::Error for missing keys or wrong types.
EpochStats epoch_stats_from_json(const nlohmann::json& json);

/// Optional progress hooks (called on the training thread).
struct TrainCallbacks {
  std::function<void(int64_t epoch, int64_t batch, int64_t batches)> on_batch;  ///< after each step
  std::function<void(const EpochStats&)> on_epoch;                               ///< after each epoch
};

/// Latents whose KL exceeds this count as active (nats).
constexpr double kActiveLatentKl = 0.01;

/// Trains a VAE on data.train (evaluating on data.test each epoch) into run_dir.
/// resume: continue from run_dir/checkpoint.pt when present (returns at once when
/// it already holds train.epochs epochs); without resume an existing checkpoint
/// is an error. Throws dvae::Error naming epoch and batch on a non-finite loss
/// (the previous epoch's checkpoint stays). Returns the last epoch's stats.
///
/// parallel (data-parallel training, training/distributed.h): every rank calls
/// train_vae with the same arguments; each computes its contiguous shard of
/// every global batch of train.batch_size images (the same permutation and
/// random draws on every rank), gradients are summed over ranks each step, so
/// the result equals one process's to float rounding; rank 0 alone evaluates
/// and writes config.json (with world_size and dist_backend), the log and the
/// checkpoints, and other ranks' returned stats carry only the training terms.
EpochStats train_vae(const Dataset& data, const ModelOptions& model, const TrainOptions& train,
                     const std::string& run_dir, bool resume, torch::Device device,
                     const TrainCallbacks& callbacks = {}, DataParallel* parallel = nullptr);

/// Mean test terms of vae on set (eval mode, no grad, one z ~ q(z|x) per image
/// from a generator seeded with seed): fills test_recon, test_kl, kl_per_latent,
/// active_latents and test_elbo of the returned stats.
EpochStats evaluate_vae(VaeImpl& vae, const ImageSet& set, torch::Device device, int64_t batch = 1000,
                        uint64_t seed = 0);

}  // namespace dvae
