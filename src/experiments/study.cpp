// The study executor: plan, train (VAEs and supervised cells side by side),
// probe, figures, report. See study.h.
#include "experiments/study.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <exception>
#include <filesystem>
#include <future>
#include <iomanip>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "analysis/figures.h"
#include "analysis/plots.h"
#include "core/atomic_file.h"
#include "core/check.h"
#include "core/random.h"
#include "data/datasets.h"
#include "dvae/version.h"
#include "evaluation/classifier_kind.h"
#include "experiments/claims.h"
#include "experiments/disentanglement_stage.h"
#include "experiments/report.h"
#include "experiments/results_db.h"
#include "experiments/run_lock.h"
#include "experiments/schedule.h"
#include "training/checkpoint.h"
#include "training/distributed.h"
#include "training/objectives.h"
#include "training/vae_trainer.h"

namespace dvae {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string hms(double seconds) {
  const auto s = static_cast<int64_t>(seconds + 0.5);
  std::ostringstream out;
  if (s >= 3600) out << s / 3600 << "h";
  if (s >= 60) out << std::setw(s >= 3600 ? 2 : 1) << std::setfill('0') << (s / 60) % 60 << "m";
  out << std::setw(s >= 60 ? 2 : 1) << std::setfill('0') << s % 60 << "s";
  return out.str();
}

std::string study_n(int64_t n) { return n < 0 ? "all" : std::to_string(n); }

std::string number_text(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// Progress over the whole study, each unit weighted by its cost (image-passes,
// weighted per architecture); the ETA extrapolates this call's rate. Thread-safe.
class Progress {
 public:
  explicit Progress(std::function<void(const std::string&)> log) : log_(std::move(log)), start_(Clock::now()) {}
  void plan(double cost) { total_ += cost; }
  void skip(double cost) {
    std::lock_guard<std::mutex> lock(mutex_);
    skipped_ += cost;
  }
  void advance(double cost) {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ += cost;
  }
  // partial: cost done of units in progress (by the caller's unit id).
  void partial(size_t id, double cost) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cost <= 0) {
      partial_.erase(id);
    } else {
      partial_[id] = cost;
    }
  }
  void say(const std::string& message) const {
    if (!log_) return;
    std::lock_guard<std::mutex> lock(mutex_);
    double part = 0;
    for (const auto& [id, c] : partial_) part += c;
    const double done = done_ + skipped_ + part;
    const double pct = total_ > 0 ? 100.0 * done / total_ : 100.0;
    const double worked = done_ + part;
    const double elapsed = since(start_);
    std::ostringstream out;
    out << "[" << std::fixed << std::setprecision(0) << std::min(100.0, pct) << "% " << hms(elapsed);
    if (worked > 0 && total_ > done) out << ", ETA " << hms(elapsed / worked * (total_ - done));
    out << "] " << message;
    log_(out.str());
  }

 private:
  std::function<void(const std::string&)> log_;
  Clock::time_point start_;
  mutable std::mutex mutex_;
  double total_ = 0, done_ = 0, skipped_ = 0;
  std::map<size_t, double> partial_;
};

// A data set's name as one file-name component: a data set given as a folder
// is named by its path, whose slashes would nest folders ("errors-/tmp/x.json").
std::string file_part(const std::string& name) {
  std::string out;
  for (char c : name) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    if (plain || (!out.empty() && out.back() != '_')) out += plain ? c : '_';
  }
  while (!out.empty() && (out.back() == '_' || out.back() == '.')) out.pop_back();
  return out.empty() ? "data" : out;
}

// "training (N threads)": the thread count the scheduler gave the calling job.
std::string training_on_threads() {
  const int threads = at::get_num_threads();
  return "training (" + std::to_string(threads) + " thread" + (threads == 1 ? "" : "s") + ")";
}

// Scheduling weight of one image through a unit's training step, relative to the MLP
// VAE's (7.0 MFLOP forward and backward): the CNN VAE's is about 15x that; a supervised
// cell trains the encoder and a head only, about 0.45 of its VAE's step on the MLP (3.1
// MFLOP; measured 15,100 against 6,600 images/s on one Zen 3 thread) and about 0.3 on the CNN.
double step_weight(const std::string& arch, bool encoder_only) {
  const double vae = arch == "cnn" ? 15.0 : 1.0;
  return encoder_only ? vae * (arch == "cnn" ? 0.3 : 0.45) : vae;
}

// The VAE's training set: all of data.train, or a seeded subset of it.
Dataset vae_training_data(const Dataset& data, int64_t images, uint64_t seed) {
  if (images <= 0 || images >= data.train.size()) return data;
  std::vector<int64_t> idx(static_cast<size_t>(data.train.size()));
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
  Rng rng(derive_seed(seed, {0x7AE5u}));
  rng.shuffle(idx);
  idx.resize(static_cast<size_t>(images));
  std::sort(idx.begin(), idx.end());
  Dataset out = data;
  out.train = data.train.subset(torch::tensor(idx, torch::kLong));
  return out;
}

// Names used inside a unit's results file; rows get the study's names on reading,
// so that two studies naming the same unit differently share it.
constexpr const char* kUnitEncoder = "vae";

