// The dvae command line: global options and the subcommand table. This layer
// is the only code that sees argv or the environment.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace dvae::cli {

/// Options shared by every subcommand (they may appear before or after it).
struct GlobalOptions {
  int threads = 0;              ///< --threads N; 0 = dvae's choice (all physical cores)
  std::string device = "auto";  ///< --device auto|cpu|cuda
  bool quiet = false;           ///< --quiet: no progress output
  std::string data_root;        ///< --data-root: where named data sets live (default: see data_root())
};

/// Builds the dvae application with every subcommand registered.
std::unique_ptr<CLI::App> make_app(GlobalOptions& global);

/// Applies --threads (or dvae's default) to LibTorch and the BLAS.
void configure_runtime(const GlobalOptions& global);

/// The folder holding named data sets: --data-root, else $DVAE_DATA, else ./data
/// when it exists, else the source tree's data/ folder that set-up fills.
std::string data_root(const GlobalOptions& global);

/// True when stderr is a terminal (progress bars) and --quiet was not given.
bool interactive(const GlobalOptions& global);

}  // namespace dvae::cli
