// The "probe" classifier kind: features of every frozen encoder are computed
// once, then every pending head of the grid is trained in one train_probes()
// stack (see evaluation/probe.h) and scored on the test features.
#include <chrono>
#include <iomanip>
#include <sstream>

#include "core/random.h"
#include "evaluation/classifier_kind.h"
#include "evaluation/features.h"

namespace dvae {

namespace {
constexpr uint64_t kProbeStream = 0x70726f6265;  // "probe"
}  // namespace

void run_probe_classifier(const ClassifierRun& run) {
  const auto& spec = run.spec;
  std::vector<ProbeTask> tasks;
  std::vector<ResultRow> task_rows;
  std::vector<size_t> task_encoder;
  std::vector<torch::Tensor> train_features(run.encoders.size()), test_features(run.encoders.size());
  for (size_t e = 0; e < run.encoders.size(); ++e) {
    if (!classifier_uses(spec, run.encoders[e].model)) continue;
    for (const auto& c : run.cells) {
      ResultRow want = run.blank(c, static_cast<int64_t>(e));
      if (!run.pending(want)) continue;
      if (!train_features[e].defined()) {
        const auto t0 = std::chrono::steady_clock::now();
        auto& enc = *run.encoders[e].encoder;
        train_features[e] = extract_features(enc, run.data.train, spec.with_logvar, run.options.feature_batch);
        test_features[e] = extract_features(enc, run.data.test, spec.with_logvar, run.options.feature_batch);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::ostringstream m;
        m << run.model.arch << " " << run.encoders[e].model << " (VAE seed " << run.encoders[e].vae_seed
          << "): features " << train_features[e].sizes() << " + " << test_features[e].sizes() << " in "
          << std::fixed << std::setprecision(2) << s << " s";
        run.say(m.str());
      }
      const uint64_t head_seed = derive_seed(run.options.seed, {kProbeStream, static_cast<uint64_t>(c.n),
                                                                static_cast<uint64_t>(c.trial)});
      ProbeTask task;
      task.features = train_features[e];
      task.labels = run.data.train.labels.contiguous();
      task.subset = c.subset;
      task.num_classes = run.data.train.num_classes;
      task.seed = head_seed;
      task.validation = run.validation;
      tasks.push_back(std::move(task));
      task_rows.push_back(std::move(want));
      task_encoder.push_back(e);
    }
  }
  if (tasks.empty()) return;
  const auto t0 = std::chrono::steady_clock::now();
  const auto fits = train_probes(tasks, spec.probe);
  std::ostringstream m;
  m << run.model.arch << " " << spec.name << ": " << tasks.size() << " heads trained in " << std::fixed
    << std::setprecision(2) << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s";
  run.say(m.str());
  for (size_t i = 0; i < fits.size(); ++i) {
    ResultRow& r = task_rows[i];
    r.train_loss = fits[i].final_loss;
    r.epoch_loss = fits[i].epoch_loss;
    r.validation_loss = fits[i].validation_loss;
    r.epochs_to_convergence = fits[i].epochs_to_convergence;
    r.seconds = fits[i].seconds;
    run.finish(r, probe_predict(fits[i].head, test_features[task_encoder[i]]));
  }
}

}  // namespace dvae
