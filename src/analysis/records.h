// Readers for the two JSON-lines files the figures are drawn from: the
// classifier results (results.jsonl, one run per line, written by the few-label
// protocol) and a VAE's training log (log.jsonl, one epoch per line). Strict:
// a malformed line is an error naming the file and line. Not a results store.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace dvae {

/// One classifier run: a (arch, model, n, trial) cell of the few-label protocol.
struct AccuracyRecord {
  std::string arch;                              ///< "mlp" | "cnn"
  std::string model;                             ///< model (series) name from the study or --encoder
  double beta = 0.0;                             ///< VAE beta (0 for supervised)
  int64_t n = 0;                                 ///< labels per class; -1 = the full training set
  int64_t trial = 0;                             ///< trial number
  double accuracy = 0.0;                         ///< test accuracy in [0,1]
  std::vector<std::vector<int64_t>> confusion;   ///< [C][C] counts, row = true class (may be empty)
  std::vector<int64_t> predictions;              ///< predicted label per test image (may be empty)
};

/// Reads results.jsonl; blank lines are skipped. Throws dvae::Error naming path:line.
std::vector<AccuracyRecord> read_accuracy_records(const std::string& path);

/// One epoch of a VAE training log.
struct EpochRecord {
  int64_t epoch = 0;                  ///< 1-based epoch
  double train_recon = 0.0;           ///< mean reconstruction loss per image on the training set (nats)
  double train_kl = 0.0;              ///< mean KL per image on the training set (nats)
  double test_recon = 0.0;            ///< the same on the test set
  double test_kl = 0.0;               ///< the same on the test set
  double test_elbo = 0.0;             ///< -(test_recon + test_kl), beta = 1 (nats, negative)
  double beta = 0.0;                  ///< beta used in training
  std::vector<double> kl_per_latent;  ///< [D] test KL per latent (nats)
};

/// Reads log.jsonl; blank lines are skipped. Throws dvae::Error naming path:line.
std::vector<EpochRecord> read_training_log(const std::string& path);

/// Reads a JSON-lines file into objects; throws dvae::Error naming path:line for bad JSON.
std::vector<nlohmann::json> read_json_lines(const std::string& path);

}  // namespace dvae
