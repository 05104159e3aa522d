// The figure subcommands' shared flags, data loading and titles.
#include "cli/figure_args.h"

#include <cctype>
#include <cstdio>

#include "cli/flag_checks.h"
#include "core/check.h"
#include "data/datasets.h"

namespace dvae::cli {

void add_figure_flags(CLI::App& cmd, FigureArgs& args) {
  cmd.add_option("--dataset", args.dataset, "data set for test images (default: the checkpoint's, else mnist)");
  cmd.add_option("--data-dir", args.data_dir, "folder with the four IDX files, instead of --dataset");
  cmd.add_option("--scale", args.scale, "pixel upscaling factor of each image (nearest neighbour)")
      ->capture_default_str()
      ->check(int_in(1, 32));
  cmd.add_flag("--no-labels", args.no_labels, "write the bare image grid, without gnuplot titles and labels");
}

Dataset load_test_data(const FigureArgs& args, const std::string& checkpoint_dataset, const GlobalOptions& global) {
  DVAE_CHECK_USAGE(args.dataset.empty() || args.data_dir.empty(), "--dataset ", args.dataset, " and --data-dir ",
                   args.data_dir, ": both given, expected at most one");
  if (!args.data_dir.empty()) return load_dataset_dir(args.data_dir);
  std::string name = args.dataset;
  if (name.empty()) name = find_dataset(checkpoint_dataset) ? checkpoint_dataset : "mnist";
  return load_dataset(name, data_root(global));
}

FigureOptions figure_options(const FigureArgs& args) {
  FigureOptions o;
  o.grid.scale = args.scale;
  o.labels = !args.no_labels;
  return o;
}

std::string describe_vae(const CheckpointMeta& meta) {
  std::string arch = meta.arch;
  for (auto& c : arch) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  char beta[32];
  std::snprintf(beta, sizeof(beta), "%g", meta.beta);
  return arch + " VAE, beta=" + beta + ", epoch " + std::to_string(meta.epoch);
}

}  // namespace dvae::cli
