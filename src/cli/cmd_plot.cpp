// `dvae plot`: Figure 4, confusion heat maps and misclassification galleries
// from results.jsonl; training curves and per-latent KL bars from log.jsonl;
// per-latent KL on the test set from checkpoints. All drawn by gnuplot.
#include <filesystem>
#include <iostream>
#include <set>

#include "analysis/figures.h"
#include "analysis/plots.h"
#include "analysis/records.h"
#include "cli/commands.h"
#include "cli/flag_checks.h"
#include "cli/figure_args.h"
#include "core/check.h"
#include "core/runtime.h"
#include "training/checkpoint.h"

namespace dvae::cli {

namespace {

namespace fs = std::filesystem;

struct PlotArgs {
  std::string results;                   // --results results.jsonl
  std::vector<std::string> logs;         // --log log.jsonl (repeatable)
  std::vector<std::string> checkpoints;  // --checkpoint CKPT (repeatable)
  std::string out;                       // --out DIR
  int64_t n = 0;                         // --n (0 = 10 when present, else the smallest n)
  int64_t gallery_k = 32;                // --gallery-k
  bool no_gallery = false;               // --no-gallery
  bool no_svg = false;                   // --no-svg
  std::string gnuplot;                   // --gnuplot PATH
  FigureArgs figure;                     // --dataset, --data-dir, --scale
};

/// A file-name-safe version of text.
std::string slug(const std::string& text) {
  std::string out;
  for (char c : text) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_';
  return out;
}

/// Names outputs of several runs apart: the folder holding the file ("runs/mlp-b4/log.jsonl" -> "mlp-b4_").
std::string run_prefix(const std::string& path, bool several) {
  if (!several) return "";
  const fs::path parent = fs::absolute(path).parent_path();
  return slug(parent.filename().string()) + "_";
}

std::string n_label(int64_t n) { return n == -1 ? std::string("all") : std::to_string(n); }

void print_files(const PlotFiles& f) {
  std::cout << "wrote " << f.png;
  if (!f.svg.empty()) std::cout << ", " << f.svg;
  if (!f.csv.empty()) std::cout << ", " << f.csv;
  std::cout << "\n";
}

void plot_results(const PlotArgs& args, const PlotOptions& plot, const GlobalOptions& global) {
  DVAE_CHECK(fs::exists(args.results), args.results, ": no such file, expected a results.jsonl of dvae classify");
  const auto records = read_results(args.results, TornTail::kSkip);
  DVAE_CHECK(!records.empty(), args.results, ": no records, expected one JSON object per classifier run");
  print_files(plot_accuracy_vs_labels(records, args.out, plot));
  std::cout << format_summary(summarise(records));
  std::set<int64_t> ns;
  for (const auto& r : records) ns.insert(r.n);
  int64_t n = args.n;
  if (n == 0) n = ns.count(10) ? 10 : *ns.begin();
  DVAE_CHECK_USAGE(ns.count(n), "--n ", n, ": no results at that many labels per class in ", args.results);
  // Per (arch, model) at n: summed confusion over trials; the first trial's predictions for the gallery.
  std::map<std::pair<std::string, std::string>, std::vector<const ResultRow*>> cells;
  for (const auto& r : records) {
    if (r.n == n) cells[{r.arch, r.model}].push_back(&r);
  }
  Dataset data;
  bool have_data = false;
  for (const auto& [key, rows] : cells) {
    const std::string name = key.first + "_" + key.second + "_n" + n_label(n);
    std::vector<std::vector<int64_t>> confusion;
    for (const auto* r : rows) {
      if (r->confusion.empty()) continue;
      if (confusion.empty()) {
        confusion = r->confusion;
        continue;
      }
      DVAE_CHECK(r->confusion.size() == confusion.size(), args.results, ": confusion matrices of different sizes");
      for (size_t i = 0; i < confusion.size(); ++i) {
        for (size_t j = 0; j < confusion[i].size() && j < r->confusion[i].size(); ++j) {
          confusion[i][j] += r->confusion[i][j];
        }
      }
    }
    if (!confusion.empty()) {
      const std::string title = "Confusion: " + key.first + " " + key.second + ", n = " + n_label(n) +
                                " labels per class, summed over " + std::to_string(rows.size()) + " trials";
      print_files(plot_confusion(confusion, title, (fs::path(args.out) / ("confusion_" + slug(name))).string(), plot));
    }
    if (args.no_gallery) continue;
    const ResultRow* first = rows.front();
    for (const auto* r : rows) {
      if (r->trial < first->trial) first = r;
    }
    if (first->predictions.empty()) {
      std::cerr << "note: " << args.results << ": no predictions for " << name << ", gallery skipped\n";
      continue;
    }
    if (!have_data) {
      data = load_test_data(args.figure, "mnist", global);
      have_data = true;
    }
    FigureOptions figure = figure_options(args.figure);
    figure.plot = plot;
    const std::string title = "Misclassified: " + key.first + " " + key.second + ", n = " + n_label(n) +
                              ", trial " + std::to_string(first->trial);
    const FigureFiles files =
        write_gallery_figure(data.test, first->predictions, args.gallery_k, 8, title,
                             (fs::path(args.out) / ("gallery_" + slug(name) + ".png")).string(), figure);
    std::cout << "wrote " << files.figure << " (" << files.info["total_wrong"].get<int64_t>()
              << " misclassified test images)\n";
  }
}

void plot_logs(const PlotArgs& args, const PlotOptions& plot) {
  for (const auto& path : args.logs) {
    const auto log = read_training_log(path);
    DVAE_CHECK(!log.empty(), path, ": no epochs, expected one JSON object per epoch");
    const std::string prefix = run_prefix(path, args.logs.size() > 1);
    char beta[32];
    std::snprintf(beta, sizeof(beta), "%g", log.back().beta);
    const std::string run = fs::absolute(path).parent_path().filename().string();
    print_files(plot_training_curves(log, "Training of " + run + " (beta = " + beta + ")",
                                     (fs::path(args.out) / (prefix + "training_curves")).string(), plot));
    if (!log.back().kl_per_latent.empty()) {
      print_files(plot_latent_kl(log.back().kl_per_latent,
                                 "Per-latent KL on the test set: " + run + " (beta = " + beta + "), epoch " +
                                     std::to_string(log.back().epoch),
                                 (fs::path(args.out) / (prefix + "latent_kl")).string(), plot));
    }
  }
}

void plot_checkpoints(const PlotArgs& args, const PlotOptions& plot, const GlobalOptions& global) {
  const torch::Device device = resolve_device(global.device);
  for (const auto& path : args.checkpoints) {
    const LoadedVae loaded = load_vae(path, device);
    const Dataset data = load_test_data(args.figure, loaded.meta.dataset, global);
    const auto kl = latent_kl(*loaded.vae->encoder(), data.test).contiguous();  // [D]
    const std::vector<double> values(kl.data_ptr<double>(), kl.data_ptr<double>() + kl.numel());
    const std::string prefix = args.checkpoints.size() > 1 ? run_prefix(path, true) : "";
    print_files(plot_latent_kl(values, "Per-latent KL on the " + data.name + " test set: " + describe_vae(loaded.meta),
                               (fs::path(args.out) / (prefix + "checkpoint_latent_kl")).string(), plot));
  }
}

void run_plot(const PlotArgs& args, const GlobalOptions& global) {
  DVAE_CHECK_USAGE(!args.results.empty() || !args.logs.empty() || !args.checkpoints.empty(),
                   "dvae plot: nothing to plot, expected --results FILE, --log FILE or --checkpoint FILE");
  configure_runtime(global);
  PlotOptions plot;
  plot.gnuplot = args.gnuplot;
  plot.svg = !args.no_svg;
  find_gnuplot(plot);  // fail before any work when gnuplot is missing
  fs::create_directories(args.out);
  if (!args.results.empty()) plot_results(args, plot, global);
  if (!args.logs.empty()) plot_logs(args, plot);
  if (!args.checkpoints.empty()) plot_checkpoints(args, plot, global);
}

}  // namespace

void add_plot_command(CLI::App& app, GlobalOptions& global) {
  auto args = std::make_shared<PlotArgs>();
  auto* cmd = app.add_subcommand(
      "plot", "Figure 4, confusion heat maps and galleries (--results); training curves and KL bars (--log)");
  cmd->add_option("--results", args->results, "results.jsonl of the few-label protocol");
  cmd->add_option("--log", args->logs, "log.jsonl of a training run (repeatable)");
  cmd->add_option("--checkpoint", args->checkpoints, "VAE checkpoint: per-latent KL on the test set (repeatable)");
  cmd->add_option("--out", args->out, "output folder")->required();
  cmd->add_option("--n", args->n, "labels per class for confusion maps and galleries, -1 = all (default: 10)")
      ->check(int_in(-1, 1000000));
  cmd->add_option("--gallery-k", args->gallery_k, "misclassified images per gallery")
      ->capture_default_str()
      ->check(int_in(1, 10000));
  cmd->add_flag("--no-gallery", args->no_gallery, "skip the misclassification galleries (no test images needed)");
  cmd->add_flag("--no-svg", args->no_svg, "write PNG plots only");
  cmd->add_option("--gnuplot", args->gnuplot, "gnuplot executable (default: /usr/bin/gnuplot or PATH)");
  cmd->add_option("--dataset", args->figure.dataset, "data set of the galleries' test images (default: mnist)");
  cmd->add_option("--data-dir", args->figure.data_dir, "folder with the four IDX files, instead of --dataset");
  cmd->add_option("--scale", args->figure.scale, "pixel upscaling factor of gallery images")
      ->capture_default_str()
      ->check(int_in(1, 32));
  cmd->callback([args, &global]() { run_plot(*args, global); });
}

}  // namespace dvae::cli