// --- The plan -----------------------------------------------------------------

struct VaeUnit {
  size_t data = 0;             // index into Plan::data
  std::string arch;
  const ModelSpec* model = nullptr;
  int64_t seed_index = 0;
  ModelOptions options;
  TrainOptions train;
  int64_t train_images = 0;
  std::string key, run_dir, checkpoint, label;
  double cost = 0;
  // Filled by training or from the store.
  std::string checkpoint_sha;
  nlohmann::json stats;
  double seconds = 0;
  bool trained = false;        // trained in this call
};

struct ClassifierUnit {
  size_t data = 0;
  std::string arch;
  ModelOptions options;          // the architecture (the supervised trunk)
  const ClassifierSpec* classifier = nullptr;
  VaeUnit* vae = nullptr;        // probe units; null for supervised
  int64_t n = 0;                 // supervised units: one size each (probe units: every size)
  std::string key, results_path, label;
  double cost = 0;
  std::vector<ResultRow> rows;   // with the study's names
};

struct Plan {
  std::vector<Dataset> data;
  std::vector<std::string> fingerprints;
  std::vector<VaeUnit> vaes;
  std::vector<ClassifierUnit> supervised;
  std::vector<ClassifierUnit> probes;
  double figure_cost = 3e5;
};

nlohmann::json classifier_identity(const ClassifierSpec& c) {
  const bool probe = find_classifier_kind(c.kind).uses_encoder;
  const auto& p = c.probe;
  const auto& s = c.supervised;
  if (find_classifier_kind(c.kind).semi_supervised) return {{"kind", c.kind}, {"semi", semi_supervised_to_json(c.semi)}};
  return {{"kind", c.kind},
          {"epochs", probe ? p.epochs : s.epochs},
          {"lr", probe ? p.lr : s.lr},
          {"hidden", probe ? p.hidden : s.hidden},
          {"batch_size", probe ? p.batch_size : s.batch_size},
          {"with_logvar", probe && c.with_logvar}};
}

// Scheduling weight of an M2 kind on train_images of x_dim inputs (pixels for m2, at
// most the encoder's latent units for m1m2), relative to the MLP VAE's step: the
// multiply-adds of q(y|x) once and of q(z|x,y) and p(x|y,z) for each of the C
// enumerated classes, forward and backward (3x), over the MLP VAE's 7.0 MFLOP; at
// least 0.05 (small products run far below their FLOP rate). M2 on MNIST pixels
// (500 x 2 hidden, z 50) weighs about 12.
double semi_supervised_cost(const ClassifierSpec& c, int64_t train_images, int64_t trials, int64_t x_dim,
                            int64_t num_classes) {
  const double P = static_cast<double>(x_dim), K = static_cast<double>(c.semi.hidden);
  const double Z = static_cast<double>(c.semi.z_dim), C = static_cast<double>(num_classes);
  const double deep = static_cast<double>(c.semi.hidden_layers - 1) * K * K;
  const double classify = P * K + deep + K * C;
  const double encode = (P + C) * K + deep + K * 2.0 * Z;
  const double decode = (Z + C) * K + deep + K * P;
  const double weight = std::max(0.05, 3.0 * 2.0 * (classify + C * (encode + decode)) / 7.0e6);
  return static_cast<double>(train_images) * static_cast<double>(trials * c.semi.train.epochs) * weight;
}

ModelOptions model_options_for(const StudySpec& spec, const ModelSpec& m, const std::string& arch,
                               const Dataset& data) {
  (void)spec;
  ModelOptions o;
  o.arch = arch;
  o.latent_dim = m.latent_dim;
  o.image_size = data.train.rows();
  return o;
}

// A protocol of one classifier (renamed to its kind) over the study's grid.
ProtocolOptions unit_protocol(const StudySpec& spec, const ClassifierSpec& c, std::vector<int64_t> sizes) {
  ProtocolOptions p = study_protocol(spec);
  ClassifierSpec inner = c;
  inner.name = c.kind;
  inner.encoders.clear();  // a unit holds one encoder, already chosen by classifier_uses
  p.classifiers = {inner};
  p.sizes = std::move(sizes);
  return p;
}

