// `dvae sample`: images decoded from z ~ N(0, I) by a trained VAE.
#include <iostream>

#include "analysis/figures.h"
#include "cli/commands.h"
#include "cli/flag_checks.h"
#include "cli/figure_args.h"
#include "core/runtime.h"
#include "training/checkpoint.h"

namespace dvae::cli {

namespace {

struct SampleArgs {
  std::string checkpoint;  // --checkpoint CKPT
  int64_t n = 64;          // --n
  int64_t cols = 8;        // --cols
  uint64_t seed = 1;       // --seed
  FigureArgs figure;       // --scale, --no-labels
  std::string out;         // --out FILE.png
};

void run_sample(const SampleArgs& args, const GlobalOptions& global) {
  configure_runtime(global);
  const LoadedVae loaded = load_vae(args.checkpoint, resolve_device(global.device));
  const std::string title = std::to_string(args.n) + " samples from the prior, " + describe_vae(loaded.meta) +
                            ", seed " + std::to_string(args.seed);
  const FigureFiles files = write_samples_figure(*loaded.vae->decoder(), loaded.meta.latent_dim, args.n, args.seed,
                                                 args.cols, title, args.out, figure_options(args.figure));
  std::cout << "wrote " << files.figure << (files.grid != files.figure ? ", " + files.grid : "") << ", "
            << files.json << "\n";
}

}  // namespace

void add_sample_command(CLI::App& app, GlobalOptions& global) {
  auto args = std::make_shared<SampleArgs>();
  auto* cmd = app.add_subcommand("sample", "grid of images decoded from z ~ N(0, I)");
  cmd->add_option("--checkpoint", args->checkpoint, "VAE checkpoint")->required();
  cmd->add_option("--n", args->n, "number of samples")->capture_default_str()->check(int_in(1, 10000));
  cmd->add_option("--cols", args->cols, "images per row")->capture_default_str()->check(int_in(1, 1000));
  cmd->add_option("--seed", args->seed, "seed of z")->capture_default_str()->check(int_in(0, kMaxSeed));
  cmd->add_option("--scale", args->figure.scale, "pixel upscaling factor of each image (nearest neighbour)")
      ->capture_default_str()
      ->check(int_in(1, 32));
  cmd->add_flag("--no-labels", args->figure.no_labels, "write the bare image grid, without a gnuplot title");
  cmd->add_option("--out", args->out, "output PNG; FILE_grid.png and FILE.json are written beside it")->required();
  cmd->callback([args, &global]() { run_sample(*args, global); });
}

}  // namespace dvae::cli
