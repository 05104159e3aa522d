// The registry of classifier kinds a protocol (and a study) can run on the
// labelled subsets: today a probe on a frozen encoder's features and the
// supervised baseline trained end to end; semi-supervised kinds plug in the
// same way. Adding a kind is one file with its runner plus one line in
// classifier_kinds.cpp; the contract test runs over every registered name.
//
// Not for: choosing subsets, resuming or writing rows (evaluation/protocol.cpp
// does that for every kind alike).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "data/image_set.h"
#include "evaluation/protocol.h"

namespace dvae {

/// One labelled subset of the grid, shared by every model (paired comparisons).
struct ProtocolCell {
  int64_t n = 0;          ///< labels per class (-1 = all)
  int64_t trial = 0;      ///< trial, 0-based
  torch::Tensor subset;   ///< int64 [M] rows of data.train
  std::string hash;       ///< SHA-256 of subset
};

/// What a kind's runner is given.
struct ClassifierRun {
  const Dataset& data;                         ///< train (subsets index it) and test (scored)
  const ModelOptions& model;                   ///< architecture of the VAEs (the supervised trunk)
  const std::vector<FrozenEncoder>& encoders;  ///< frozen encoders (used by kinds that need one)
  const ClassifierSpec& spec;                  ///< this classifier
  const ProtocolOptions& options;              ///< the whole protocol (seed, feature batch)
  const std::vector<ProtocolCell>& cells;      ///< every subset
  const torch::Tensor& validation;             ///< held-out rows of data.train (undefined = none)
  torch::Device device;                        ///< compute device
  std::string work_dir;                        ///< folder beside the results for checkpoints and logs of long kinds
  /// The row that (cell, encoder index or -1) would produce, with its settings filled in.
  std::function<ResultRow(const ProtocolCell&, int64_t encoder)> blank;
  /// False when that row is already in the results file (after checking its settings).
  std::function<bool(const ResultRow&)> pending;
  /// Scores test predictions into the row and writes it durably.
  std::function<void(ResultRow&, const torch::Tensor& test_predictions)> finish;
  /// Progress lines.
  std::function<void(const std::string&)> say;
};

/// A registered classifier kind.
struct ClassifierKind {
  std::string name;          ///< "probe", "supervised", ...
  std::string description;   ///< one line for --help and the README
  bool uses_encoder = false; ///< trained on a frozen encoder's features (one row per encoder)
  std::function<void(const ClassifierRun&)> run;  ///< trains every pending row of the grid
  bool semi_supervised = false;  ///< an M2 kind: its settings are ClassifierSpec::semi
};

/// Every registered kind, in registry order.
const std::vector<ClassifierKind>& classifier_kinds();

/// The kind called name; throws dvae::Error listing the registered names otherwise.
const ClassifierKind& find_classifier_kind(const std::string& name);

/// Runners of the built-in kinds (each in its own file).
void run_probe_classifier(const ClassifierRun& run);
void run_supervised_classifier(const ClassifierRun& run);
void run_m2_classifier(const ClassifierRun& run);
void run_m1m2_classifier(const ClassifierRun& run);

}  // namespace dvae
