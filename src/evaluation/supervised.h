// The purely supervised baseline (the paper's section 4.1): the VAE's encoder
// architecture up to the latent mean, randomly initialised, with the same head
// as the probes, trained end to end on the labelled subset only.
//
// Tensor legend: B batch, H=W image side, D latent units, K head hidden width, C classes.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <vector>

#include "data/image_set.h"
#include "models/vae.h"

namespace dvae {

/// How the supervised baseline is trained; defaults are the paper's (section 4.2).
struct SupervisedOptions {
  int64_t epochs = 100;                 ///< passes over the labelled subset (paper: 100)
  double lr = 1e-3;                     ///< Adam learning rate (paper: 0.001)
  int64_t batch_size = 100;             ///< minibatch; the effective batch is min(batch_size, M)
  int64_t hidden = 0;                   ///< head: 0 = linear softmax; > 0 adds one FC ReLU layer of this width
  double convergence_tolerance = 0.01;  ///< as ProbeOptions::convergence_tolerance (see evaluation/probe.h)
  int64_t eval_batch = 1000;            ///< test-set inference batch
  bool autograd = false;                ///< MLP on CPU: false trains with the hand-written step (supervised_step.h),
                                        ///< true with LibTorch autograd (same mathematics, float rounding aside)
};

/// Encoder trunk (its mu output) followed by the probe head: images -> class logits.
class SupervisedClassifierImpl : public torch::nn::Module {
 public:
  /// Builds make_encoder(model) and a head [D -> (K ->) C]; parameters use LibTorch's default init.
  SupervisedClassifierImpl(const ModelOptions& model, int64_t hidden, int64_t num_classes);
  /// [B,1,H,W] -> [B,C] logits.
  torch::Tensor forward(const torch::Tensor& x);

 private:
  std::shared_ptr<EncoderImpl> encoder_ = nullptr;
  torch::nn::Linear hidden_ = nullptr;  // null for a linear head
  torch::nn::Linear out_ = nullptr;
};
TORCH_MODULE(SupervisedClassifier);

/// A trained baseline's test predictions and training curve.
struct SupervisedFit {
  torch::Tensor test_predictions;     ///< int64 [N_test] on the CPU
  std::vector<double> epoch_loss;     ///< per-epoch training loss (mean per-example cross-entropy of the epoch)
  std::vector<double> validation_loss;  ///< per-epoch mean cross-entropy on the validation rows (empty without)
  double final_loss = 0.0;            ///< epoch_loss.back()
  int64_t epochs_to_convergence = 0;  ///< best_epoch(validation_loss) with validation rows, else as in evaluation/probe.h
  double seconds = 0.0;               ///< wall time of training and test inference
};

/// Called after each epoch with (epoch, epochs, epoch loss); optional.
using SupervisedProgress = std::function<void(int64_t epoch, int64_t epochs, double loss)>;

/// Trains a fresh SupervisedClassifier on train's rows `subset` (int64 [M]) and predicts
/// test. Initialisation (LibTorch generator) and shuffles (dvae::Rng) derive from seed.
/// validation (int64 [V] rows of train, optional) is scored after every epoch.
SupervisedFit train_supervised(const ModelOptions& model, const ImageSet& train, const torch::Tensor& subset,
                               const ImageSet& test, const SupervisedOptions& options, uint64_t seed,
                               torch::Device device, const SupervisedProgress& progress = {},
                               const torch::Tensor& validation = {});

}  // namespace dvae
