// `dvae traverse`: latent traversal figure of a trained VAE (the paper's Figure 3).
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

struct TraverseArgs {
  std::string checkpoint;       // --checkpoint CKPT
  int64_t steps = 11;           // --steps
  double range = 3.0;           // --range
  std::string base = "prior";   // --base prior|INDEX
  double collapsed_kl = 0.01;   // --collapsed-kl
  FigureArgs figure;            // --scale, --no-labels, --dataset, --data-dir
  std::string out;              // --out FILE.png
};

int64_t parse_base(const std::string& text) {
  if (text == "prior") return -1;
  size_t used = 0;
  long long v = -1;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  DVAE_CHECK_USAGE(used == text.size() && v >= 0, "--base: '", text,
                   "', expected prior or a test image index (0, 1, ...)");
  return static_cast<int64_t>(v);
}

void run_traverse(const TraverseArgs& args, const GlobalOptions& global) {
  const int64_t base = parse_base(args.base);
  configure_runtime(global);
  const LoadedVae loaded = load_vae(args.checkpoint, resolve_device(global.device));
  const Dataset data = load_test_data(args.figure, loaded.meta.dataset, global);
  TraversalOptions options;
  options.steps = args.steps;
  options.range = args.range;
  options.collapsed_kl = args.collapsed_kl;
  const std::string title = "Latent traversals: " + describe_vae(loaded.meta) + ", base " +
                            (base < 0 ? std::string("prior mean") : "test image " + std::to_string(base));
  const FigureFiles files = write_traversal_figure(parts_of(*loaded.vae), data.test, base, options, title, args.out,
                                                   figure_options(args.figure));
  std::cout << "latent  KL(test, nats)  state\n";
  for (const auto& row : files.info["rows"]) {
    std::printf("z%-6lld %14.4f  %s\n", static_cast<long long>(row["latent"].get<int64_t>()),
                row["kl"].get<double>(), row["collapsed"].get<bool>() ? "collapsed" : "active");
  }
  std::cout << files.info["collapsed"].get<int64_t>() << " of " << files.info["rows"].size()
            << " latents collapsed (KL < " << args.collapsed_kl << ")\n"
            << "wrote " << files.figure << (files.grid != files.figure ? ", " + files.grid : "") << ", "
            << files.json << "\n";
}

}  // namespace

void add_traverse_command(CLI::App& app, GlobalOptions& global) {
  auto args = std::make_shared<TraverseArgs>();
  auto* cmd = app.add_subcommand("traverse", "latent traversal figure: one row per latent, sorted by test KL");
  cmd->add_option("--checkpoint", args->checkpoint, "VAE checkpoint (checkpoint.pt of a training run)")->required();
  cmd->add_option("--steps", args->steps, "values per row")->capture_default_str()->check(int_in(2, 101));
  cmd->add_option("--range", args->range, "each latent sweeps [-range, range]")
      ->capture_default_str()
      ->check(real_in(0, 1000, true));
  cmd->add_option("--base", args->base, "code the other latents keep: prior (zero) or a test image index")
      ->capture_default_str();
  cmd->add_option("--collapsed-kl", args->collapsed_kl, "KL (nats) under which a latent counts as collapsed")
      ->capture_default_str()
      ->check(real_in(0, 1e6));
  add_figure_flags(*cmd, args->figure);
  cmd->add_option("--out", args->out, "output PNG; FILE_grid.png and FILE.json are written beside it")->required();
  cmd->callback([args, &global]() { run_traverse(*args, global); });
}

}  // namespace dvae::cli
