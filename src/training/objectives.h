// The registry of representation-learning objectives a study can train. Each
// objective turns a model's settings into the trainer's options; today the
// paper's beta-VAE (beta-ELBO, training/loss.h). Adding one is a file with its
// configure function plus one line in objectives.cpp.
#pragma once

#include <string>
#include <vector>

#include "training/vae_trainer.h"

namespace dvae {

/// A registered objective.
struct Objective {
  std::string name;         ///< "beta-vae", ...
  std::string description;  ///< one line for `dvae study keys` and the README
  /// Fills train (already holding the architecture's defaults) from beta.
  void (*configure)(TrainOptions& train, double beta);
};

/// Every registered objective.
const std::vector<Objective>& objectives();

/// True when name is registered.
bool is_objective(const std::string& name);

/// The registered names, comma separated.
std::string objective_names_text();

/// The objective called name; throws dvae::Error listing the names otherwise.
const Objective& find_objective(const std::string& name);

}  // namespace dvae