Plan plan_study(const StudySpec& spec, const StudyContext& ctx) {
  Plan plan;
  for (const auto& name : spec.datasets) {
    plan.data.push_back(load_dataset(name, ctx.data_root));
    plan.fingerprints.push_back(dataset_fingerprint(plan.data.back()));
  }
  // VAEs: data x arch x model x seed.
  for (size_t d = 0; d < plan.data.size(); ++d) {
    const Dataset& data = plan.data[d];
    for (const auto& arch : spec.archs) {
      for (const auto& m : spec.models) {
        for (int64_t k = 0; k < spec.vae_seeds; ++k) {
          VaeUnit u;
          u.data = d;
          u.arch = arch;
          u.model = &m;
          u.seed_index = k;
          u.options = model_options_for(spec, m, arch, data);
          u.train = default_train_options(arch);
          u.train.objective = model_objective_settings(m);
          u.train.beta = find_objective(m.objective).uses("beta") ? m.beta.at(arch) : 1.0;
          u.train.epochs = m.epochs.at(arch);
          u.train.seed = derive_seed(spec.seed, {0x5AEu, static_cast<uint64_t>(k) + 1});
          const int64_t cap = m.train_images.at(arch);
          u.train_images = cap > 0 && cap < data.train.size() ? cap : data.train.size();
          const nlohmann::json key_spec = {{"unit", "vae"},
                                           {"objective", m.objective},
                                           {"model", model_options_to_json(u.options)},
                                           {"train", train_options_to_json(u.train)},
                                           {"train_images", u.train_images},
                                           {"train_subset_seed", spec.seed},
                                           {"data", plan.fingerprints[d]},
                                           {"dvae", kVersion}};
          u.key = unit_key(key_spec);
          const std::string setting = m.objective == "beta-vae" ? "beta" + number_text(u.train.beta) : m.objective;
          u.run_dir = ctx.out_dir + "/vae/" + arch + "-" + setting + "-" + u.key.substr(0, 10);
          u.checkpoint = u.run_dir + "/checkpoint.pt";
          u.label = data.name + " " + arch + " " + m.name + " (" +
                    (m.objective == "beta-vae" ? "beta " + number_text(u.train.beta) : m.objective) + ", seed " +
                    std::to_string(k) + ", " + std::to_string(u.train.epochs) + " epochs)";
          u.cost = static_cast<double>(u.train_images * u.train.epochs) * step_weight(arch, false);
          plan.vaes.push_back(u);
        }
      }
    }
  }
  // Classifiers: supervised units per (data, arch, classifier, n); probe units per (VAE, classifier).
  const ProtocolOptions protocol = study_protocol(spec);
  for (size_t d = 0; d < plan.data.size(); ++d) {
    const Dataset& data = plan.data[d];
    for (const auto& arch : spec.archs) {
      for (const auto& c : spec.classifiers) {
        if (find_classifier_kind(c.kind).uses_encoder) continue;
        for (int64_t n : spec.sizes) {
          ClassifierUnit u;
          u.data = d;
          u.arch = arch;
          u.options.arch = arch;
          u.options.latent_dim = spec.models.empty() ? 10 : spec.models.front().latent_dim;
          u.options.image_size = data.train.rows();
          u.classifier = &c;
          u.n = n;
          const int64_t trials = protocol_trials(protocol, n);
          const nlohmann::json key_spec = {{"unit", "supervised"},
                                           {"model", model_options_to_json(u.options)},
                                           {"classifier", classifier_identity(c)},
                                           {"n", n},
                                           {"trials", trials},
                                           {"seed", spec.seed},
                                           {"validation_per_class", spec.validation_per_class},
                                           {"data", plan.fingerprints[d]},
                                           {"dvae", kVersion}};
          u.key = unit_key(key_spec);
          u.results_path = ctx.out_dir + "/classify/supervised-" + u.key.substr(0, 10) + "/results.jsonl";
          u.label = data.name + " " + arch + " " + c.name + " n=" + study_n(n);
          const int64_t images = n < 0 ? data.train.size() : n * data.train.num_classes;
          u.cost = find_classifier_kind(c.kind).semi_supervised
                       ? semi_supervised_cost(c, data.train.size(), trials, data.train.rows() * data.train.cols(),
                                              data.train.num_classes)
                       : static_cast<double>(images * trials * c.supervised.epochs) * step_weight(arch, true) + 2e3;
          plan.supervised.push_back(u);
        }
      }
    }
  }
  for (auto& v : plan.vaes) {
    for (const auto& c : spec.classifiers) {
      if (!find_classifier_kind(c.kind).uses_encoder || !classifier_uses(c, v.model->name)) continue;
      ClassifierUnit u;
      u.data = v.data;
      u.arch = v.arch;
      u.options = v.options;
      u.classifier = &c;
      u.vae = &v;
      const nlohmann::json key_spec = {{"unit", "probe"},
                                       {"vae", v.key},
                                       {"classifier", classifier_identity(c)},
                                       {"sizes", spec.sizes},
                                       {"trials", {spec.trials_small, spec.trials_large}},
                                       {"seed", spec.seed},
                                       {"validation_per_class", spec.validation_per_class},
                                       {"data", plan.fingerprints[v.data]},
                                       {"dvae", kVersion}};
      u.key = unit_key(key_spec);
      u.results_path = ctx.out_dir + "/classify/probe-" + u.key.substr(0, 10) + "/results.jsonl";
      u.label = v.label + " " + c.name;
      u.cost = 2e5;
      if (find_classifier_kind(c.kind).semi_supervised) {
        int64_t trials = 0;
        for (int64_t n : spec.sizes) trials += protocol_trials(protocol, n);
        u.cost = semi_supervised_cost(c, plan.data[v.data].train.size(), trials, v.options.latent_dim,
                                      plan.data[v.data].train.num_classes);
      }
      plan.probes.push_back(u);
    }
  }
  return plan;
}

