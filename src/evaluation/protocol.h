// The few-label protocol of the paper (sections 4.1-4.3): for each n labels
// per class (and the full training set) and each trial, one labelled subset is
// drawn, and every model of the comparison - probes on the frozen disentangled
// and standard VAE encoders, and the supervised baseline - is trained on that
// SAME subset (paired comparisons) and scored on the full test set.
//
// Results go to a JSON-lines file, one row per (arch, model, n, trial), each
// written durably as soon as it exists; a rerun skips rows already present, so a
// killed run resumes. summarise() turns rows into the tables of the report.
//
// Speed: each encoder's features are computed once, and every pending probe of
// the grid (all sizes, trials and encoders) is trained in one train_probes() call.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/image_set.h"
#include "evaluation/probe.h"
#include "evaluation/supervised.h"
#include "models/vae.h"

namespace dvae {

/// What the protocol runs; defaults are the paper's.
struct ProtocolOptions {
  std::vector<int64_t> sizes = {1, 3, 5, 10, 100, 1000, -1};  ///< labels per class; -1 = full training set
  int64_t trials_small = 5;       ///< trials for n < 1000 (paper: 5)
  int64_t trials_large = 1;       ///< trials for n >= 1000 and the full set (paper: 1)
  ProbeOptions probe;             ///< probe heads: Adam 0.01, 100 epochs, batch 100, hidden 0
  SupervisedOptions supervised;   ///< supervised baseline: Adam 0.001, 100 epochs (its hidden is set from probe.hidden)
  bool with_logvar = false;       ///< probe features: [mu, logvar] instead of mu
  bool supervised_baseline = true;  ///< also run the supervised baseline
  uint64_t seed = 1;              ///< base seed: subsets (data/sampler.h), head inits and shuffles derive from it
  int64_t feature_batch = 1000;   ///< encoder batch for feature extraction
};

/// A frozen VAE encoder entering the comparison.
struct FrozenEncoder {
  std::string model;                      ///< row "model" name: "disentangled" | "standard"
  double beta = 1.0;                      ///< the VAE's beta
  std::shared_ptr<EncoderImpl> encoder;   ///< its encoder (any device)
};

/// One result: a model trained on one trial's subset and scored on the test set.
struct ResultRow {
  std::string arch;                         ///< "mlp" | "cnn"
  std::string model;                        ///< "disentangled" | "standard" | "supervised"
  double beta = 0.0;                        ///< VAE beta; 0 for supervised
  int64_t n = 0;                            ///< labels per class; -1 = full training set
  int64_t trial = 0;                        ///< trial number, 0-based
  uint64_t seed = 0;                        ///< the protocol's base seed
  std::string dataset;                      ///< data set name
  int64_t subset_size = 0;                  ///< labelled examples trained on
  std::string subset_sha256;                ///< SHA-256 of the subset's int64 indices (pairing check)
  double accuracy = 0.0;                    ///< on the full test set, in [0,1]
  double train_loss = 0.0;                  ///< final epoch's training loss
  int64_t epochs_to_convergence = 0;        ///< see evaluation/probe.h
  double seconds = 0.0;                     ///< training + test time of this row
  int64_t epochs = 0;                       ///< epochs trained
  double lr = 0.0;                          ///< Adam learning rate
  int64_t hidden = 0;                       ///< head hidden width (0 = linear)
  bool with_logvar = false;                 ///< probe features included logvar
  std::vector<double> epoch_loss;           ///< training loss per epoch
  std::vector<std::vector<int64_t>> confusion;  ///< [C][C], row = true, column = predicted
  std::vector<double> per_class_accuracy;   ///< [C]
  std::vector<int64_t> predictions;         ///< predicted label of every test image
};

/// ResultRow as a results.jsonl object (keys as the field names).
nlohmann::json row_to_json(const ResultRow& row);
/// ResultRow from a results.jsonl object; throws dvae::Error naming where for a missing key.
ResultRow row_from_json(const nlohmann::json& json, const std::string& where);

/// Reads a results.jsonl file ([] when it does not exist). A torn last line (a
/// killed write) is dropped and the file rewritten without it; any other bad
/// line throws dvae::Error naming the file and line.
std::vector<ResultRow> read_results(const std::string& path);

/// Progress messages ("mlp disentangled n=10 trial 3: accuracy 0.7312").
using ProtocolLog = std::function<void(const std::string& message)>;

/// Runs the protocol for one architecture (model = the VAEs' ModelOptions, used for
/// the supervised baseline) over encoders, appending new rows to results_path and
/// skipping rows already there. Returns every row of the requested grid, in the
/// order n, trial, model. Throws dvae::Error when a row already present was made
/// with other settings (epochs, learning rate, hidden, with_logvar or beta).
std::vector<ResultRow> run_protocol(const Dataset& data, const ModelOptions& model,
                                    const std::vector<FrozenEncoder>& encoders, const ProtocolOptions& options,
                                    const std::string& results_path, torch::Device device,
                                    const ProtocolLog& log = {});

/// The labelled subset of (n, trial) for options.seed: sorted int64 indices into data.train.
torch::Tensor protocol_subset(const ImageSet& train, int64_t n, int64_t trial, uint64_t seed);

/// Number of trials options gives size n.
int64_t protocol_trials(const ProtocolOptions& options, int64_t n);

/// Mean and spread of one (arch, model, n) cell over its trials.
struct CellSummary {
  std::string arch;                   ///< architecture
  std::string model;                  ///< model name
  int64_t n = 0;                      ///< labels per class (-1 = all)
  int64_t trials = 0;                 ///< rows averaged
  double accuracy_mean = 0.0;         ///< mean test accuracy
  double accuracy_std = 0.0;          ///< sample standard deviation (0 for one trial)
  double train_loss_mean = 0.0;       ///< mean final training loss
  double epochs_mean = 0.0;           ///< mean epochs to convergence
  double seconds_mean = 0.0;          ///< mean seconds per row
};

/// The paired accuracy difference model_a - model_b over the trials both ran.
struct PairedSummary {
  std::string arch;             ///< architecture
  int64_t n = 0;                ///< labels per class (-1 = all)
  std::string model_a;          ///< first model
  std::string model_b;          ///< second model
  int64_t pairs = 0;            ///< trials with both models
  double difference_mean = 0.0; ///< mean of accuracy_a - accuracy_b
  double difference_std = 0.0;  ///< sample standard deviation of the differences (0 for one pair)
};

/// Everything summarise() computes.
struct Summary {
  std::vector<CellSummary> cells;     ///< ordered by arch, n, model
  std::vector<PairedSummary> paired;  ///< ordered by arch, n, pair
};

/// Aggregates rows per (arch, model, n) and pairs models within (arch, n, trial).
Summary summarise(const std::vector<ResultRow>& rows);

/// The summary as aligned text tables: accuracy mean +/- std per model and n, the
/// paired differences, and final training loss / epochs to convergence.
std::string format_summary(const Summary& summary);

/// One CSV line per cell: arch,model,n,trials,accuracy_mean,accuracy_std,train_loss_mean,epochs_to_convergence_mean,seconds_mean.
std::string summary_csv(const Summary& summary);

/// One CSV line per pair: arch,n,model_a,model_b,pairs,difference_mean,difference_std.
std::string paired_csv(const Summary& summary);

/// Error analysis: for each (arch, n, trial) and each pair of models, the test
/// indices A gets wrong and B right and vice versa (counts and the first max_listed).
nlohmann::json error_analysis(const std::vector<ResultRow>& rows, const torch::Tensor& test_labels,
                              int64_t max_listed = 20);

}  // namespace dvae
