// Reader of a VAE's training log (log.jsonl, one epoch per line), which the
// training curves are drawn from. Strict: a malformed line is an error naming
// the file and line. (Classifier results have one reader and one record type:
// read_results and ResultRow in evaluation/protocol.h.)
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace dvae {

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