// Keeps shard ctx.shard's units (experiments/shards.h): a VAE with its probes
// is one item, a supervised cell another. Returns the kept units' keys.
std::vector<std::string> keep_shard(Plan& plan, const ShardSpec& shard) {
  std::vector<ShardItem> items;
  for (const auto& v : plan.vaes) {
    double cost = v.cost;
    for (const auto& p : plan.probes) cost += p.vae == &v ? p.cost : 0.0;
    items.push_back({v.key, cost});
  }
  for (const auto& u : plan.supervised) items.push_back({u.key, u.cost});
  const std::vector<int> where = assign_shards(items, shard.count);
  std::vector<VaeUnit> vaes;
  vaes.reserve(plan.vaes.size());  // stable addresses for the probes' pointers
  std::map<const VaeUnit*, VaeUnit*> moved;
  std::vector<std::string> keys;
  for (size_t i = 0; i < plan.vaes.size(); ++i) {
    if (where[i] != shard.index) continue;
    vaes.push_back(plan.vaes[i]);
    moved[&plan.vaes[i]] = &vaes.back();
    keys.push_back(plan.vaes[i].key);
  }
  std::vector<ClassifierUnit> probes, supervised;
  for (auto& p : plan.probes) {
    if (!moved.count(p.vae)) continue;
    p.vae = moved[p.vae];
    probes.push_back(p);
    keys.push_back(p.key);
  }
  for (size_t i = 0; i < plan.supervised.size(); ++i) {
    if (where[plan.vaes.size() + i] != shard.index) continue;
    supervised.push_back(plan.supervised[i]);
    keys.push_back(plan.supervised[i].key);
  }
  plan.vaes = std::move(vaes);  // moving the vector keeps its elements' addresses
  plan.probes = std::move(probes);
  plan.supervised = std::move(supervised);
  return keys;
}

// --- Stages -------------------------------------------------------------------

struct Run {
  const StudySpec& spec;
  const StudyContext& ctx;
  ResultsDb& db;
  Progress& progress;
  StudyOutcome& outcome;
  std::mutex db_mutex;  // the store is used from worker threads
};

// Trains (or resumes) u in one process, or on spec.vae_nproc data-parallel
// ranks: threads of this process, one Gloo rank each on 127.0.0.1, sharing
// this worker's intra-op threads; rank 0 writes the run and reports progress.
EpochStats train_vae_unit(const Run& run, const Dataset& data, const VaeUnit& u, const TrainCallbacks& callbacks) {
  const int nproc = static_cast<int>(run.spec.vae_nproc);
  if (nproc == 1) return train_vae(data, u.options, u.train, u.run_dir, /*resume=*/true, run.ctx.device, callbacks);
  const int port = free_local_port();
  const int threads = std::max(1, at::get_num_threads() / nproc);
  std::vector<std::future<EpochStats>> ranks;
  for (int r = 0; r < nproc; ++r) {
    ranks.push_back(std::async(std::launch::async, [&, r] {
      at::set_num_threads(threads);
      DistConfig c;
      c.rank = r;
      c.world_size = nproc;
      c.master_port = port;
      DataParallel group(c, DistOptions{});
      return train_vae(data, u.options, u.train, u.run_dir, /*resume=*/true, run.ctx.device,
                       r == 0 ? callbacks : TrainCallbacks{}, &group);
    }));
  }
  std::vector<EpochStats> last(ranks.size());
  std::exception_ptr failure;
  for (size_t r = 0; r < ranks.size(); ++r) {
    try {
      last[r] = ranks[r].get();
    } catch (...) {
      if (!failure) failure = std::current_exception();  // the lowest failing rank's error
    }
  }
  if (failure) std::rethrow_exception(failure);
  return last[0];  // rank 0 evaluated the test set
}

// A VAE unit found finished (record and an intact checkpoint) is skipped; otherwise a job.
std::optional<Job> vae_job(Run& run, Plan& plan, VaeUnit& u, size_t id) {
  auto record = run.db.find(u.key);
  if (run.ctx.force && record) {
    run.db.erase(u.key);
    record.reset();
    fs::remove_all(u.run_dir);
  }
  if (record && fs::exists(u.checkpoint) && sha256_file(u.checkpoint) == record->sha256) {
    u.checkpoint_sha = record->sha256;
    u.stats = record->payload;
    u.seconds = record->seconds;
    run.progress.skip(u.cost);
    run.progress.say(u.label + ": done earlier, skipped");
    ++run.outcome.units_skipped;
    return std::nullopt;
  }
  return Job{u.cost, [&run, &plan, &u, id] {
               const auto t0 = Clock::now();
               const Dataset data = vae_training_data(plan.data[u.data], u.train_images, run.spec.seed);
               run.progress.say(u.label + ": " + training_on_threads());
               TrainCallbacks callbacks;
               callbacks.on_epoch = [&](const EpochStats& s) {
                 run.progress.partial(id, u.cost * static_cast<double>(s.epoch) / static_cast<double>(u.train.epochs));
                 std::ostringstream msg;
                 msg << u.label << ": epoch " << s.epoch << "/" << u.train.epochs << " test ELBO " << std::fixed
                     << std::setprecision(2) << s.test_elbo << " KL " << s.test_kl << " active " << s.active_latents
                     << " (" << std::setprecision(0) << s.images_per_sec << " img/s)";
                 run.progress.say(msg.str());
               };
               const EpochStats last = train_vae_unit(run, data, u, callbacks);
               u.stats = epoch_stats_to_json(last);
               u.checkpoint_sha = sha256_file(u.checkpoint);
               u.seconds = since(t0);
               u.trained = true;
               {
                 std::lock_guard<std::mutex> lock(run.db_mutex);
                 run.db.put({u.key, "vae", u.label, fs::relative(u.checkpoint, run.ctx.out_dir).string(),
                             u.checkpoint_sha, u.stats, u.seconds});
                 ++run.outcome.units_run;
               }
               run.progress.partial(id, 0);
               run.progress.advance(u.cost);
             }};
}

