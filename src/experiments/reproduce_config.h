// Settings of `dvae reproduce`: the two presets (the paper's exact settings,
// and a quick one that shows every part of the report in minutes), TOML
// overrides, and the resolved configuration saved beside the results.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace dvae {

/// Everything that determines a reproduction run.
struct ReproduceConfig {
  std::string preset = "paper";                     ///< "paper" | "quick" (recorded in the report)
  std::vector<std::string> archs = {"mlp", "cnn"};  ///< architectures, each compared only with itself
  std::string dataset = "mnist";                    ///< data set name or folder
  uint64_t seed = 1;                                ///< base seed of every unit
  int64_t latent_dim = 10;                          ///< latent units of both VAEs (paper: 10)
  int64_t mlp_epochs = 50;                          ///< MLP VAE epochs (paper: 50)
  int64_t cnn_epochs = 75;                          ///< CNN VAE epochs (paper: 75)
  double mlp_beta = 4.0;                            ///< disentangled MLP beta (paper: 4)
  double cnn_beta = 6.0;                            ///< disentangled CNN beta (paper: 6)
  int64_t mlp_vae_train_images = 0;                 ///< MLP VAE training images; 0 = the whole training set
  int64_t cnn_vae_train_images = 0;                 ///< CNN VAE training images; 0 = the whole training set
  std::vector<int64_t> sizes = {1, 3, 5, 10, 100, 1000, -1};  ///< labels per class; -1 = full set
  int64_t trials_small = 5;                         ///< trials for n < 1000 (paper: 5)
  int64_t trials_large = 1;                         ///< trials for n >= 1000 (paper: 1)
  int64_t probe_epochs = 100;                       ///< probe head epochs (paper: 100)
  int64_t supervised_epochs = 100;                  ///< supervised baseline epochs (paper: 100)
  int64_t hidden = 0;                               ///< probe hidden layer width (0 = linear head)
  bool with_logvar = false;                         ///< probe features [mu, logvar] instead of mu
};

/// The named preset; throws dvae::UsageError naming --preset for an unknown name.
ReproduceConfig preset_config(const std::string& name);

/// Applies a TOML file's keys (same names as the fields) over config; throws
/// dvae::Error naming the file and key for unknown keys or wrong types.
void apply_toml_overrides(ReproduceConfig& config, const std::string& path);

/// The configuration as JSON (the resolved settings saved with the results).
nlohmann::json config_to_json(const ReproduceConfig& config);

/// VAE epochs of arch under config.
int64_t vae_epochs(const ReproduceConfig& config, const std::string& arch);
/// Disentangled beta of arch under config.
double disentangled_beta(const ReproduceConfig& config, const std::string& arch);
/// VAE training-image cap of arch (0 = all).
int64_t vae_train_images(const ReproduceConfig& config, const std::string& arch);
/// Supervised baseline subset cap of arch (0 = none).

}  // namespace dvae
