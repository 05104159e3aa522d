// The reproduction pipeline: units of work, their keys, the results database,
// progress with ETA, and the report's inputs.
#include "experiments/reproduce.h"

#include <chrono>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <iomanip>
#include <mutex>
#include <sstream>
#include <thread>

#include "analysis/figures.h"
#include "analysis/plots.h"
#include "analysis/records.h"
#include "core/atomic_file.h"
#include "core/check.h"
#include "core/random.h"
#include "core/torch_compat.h"
#include "data/datasets.h"
#include "dvae/version.h"
#include "evaluation/protocol.h"
#include "experiments/report.h"
#include "experiments/results_db.h"
#include "experiments/run_lock.h"
#include "training/checkpoint.h"
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

// Progress over the whole grid: each unit has an estimated cost (in
// "image-passes" weighted by architecture); the ETA extrapolates the rate
// measured on the work done so far in this call.
class Progress {
 public:
  explicit Progress(std::function<void(const std::string&)> log) : log_(std::move(log)), start_(Clock::now()) {}
  void plan(double cost) { total_ += cost; }
  void skip(double cost) { skipped_ += cost; }
  // Marks cost as done (fraction of a unit in progress is passed as partial).
  void advance(double cost) { done_ += cost; }
  void say(const std::string& message, double partial = 0) const {
    if (!log_) return;
    const double done = done_ + skipped_ + partial;
    const double pct = total_ > 0 ? 100.0 * done / total_ : 100.0;
    const double worked = done_ + partial;
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
  double total_ = 0, done_ = 0, skipped_ = 0;
};

double arch_weight(const std::string& arch) { return arch == "cnn" ? 15.0 : 1.0; }

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

struct TrainedVae {
  std::string model;  // "standard" | "disentangled"
  std::string label;  // "mlp standard VAE (beta 1, 50 epochs)"
  double beta = 1;
  std::string run_dir;
  std::string checkpoint;
  std::string checkpoint_sha;
  nlohmann::json stats;
  double seconds = 0;
  int64_t epochs = 0;
};

std::string short_key(const std::string& key) { return key.substr(0, 10); }

std::string beta_text(double beta) {
  std::ostringstream out;
  out << beta;
  return out.str();
}

}  // namespace