// Gives rows of a unit file the study's names.
void name_rows(std::vector<ResultRow>& rows, const ClassifierUnit& u, const ProtocolOptions& study) {
  for (auto& r : rows) {
    r.classifier = u.classifier->name;
    r.model = u.vae ? series_name(u.vae->model->name, *u.classifier, study) : u.classifier->name;
    if (u.vae) r.vae_seed = u.vae->seed_index;
  }
}

// A classifier unit is done when it has a record and its results file still has
// the recorded SHA-256 (records written before results files had digests hold none).
bool classifier_done(const Run& run, const ClassifierUnit& u, const std::optional<UnitRecord>& record) {
  return !run.ctx.force && record && fs::exists(u.results_path) &&
         (record->sha256.empty() || sha256_file(u.results_path) == record->sha256);
}

// Runs one classifier unit (resuming its results file) and records it.
void classifier_unit(Run& run, Plan& plan, ClassifierUnit& u, const ProtocolOptions& study) {
  const auto record = run.db.find(u.key);
  if (run.ctx.force) {
    if (record) run.db.erase(u.key);
    fs::remove_all(fs::path(u.results_path).parent_path());
  }
  const bool finished = classifier_done(run, u, record);
  const Dataset& data = plan.data[u.data];
  std::vector<FrozenEncoder> encoders;
  std::optional<LoadedVae> loaded;
  std::vector<int64_t> sizes = u.vae ? run.spec.sizes : std::vector<int64_t>{u.n};
  const ProtocolOptions options = unit_protocol(run.spec, *u.classifier, sizes);
  if (finished) {
    u.rows = read_results(u.results_path);
  } else {
    if (u.vae) {
      loaded.emplace(load_vae(u.vae->checkpoint, run.ctx.device));
      encoders.push_back({kUnitEncoder, u.vae->train.beta, loaded->vae->encoder(), u.vae->seed_index});
    }
    if (!u.vae) run.progress.say(u.label + ": " + training_on_threads());
    const auto t0 = Clock::now();
    u.rows = run_protocol(data, u.options, encoders, options, u.results_path, run.ctx.device,
                          [&](const std::string& m) { run.progress.say(u.label + ": " + m); });
    std::lock_guard<std::mutex> lock(run.db_mutex);
    run.db.put({u.key, u.vae ? "probe" : "supervised", u.label, fs::relative(u.results_path, run.ctx.out_dir).string(),
                sha256_file(u.results_path), nlohmann::json{{"rows", u.rows.size()}}, since(t0)});
    ++run.outcome.units_run;
  }
  name_rows(u.rows, u, study);
  if (finished) {
    ++run.outcome.units_skipped;
    run.progress.skip(u.cost);
  } else {
    run.progress.advance(u.cost);
  }
}

// Stage 1: VAEs and supervised cells, all independent, side by side.
void train_stage(Run& run, Plan& plan) {
  std::vector<Job> jobs;
  for (size_t i = 0; i < plan.vaes.size(); ++i) {
    if (auto job = vae_job(run, plan, plan.vaes[i], i)) jobs.push_back(std::move(*job));
  }
  const ProtocolOptions study = study_protocol(run.spec);
  for (auto& u : plan.supervised) {
    if (classifier_done(run, u, run.db.find(u.key))) {
      classifier_unit(run, plan, u, study);  // reads the finished rows
      continue;
    }
    jobs.push_back({u.cost, [&run, &plan, &u, study] { classifier_unit(run, plan, u, study); }});
  }
  const int threads = at::get_num_threads();
  run_parallel(std::move(jobs), threads, run.ctx.device.is_cpu());
  at::set_num_threads(threads);
}

// Stage 2: every probe classifier on every encoder (all threads: heads run in parallel).
void probe_stage(Run& run, Plan& plan) {
  const ProtocolOptions study = study_protocol(run.spec);
  run.progress.say("probing: " + std::to_string(plan.probes.size()) + " probe grids");
  for (auto& u : plan.probes) classifier_unit(run, plan, u, study);
}

