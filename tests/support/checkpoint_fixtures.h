// Checkpoints for tests of any layer above training: a VAE saved with
// metadata filled in (header-only, since tests/support itself links only data).
#pragma once

#include <torch/torch.h>

#include <string>

#include "models/vae.h"
#include "training/checkpoint.h"

namespace dvae::test {

/// Metadata of a checkpoint of model trained with beta and seed (epoch 1 of 1, data set "synthetic").
inline CheckpointMeta checkpoint_meta(const ModelOptions& model, double beta, uint64_t seed) {
  CheckpointMeta meta;
  meta.arch = model.arch;
  meta.latent_dim = model.latent_dim;
  meta.beta = beta;
  meta.dataset = "synthetic";
  meta.seed = seed;
  meta.epoch = 1;
  meta.epochs = 1;
  meta.dvae_version = "test";
  meta.model_options = model_options_to_json(model);
  meta.train_options = nlohmann::json::object();
  return meta;
}

/// A freshly initialised VAE of model (LibTorch seeded with seed) saved to path; returns it.
inline Vae save_untrained_vae(const std::string& path, const ModelOptions& model, double beta, uint64_t seed) {
  torch::manual_seed(seed);
  Vae vae(model);
  save_checkpoint(path, *vae, checkpoint_meta(model, beta, seed), nullptr);
  return vae;
}

}  // namespace dvae::test
