// The explorer's models: loading, per-latent KL, probes, thread-safe inference.
#include "serve/explorer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "analysis/traversal.h"
#include "core/check.h"
#include "core/random.h"
#include "data/datasets.h"
#include "data/sampler.h"
#include "evaluation/features.h"

namespace dvae {

namespace {

constexpr uint64_t kServeProbeStream = 0x7365727665;  // "serve"

// The KL the checkpoint's last epoch measured on the test set, or empty when it holds none of size d.
std::vector<double> checkpoint_kl(const CheckpointMeta& meta) {
  if (!meta.last_stats.is_object() || !meta.last_stats.contains("kl_per_latent")) return {};
  const auto& j = meta.last_stats.at("kl_per_latent");
  if (!j.is_array() || static_cast<int64_t>(j.size()) != meta.latent_dim) return {};
  std::vector<double> kl;
  for (const auto& v : j) {
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0) return {};
    kl.push_back(v.get<double>());
  }
  return kl;
}

std::vector<std::string> class_names_of(const Dataset& data) {
  const DatasetInfo* info = find_dataset(data.name);
  if (info && static_cast<int64_t>(info->class_names.size()) == data.test.num_classes) return info->class_names;
  std::vector<std::string> names;
  for (int64_t c = 0; c < data.test.num_classes; ++c) names.push_back(std::to_string(c));
  return names;
}

// Trains model's probe on labels_per_class training images per class; scores it on the test features.
std::unique_ptr<ExplorerProbe> train_probe(const ExplorerModel& model, const Dataset& data,
                                           const ExplorerOptions& options, const torch::Tensor& test_mu) {
  SamplerOptions sampler;
  sampler.n = options.probe_labels;
  sampler.seed = options.probe_seed;
  const LabelSplit split = sample_labelled(data.train.labels, data.train.num_classes, sampler, 0);
  const ImageSet labelled = data.train.subset(split.labelled);
  const torch::Tensor x = labelled.images.to(torch::kFloat32).div(255.0).unsqueeze(1);  // [M,S,S] -> [M,1,S,S]
  torch::Tensor features;
  for (int64_t start = 0; start < x.size(0); start += 1000) {
    const int64_t len = std::min<int64_t>(1000, x.size(0) - start);
    const torch::Tensor mu = model.encode(x.narrow(0, start, len)).mu;  // [len,D]
    features = features.defined() ? torch::cat({features, mu}) : mu;
  }
  ProbeTask task;
  task.features = features.contiguous();
  task.labels = labelled.labels.contiguous();
  task.subset = torch::arange(features.size(0), torch::kInt64);
  task.num_classes = data.train.num_classes;
  task.seed = derive_seed(options.probe_seed, {kServeProbeStream});
  auto probe = std::make_unique<ExplorerProbe>();
  probe->head = train_probes({task}, options.probe).front().head;
  probe->labels_per_class = options.probe_labels;
  probe->train_images = features.size(0);
  const torch::Tensor predicted = probe_predict(probe->head, test_mu);
  probe->test_accuracy = predicted.eq(data.test.labels).to(torch::kFloat64).mean().item<double>();
  return probe;
}

std::string seconds_since(std::chrono::steady_clock::time_point t0) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(2)
      << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s";
  return out.str();
}

}  // namespace

ExplorerModel::ExplorerModel(std::string name, std::string path, torch::Device device)
    : name_(std::move(name)), path_(std::move(path)), vae_(load_vae(path_, device)) {
  kl_ = checkpoint_kl(vae_.meta);
  if (!kl_.empty()) kl_source_ = "checkpoint";
}

std::vector<int64_t> ExplorerModel::order() const {
  return latents_by_kl(torch::tensor(kl_, torch::kFloat64));
}

torch::Tensor ExplorerModel::decode(const torch::Tensor& z) const {
  DVAE_CHECK(z.dim() == 2 && z.size(1) == latent_dim(), "model '", name_, "': codes of shape ", z.sizes(),
             ", expected [B,", latent_dim(), "]");
  std::lock_guard<std::mutex> lock(mutex_);
  return decode_images(*vae_.vae->decoder(), z).squeeze(1);  // [B,D] -> [B,1,S,S] -> [B,S,S]
}

Posterior ExplorerModel::encode(const torch::Tensor& x) const {
  const int64_t s = image_size();
  DVAE_CHECK(x.dim() == 4 && x.size(1) == 1 && x.size(2) == s && x.size(3) == s, "model '", name_,
             "': images of shape ", x.sizes(), ", expected [B,1,", s, ",", s, "]");
  std::lock_guard<std::mutex> lock(mutex_);
  torch::NoGradGuard no_grad;
  auto& encoder = *vae_.vae->encoder();
  const bool was_training = encoder.is_training();
  encoder.eval();
  Posterior q = encoder.encode(x.to(module_device(encoder), torch::kFloat32));  // [B,1,S,S] -> 2 x [B,D]
  encoder.train(was_training);
  return {q.mu.to(torch::kCPU), q.logvar.to(torch::kCPU)};
}

