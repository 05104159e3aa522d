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
#include <optional>
#include <string>
#include <vector>

#include "data/image_set.h"
#include "evaluation/probe.h"
#include "evaluation/semi_supervised.h"
#include "evaluation/supervised.h"
#include "models/vae.h"

namespace dvae {

/// One classifier of a comparison: a kind from the registry (evaluation/classifier_kind.h:
/// "probe" on a frozen encoder, "supervised" end to end) and its options.
struct ClassifierSpec {
  std::string name = "probe";     ///< its name in results (default "probe"); unique in a protocol
  std::string kind = "probe";     ///< registry name: "probe" | "supervised" | "m2" | "m1m2"
  ProbeOptions probe;             ///< probe kinds: Adam 0.01, 100 epochs, batch 100, hidden 0
  SupervisedOptions supervised;   ///< supervised kinds: Adam 0.001, 100 epochs, batch 100, hidden 0
  bool with_logvar = false;       ///< probe kinds: features [mu, logvar] instead of mu
  std::vector<std::string> encoders;  ///< kinds on a frozen encoder: only these models (empty = every encoder)
  SemiSupervisedOptions semi;     ///< M2 kinds ("m2", "m1m2"): Adam 3e-4, 100 epochs, beta 1, alpha 0.1
};

/// True when classifier runs on encoder model (ClassifierSpec::encoders empty or naming it).
bool classifier_uses(const ClassifierSpec& classifier, const std::string& model);

/// The paper's linear probe (name "probe") and supervised baseline (name "supervised").
std::vector<ClassifierSpec> paper_classifiers(int64_t hidden = 0);

/// What the protocol runs; defaults are the paper's.
struct ProtocolOptions {
  std::vector<int64_t> sizes = {1, 3, 5, 10, 100, 1000, -1};  ///< labels per class; -1 = full training set
  int64_t trials_small = 5;       ///< trials for n < 1000 (paper: 5)
  int64_t trials_large = 1;       ///< trials for n >= 1000 and the full set (paper: 1)
  std::vector<ClassifierSpec> classifiers = paper_classifiers();  ///< what is trained on every subset
  uint64_t seed = 1;              ///< base seed: subsets (data/sampler.h), head inits and shuffles derive from it
  int64_t feature_batch = 1000;   ///< encoder batch for feature extraction
  int64_t validation_per_class = 100;  ///< held-out labelled images per class (0 = none): disjoint from every
                                       ///< subset, scored after each epoch for epochs to convergence
};

/// A frozen VAE encoder entering the comparison.
struct FrozenEncoder {
  std::string model;                      ///< representation model name (from the study or --encoder NAME=...)
  double beta = 1.0;                      ///< the VAE's beta
  std::shared_ptr<EncoderImpl> encoder;   ///< its encoder (any device)
  int64_t vae_seed = 0;                   ///< which independent training of the model (0-based)
};

/// One result: a model trained on one trial's subset and scored on the test set.
struct ResultRow {
  std::string arch;                         ///< "mlp" | "cnn"
  std::string model;                        ///< series name: the encoder's model (with " / classifier" when
                                            ///< several probes run) or the supervised classifier's name
  std::string classifier;                   ///< classifier name (ClassifierSpec::name)
  int64_t vae_seed = 0;                     ///< VAE seed index of the encoder (0 for supervised rows)
  double beta = 0.0;                        ///< VAE beta; 0 for supervised
  int64_t n = 0;                            ///< labels per class; -1 = full training set
  int64_t trial = 0;                        ///< trial number, 0-based
  uint64_t seed = 0;                        ///< the protocol's base seed
  std::string dataset;                      ///< data set name
  int64_t subset_size = 0;                  ///< labelled examples trained on
  std::string subset_sha256;                ///< SHA-256 of the subset's int64 indices (pairing check)
  double accuracy = 0.0;                    ///< on the full test set, in [0,1]
  double train_loss = 0.0;                  ///< final epoch's training loss
  int64_t epochs_to_convergence = 0;        ///< best validation epoch (see evaluation/probe.h)
  double seconds = 0.0;                     ///< training + test time of this row
  int64_t epochs = 0;                       ///< epochs trained
  double lr = 0.0;                          ///< Adam learning rate
  int64_t hidden = 0;                       ///< head hidden width (0 = linear)
  bool with_logvar = false;                 ///< probe features included logvar
  nlohmann::json settings;                  ///< kind-specific settings (M2 kinds: semi_supervised_to_json); null else
  std::vector<double> epoch_loss;           ///< training loss per epoch
  std::vector<double> validation_loss;      ///< validation loss per epoch (empty without a validation set)
  std::vector<std::vector<int64_t>> confusion;  ///< [C][C], row = true, column = predicted
  std::vector<double> per_class_accuracy;   ///< [C]
  std::vector<int64_t> predictions;         ///< predicted label of every test image
};

/// ResultRow as a results.jsonl object (keys as the field names).
nlohmann::json row_to_json(const ResultRow& row);
/// ResultRow from a results.jsonl object; throws dvae::Error naming where for a missing key.
ResultRow row_from_json(const nlohmann::json& json, const std::string& where);

/// What read_results does with a torn last line (a write killed half way).
enum class TornTail {
  kRepair,  ///< drop it and rewrite the file without it (the writer, before it appends)
  kSkip,    ///< drop it and leave the file alone (readers such as `dvae plot`, which may run beside a writer)
};

/// The one reader of results.jsonl ([] when it does not exist). A torn last line
/// is dropped (see TornTail); any other bad line throws dvae::Error naming the
/// file and line.
std::vector<ResultRow> read_results(const std::string& path, TornTail torn_tail = TornTail::kRepair);

/// Progress messages ("mlp disentangled n=10 trial 3: accuracy 0.7312").
using ProtocolLog = std::function<void(const std::string& message)>;

/// Runs the protocol for one architecture (model = the VAEs' ModelOptions, used for
/// the supervised baseline): every classifier of options on every subset, probes
/// on every encoder; appends new rows to results_path and skips rows already there.
/// Returns every row of the requested grid, in the order n, trial, classifier,
/// encoder. Throws dvae::Error when a row already present was made with other
/// settings (epochs, learning rate, hidden, with_logvar or beta).
std::vector<ResultRow> run_protocol(const Dataset& data, const ModelOptions& model,
                                    const std::vector<FrozenEncoder>& encoders, const ProtocolOptions& options,
                                    const std::string& results_path, torch::Device device,
                                    const ProtocolLog& log = {});

/// The labelled subset of (n, trial) for seed, disjoint from protocol_validation(train,
/// validation_per_class, seed): sorted int64 indices into train.
torch::Tensor protocol_subset(const ImageSet& train, int64_t n, int64_t trial, uint64_t seed,
                              int64_t validation_per_class = 0);

/// The held-out validation rows (validation_per_class per class; undefined when 0).
torch::Tensor protocol_validation(const ImageSet& train, int64_t validation_per_class, uint64_t seed);

/// The series name of probe rows of encoder_model under classifier in options.
std::string series_name(const std::string& encoder_model, const ClassifierSpec& classifier,
                        const ProtocolOptions& options);

/// Number of trials options gives size n.
int64_t protocol_trials(const ProtocolOptions& options, int64_t n);

/// Which number of a row a comparison looks at.
enum class Metric { kAccuracy, kTrainLoss, kEpochsToConvergence };
/// "accuracy" | "train_loss" | "epochs_to_convergence"; throws dvae::Error for other names.
Metric metric_from_name(const std::string& name);
/// The metric's name.
std::string metric_name(Metric metric);
/// True for accuracy (higher is better), false for the others (lower is better).
bool higher_is_better(Metric metric);
/// The metric's value in a row.
double metric_value(const ResultRow& row, Metric metric);

/// Mean and spread of one (dataset, arch, model, n) cell. The replication unit is
/// the VAE seed when the model has two or more (per seed, the mean over its label
/// trials), else the label trial.
struct CellSummary {
  std::string dataset;                ///< data set name
  std::string arch;                   ///< architecture
  std::string model;                  ///< model (series) name
  int64_t n = 0;                      ///< labels per class (-1 = all)
  int64_t vae_seeds = 1;              ///< VAE seeds behind the cell
  int64_t trials = 0;                 ///< rows averaged (all seeds and trials)
  std::string unit;                   ///< "VAE seeds" | "label trials"
  int64_t replicates = 0;             ///< number of replication units
  double accuracy_mean = 0.0;         ///< mean test accuracy (mean of seed means)
  double accuracy_std = 0.0;          ///< sample standard deviation over the replication units
  double accuracy_ci_low = 0.0;       ///< 95% t interval of the mean over the units (= mean with one unit)
  double accuracy_ci_high = 0.0;      ///< upper end
  double train_loss_mean = 0.0;       ///< mean final training loss
  double epochs_mean = 0.0;           ///< mean epochs to convergence
  double seconds_mean = 0.0;          ///< mean seconds per row
};

/// A paired comparison model_a - model_b in one (dataset, arch, n) cell: pairs are
/// (VAE seed index, label trial) with the same labelled subset; per VAE seed the
/// differences are averaged over trials and the test runs across seeds. With one
/// VAE seed per model the label trials are the units (conditional on that one VAE).
struct PairedSummary {
  std::string dataset;          ///< data set name
  std::string arch;             ///< architecture
  int64_t n = 0;                ///< labels per class (-1 = all)
  std::string model_a;          ///< first model
  std::string model_b;          ///< second model
  std::string metric = "accuracy";  ///< compared metric
  std::string unit;             ///< "VAE seeds" | "label trials"
  int64_t pairs = 0;            ///< replication units (seeds or trials) with both models
  int64_t trials = 0;           ///< label trials per unit (1 when the units are trials)
  double difference_mean = 0.0; ///< mean of metric_a - metric_b over the units
  double difference_std = 0.0;  ///< sample standard deviation over the units (0 for one)
  double ci_low = 0.0;          ///< 95% t interval of the mean difference
  double ci_high = 0.0;         ///< upper end
  double p_value = 1.0;         ///< two-sided paired t-test (1 when fewer than two units)
  std::vector<double> differences;  ///< the per-unit differences the test ran on
};

/// The paired comparison a - b on metric in one cell; nullopt when no pair exists.
std::optional<PairedSummary> compare_models(const std::vector<ResultRow>& rows, const std::string& dataset,
                                            const std::string& arch, int64_t n, const std::string& model_a,
                                            const std::string& model_b, Metric metric = Metric::kAccuracy);

/// Everything summarise() computes.
struct Summary {
  std::vector<CellSummary> cells;     ///< ordered by dataset, arch, n, model (first appearance in the rows)
  std::vector<PairedSummary> paired;  ///< every model against the first, and against each supervised one
  std::vector<std::string> models;    ///< model names in order of first appearance
};

/// Aggregates rows per (dataset, arch, model, n) and compares models in each (dataset, arch, n).
Summary summarise(const std::vector<ResultRow>& rows);

/// The summary as aligned text tables: accuracy mean +/- std per model and n, the
/// paired differences, and final training loss / epochs to convergence.
std::string format_summary(const Summary& summary);

/// One CSV line per cell: dataset,arch,model,n,vae_seeds,trials,unit,accuracy_mean,accuracy_std,accuracy_ci_low,
/// accuracy_ci_high,train_loss_mean,epochs_to_convergence_mean,seconds_mean.
std::string summary_csv(const Summary& summary);

/// One CSV line per pair: dataset,arch,n,model_a,model_b,metric,unit,pairs,trials,difference_mean,difference_std,
/// ci_low,ci_high,p_value.
std::string paired_csv(const Summary& summary);

/// Error analysis: for each (arch, n, trial) and each pair of models, the test
/// indices A gets wrong and B right and vice versa (counts and the first max_listed).
nlohmann::json error_analysis(const std::vector<ResultRow>& rows, const torch::Tensor& test_labels,
                              int64_t max_listed = 20);

}  // namespace dvae
