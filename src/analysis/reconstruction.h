// Reconstructions (the paper's Figures 5 to 8): test images beside what one or
// two VAEs make of them (decoding the posterior mean), chosen at random by seed
// or as the worst by reconstruction loss; and prior samples.
//
// Tensor legend: N test images, K chosen, M models, D latents, H x W pixels.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "analysis/traversal.h"
#include "data/image_set.h"

namespace dvae {

/// Per-image reconstruction loss: Bernoulli negative log-likelihood of x under
/// sigmoid(decode(mu(x))), summed over pixels, in nats: N images -> [N] float64 (CPU).
torch::Tensor reconstruction_losses(const VaeParts& vae, const ImageSet& set, int64_t batch = 1000);

/// k distinct row indices of a set of n, drawn by seed (portable Rng): int64 [K].
torch::Tensor pick_random(int64_t n, int64_t k, uint64_t seed);

/// Indices of the k largest losses ([N]), largest first (ties by index): int64 [K].
torch::Tensor pick_worst(const torch::Tensor& losses, int64_t k);

/// Chosen test images and their reconstructions by each model.
struct Reconstructions {
  torch::Tensor index;                         ///< int64 [K] rows of the test set
  torch::Tensor originals;                     ///< [K,1,H,W] in [0,1]
  std::vector<torch::Tensor> reconstructions;  ///< M tensors [K,1,H,W] in [0,1]
  std::vector<torch::Tensor> losses;           ///< M tensors [K] float64, nats per image
};

/// Reconstructs set rows index (int64 [K]) with each VAE (decoding mu, no sampling).
Reconstructions reconstruct(const std::vector<VaeParts>& vaes, const ImageSet& set, const torch::Tensor& index);

/// Lays reconstructions out for make_grid: blocks of up to cols images, each block one row
/// of originals then one row per model: [B*(1+M)*cols,1,H,W] (blank cells are empty).
/// Returns the images and the number of grid rows; cols >= 1.
std::pair<torch::Tensor, int64_t> reconstruction_layout(const Reconstructions& r, int64_t cols);

/// n images decoded from z ~ N(0, I) drawn by seed (portable Rng, Box-Muller):
/// [n,D] -> [n,1,H,W] in [0,1].
torch::Tensor sample_prior(DecoderImpl& decoder, int64_t n, int64_t latent_dim, uint64_t seed);

/// Misclassified test images of one classifier run.
struct Gallery {
  torch::Tensor index;             ///< int64 [G] rows of the test set, in test-set order
  torch::Tensor images;            ///< [G,1,H,W] in [0,1]
  std::vector<int64_t> predicted;  ///< G predicted labels
  std::vector<int64_t> truth;      ///< G true labels
  int64_t total_wrong = 0;         ///< all misclassified images (G <= this)
};

/// The first max_images test images whose prediction differs from the label.
/// predictions must hold one label per test image.
Gallery misclassified(const ImageSet& test, const std::vector<int64_t>& predictions, int64_t max_images);

}  // namespace dvae