torch::Tensor ExplorerModel::class_probabilities(const torch::Tensor& mu) const {
  DVAE_CHECK(probe_ != nullptr, "model '", name_, "' has no classifier (start dvae serve with --classifier probe:N)");
  DVAE_CHECK(mu.dim() == 2 && mu.size(1) == latent_dim(), "model '", name_, "': codes of shape ", mu.sizes(),
             ", expected [B,", latent_dim(), "]");
  torch::NoGradGuard no_grad;
  return torch::softmax(probe_logits(probe_->head, mu.to(torch::kCPU, torch::kFloat32)), 1);  // [B,D] -> [B,C]
}

nlohmann::json ExplorerModel::describe(double collapsed_kl) const {
  nlohmann::json collapsed = nlohmann::json::array();
  int64_t active = 0;
  for (double k : kl_) {
    collapsed.push_back(k < collapsed_kl);
    active += k < collapsed_kl ? 0 : 1;
  }
  nlohmann::json j = {{"name", name_},
                      {"checkpoint", std::filesystem::path(path_).filename().string()},
                      {"arch", meta().arch},
                      {"beta", meta().beta},
                      {"dataset", meta().dataset},
                      {"epoch", meta().epoch},
                      {"epochs", meta().epochs},
                      {"seed", meta().seed},
                      {"latent_dim", latent_dim()},
                      {"image_size", image_size()},
                      {"kl_per_latent", kl_},
                      {"kl_source", kl_source_},
                      {"order", order()},
                      {"collapsed", collapsed},
                      {"active_latents", active},
                      {"classifier", nullptr}};
  if (meta().last_stats.is_object() && meta().last_stats.contains("test_elbo")) {
    j["test_elbo"] = meta().last_stats.at("test_elbo");
  }
  if (probe_) {
    j["classifier"] = {{"kind", "probe"},
                       {"head", probe_->head.hidden_weight.defined() ? "hidden" : "linear"},
                       {"labels_per_class", probe_->labels_per_class},
                       {"train_images", probe_->train_images},
                       {"test_accuracy", probe_->test_accuracy}};
  }
  return j;
}

Explorer::Explorer(const std::vector<ServedCheckpoint>& checkpoints, Dataset data, const ExplorerOptions& options,
                   const ExplorerLog& log)
    : data_(std::move(data)), options_(options) {
  DVAE_CHECK(!checkpoints.empty(), "dvae serve: no checkpoint given, expected at least one");
  DVAE_CHECK(data_.test.size() > 0, data_.dir, ": the test split is empty, expected test images to explore");
  class_names_ = class_names_of(data_);
  const auto say = [&](const std::string& m) {
    if (log) log(m);
  };
  for (const auto& c : checkpoints) {
    DVAE_CHECK(find(c.name) == nullptr, "--checkpoint: the name '", c.name, "' is given twice, expected unique names");
    DVAE_CHECK(std::filesystem::is_regular_file(c.path), "--checkpoint: ", c.path,
               " does not exist, expected a checkpoint.pt written by dvae train");
    models_.push_back(std::make_unique<ExplorerModel>(c.name, c.path, options.device));
    const ExplorerModel& m = *models_.back();
    DVAE_CHECK(m.image_size() == data_.test.rows() && m.image_size() == data_.test.cols(), "--checkpoint ", c.path,
               ": a model of ", m.image_size(), "x", m.image_size(), " images, but ", data_.dir, " holds ",
               data_.test.rows(), "x", data_.test.cols(), " images (give --dataset or --data-dir of its data)");
  }
  for (auto& model : models_) {
    const bool need_kl = model->kl_.empty();
    if (!need_kl && options.probe_labels == 0) continue;
    const auto t0 = std::chrono::steady_clock::now();
    const torch::Tensor x = data_.test.images;  // [N,S,S] uint8
    torch::Tensor mu, logvar;
    for (int64_t start = 0; start < x.size(0); start += 1000) {
      const int64_t len = std::min<int64_t>(1000, x.size(0) - start);
      const Posterior q = model->encode(x.narrow(0, start, len).to(torch::kFloat32).div(255.0).unsqueeze(1));
      mu = mu.defined() ? torch::cat({mu, q.mu}) : q.mu;                  // -> [N,D]
      logvar = logvar.defined() ? torch::cat({logvar, q.logvar}) : q.logvar;  // -> [N,D]
    }
    if (need_kl) {
      const auto kl = (0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0)).mean(0).to(torch::kFloat64);  // [N,D] -> [D]
      model->kl_.assign(kl.data_ptr<double>(), kl.data_ptr<double>() + kl.size(0));
      model->kl_source_ = "test set";
    }
    if (options.probe_labels != 0) {
      model->probe_ = train_probe(*model, data_, options, mu);
      std::ostringstream m;
      m << "model '" << model->name() << "': probe on " << model->probe_->train_images << " labelled images, test accuracy "
        << std::fixed << std::setprecision(1) << 100.0 * model->probe_->test_accuracy << "%";
      say(m.str() + " (" + seconds_since(t0) + ")");
    }
  }
}

const ExplorerModel* Explorer::find(const std::string& name) const {
  for (const auto& m : models_) {
    if (m->name() == name) return m.get();
  }
  return nullptr;
}

nlohmann::json Explorer::describe() const {
  nlohmann::json models = nlohmann::json::array();
  for (const auto& m : models_) models.push_back(m->describe(options_.collapsed_kl));
  return {{"models", models},
          {"dataset", data_.name},
          {"image_size", image_size()},
          {"test_images", data_.test.size()},
          {"class_names", class_names_},
          {"collapsed_kl", options_.collapsed_kl}};
}

}  // namespace dvae