// Stage 2b: every trained VAE's disentanglement metrics (experiments/disentanglement_stage.h).
std::vector<DisentanglementScore> disentanglement_stage(Run& run, const Plan& plan) {
  if (run.spec.disentanglement.empty()) return {};
  std::vector<DisentanglementUnit> units;
  for (const auto& v : plan.vaes) {
    DisentanglementUnit u{v.key, v.label, plan.data[v.data].name, v.arch, v.model->name,
                          objective_weights_text(v.train.objective, v.train.beta), v.seed_index,
                          v.checkpoint, v.checkpoint_sha, v.stats, &plan.data[v.data], plan.fingerprints[v.data], {}};
    for (const auto& p : plan.probes) {
      if (p.vae == &v) {
        u.probe_rows = p.rows;  // the first probe classifier's
        break;
      }
    }
    units.push_back(std::move(u));
  }
  DisentanglementContext c;
  c.db = &run.db;
  c.out_dir = run.ctx.out_dir;
  c.data_root = run.ctx.data_root;
  c.device = run.ctx.device;
  c.force = run.ctx.force;
  c.metrics = run.spec.disentanglement;
  c.options = study_metric_options(run.spec.disentanglement_points, run.spec.seed);
  c.log = [&run](const std::string& m) { run.progress.say(m); };
  return score_disentanglement(units, c);
}

std::vector<ResultRow> all_rows(const Plan& plan) {
  std::vector<ResultRow> rows;
  // Study order: for each probe classifier the models in spec order, then the supervised ones.
  for (const auto& u : plan.probes) rows.insert(rows.end(), u.rows.begin(), u.rows.end());
  for (const auto& u : plan.supervised) rows.insert(rows.end(), u.rows.begin(), u.rows.end());
  return rows;
}

// Stage 3: figures. Per (data set, arch): what each model's first VAE seed learned,
// reconstructions of every model, confusions and galleries at the smallest n; Figure 4
// per data set.
void figure_stage(Run& run, Plan& plan, const std::vector<ResultRow>& rows, ReportData& report) {
  const FigureOptions fig;
  auto figure_unit = [&](const std::string& label, const nlohmann::json& inputs, const std::string& artefact,
                         const std::function<void()>& draw) {
    const nlohmann::json spec = {{"unit", "figure"}, {"name", label}, {"inputs", inputs}, {"dvae", kVersion}};
    const std::string key = unit_key(spec);
    const auto rec = run.db.find(key);
    if (!run.ctx.force && rec && fs::exists(artefact) && sha256_file(artefact) == rec->sha256) {
      ++run.outcome.units_skipped;
      return;
    }
    const auto t0 = Clock::now();
    draw();
    run.db.put({key, "figure", label, fs::relative(artefact, run.ctx.out_dir).string(), sha256_file(artefact),
                nlohmann::json::object(), since(t0)});
    ++run.outcome.units_run;
  };
  int64_t n_small = INT64_MAX;
  for (int64_t n : run.spec.sizes) n_small = std::min(n_small, n < 0 ? INT64_MAX : n);
  if (n_small == INT64_MAX) n_small = -1;
  for (size_t d = 0; d < plan.data.size(); ++d) {
    const Dataset& data = plan.data[d];
    for (const auto& arch : run.spec.archs) {
      const std::string dir = run.ctx.out_dir + "/figures/" + file_part(data.name) + "-" + arch;
      fs::create_directories(dir);
      run.progress.say(data.name + " " + arch + ": drawing figures");
      std::vector<VaeParts> parts;
      std::vector<std::string> names;
      std::vector<LoadedVae> loaded;
      nlohmann::json shas = nlohmann::json::array();
      for (auto& v : plan.vaes) {
        if (v.data != d || v.arch != arch || v.seed_index != 0) continue;
        loaded.push_back(load_vae(v.checkpoint, run.ctx.device));
        const LoadedVae& lv = loaded.back();
        parts.push_back(parts_of(*lv.vae));
        names.push_back(v.model->name);
        shas.push_back(v.checkpoint_sha);
        VaeReport vr;
        vr.dataset = data.name;
        vr.arch = arch;
        vr.model = v.model->name;
        vr.weights = objective_weights_text(v.train.objective, v.train.beta);
        vr.epochs = v.train.epochs;
        vr.stats = v.stats;
        vr.seconds = v.seconds;
        vr.checkpoint = fs::absolute(v.checkpoint).string();
        const std::string stem = dir + "/vae" + std::to_string(names.size() - 1);
        const std::string title = data.name + " " + arch + " " + v.model->name + ", " + vr.weights;
        const nlohmann::json in = {{"checkpoint", v.checkpoint_sha}};
        vr.traversal = stem + "_traversal.png";
        figure_unit(v.label + " traversal", in, vr.traversal, [&] {
          write_traversal_figure(parts.back(), data.test, -1, TraversalOptions{}, "Latent traversals: " + title,
                                 vr.traversal, fig);
        });
        vr.samples = stem + "_samples.png";
        figure_unit(v.label + " samples", in, vr.samples, [&] {
          write_samples_figure(*lv.vae->decoder(), v.options.latent_dim, 64, run.spec.seed, 16,
                               "Prior samples: " + title, vr.samples, fig);
        });
        const auto kl = v.stats.value("kl_per_latent", std::vector<double>{});
        vr.kl_chart = stem + "_kl.png";
        figure_unit(v.label + " kl", in, vr.kl_chart,
                    [&] { plot_latent_kl(kl, "Per-latent test KL: " + title, stem + "_kl", fig.plot); });
        vr.curves = stem + "_curves.png";
        figure_unit(v.label + " curves", in, vr.curves, [&] {
          plot_training_curves(read_training_log(v.run_dir + "/log.jsonl"), "Training: " + title, stem + "_curves",
                               fig.plot);
        });
        report.vaes.push_back(vr);
      }
      ArchReport ar;
      ar.dataset = data.name;
      ar.arch = arch;
      if (!parts.empty()) {
        std::string order;
        for (const auto& n : names) order += (order.empty() ? "" : ", ") + n;
        ar.recon_random = dir + "/reconstructions_random.png";
        ar.recon_caption = "test images, then the reconstructions of " + order;
        figure_unit(data.name + " " + arch + " reconstructions random", {{"checkpoints", shas}}, ar.recon_random, [&] {
          write_reconstruction_figure(parts, names, data.test, 16, false, run.spec.seed, 16,
                                      arch + ": test images and reconstructions (" + order + ")", ar.recon_random, fig);
        });
        ar.recon_worst = dir + "/reconstructions_worst.png";
        figure_unit(data.name + " " + arch + " reconstructions worst", {{"checkpoints", shas}}, ar.recon_worst, [&] {
          write_reconstruction_figure(parts, names, data.test, 16, true, run.spec.seed, 16,
                                      arch + ": worst reconstructions (by " + names.front() + "'s loss)",
                                      ar.recon_worst, fig);
        });
      }
      int index = 0;
      for (const auto& r : rows) {
        if (r.dataset != data.name || r.arch != arch || r.n != n_small || r.trial != 0 || r.vae_seed != 0) continue;
        const std::string base = dir + "/series" + std::to_string(index++) + "_n" + study_n(n_small);
        const std::string what = arch + " " + r.model + ", n=" + study_n(n_small) + " (trial 0, VAE seed 0)";
        const nlohmann::json in = {{"subset", r.subset_sha256}, {"model", r.model}, {"predictions", sha256_hex(
                                                                                      nlohmann::json(r.predictions).dump())}};
        figure_unit(what + " confusion", in, base + "_confusion.png",
                    [&] { plot_confusion(r.confusion, what, base + "_confusion", fig.plot); });
        ar.confusions.emplace_back("Confusion matrix: " + what, base + "_confusion.png");
        figure_unit(what + " gallery", in, base + "_gallery.png", [&] {
          write_gallery_figure(data.test, r.predictions, 32, 16, what + ": misclassified test images",
                               base + "_gallery.png", fig);
        });
        ar.galleries.emplace_back("Misclassified test images: " + what, base + "_gallery.png");
      }
      report.archs.push_back(ar);
    }
    std::vector<ResultRow> records;
    for (const auto& r : rows) {
      if (r.dataset == data.name) records.push_back(r);
    }
    if (!records.empty()) {
      const PlotFiles f = plot_accuracy_vs_labels(records, run.ctx.out_dir + "/figures/" + file_part(data.name));
      report.figure4.push_back({data.name, f.png, f.svg, f.csv});
    }
  }
  run.progress.advance(plan.figure_cost);
}

