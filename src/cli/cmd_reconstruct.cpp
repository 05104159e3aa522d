// `dvae reconstruct`: test images over their reconstructions by one or two VAEs
// (the paper's Figures 5 to 8), random by seed or the worst by loss.
#include <iostream>

#include "analysis/figures.h"
#include "cli/commands.h"
#include "cli/flag_checks.h"
#include "cli/figure_args.h"
#include "core/check.h"
#include "core/runtime.h"
#include "training/checkpoint.h"

namespace dvae::cli {

namespace {

struct ReconstructArgs {
  std::string checkpoint;   // --checkpoint CKPT
  std::string checkpoint2;  // --checkpoint2 CKPT
  int64_t k = 8;            // --k
  bool worst = false;       // --worst
  uint64_t seed = 1;        // --seed
  int64_t cols = 0;         // --cols (0 = min(k, 12))
  FigureArgs figure;        // --scale, --no-labels, --dataset, --data-dir
  std::string out;          // --out FILE.png
};

void run_reconstruct(const ReconstructArgs& args, const GlobalOptions& global) {
  configure_runtime(global);
  const torch::Device device = resolve_device(global.device);
  std::vector<LoadedVae> loaded;
  loaded.push_back(load_vae(args.checkpoint, device));
  if (!args.checkpoint2.empty()) loaded.push_back(load_vae(args.checkpoint2, device));
  const Dataset data = load_test_data(args.figure, loaded[0].meta.dataset, global);
  std::vector<VaeParts> vaes;
  std::vector<std::string> names;
  for (const auto& l : loaded) {
    vaes.push_back(parts_of(*l.vae));
    std::string arch = l.meta.arch;
    for (auto& c : arch) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    char beta[32];
    std::snprintf(beta, sizeof(beta), "%g", l.meta.beta);
    names.push_back(arch + " beta=" + beta);
  }
  if (names.size() == 2 && names[0] == names[1]) {
    names[0] += " (1)";
    names[1] += " (2)";
  }
  const int64_t cols = args.cols > 0 ? args.cols : std::min<int64_t>(args.k, 12);
  const std::string title =
      (args.worst ? "The " + std::to_string(args.k) + " test images " + names[0] + " reconstructs worst"
                  : "Reconstructions of " + std::to_string(args.k) + " random test images (seed " +
                        std::to_string(args.seed) + ")") +
      (loaded.size() == 2 ? std::string(", two models") : ": " + describe_vae(loaded[0].meta));
  const FigureFiles files = write_reconstruction_figure(vaes, names, data.test, args.k, args.worst, args.seed, cols,
                                                        title, args.out, figure_options(args.figure));
  for (const auto& m : files.info["models"]) {
    std::printf("%-20s mean reconstruction loss of the shown images %.2f nats\n",
                m["model"].get<std::string>().c_str(), m["mean_loss"].get<double>());
  }
  std::cout << "wrote " << files.figure << (files.grid != files.figure ? ", " + files.grid : "") << ", "
            << files.json << "\n";
}

}  // namespace

void add_reconstruct_command(CLI::App& app, GlobalOptions& global) {
  auto args = std::make_shared<ReconstructArgs>();
  auto* cmd = app.add_subcommand("reconstruct", "test images over their reconstructions (random or worst)");
  cmd->add_option("--checkpoint", args->checkpoint, "VAE checkpoint")->required();
  cmd->add_option("--checkpoint2", args->checkpoint2, "second VAE checkpoint, stacked below the first");
  cmd->add_option("--k", args->k, "number of test images")->capture_default_str()->check(int_in(1, 10000));
  cmd->add_flag("--worst", args->worst, "the k images the first model reconstructs worst, instead of random ones");
  cmd->add_option("--seed", args->seed, "seed of the random choice")->capture_default_str()->check(int_in(0, kMaxSeed));
  cmd->add_option("--cols", args->cols, "images per block row (default: min(k, 12))")->check(int_in(0, 1000));
  add_figure_flags(*cmd, args->figure);
  cmd->add_option("--out", args->out, "output PNG; FILE_grid.png and FILE.json are written beside it")->required();
  cmd->callback([args, &global]() { run_reconstruct(*args, global); });
}

}  // namespace dvae::cli
