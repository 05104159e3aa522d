// Flags and helpers shared by the figure subcommands (traverse, reconstruct,
// sample, plot): where test images come from and how grids are drawn.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "analysis/figures.h"
#include "cli/app.h"
#include "data/image_set.h"
#include "training/checkpoint.h"

namespace dvae::cli {

/// Test-image source and drawing flags of a figure subcommand.
struct FigureArgs {
  std::string dataset;     ///< --dataset NAME (default: the checkpoint's data set, else mnist)
  std::string data_dir;    ///< --data-dir DIR, instead of --dataset
  int64_t scale = 3;       ///< --scale: pixel upscaling factor (default 3)
  bool no_labels = false;  ///< --no-labels: bare grid, no gnuplot
};

/// Adds --dataset, --data-dir, --scale and --no-labels to cmd.
void add_figure_flags(CLI::App& cmd, FigureArgs& args);

/// Loads the data set the figure's test images come from: --data-dir, else --dataset,
/// else checkpoint_dataset when it is a registered name, else mnist.
Dataset load_test_data(const FigureArgs& args, const std::string& checkpoint_dataset, const GlobalOptions& global);

/// FigureOptions from the flags.
FigureOptions figure_options(const FigureArgs& args);

/// "MLP VAE, beta=4, epoch 50" for titles.
std::string describe_vae(const CheckpointMeta& meta);

}  // namespace dvae::cli
