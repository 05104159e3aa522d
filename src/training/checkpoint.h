// Checkpoints of VAE training: one file (a LibTorch archive) with the model's
// parameters and buffers, the optimiser state, LibTorch's CPU generator state
// and JSON metadata. Written atomically; loading checks everything and turns
// every failure into a dvae::Error that names the file.
//
// Archive layout: "meta" (JSON string), "model" (VaeImpl::save), "optimizer"
// (training checkpoints only), "rng_cpu" (uint8 generator state),
// "objective_model" and "objective_optimizer" (an objective's own trainable
// parts, as factor-vae's discriminator, when it has them), "digests" (JSON:
// CRC-32 of each of those, checked on load because LibTorch's zip reader skips
// the archive's own CRCs).
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>

#include "models/vae.h"
#include "training/flat_optimizer.h"

namespace dvae {

/// What a checkpoint says about itself.
struct CheckpointMeta {
  std::string arch;              ///< registry name of the architecture
  int64_t latent_dim = 0;        ///< D
  double beta = 0;               ///< KL weight trained with
  std::string dataset;           ///< data set name
  uint64_t seed = 0;             ///< training seed
  int64_t epoch = 0;             ///< epochs completed
  int64_t epochs = 0;            ///< epochs asked for
  std::string dvae_version;      ///< dvae version that wrote it
  nlohmann::json model_options;  ///< model_options_to_json of the model
  nlohmann::json train_options;  ///< train_options_to_json of the run
  nlohmann::json last_stats;     ///< the epoch's log line (epoch_stats_to_json), or null
};

/// A VAE restored from a checkpoint.
struct LoadedVae {
  Vae vae;              ///< in eval mode, on the requested device
  CheckpointMeta meta;  ///< its metadata
};

/// CheckpointMeta as JSON (with a format tag).
nlohmann::json checkpoint_meta_to_json(const CheckpointMeta& meta);
/// CheckpointMeta from JSON; throws dvae::Error naming path when a field is missing or wrong.
CheckpointMeta checkpoint_meta_from_json(const nlohmann::json& json, const std::string& path);

/// Writes vae (and optimizer when not null, and the CPU generator state) to path atomically.
/// The generator state saved is generator's when given, else LibTorch's default CPU generator's.
/// objective_model and objective_optimizer (each may be null): the objective's own parts.
void save_checkpoint(const std::string& path, torch::nn::Module& vae, const CheckpointMeta& meta,
                     const FlatOptimizer* optimizer, const at::Generator* generator = nullptr,
                     torch::nn::Module* objective_model = nullptr, const FlatOptimizer* objective_optimizer = nullptr);

/// Reads only the metadata of the checkpoint at path.
CheckpointMeta read_checkpoint_meta(const std::string& path);

/// Restores vae's parameters and buffers (and optimizer, and the CPU generator
/// when restore_rng) from path; every tensor must match vae's shapes. The
/// optimizer must be built on vae's parameters; it is re-bound to them after
/// the model is loaded. Returns the metadata.
/// With restore_rng, the saved generator state goes into generator when given,
/// else into LibTorch's default CPU generator. objective_model and
/// objective_optimizer, when given, are restored like vae and optimizer (the
/// checkpoint must hold them).
CheckpointMeta restore_checkpoint(const std::string& path, torch::nn::Module& vae, FlatOptimizer* optimizer,
                                  bool restore_rng, at::Generator* generator = nullptr,
                                  torch::nn::Module* objective_model = nullptr,
                                  FlatOptimizer* objective_optimizer = nullptr);

/// Writes every parameter and buffer of module (CPU, contiguous) to path
/// atomically as one file that Python's torch.load opens as a dict of named
/// tensors ("encoder.fc1.weight", ...); throws dvae::Error naming path.
void export_state_dict(const torch::nn::Module& module, const std::string& path);

/// Builds the VAE a checkpoint describes and loads it (eval mode); throws
/// dvae::Error naming path for a missing, truncated, corrupt or incompatible file.
LoadedVae load_vae(const std::string& path, torch::Device device = torch::kCPU);

}  // namespace dvae