// Stage 4: statistics, claims with forest plots, the report.
void report_stage(Run& run, Plan& plan, std::vector<ResultRow> rows, ReportData& report, Clock::time_point start) {
  run.progress.say("writing the report");
  std::vector<VaeOutcome> vaes;
  for (const auto& v : plan.vaes) {
    vaes.push_back({plan.data[v.data].name, v.arch, v.model->name, v.seed_index, v.train.beta,
                    v.stats.value("kl_per_latent", std::vector<double>{})});
    report.durations.emplace_back(v.label + (v.trained ? "" : " (earlier call)"), v.seconds);
  }
  std::vector<std::string> dataset_names;
  for (const auto& d : plan.data) dataset_names.push_back(d.name);
  const ClaimInputs inputs{rows, vaes, dataset_names, run.spec.archs, run.spec.sizes, run.spec.indicative};
  const std::string forest_dir = run.ctx.out_dir + "/figures/claims";
  for (size_t i = 0; i < run.spec.claims.size(); ++i) {
    ClaimResult c = evaluate_claim(run.spec.claims[i], inputs);
    std::string png;
    if (!c.tests.empty()) {
      std::vector<ForestLine> lines;
      const double scale = c.metric == "accuracy" ? 100.0 : 1.0;
      for (const auto& t : c.tests) {
        lines.push_back({t.arch + " n=" + study_n(t.n) + ": " + t.label, scale * t.comparison.difference_mean,
                         scale * t.comparison.ci_low, scale * t.comparison.ci_high});
      }
      const std::string stem = forest_dir + "/claim" + std::to_string(i + 1);
      png = plot_forest(lines, "Claim " + std::to_string(i + 1) + ": " + c.verdict,
                        c.metric == "accuracy" ? "difference (accuracy points), 95% interval"
                                               : "difference (" + c.metric + "), 95% interval",
                        stem, {}, c.kind == "matches" ? scale * run.spec.claims[i].margin : 0.0)
                .png;
    }
    report.claims.push_back(c);
    report.forest_plots.push_back(png);
  }
  report.rows = std::move(rows);
  report.summary = summarise(report.rows);
  double previous = 0;
  if (auto rec = run.db.find("total-seconds")) previous = rec->payload.value("seconds", 0.0);
  run.outcome.seconds = since(start);
  report.seconds = previous + run.outcome.seconds;
  run.db.put({"total-seconds", "meta", "wall time of all calls", "", "", nlohmann::json{{"seconds", report.seconds}},
              report.seconds});
  run.outcome.report_html = write_report(report, run.ctx.out_dir + "/report");
  run.outcome.report_md = run.ctx.out_dir + "/report/report.md";
  write_file_atomic(run.ctx.out_dir + "/report/summary.txt", format_summary(report.summary));
  write_file_atomic(run.ctx.out_dir + "/report/summary.csv", summary_csv(report.summary));
  write_file_atomic(run.ctx.out_dir + "/report/paired.csv", paired_csv(report.summary));
  for (size_t d = 0; d < plan.data.size(); ++d) {
    std::vector<ResultRow> of_data;
    for (const auto& r : report.rows)
      if (r.dataset == plan.data[d].name) of_data.push_back(r);
    write_file_atomic(run.ctx.out_dir + "/report/errors-" + file_part(plan.data[d].name) + ".json",
                      error_analysis(of_data, plan.data[d].test.labels, 20).dump(1) + "\n");
  }
  run.progress.say("report written: " + run.outcome.report_html);
}

}  // namespace

