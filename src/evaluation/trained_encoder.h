// A trained encoder for other C++ programs: load a checkpoint written by
// `dvae train` (or `dvae reproduce`) once, then map images to their latent
// codes. The whole embedding surface is this class; see examples/embed_encoder/
// for a program that links the installed library. Not for training (the VAE
// stays frozen, in eval mode, without gradients).
#pragma once

#include <torch/torch.h>

#include <string>

#include "models/vae.h"
#include "training/checkpoint.h"

namespace dvae {

/// A VAE encoder restored from a checkpoint, frozen.
class TrainedEncoder {
 public:
  /// Loads checkpoint (a dvae checkpoint.pt) onto device. Throws dvae::Error
  /// naming the file when it is missing, corrupt or not a dvae checkpoint.
  explicit TrainedEncoder(const std::string& checkpoint, torch::Device device = torch::kCPU);

  /// Posterior means mu, float [N,D] on the CPU, of images: uint8 [N,H,W] grey
  /// levels 0..255, or float [N,H,W] / [N,1,H,W] in [0,1], with H = W =
  /// image_size(). Deterministic; runs in batches of `batch` images.
  torch::Tensor encode(const torch::Tensor& images, int64_t batch = 1000) const;
  /// Mean and log-variance side by side, float [N,2D]: mu in columns 0..D-1.
  torch::Tensor encode_with_logvar(const torch::Tensor& images, int64_t batch = 1000) const;

  /// D, the number of latent units.
  int64_t latent_dim() const { return loaded_.meta.latent_dim; }
  /// H = W, the image side the encoder takes.
  int64_t image_size() const { return loaded_.vae->options().image_size; }
  /// Everything the checkpoint says about itself (architecture, beta, data set, seed, epoch).
  const CheckpointMeta& meta() const { return loaded_.meta; }

 private:
  torch::Tensor run(const torch::Tensor& images, bool with_logvar, int64_t batch) const;

  LoadedVae loaded_;
};

}  // namespace dvae
