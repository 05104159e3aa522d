// The registry of representation-learning objectives a VAE can be trained
// with: the paper's beta-VAE and three disentangling variants. Each objective
// is one file (objective_<name>.cpp) with its loss and its registry entry,
// plus one line in objectives.cpp. Every objective reduces its terms the same
// way (training/loss.h: summed over pixels and latents, mean over the batch).
// Not for the training loop (vae_trainer.h) nor for classifier losses.
//
// Tensor legend: B batch, D latent dimensions, H=W pixels.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "training/flat_optimizer.h"

namespace dvae {

/// Hyper-parameters of the objectives other than beta (TrainOptions::beta is
/// beta-vae's KL weight and beta-tcvae's TC weight). Each objective uses some of
/// them (Objective::parameters); defaults are its paper's.
struct ObjectiveSettings {
  std::string name = "beta-vae";         ///< registry name (default beta-vae)
  double gamma = 0;                      ///< annealed-vae: weight of |KL - C| (1000); factor-vae: TC weight (6.4)
  double c_min = 0;                      ///< annealed-vae: capacity at step 0, nats (0)
  double c_max = 25;                     ///< annealed-vae: capacity reached at capacity_iterations, nats (25)
  int64_t capacity_iterations = 100000;  ///< annealed-vae: steps over which C rises linearly (100000)
  int64_t disc_hidden = 1000;            ///< factor-vae: discriminator hidden width (1000)
  int64_t disc_layers = 6;               ///< factor-vae: discriminator hidden layers (6)
  double disc_lr = 1e-4;                 ///< factor-vae: discriminator Adam learning rate (1e-4; betas 0.5, 0.9)
};

/// What an objective's loss sees of one training step.
struct ObjectiveBatch {
  torch::Tensor x;         ///< [B,1,H,W] targets in [0,1]
  torch::Tensor x_logits;  ///< [B,1,H,W] decoder output
  torch::Tensor mu;        ///< [B,D] posterior means
  torch::Tensor logvar;    ///< [B,D] posterior log-variances
  torch::Tensor z;         ///< [B,D] z = mu + exp(logvar / 2) * eps
  int64_t step = 0;        ///< 0-based optimisation step of the run (for schedules)
};

/// The loss of one step and its terms (all batch means, nats).
struct ObjectiveTerms {
  torch::Tensor loss;                           ///< [] what is minimised
  torch::Tensor recon;                          ///< [] BCE summed over pixels, mean over the batch
  torch::Tensor kl;                             ///< [] analytic KL summed over latents, mean over the batch
  std::map<std::string, torch::Tensor> extra;   ///< [] objective-specific terms ("tc", "capacity", ...)
};

/// Everything an objective's loss is built from.
struct ObjectiveContext {
  ObjectiveSettings settings;    ///< resolved settings
  double beta = 1;               ///< TrainOptions::beta
  int64_t latent_dim = 0;        ///< D
  int64_t dataset_size = 0;      ///< N, training images (beta-tcvae's estimator)
  torch::Device device = torch::kCPU;  ///< where the model lives
};

/// The loss of one objective for one run. May hold trainable parts of its own
/// (factor-vae's discriminator), which checkpoints save and restore.
class ObjectiveLoss {
 public:
  virtual ~ObjectiveLoss() = default;
  /// The VAE's loss on a batch (autograd graph through batch's tensors).
  virtual ObjectiveTerms loss(const ObjectiveBatch& batch) = 0;
  /// Called after the VAE's optimiser step with the same batch (its tensors as
  /// loss() saw them): factor-vae trains its discriminator here. generator
  /// draws anything random (the run's own, checkpointed).
  virtual void after_step(const ObjectiveBatch& batch, at::Generator& generator) {
    (void)batch;
    (void)generator;
  }
  /// A module of the objective's own to checkpoint, or nullptr.
  virtual torch::nn::Module* state_module() { return nullptr; }
  /// That module's optimiser, or nullptr.
  virtual FlatOptimizer* state_optimizer() { return nullptr; }
};

/// A registered objective.
struct Objective {
  std::string name;                     ///< "beta-vae", ...
  std::string description;              ///< one line: the loss (for `dvae study keys`, --help, README)
  std::string reference;                ///< the paper it follows
  std::vector<std::string> parameters;  ///< settings it uses: "beta", "gamma", "c_min", ... (JSON/TOML key names)
  bool hand_written_mlp_step = false;   ///< the MLP on CPU may train with training/mlp_step.h
  /// Its loss is a mean of per-image terms, so a batch split over data-parallel
  /// ranks gives one process's gradient (dvae train --nproc, study key vae_nproc).
  bool data_parallel = false;
  /// Fills settings' fields this objective uses with its defaults.
  void (*defaults)(ObjectiveSettings& settings);
  /// Builds the loss of one run.
  std::unique_ptr<ObjectiveLoss> (*make)(const ObjectiveContext& context);
  /// True when parameter (a key of parameters' kind) is one this objective uses.
  bool uses(const std::string& parameter) const;
};

/// Every registered objective.
const std::vector<Objective>& objectives();

/// True when name is registered.
bool is_objective(const std::string& name);

/// The registered names, comma separated.
std::string objective_names_text();

/// The names of the objectives that can train data-parallel, comma separated.
std::string data_parallel_objectives_text();

/// The objective called name; throws dvae::Error listing the names otherwise.
const Objective& find_objective(const std::string& name);

/// The settings of objective name with its defaults; throws like find_objective.
ObjectiveSettings default_objective_settings(const std::string& name);

/// Every parameter an objective can take besides beta, in a fixed order: gamma,
/// c_min, c_max, capacity_iterations, disc_hidden, disc_layers, disc_lr.
const std::vector<std::string>& objective_parameter_names();

/// The value of a parameter of objective_parameter_names() as a JSON number.
nlohmann::json objective_parameter(const ObjectiveSettings& settings, const std::string& parameter);

/// Sets a parameter from a JSON number; throws dvae::Error naming where and the
/// parameter for a wrong type or a value out of objective_parameter_range.
void set_objective_parameter(ObjectiveSettings& settings, const std::string& parameter, const nlohmann::json& value,
                             const std::string& where);

/// The accepted range of a parameter.
struct ParameterRange {
  double lo, hi;   ///< bounds
  bool open_lo;    ///< lo excluded
  bool integer;    ///< only integers
};
/// The range of a parameter of objective_parameter_names().
ParameterRange objective_parameter_range(const std::string& parameter);
/// The range in words, "an integer in [1, 100]" or "a number in (0, 1e6]".
std::string parameter_range_text(const ParameterRange& range);

/// Checks that settings' objective is registered and every parameter in range;
/// throws dvae::Error naming the parameter, the value and the range.
void check_objective_settings(const ObjectiveSettings& settings);

/// The weights an objective uses, for tables and headings: "beta 4" (beta-vae,
/// beta-tcvae), "gamma 1000, c_max 25" (annealed-vae), "gamma 40" (factor-vae).
/// beta is the run's KL (or TC) weight; settings must name a registered objective.
std::string objective_weights_text(const ObjectiveSettings& settings, double beta);

/// The settings as JSON: {"objective": name, <each parameter the objective uses
/// other than beta>: value}; beta-vae's is {} (so a beta-VAE's options, and
/// its run's identity, are those of dvae before objectives had settings).
nlohmann::json objective_settings_to_json(const ObjectiveSettings& settings);

}  // namespace dvae