StudyOutcome run_study(const StudySpec& spec, const StudyContext& ctx) {
  const auto start = Clock::now();
  validate_study(spec, "study");
  DVAE_CHECK_USAGE(spec.vae_nproc == 1 || ctx.device.is_cpu(), "study key 'vae_nproc': ", spec.vae_nproc,
                   " on ", ctx.device.str(), ", expected 1 off the CPU (the study's ranks use Gloo on CPU tensors)");
  fs::create_directories(ctx.out_dir);
  std::optional<RunLock> lock;
  if (!ctx.lock_held) lock.emplace(ctx.out_dir);
  remove_stale_temporaries(ctx.out_dir);  // of writes a killed run left half done
  ResultsDb db(ctx.out_dir + "/results.sqlite");
  Progress progress(ctx.log);
  StudyOutcome outcome;
  Run run{spec, ctx, db, progress, outcome, {}};

  Plan plan = plan_study(spec, ctx);
  const bool sharded = ctx.shard.count > 1;
  ShardManifest manifest{unit_key(study_to_json(spec)), ctx.spec_toml, ctx.shard, {}, false};
  if (sharded) {
    manifest.units = keep_shard(plan, ctx.shard);
    write_shard_manifest(ctx.out_dir, manifest);
  }
  nlohmann::json fingerprints = nlohmann::json::object();
  for (size_t d = 0; d < plan.data.size(); ++d) fingerprints[plan.data[d].name] = plan.fingerprints[d];
  const nlohmann::json study_json = study_to_json(spec);
  write_file_atomic(ctx.out_dir + "/config.json", nlohmann::json{{"study", study_json},
                                                                 {"vae_nproc", spec.vae_nproc},
                                                                 {"environment", ctx.environment},
                                                                 {"dataset_fingerprints", fingerprints},
                                                                 {"dvae_version", kVersion}}
                                                      .dump(2));
  for (const auto& v : plan.vaes) progress.plan(v.cost);
  for (const auto& u : plan.supervised) progress.plan(u.cost);
  for (const auto& u : plan.probes) progress.plan(u.cost);
  if (!sharded) progress.plan(plan.figure_cost);
  progress.say("plan: " + std::to_string(plan.vaes.size()) + " VAEs, " + std::to_string(plan.supervised.size()) +
               " supervised cells, " + std::to_string(plan.probes.size()) + " probe grids");

  train_stage(run, plan);
  probe_stage(run, plan);
  if (sharded) {  // each shard scores its own VAEs; figures and the report come with `dvae study merge`
    disentanglement_stage(run, plan);
    manifest.complete = true;
    write_shard_manifest(ctx.out_dir, manifest);
    outcome.seconds = since(start);
    return outcome;
  }
  const std::vector<DisentanglementScore> disentanglement = disentanglement_stage(run, plan);
  const std::vector<ResultRow> rows = all_rows(plan);

  ReportData report;
  report.title = spec.title;
  report.indicative = spec.indicative;
  report.config = study_json;
  report.environment = ctx.environment;
  for (const auto& [name, fp] : fingerprints.items()) {
    report.environment["fingerprint " + name] = fp.get<std::string>().substr(0, 16);
  }
  figure_stage(run, plan, rows, report);
  if (!disentanglement.empty()) {
    report.sections.push_back(
        disentanglement_section(disentanglement, spec.sizes, ctx.out_dir + "/figures/disentanglement"));
  }
  report_stage(run, plan, rows, report, start);
  return outcome;
}

}  // namespace dvae
