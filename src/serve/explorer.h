// What `dvae serve` computes, apart from HTTP: the trained VAEs named at
// start-up, each with its per-latent test KL (which orders the page's sliders)
// and optionally a probe classifier on its posterior means, and the test set
// the page picks images from. Every inference call is thread-safe (one mutex
// per model: LibTorch modules switch train/eval flags while they run). Not for
// training VAEs (training/), nor for request parsing (serve/api.h).
//
// Tensor legend: B codes or images, D latents, H = W = S image side, C classes.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "data/image_set.h"
#include "evaluation/probe.h"
#include "models/vae.h"
#include "training/checkpoint.h"

namespace dvae {

/// One checkpoint to serve and the name the page and the API show for it.
struct ServedCheckpoint {
  std::string name;  ///< unique label (the API's "model" may be this name or the index)
  std::string path;  ///< checkpoint.pt written by dvae train or dvae reproduce
};

/// How the explorer prepares its models.
struct ExplorerOptions {
  int64_t probe_labels = 0;    ///< labelled training images per class for each model's probe; -1 = all; 0 = none (default)
  uint64_t probe_seed = 1;     ///< seed of the labelled subset and of the head (default 1)
  ProbeOptions probe;          ///< probe training (default the paper's: linear softmax, Adam 0.01, 100 epochs)
  double collapsed_kl = 0.01;  ///< latents with test KL below this (nats) are shown as collapsed (default 0.01)
  torch::Device device = torch::kCPU;  ///< where the models run (default the CPU)
};

/// A probe trained for the page: a softmax head on a model's posterior means.
struct ExplorerProbe {
  ProbeHead head;              ///< linear (or one hidden layer) head, [D] -> [C]
  int64_t labels_per_class = 0;  ///< labelled images per class it was trained on (-1 = all)
  int64_t train_images = 0;    ///< labelled training images used
  double test_accuracy = 0.0;  ///< fraction of the test set it classifies correctly
};

/// A trained VAE ready to answer requests from several threads.
class ExplorerModel {
 public:
  /// Loads path (a dvae checkpoint) onto device; throws dvae::Error naming it when unreadable.
  ExplorerModel(std::string name, std::string path, torch::Device device = torch::kCPU);

  /// The name given at start-up.
  const std::string& name() const { return name_; }
  /// The checkpoint path given at start-up.
  const std::string& path() const { return path_; }
  /// What the checkpoint says about itself.
  const CheckpointMeta& meta() const { return vae_.meta; }
  /// D.
  int64_t latent_dim() const { return vae_.meta.latent_dim; }
  /// S, the image side.
  int64_t image_size() const { return vae_.vae->options().image_size; }

  /// Per-latent KL on the test set (nats), [D]: from the checkpoint's last epoch when it holds one.
  const std::vector<double>& kl() const { return kl_; }
  /// "checkpoint" (the training run's last test evaluation) or "test set" (computed at start-up).
  const std::string& kl_source() const { return kl_source_; }
  /// Latent indices by KL, largest first (ties: lower index first).
  std::vector<int64_t> order() const;
  /// The probe, when one was trained (--classifier).
  const ExplorerProbe* probe() const { return probe_ ? probe_.get() : nullptr; }

  /// sigmoid(decoder(z)): z float [B,D] -> images float [B,S,S] in [0,1].
  torch::Tensor decode(const torch::Tensor& z) const;
  /// q(z|x): x float [B,1,S,S] in [0,1] -> mu, logvar [B,D].
  Posterior encode(const torch::Tensor& x) const;
  /// The probe's class probabilities of codes: mu [B,D] -> [B,C]; throws dvae::Error without a probe.
  torch::Tensor class_probabilities(const torch::Tensor& mu) const;

  /// Metadata for the page (name, architecture, beta, epoch, KL, order, collapsed flags, probe).
  nlohmann::json describe(double collapsed_kl) const;

 private:
  friend class Explorer;

  std::string name_;
  std::string path_;
  LoadedVae vae_;
  std::vector<double> kl_;
  std::string kl_source_;
  std::unique_ptr<ExplorerProbe> probe_ = nullptr;
  mutable std::mutex mutex_;  // one inference at a time per model
};

/// Progress messages of the start-up work.
using ExplorerLog = std::function<void(const std::string&)>;

/// The models of one `dvae serve` and the data set its page draws test images from.
class Explorer {
 public:
  /// Loads every checkpoint (they must share the image size of data), takes each
  /// model's test KL from its checkpoint or computes it on data.test, and trains
  /// the probes options asks for on data.train. Throws dvae::Error naming the
  /// checkpoint or the data set on a mismatch.
  Explorer(const std::vector<ServedCheckpoint>& checkpoints, Dataset data, const ExplorerOptions& options = {},
           const ExplorerLog& log = {});

  /// Number of models.
  size_t size() const { return models_.size(); }
  /// Model i (0-based, in start-up order).
  const ExplorerModel& model(size_t i) const { return *models_.at(i); }
  /// The model called name, or nullptr.
  const ExplorerModel* find(const std::string& name) const;
  /// The test split whose images the page can pick.
  const ImageSet& test_set() const { return data_.test; }
  /// S, shared by every model.
  int64_t image_size() const { return models_.front()->image_size(); }
  /// One name per class ("0".."9" for digits).
  const std::vector<std::string>& class_names() const { return class_names_; }
  /// The options it was built with.
  const ExplorerOptions& options() const { return options_; }
  /// Everything the page needs to lay itself out (GET /api/models).
  nlohmann::json describe() const;

 private:
  Dataset data_;
  ExplorerOptions options_;
  std::vector<std::string> class_names_;
  std::vector<std::unique_ptr<ExplorerModel>> models_;
};

}  // namespace dvae
