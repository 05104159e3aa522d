// M2 rows of the protocol (see semi_supervised.h).
#include "evaluation/semi_supervised.h"

#include <chrono>
#include <cctype>
#include <filesystem>
#include <optional>
#include <iomanip>
#include <sstream>

#include "core/atomic_file.h"
#include "core/check.h"
#include "core/random.h"
#include "evaluation/classifier_kind.h"
#include "evaluation/features.h"
#include "evaluation/probe.h"

namespace dvae {

namespace {

constexpr uint64_t kSemiSupervisedStream = 0x6d32;  // "m2"

// A file name from a row's identity.
std::string m2_file_stem(const ResultRow& r) {
  std::string s = r.dataset + "_" + r.arch + "_" + r.model + "_n" + std::to_string(r.n) + "_t" +
                  std::to_string(r.trial) + "_s" + std::to_string(r.vae_seed);
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') c = '_';
  return s;
}

M2Options m2_model_options(const SemiSupervisedOptions& o, const M2Inputs& inputs, int64_t num_classes, bool codes) {
  M2Options m;
  m.x_dim = inputs.x[0].numel();
  m.image_size = codes ? 0 : inputs.x.size(-1);
  m.likelihood = codes ? "gaussian" : "bernoulli";
  m.trunk = o.trunk;
  m.hidden = o.hidden;
  m.hidden_layers = o.hidden_layers;
  m.z_dim = o.z_dim;
  m.num_classes = num_classes;
  return m;
}

// Trains and writes the row for one (cell, encoder) pair.
void train_m2_row(const ClassifierRun& run, const ProtocolCell& c, ResultRow r, const M2Inputs& train,
               const M2Inputs& test, bool codes) {
  const auto& o = run.spec.semi;
  std::filesystem::create_directories(run.work_dir);
  const std::string stem = run.work_dir + "/" + m2_file_stem(r);
  const std::string curve_path = stem + ".curve.jsonl";
  M2Run m2run;
  m2run.seed = derive_seed(run.options.seed, {kSemiSupervisedStream, static_cast<uint64_t>(c.n),
                                              static_cast<uint64_t>(c.trial), static_cast<uint64_t>(r.vae_seed)});
  m2run.device = run.device;
  m2run.checkpoint = stem + ".checkpoint.pt";
  m2run.tag = run.data.name + ":" + c.hash + ":" + r.model;
  std::string curve_text;
  m2run.on_epoch = [&](const M2EpochRecord& e) {
    curve_text += m2_epoch_to_json(e).dump() + "\n";
    write_file_atomic(curve_path, curve_text);  // the log of this session (a resumed run rewrites it whole below)
    if (e.test_accuracy >= 0) {
      std::ostringstream m;
      m << r.arch << " " << r.model << " n=" << c.n << " trial " << c.trial << " epoch " << e.epoch << ": test "
        << std::fixed << std::setprecision(4) << e.test_accuracy << ", J " << std::setprecision(2) << e.loss << " ("
        << std::setprecision(0) << e.seconds << " s)";
      run.say(m.str());
    }
  };
  auto unlabelled = unlabelled_rows(train.x.size(0), c.subset, run.validation);
  if (unlabelled.numel() == 0) unlabelled = c.subset;  // every image labelled: U(x) runs on them as well
  const M2Fit fit = train_m2(m2_model_options(o, train, run.data.train.num_classes, codes), train, c.subset, unlabelled,
                             run.validation, test, o.train, m2run);
  std::string all;
  for (const auto& e : fit.curve) all += m2_epoch_to_json(e).dump() + "\n";
  write_file_atomic(curve_path, all);
  for (const auto& e : fit.curve) {
    r.epoch_loss.push_back(e.loss);
    if (e.validation_loss >= 0) r.validation_loss.push_back(e.validation_loss);
  }
  r.train_loss = r.epoch_loss.back();
  r.epochs_to_convergence = r.validation_loss.size() == r.epoch_loss.size() && !r.validation_loss.empty()
                                ? best_epoch(r.validation_loss)
                                : epochs_to_convergence(r.epoch_loss, 0.01);
  r.seconds = fit.seconds;
  run.finish(r, fit.test_predictions);
  std::filesystem::remove(m2run.checkpoint);  // the row is durable; the curve log stays
}

}  // namespace

nlohmann::json semi_supervised_to_json(const SemiSupervisedOptions& o) {
  nlohmann::json j = m2_train_options_to_json(o.train);
  j["hidden"] = o.hidden;
  j["hidden_layers"] = o.hidden_layers;
  j["z_dim"] = o.z_dim;
  j["trunk"] = o.trunk;
  j["active_threshold"] = o.active_threshold;
  return j;
}

M2Inputs pixel_inputs(const ImageSet& set) {
  M2Inputs in;
  in.x = set.images.to(torch::kFloat32).div(255.0).unsqueeze(1).contiguous();  // [N,H,W] -> [N,1,H,W]
  in.labels = set.labels.to(torch::kLong).contiguous();
  return in;
}

std::vector<int64_t> active_units(const torch::Tensor& mu, double threshold) {
  const auto sd = mu.std(0).contiguous();  // [N,D] -> [D]
  std::vector<int64_t> keep;
  for (int64_t d = 0; d < sd.numel(); ++d)
    if (sd[d].item<double>() > threshold) keep.push_back(d);
  if (keep.empty())
    for (int64_t d = 0; d < sd.numel(); ++d) keep.push_back(d);
  return keep;
}

M2Inputs code_inputs_from(const torch::Tensor& f, const torch::Tensor& labels, const std::vector<int64_t>& units) {
  const int64_t D = f.size(1) / 2;
  const auto idx = torch::tensor(units, torch::kLong);
  M2Inputs in;
  in.x = f.narrow(1, 0, D).index_select(1, idx).contiguous();       // [N,D'] means
  in.x_logvar = f.narrow(1, D, D).index_select(1, idx).contiguous();  // [N,D'] log-variances
  in.labels = labels.to(torch::kLong).contiguous();
  return in;
}

M2Inputs code_inputs(EncoderImpl& encoder, const ImageSet& set, const std::vector<int64_t>& units, int64_t batch) {
  return code_inputs_from(extract_features(encoder, set, /*with_logvar=*/true, batch), set.labels, units);  // [N,2D]
}

torch::Tensor unlabelled_rows(int64_t train_size, const torch::Tensor& labelled, const torch::Tensor& validation) {
  auto keep = torch::ones({train_size}, torch::kBool);
  keep.index_fill_(0, labelled.to(torch::kLong), false);
  if (validation.defined() && validation.numel() > 0) keep.index_fill_(0, validation.to(torch::kLong), false);
  return keep.nonzero().squeeze(1);  // int64 [U], ascending
}

void run_semi_supervised(const ClassifierRun& run, bool codes) {
  if (!codes) {
    std::optional<M2Inputs> train, test;
    for (const auto& c : run.cells) {
      ResultRow r = run.blank(c, -1);
      if (!run.pending(r)) continue;
      if (!train) {
        train = pixel_inputs(run.data.train);
        test = pixel_inputs(run.data.test);
      }
      train_m2_row(run, c, r, *train, *test, false);
    }
    return;
  }
  for (size_t e = 0; e < run.encoders.size(); ++e) {
    if (!classifier_uses(run.spec, run.encoders[e].model)) continue;
    std::optional<M2Inputs> train, test;
    for (const auto& c : run.cells) {
      ResultRow r = run.blank(c, static_cast<int64_t>(e));
      if (!run.pending(r)) continue;
      if (!train) {
        auto& enc = *run.encoders[e].encoder;
        const auto mu = extract_features(enc, run.data.train, false, run.options.feature_batch);  // [N,D]
        const auto units = active_units(mu, run.spec.semi.active_threshold);
        train = code_inputs(enc, run.data.train, units, run.options.feature_batch);
        test = code_inputs(enc, run.data.test, units, run.options.feature_batch);
        run.say(run.model.arch + " " + run.encoders[e].model + ": M1 codes with " + std::to_string(units.size()) +
                " of " + std::to_string(mu.size(1)) + " units active");
      }
      train_m2_row(run, c, r, *train, *test, true);
    }
  }
}

}  // namespace dvae
