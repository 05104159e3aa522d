// A study: which representation models (each trained with K independent VAE
// seeds) on which data sets and architectures, which classifiers on which label
// budgets, and which claims to test. Declared in TOML (`dvae study run
// SPEC.toml`); the paper's presets are studies written the same way
// (experiments/presets.cpp). This file parses, validates and prints specs;
// experiments/study.h runs them.
//
// TOML keys (every key optional unless marked; `dvae study keys` prints this):
//   preset = "paper" | "quick" | "semi-supervised"   start from a preset; every other key overrides it,
//                                   whatever the key order
//   title, datasets = ["mnist"], archs = ["mlp", "cnn"], seed = 1, vae_seeds = 1,
//   sizes = [1, 3, 5, 10, 100, 1000, "all"], trials_small = 5, trials_large = 1,
//   validation_per_class = 100, indicative = false,
//   disentanglement = [] (metric names or "all": scored for every trained VAE),
//   disentanglement_points = 1000 (BetaVAE / FactorVAE training points),
//   vae_nproc = 1 (data-parallel ranks per VAE unit; objectives that support it only)
//   [[models]]       name (required), objective = "beta-vae", beta = 1, latent_dim = 10,
//                    epochs = {mlp = 50, cnn = 75}, train_images = 0 (0 = all)
//                    (beta, epochs and train_images take a number or a table per architecture);
//                    the objective's parameters gamma, c_min, c_max, capacity_iterations,
//                    disc_hidden, disc_layers, disc_lr (only those its objective uses)
//   [[classifiers]]  name (required), kind = "probe" | "supervised", epochs = 100,
//                    lr (probe 0.01, supervised 0.001), hidden = 0, batch_size = 100,
//                    with_logvar = false (probe only)
//   [[claims]]       kind (required: see experiments/claims.h), statement, a, b (a name or a
//                    list), models (list, for "order"), sizes, archs, datasets, metric =
//                    "accuracy", margin, min_fraction, max_fraction
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "evaluation/protocol.h"
#include "training/objectives.h"

namespace dvae {

/// A setting that may differ per architecture: a default and per-arch overrides.
template <typename T>
struct PerArch {
  T value{};                        ///< for every architecture not in by_arch
  std::map<std::string, T> by_arch; ///< per-architecture values
  /// The value for arch.
  T at(const std::string& arch) const {
    const auto it = by_arch.find(arch);
    return it == by_arch.end() ? value : it->second;
  }
};

/// A representation model: an objective and its settings, trained vae_seeds times.
struct ModelSpec {
  std::string name;                    ///< label in every table and plot (unique)
  std::string objective = "beta-vae";  ///< registry name (training/objectives.h)
  PerArch<double> beta{1.0, {}};       ///< KL weight (1 = the standard VAE); beta-tcvae: TC weight
  nlohmann::json parameters = nlohmann::json::object();  ///< the objective's parameters given (gamma, ...)
  int64_t latent_dim = 10;             ///< latent units (paper: 10)
  PerArch<int64_t> epochs{50, {{"cnn", 75}}};  ///< VAE epochs (paper: MLP 50, CNN 75)
  PerArch<int64_t> train_images{0, {}};        ///< training images (0 = the whole training set)
};

/// A claim to test (see experiments/claims.h for the kinds and their rules).
struct ClaimSpec {
  std::string kind;                  ///< "beats" | "matches" | "order" | "collapse" | "gap"
  std::string statement;             ///< the claim in words (generated when empty)
  std::vector<std::string> a;        ///< first model(s)
  std::vector<std::string> b;        ///< second model(s)
  std::vector<std::string> models;   ///< "order": best first
  std::vector<int64_t> sizes;        ///< labels per class covered (empty = every size of the study)
  std::vector<std::string> archs;    ///< architectures covered (empty = all); "gap": the two compared, larger first
  std::vector<std::string> datasets; ///< data sets covered (empty = all)
  std::string metric = "accuracy";   ///< accuracy | train_loss | epochs_to_convergence
  double margin = 0.0;               ///< "matches": equivalence margin in metric units
  double min_fraction = 0.0;         ///< "collapse": fraction of latents with KL < 0.01 nats, lower end
  double max_fraction = 1.0;         ///< "collapse": upper end
};

/// A whole study.
struct StudySpec {
  std::string title = "dvae study";              ///< report heading
  std::string preset;                            ///< preset it started from ("" = none)
  bool indicative = false;                       ///< verdicts labelled indicative (quick preset)
  std::vector<std::string> datasets = {"mnist"}; ///< data set names or folders
  std::vector<std::string> archs = {"mlp", "cnn"};  ///< architectures (models/registry)
  uint64_t seed = 1;                             ///< base seed of every unit
  int64_t vae_seeds = 1;                         ///< independent trainings of each model (K)
  std::vector<ModelSpec> models;                 ///< representation models
  std::vector<ClassifierSpec> classifiers;       ///< classifiers (default: probe + supervised)
  std::vector<int64_t> sizes = {1, 3, 5, 10, 100, 1000, -1};  ///< labels per class; -1 = all
  int64_t trials_small = 5;                      ///< label trials for n < 1000
  int64_t trials_large = 1;                      ///< label trials for n >= 1000 and all
  int64_t validation_per_class = 100;            ///< held-out labelled validation images per class
  std::vector<ClaimSpec> claims;                 ///< claims to test in the report
  /// Disentanglement metrics (evaluation/disentanglement.h registry names) scored for
  /// every trained VAE on its test split; empty = none (the stage is skipped).
  std::vector<std::string> disentanglement;
  /// BetaVAE / FactorVAE training points (evaluation points: half; FactorVAE's
  /// variance estimate: min(10000, 10x)); disentanglement_lib uses 10000.
  int64_t disentanglement_points = 1000;
  /// Data-parallel ranks of every VAE unit (1 = one process; > 1: that many
  /// ranks on 127.0.0.1, as `dvae train --nproc`). An execution setting like
  /// --threads: in no hash, since results agree to float rounding.
  int64_t vae_nproc = 1;
};

/// The preset names, in the order --help lists them.
const std::vector<std::string>& preset_names();

/// The named preset (see preset_names_text); throws dvae::UsageError naming --preset otherwise.
StudySpec preset_study(const std::string& name);

/// The preset names, for messages and --help.
std::string preset_names_text();

/// Parses TOML text (where names the file in errors) into a validated study.
/// A `preset` key is applied first (else base, when given, else the defaults); the
/// other keys override it. Throws dvae::UsageError naming the file and key for
/// unknown keys, wrong types and out-of-range values.
StudySpec parse_study(const std::string& toml_text, const std::string& where, const StudySpec* base = nullptr);

/// Reads and parses a study file (over base when given, see parse_study); throws
/// dvae::UsageError naming it.
StudySpec load_study(const std::string& path, const StudySpec* base = nullptr);

/// Checks names, ranges and references (claims name existing models); throws
/// dvae::UsageError naming where and the key.
void validate_study(const StudySpec& spec, const std::string& where);

/// The resolved study as JSON (saved with the results and shown in the report).
nlohmann::json study_to_json(const StudySpec& spec);

/// The objective settings of model m: its objective's defaults, then its parameters.
ObjectiveSettings model_objective_settings(const ModelSpec& m);

/// The protocol options of the study (sizes, trials, classifiers, seed, validation).
ProtocolOptions study_protocol(const StudySpec& spec);

/// One line per key with its meaning and default (for `dvae study keys`).
std::string study_keys_help();

}  // namespace dvae
