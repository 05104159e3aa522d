// train_m2: balanced batches, the epoch loop, evaluation, checkpoints and resume.
#include "training/m2_trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <numeric>

#include "core/check.h"
#include "core/random.h"
#include "training/checkpoint.h"
#include "training/flat_optimizer.h"
#include "training/m2_objective.h"
#include "dvae/version.h"

namespace dvae {

namespace {

constexpr uint64_t kM2InitStream = 1;      // LibTorch's default generator: initialisation only
constexpr uint64_t kM2StepStream = 2;      // the run's generator: binarisation, code samples, z samples
constexpr uint64_t kM2OrderStream = 3;     // dvae::Rng per epoch: unlabelled order
constexpr uint64_t kM2LabelledStream = 4;  // dvae::Rng per epoch: labelled cycle

using M2Clock = std::chrono::steady_clock;

// Rows of train as M2 inputs for one step: pixels binarised (u < x), codes sampled.
torch::Tensor m2_step_inputs(const M2Inputs& data, const torch::Tensor& rows, at::Generator& generator,
                          torch::Device device) {
  const auto x = data.x.index_select(0, rows);  // [B,...]
  if (data.x_logvar.defined()) {
    const auto eps = torch::randn(x.sizes(), generator, torch::kFloat32);
    return (x + torch::exp(0.5 * data.x_logvar.index_select(0, rows)) * eps).to(device);  // [B,P]
  }
  const auto u = torch::rand(x.sizes(), generator, torch::kFloat32);
  return (u < x).to(torch::kFloat32).to(device);  // [B,...] in {0,1}
}

// Cross-entropy and accuracy of q(y|x) on rows of data (all rows when rows is undefined).
std::pair<double, double> m2_score(M2Impl& m2, const M2Inputs& data, const torch::Tensor& rows, int64_t batch,
                                torch::Device device, torch::Tensor* predictions = nullptr) {
  torch::NoGradGuard no_grad;
  const int64_t n = rows.defined() ? rows.numel() : data.x.size(0);
  double ce = 0;
  int64_t correct = 0;
  std::vector<torch::Tensor> preds;
  for (int64_t s = 0; s < n; s += batch) {
    const int64_t len = std::min(batch, n - s);
    const auto idx = rows.defined() ? rows.narrow(0, s, len) : torch::arange(s, s + len, torch::kLong);
    const auto logits = m2.classify(data.x.index_select(0, idx).to(device));  // [B,C]
    const auto y = data.labels.index_select(0, idx).to(device);
    ce += torch::nn::functional::cross_entropy(
              logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
              .item<double>();
    const auto p = logits.argmax(1);
    correct += p.eq(y).sum().item<int64_t>();
    if (predictions) preds.push_back(p.to(torch::kCPU));
  }
  if (predictions) *predictions = torch::cat(preds, 0);
  return {ce / static_cast<double>(n), static_cast<double>(correct) / static_cast<double>(n)};
}

void check_m2_resumable(const CheckpointMeta& meta, const std::string& path, const M2Options& model,
                     const M2TrainOptions& options, const M2Run& run) {
  const auto want_model = m2_options_to_json(model);
  DVAE_CHECK(meta.arch == "m2" && meta.model_options == want_model, path, ": checkpoint of a '", meta.arch,
             "' model with options ", meta.model_options.dump(), ", expected an M2 with ", want_model.dump(),
             " (remove it or use another output folder)");
  const auto want_train = m2_train_options_to_json(options);
  DVAE_CHECK(meta.train_options == want_train, path, ": checkpoint trained with ", meta.train_options.dump(),
             ", expected ", want_train.dump(), " (remove it or use another output folder)");
  DVAE_CHECK(meta.dataset == run.tag && meta.seed == run.seed, path, ": checkpoint of data '", meta.dataset,
             "' seed ", meta.seed, ", expected '", run.tag, "' seed ", run.seed,
             " (another subset: remove it or use another output folder)");
}

}  // namespace

double m2_epoch_lr(const M2TrainOptions& o, int64_t epoch) {
  return o.lr * std::pow(o.lr_decay, static_cast<double>(epoch - 1));
}

nlohmann::json m2_train_options_to_json(const M2TrainOptions& o) {
  nlohmann::json j = {{"lr", o.lr},
                      {"beta", o.beta},
                      {"alpha", o.alpha},
                      {"unlabelled_batch", o.unlabelled_batch},
                      {"labelled_batch", o.labelled_batch},
                      {"eval_every", o.eval_every},
                      {"weighting", "J/N"}};  // m2_weights(); checkpoints of the earlier alpha * N / N_l weighting are refused
  if (o.lr_decay != 1.0) j["lr_decay"] = o.lr_decay;  // absent = constant, as checkpoints written before the key
  return j;
}

nlohmann::json m2_epoch_to_json(const M2EpochRecord& r) {
  return {{"epoch", r.epoch},
          {"loss", r.loss},
          {"labelled", r.labelled},
          {"unlabelled", r.unlabelled},
          {"cross_entropy", r.cross_entropy},
          {"validation_loss", r.validation_loss},
          {"validation_accuracy", r.validation_accuracy},
          {"test_accuracy", r.test_accuracy},
          {"seconds", r.seconds}};
}

M2EpochRecord m2_epoch_from_json(const nlohmann::json& j) {
  M2EpochRecord r;
  r.epoch = j.at("epoch").get<int64_t>();
  r.loss = j.at("loss").get<double>();
  r.labelled = j.at("labelled").get<double>();
  r.unlabelled = j.at("unlabelled").get<double>();
  r.cross_entropy = j.at("cross_entropy").get<double>();
  r.validation_loss = j.at("validation_loss").get<double>();
  r.validation_accuracy = j.at("validation_accuracy").get<double>();
  r.test_accuracy = j.at("test_accuracy").get<double>();
  r.seconds = j.at("seconds").get<double>();
  return r;
}

torch::Tensor m2_predict(M2Impl& m2, const torch::Tensor& x, int64_t batch, torch::Device device) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> preds;
  for (int64_t s = 0; s < x.size(0); s += batch) {
    const int64_t len = std::min(batch, x.size(0) - s);
    preds.push_back(m2.classify(x.narrow(0, s, len).to(device)).argmax(1).to(torch::kCPU));  // [B,C] -> [B]
  }
  return torch::cat(preds, 0);
}

M2Fit train_m2(const M2Options& model, const M2Inputs& train, const torch::Tensor& labelled,
               const torch::Tensor& unlabelled, const torch::Tensor& validation, const M2Inputs& test,
               const M2TrainOptions& o, const M2Run& run) {
  DVAE_CHECK(o.epochs > 0 && o.unlabelled_batch > 0 && o.labelled_batch > 0 && o.eval_batch > 0 && o.eval_every >= 0,
             "M2: epochs ", o.epochs, ", batches ", o.unlabelled_batch, "/", o.labelled_batch, ", eval_every ",
             o.eval_every, ", expected positive epochs and batch sizes and eval_every >= 0");
  DVAE_CHECK(o.lr > 0 && o.beta >= 0 && o.alpha >= 0, "M2: lr ", o.lr, ", beta ", o.beta, ", alpha ", o.alpha,
             ", expected lr > 0, beta >= 0, alpha >= 0");
  DVAE_CHECK(o.lr_decay > 0 && o.lr_decay <= 1, "M2: lr_decay ", o.lr_decay, ", expected a number in (0, 1]");
  DVAE_CHECK(labelled.defined() && labelled.numel() > 0, "M2: empty labelled subset, expected at least one index");
  DVAE_CHECK(unlabelled.defined() && unlabelled.numel() > 0, "M2: no unlabelled images, expected at least one");
  const auto t_start = M2Clock::now();
  const int64_t M = labelled.numel(), U = unlabelled.numel();
  const M2Weights weights = m2_weights(o.alpha, M, U);

  M2 m2 = nullptr;
  {
    std::lock_guard<std::mutex> lock(default_generator_mutex());
    seed_torch(derive_seed(run.seed, {kM2InitStream}));
    m2 = M2(model);
  }
  m2->to(run.device);
  m2->train();
  at::Generator generator = at::detail::createCPUGenerator(derive_seed(run.seed, {kM2StepStream}));
  FlatOptimizerOptions adam_options;
  adam_options.lr = o.lr;
  FlatOptimizer adam(m2->parameters(), adam_options);

  CheckpointMeta meta;
  meta.arch = "m2";
  meta.latent_dim = model.z_dim;
  meta.beta = o.beta;
  meta.dataset = run.tag;
  meta.seed = run.seed;
  meta.epochs = o.epochs;
  meta.dvae_version = kVersion;
  meta.model_options = m2_options_to_json(model);
  meta.train_options = m2_train_options_to_json(o);
  M2Fit fit;
  double seconds_before = 0;
  if (!run.checkpoint.empty() && std::filesystem::exists(run.checkpoint)) {
    check_m2_resumable(read_checkpoint_meta(run.checkpoint), run.checkpoint, model, o, run);
    const CheckpointMeta saved = restore_checkpoint(run.checkpoint, *m2, &adam, /*restore_rng=*/true, &generator);
    try {
      for (const auto& r : saved.last_stats.at("curve")) fit.curve.push_back(m2_epoch_from_json(r));
    } catch (const nlohmann::json::exception& e) {
      throw Error(run.checkpoint + ": no readable training curve in the checkpoint (" + e.what() +
                  "), expected one written by train_m2 (remove it)");
    }
    DVAE_CHECK(static_cast<int64_t>(fit.curve.size()) == saved.epoch, run.checkpoint, ": ", fit.curve.size(),
               " curve records for ", saved.epoch, " epochs, expected one per epoch (remove it)");
    if (!fit.curve.empty()) seconds_before = fit.curve.back().seconds;
  }

  const auto lab = labelled.to(torch::kLong).contiguous();
  const auto unl = unlabelled.to(torch::kLong).contiguous();
  const int64_t bu = std::min(o.unlabelled_batch, U);
  const int64_t batches = (U + bu - 1) / bu;
  std::vector<int64_t> u_order(U), l_order(M);
  auto rows_u = torch::empty({bu}, torch::kLong), rows_l = torch::empty({o.labelled_batch}, torch::kLong);
  const auto session_start = M2Clock::now();
  for (int64_t epoch = static_cast<int64_t>(fit.curve.size()) + 1; epoch <= o.epochs; ++epoch) {
    std::iota(u_order.begin(), u_order.end(), 0);
    Rng order_rng(derive_seed(run.seed, {kM2OrderStream, static_cast<uint64_t>(epoch)}));
    order_rng.shuffle(u_order);
    Rng lab_rng(derive_seed(run.seed, {kM2LabelledStream, static_cast<uint64_t>(epoch)}));
    std::iota(l_order.begin(), l_order.end(), 0);
    lab_rng.shuffle(l_order);
    size_t l_next = 0;
    adam.set_lr(m2_epoch_lr(o, epoch));
    M2EpochRecord rec;
    rec.epoch = epoch;
    for (int64_t b = 0; b < batches; ++b) {
      const int64_t len = std::min(bu, U - b * bu);
      auto* pu = rows_u.data_ptr<int64_t>();
      for (int64_t i = 0; i < len; ++i) pu[i] = unl.data_ptr<int64_t>()[u_order[b * bu + i]];
      auto* pl = rows_l.data_ptr<int64_t>();
      for (int64_t i = 0; i < o.labelled_batch; ++i) {  // the labelled set cycled, reshuffled at each wrap
        if (l_next == l_order.size()) {
          lab_rng.shuffle(l_order);
          l_next = 0;
        }
        pl[i] = lab.data_ptr<int64_t>()[l_order[l_next++]];
      }
      M2Batch batch;
      batch.x_u = m2_step_inputs(train, rows_u.narrow(0, 0, len), generator, run.device);
      batch.x_l = m2_step_inputs(train, rows_l, generator, run.device);
      batch.y_l = train.labels.index_select(0, rows_l).to(run.device);
      const M2Terms t = m2_objective(*m2, batch, o.beta, weights, generator);
      const double loss = t.loss.item<double>();
      DVAE_CHECK(std::isfinite(loss), "M2: loss is ", loss, " at epoch ", epoch, ", batch ", b + 1, "/", batches,
                 ", expected a finite number (try a lower lr)");
      adam.zero_grad();
      t.loss.backward();
      adam.step();
      rec.loss += loss / static_cast<double>(batches);
      rec.labelled += t.labelled.item<double>() / static_cast<double>(batches);
      rec.unlabelled += t.unlabelled.item<double>() / static_cast<double>(batches);
      rec.cross_entropy += t.cross_entropy.item<double>() / static_cast<double>(batches);
    }
    const bool evaluate = epoch == o.epochs || (o.eval_every > 0 && epoch % o.eval_every == 0);
    if (evaluate) {
      m2->eval();
      if (validation.defined() && validation.numel() > 0) {
        std::tie(rec.validation_loss, rec.validation_accuracy) =
            m2_score(*m2, train, validation.to(torch::kLong), o.eval_batch, run.device);
      }
      rec.test_accuracy = m2_score(*m2, test, {}, o.eval_batch, run.device).second;
      m2->train();
    }
    rec.seconds = seconds_before + std::chrono::duration<double>(M2Clock::now() - session_start).count();
    fit.curve.push_back(rec);
    if (!run.checkpoint.empty()) {
      meta.epoch = epoch;
      nlohmann::json curve = nlohmann::json::array();
      for (const auto& r : fit.curve) curve.push_back(m2_epoch_to_json(r));
      meta.last_stats = {{"curve", curve}};
      save_checkpoint(run.checkpoint, *m2, meta, &adam, &generator);
    }
    if (run.on_epoch) run.on_epoch(rec);
  }
  m2->eval();
  fit.test_predictions = m2_predict(*m2, test.x, o.eval_batch, run.device);
  fit.seconds = seconds_before + std::chrono::duration<double>(M2Clock::now() - t_start).count();
  return fit;
}

}  // namespace dvae
