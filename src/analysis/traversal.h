// Latent traversals (the paper's Figure 3): decode a base code while one latent
// sweeps [-range, range], one row per latent, rows sorted by the latent's KL
// on the test set so that informative units come first and units collapsed to
// the prior (KL < 0.01 nats) come last. Also the per-latent KL itself and the
// small helpers the other image makers share.
//
// Tensor legend: N images, D latents, S steps per row, R = D rows, H x W pixels.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/image_set.h"
#include "models/vae.h"

namespace dvae {

/// The two halves of a VAE, as analysis uses them (any encoder/decoder pair).
struct VaeParts {
  std::shared_ptr<EncoderImpl> encoder;  ///< q(z|x)
  std::shared_ptr<DecoderImpl> decoder;  ///< p(x|z), Bernoulli logits
};

/// The encoder and decoder of a VAE.
inline VaeParts parts_of(const VaeImpl& vae) { return {vae.encoder(), vae.decoder()}; }

/// The device of a module's first parameter (CPU when it has none).
torch::Device module_device(const torch::nn::Module& module);

/// Encoder means and log-variances of a whole set, in eval mode without gradients:
/// N images -> mu [N,D], logvar [N,D] (on the CPU).
Posterior encode_set(EncoderImpl& encoder, const ImageSet& set, int64_t batch = 1000);

/// Mean KL(q(z_d|x) || N(0,1)) over the set, per latent, in nats: [D] float64 (CPU).
/// KL_d = 0.5 * (mu_d^2 + exp(logvar_d) - logvar_d - 1) (Kingma and Welling 2013, appendix B).
torch::Tensor latent_kl(EncoderImpl& encoder, const ImageSet& set, int64_t batch = 1000);

/// sigmoid(decode(z)) in eval mode without gradients: z [B,D] -> [B,1,H,W] in [0,1] (CPU).
torch::Tensor decode_images(DecoderImpl& decoder, const torch::Tensor& z);

/// How to traverse.
struct TraversalOptions {
  int64_t steps = 11;          ///< S, values per row, evenly spaced (default 11)
  double range = 3.0;          ///< each latent takes values in [-range, range] (default 3 standard deviations)
  double collapsed_kl = 0.01;  ///< latents with KL below this (nats) are marked collapsed (default 0.01)
};

/// One row of a traversal.
struct TraversalRow {
  int64_t latent = 0;      ///< index d of the latent varied in this row
  double kl = 0.0;         ///< its KL on the test set (nats)
  bool collapsed = false;  ///< kl < collapsed_kl: the unit carries no information
};

/// A traversal: R rows of S images.
struct Traversal {
  torch::Tensor images;            ///< [R*S,1,H,W] in [0,1], row-major (row r varies rows[r].latent)
  torch::Tensor values;            ///< [S] float64 values the varied latent takes, -range..range
  torch::Tensor base;              ///< [D] the code the other latents keep
  std::vector<TraversalRow> rows;  ///< R = D rows, sorted by KL, largest first (ties: lower index first)
};

/// Latent indices sorted by KL (kl [D]), largest first, ties by index.
std::vector<int64_t> latents_by_kl(const torch::Tensor& kl);

/// Decodes base (z [D]) with latent d set to each of the S values, for every latent
/// (rows ordered by kl [D], largest first). Latent d takes the value itself, not base_d + value.
Traversal traverse_latents(DecoderImpl& decoder, const torch::Tensor& base, const torch::Tensor& kl,
                           const TraversalOptions& options = {});

/// Row labels for a traversal: "z3  KL 2.41" or "z7  KL 0.002 (collapsed)".
std::vector<std::string> traversal_row_labels(const Traversal& traversal);

}  // namespace dvae