ReproduceOutcome reproduce(const ReproduceConfig& config, const ReproduceContext& ctx) {
  const auto start = Clock::now();
  DVAE_CHECK_USAGE(!config.archs.empty(), "--arch: expected at least one of mlp, cnn");
  for (const auto& arch : config.archs) {
    DVAE_CHECK_USAGE(arch == "mlp" || arch == "cnn", "--arch ", arch, ": expected mlp or cnn");
  }
  fs::create_directories(ctx.out_dir);
  RunLock lock(ctx.out_dir);
  ResultsDb db(ctx.out_dir + "/results.sqlite");
  Progress progress(ctx.log);
  ReproduceOutcome outcome;

  const Dataset data = load_dataset(config.dataset, ctx.data_root);
  const std::string fingerprint = dataset_fingerprint(data);
  const nlohmann::json config_json = config_to_json(config);
  write_file_atomic(ctx.out_dir + "/config.json",
                    nlohmann::json{{"config", config_json},
                                   {"environment", ctx.environment},
                                   {"dataset_fingerprint", fingerprint},
                                   {"dvae_version", kVersion}}
                        .dump(2));

  // Plan: VAE training dominates; classifier grid and figures are estimated.
  int64_t labelled_images = 0;
  for (int64_t n : config.sizes) {
    const int64_t per = n < 0 ? data.train.size() : n * data.train.num_classes;
    labelled_images += per * (n >= 1000 || n < 0 ? config.trials_large : config.trials_small);
  }
  auto vae_cost = [&](const std::string& arch) {
    const int64_t images = vae_train_images(config, arch) > 0 ? vae_train_images(config, arch) : data.train.size();
    return static_cast<double>(images * vae_epochs(config, arch)) * arch_weight(arch);
  };
  auto grid_cost = [&](const std::string& arch) {
    return static_cast<double>(labelled_images * config.supervised_epochs) * arch_weight(arch) * 0.3 + 2e5;
  };
  const double figure_cost = 3e5;
  for (const auto& arch : config.archs) progress.plan(2 * vae_cost(arch) + grid_cost(arch) + figure_cost);

  ReportData report;
  report.config = config_json;
  report.environment = ctx.environment;
  report.environment["dataset fingerprint"] = fingerprint.substr(0, 16);
  std::vector<AccuracyRecord> all_records;

  for (const auto& arch : config.archs) {
    ModelOptions model;
    model.arch = arch;
    model.latent_dim = config.latent_dim;
    model.image_size = data.train.rows();
    const Dataset vae_data = vae_training_data(data, vae_train_images(config, arch), config.seed);

    // --- Unit: the two VAEs -------------------------------------------------
    // Independent of each other: on a CPU with >= 2 threads they train at the
    // same time, each on half the threads (more images/s in total than one
    // training on all threads; each run draws only from its own generator, so
    // the numbers are those of a run alone with the same thread count).
    struct PendingVae {
      size_t index;
      TrainOptions train;
      std::string key;
    };
    std::vector<TrainedVae> vaes;
    std::vector<PendingVae> pending;
    for (const auto& [name, beta] : std::vector<std::pair<std::string, double>>{
             {"standard", 1.0}, {"disentangled", disentangled_beta(config, arch)}}) {
      TrainOptions train = default_train_options(arch);
      train.beta = beta;
      train.epochs = vae_epochs(config, arch);
      train.seed = derive_seed(config.seed, {0x5AEu, beta == 1.0 ? 1u : 2u});
      const nlohmann::json spec = {{"unit", "vae"},
                                   {"model", model_options_to_json(model)},
                                   {"train", train_options_to_json(train)},
                                   {"train_images", vae_data.train.size()},
                                   {"data", fingerprint},
                                   {"dvae", kVersion}};
      const std::string key = unit_key(spec);
      TrainedVae tv;
      tv.model = name;
      tv.beta = beta;
      tv.epochs = train.epochs;
      tv.run_dir = ctx.out_dir + "/vae/" + arch + "-beta" + beta_text(beta) + "-" + short_key(key);
      tv.checkpoint = tv.run_dir + "/checkpoint.pt";
      tv.label = arch + " " + name + " VAE (beta " + beta_text(beta) + ", " + std::to_string(train.epochs) + " epochs)";
      const std::string& label = tv.label;
      auto record = db.find(key);
      if (ctx.force && record) {
        db.erase(key);
        record.reset();
      }
      if (ctx.force) fs::remove_all(tv.run_dir);
      if (record && fs::exists(tv.checkpoint) && sha256_file(tv.checkpoint) == record->sha256) {
        progress.skip(vae_cost(arch));
        progress.say(label + ": done earlier, skipped");
        tv.checkpoint_sha = record->sha256;
        tv.stats = record->payload;
        tv.seconds = record->seconds;
        ++outcome.units_skipped;
      } else {
        pending.push_back({vaes.size(), train, key});
      }
      vaes.push_back(tv);
    }
    const int threads = at::get_num_threads();
    const bool together = pending.size() == 2 && ctx.device.is_cpu() && threads >= 2;
    std::mutex progress_mutex;
    std::vector<double> partial(pending.size(), 0.0);
    const auto train_one = [&](size_t p) {
      const PendingVae& job = pending[p];
      TrainedVae& tv = vaes[job.index];
      const std::string& label = tv.label;
      const auto t0 = Clock::now();
      const double cost = vae_cost(arch);
      TrainCallbacks callbacks;
      callbacks.on_epoch = [&](const EpochStats& s) {
        std::ostringstream msg;
        msg << label << ": epoch " << s.epoch << "/" << job.train.epochs << " test ELBO " << std::fixed
            << std::setprecision(2) << s.test_elbo << " KL " << s.test_kl << " active " << s.active_latents << " ("
            << std::setprecision(0) << s.images_per_sec << " img/s)";
        std::lock_guard<std::mutex> lock(progress_mutex);
        partial[p] = cost * static_cast<double>(s.epoch) / static_cast<double>(job.train.epochs);
        double sum = 0;
        for (double v : partial) sum += v;
        progress.say(msg.str(), sum);
      };
      {
        std::lock_guard<std::mutex> lock(progress_mutex);
        progress.say(label + ": training" +
                     (together ? " (alongside the other VAE, " + std::to_string(at::get_num_threads()) + " thread" +
                                     (at::get_num_threads() == 1 ? "" : "s") + ")"
                               : std::string()));
      }
      const EpochStats last = train_vae(vae_data, model, job.train, tv.run_dir, /*resume=*/true, ctx.device, callbacks);
      tv.stats = epoch_stats_to_json(last);
      tv.checkpoint_sha = sha256_file(tv.checkpoint);
      tv.seconds = since(t0);
    };
    if (together) {
      // Both workers set their thread count before either computes.
      std::mutex gate_mutex;
      std::condition_variable gate;
      int ready = 0;
      std::vector<std::exception_ptr> failures(pending.size());
      std::vector<std::thread> workers;
      for (size_t p = 0; p < pending.size(); ++p) {
        workers.emplace_back([&, p] {
          try {
            {
              std::unique_lock<std::mutex> lock(gate_mutex);
              at::set_num_threads(std::max(1, threads / 2));
              ++ready;
              gate.notify_all();
              gate.wait(lock, [&] { return ready == static_cast<int>(pending.size()); });
            }
            train_one(p);
          } catch (...) {
            failures[p] = std::current_exception();
          }
        });
      }
      for (auto& w : workers) w.join();
      for (const auto& f : failures) {
        if (f) std::rethrow_exception(f);
      }
    } else {
      for (size_t p = 0; p < pending.size(); ++p) train_one(p);
    }
    for (const auto& job : pending) {
      const TrainedVae& tv = vaes[job.index];
      progress.advance(vae_cost(arch));
      db.put({job.key, "vae", tv.label, fs::relative(tv.checkpoint, ctx.out_dir).string(), tv.checkpoint_sha, tv.stats,
              tv.seconds});
      ++outcome.units_run;
    }
    for (const auto& tv : vaes) {
      report.durations.emplace_back(tv.label + (together ? ", trained together" : ""), tv.seconds);
    }

    // --- Units: the classifier cells ------------------------------------------
    std::vector<LoadedVae> loaded;
    std::vector<FrozenEncoder> encoders;
    for (const auto& tv : vaes) {
      loaded.push_back(load_vae(tv.checkpoint, ctx.device));
    }
    // Disentangled first: the order of models in the results.
    for (size_t i = vaes.size(); i-- > 0;) {
      encoders.push_back({vaes[i].model, vaes[i].beta, loaded[i].vae->encoder()});
    }
    ProtocolOptions protocol;
    protocol.sizes = config.sizes;
    protocol.trials_small = config.trials_small;
    protocol.trials_large = config.trials_large;
    protocol.probe.epochs = config.probe_epochs;
    protocol.probe.hidden = config.hidden;
    protocol.supervised.epochs = config.supervised_epochs;
    protocol.supervised.hidden = config.hidden;
    protocol.with_logvar = config.with_logvar;
    protocol.seed = config.seed;
    const nlohmann::json grid_spec = {{"unit", "grid"},
                                      {"arch", arch},
                                      {"vaes", {vaes[0].checkpoint_sha, vaes[1].checkpoint_sha}},
                                      {"sizes", config.sizes},
                                      {"trials", {config.trials_small, config.trials_large}},
                                      {"epochs", {config.probe_epochs, config.supervised_epochs}},
                                      {"hidden", config.hidden},
                                      {"with_logvar", config.with_logvar},
                                      {"seed", config.seed},
                                      {"data", fingerprint},
                                      {"dvae", kVersion}};
    const std::string grid_key = unit_key(grid_spec);
    const std::string results_dir = ctx.out_dir + "/classify/" + arch + "-" + short_key(grid_key);
    const std::string results_path = results_dir + "/results.jsonl";
    if (ctx.force) fs::remove_all(results_dir);
    fs::create_directories(results_dir);
    write_file_atomic(results_dir + "/config.json", grid_spec.dump(2));
    const auto grid_start = Clock::now();
    const auto before = read_results(results_path).size();
    const double gcost = grid_cost(arch);
    int64_t rows_done = 0;
    const auto rows = run_protocol(data, model, encoders, protocol, results_path, ctx.device,
                                   [&](const std::string& message) {
                                     ++rows_done;
                                     progress.say(message, gcost * std::min(0.95, rows_done / 40.0));
                                   });
    progress.advance(gcost);
    const double grid_seconds = since(grid_start);
    // Record every cell in the database (rows are already durable in results.jsonl).
    for (const auto& row : rows) {
      nlohmann::json cell_spec = grid_spec;
      cell_spec["unit"] = "cell";
      cell_spec["cell"] = {row.model, row.n, row.trial};
      const std::string cell_key = unit_key(cell_spec);
      if (!ctx.force && db.find(cell_key)) continue;
      nlohmann::json payload = row_to_json(row);
      payload.erase("predictions");
      payload.erase("epoch_loss");
      db.put({cell_key, "cell",
              arch + " " + row.model + " n=" + (row.n < 0 ? std::string("all") : std::to_string(row.n)) + " trial " +
                  std::to_string(row.trial),
              fs::relative(results_path, ctx.out_dir).string(), "", payload, row.seconds});
    }
    if (rows.size() > before) {
      ++outcome.units_run;
    } else {
      ++outcome.units_skipped;
    }
    report.durations.emplace_back(arch + " classifier grid (this call)", grid_seconds);
    report.rows.insert(report.rows.end(), rows.begin(), rows.end());
    write_file_atomic(results_dir + "/errors.json",
                      error_analysis(rows, data.test.labels, 20).dump(2));

    // --- Units: figures ---------------------------------------------------------
    const std::string fig_dir = ctx.out_dir + "/figures/" + arch;
    fs::create_directories(fig_dir);
    auto figure_unit = [&](const std::string& name, const nlohmann::json& inputs, const std::string& artefact,
                           const std::function<void()>& draw) {
      nlohmann::json spec = {{"unit", "figure"}, {"name", name}, {"inputs", inputs}, {"dvae", kVersion}};
      const std::string key = unit_key(spec);
      auto rec = db.find(key);
      if (!ctx.force && rec && fs::exists(artefact) && sha256_file(artefact) == rec->sha256) {
        ++outcome.units_skipped;
        return;
      }
      const auto t0 = Clock::now();
      draw();
      db.put({key, "figure", arch + " " + name, fs::relative(artefact, ctx.out_dir).string(), sha256_file(artefact),
              nlohmann::json::object(), since(t0)});
      ++outcome.units_run;
    };
    progress.say(arch + ": drawing figures");
    FigureOptions fig;
    for (size_t i = 0; i < vaes.size(); ++i) {
      const auto& tv = vaes[i];
      VaeReport vr;
      vr.arch = arch;
      vr.model = tv.model;
      vr.beta = tv.beta;
      vr.epochs = tv.epochs;
      vr.stats = tv.stats;
      vr.seconds = tv.seconds;
      const std::string stem = fig_dir + "/" + tv.model;
      const std::string title = arch + " " + tv.model + " VAE, beta " + beta_text(tv.beta);
      const nlohmann::json in = {{"checkpoint", tv.checkpoint_sha}};
      vr.traversal = stem + "_traversal.png";
      figure_unit(tv.model + " traversal", in, vr.traversal, [&] {
        write_traversal_figure(parts_of(*loaded[i].vae), data.test, -1, TraversalOptions{},
                               "Latent traversals: " + title, vr.traversal, fig);
      });
      vr.samples = stem + "_samples.png";
      figure_unit(tv.model + " samples", in, vr.samples, [&] {
        write_samples_figure(*loaded[i].vae->decoder(), config.latent_dim, 64, config.seed, 16,
                             "Prior samples: " + title, vr.samples, fig);
      });
      const auto kl = tv.stats.value("kl_per_latent", std::vector<double>{});
      vr.kl_chart = stem + "_kl.png";
      figure_unit(tv.model + " kl", in, vr.kl_chart,
                  [&] { plot_latent_kl(kl, "Per-latent test KL: " + title, stem + "_kl", fig.plot); });
      vr.curves = stem + "_curves.png";
      figure_unit(tv.model + " curves", in, vr.curves, [&] {
        plot_training_curves(read_training_log(tv.run_dir + "/log.jsonl"), "Training: " + title, stem + "_curves",
                             fig.plot);
      });
      report.vaes.push_back(vr);
    }
    ArchReport ar;
    ar.arch = arch;
    const nlohmann::json both = {{"checkpoints", {vaes[0].checkpoint_sha, vaes[1].checkpoint_sha}}};
    const std::vector<VaeParts> parts = {parts_of(*loaded[0].vae), parts_of(*loaded[1].vae)};
    const std::vector<std::string> names = {"standard", "disentangled"};
    ar.recon_random = fig_dir + "/reconstructions_random.png";
    figure_unit("reconstructions random", both, ar.recon_random, [&] {
      write_reconstruction_figure(parts, names, data.test, 16, false, config.seed, 16,
                                  arch + ": test images, standard and disentangled reconstructions", ar.recon_random,
                                  fig);
    });
    ar.recon_worst = fig_dir + "/reconstructions_worst.png";
    figure_unit("reconstructions worst", both, ar.recon_worst, [&] {
      write_reconstruction_figure(parts, names, data.test, 16, true, config.seed, 16,
                                  arch + ": worst reconstructions (by the standard VAE's loss)", ar.recon_worst, fig);
    });
    // Confusion matrices and galleries at the smallest n (first trial).
    const int64_t n_small = *std::min_element(config.sizes.begin(), config.sizes.end(), [](int64_t a, int64_t b) {
      return (a < 0 ? INT64_MAX : a) < (b < 0 ? INT64_MAX : b);
    });
    for (const auto& row : rows) {
      if (row.n != n_small || row.trial != 0) continue;
      const std::string base = fig_dir + "/" + row.model + "_n" + std::to_string(n_small);
      const nlohmann::json in = {{"grid", grid_key}, {"model", row.model}, {"n", n_small}};
      figure_unit(row.model + " confusion", in, base + "_confusion.png", [&] {
        plot_confusion(row.confusion, arch + " " + row.model + ", n=" + std::to_string(n_small) + " (trial 0)",
                       base + "_confusion", fig.plot);
      });
      ar.confusions.emplace_back(
          arch + " " + row.model + ": confusion matrix at n=" + std::to_string(n_small) + " (trial 0)",
          base + "_confusion.png");
      figure_unit(row.model + " gallery", in, base + "_gallery.png", [&] {
        write_gallery_figure(data.test, row.predictions, 32, 16,
                             arch + " " + row.model + ", n=" + std::to_string(n_small) + ": misclassified test images",
                             base + "_gallery.png", fig);
      });
      ar.galleries.emplace_back(arch + " " + row.model + ": misclassified test images at n=" + std::to_string(n_small),
                                base + "_gallery.png");
    }
    report.archs.push_back(ar);
    for (const auto& rec : read_accuracy_records(results_path)) all_records.push_back(rec);
    progress.advance(figure_cost);
  }

  // --- Figure 4 and the report ---------------------------------------------------
  const std::string fig4_dir = ctx.out_dir + "/figures";
  const PlotFiles fig4 = plot_accuracy_vs_labels(all_records, fig4_dir);
  report.figure4_png = fig4.png;
  report.figure4_svg = fig4.svg;
  report.figure4_csv = fig4.csv;
  report.summary = summarise(report.rows);
  double previous = 0;
  if (auto rec = db.find("total-seconds")) previous = rec->payload.value("seconds", 0.0);
  outcome.seconds = since(start);
  report.seconds = previous + outcome.seconds;
  db.put({"total-seconds", "meta", "wall time of all reproduce calls", "", "",
          nlohmann::json{{"seconds", report.seconds}}, report.seconds});
  outcome.report_html = write_report(report, ctx.out_dir + "/report");
  outcome.report_md = ctx.out_dir + "/report/report.md";
  write_file_atomic(ctx.out_dir + "/report/summary.txt", format_summary(report.summary));
  progress.say("report written: " + outcome.report_html);
  return outcome;
}

}  // namespace dvae
