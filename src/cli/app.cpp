// Builds the dvae application: global options, --config, and every subcommand.
#include "cli/app.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "cli/commands.h"
#include "cli/flag_checks.h"
#include "cli/toml_config.h"
#include "core/check.h"
#include "core/cpu_dispatch.h"
#include "core/gemm.h"
#include "core/runtime.h"
#include "dvae/version.h"

namespace dvae::cli {

std::unique_ptr<CLI::App> make_app(GlobalOptions& global) {
  auto app = std::make_unique<CLI::App>(
      "dvae: disentangling VAEs for image classification with few labels (LibTorch)", "dvae");
  app->set_version_flag("--version", std::string("dvae ") + kVersion);
  app->require_subcommand(1);
  app->fallthrough();
  app->config_formatter(std::make_shared<TomlConfig>());
  app->set_config("--config", "", "TOML settings file; flags on the command line override it");
  app->add_option("--threads", global.threads, "CPU threads (default: all cores, with a passive OpenMP wait policy)")
      ->check(int_in(1, 65536));
  app->add_option("--device", global.device, "auto | cpu | cuda | cuda:K")->capture_default_str();
  app->add_flag("-q,--quiet", global.quiet, "no progress output");
  app->add_option("--data-root", global.data_root, "folder holding named data sets (default: $DVAE_DATA or ./data)");

  add_info_command(*app, global);
  add_train_command(*app, global);
  add_export_command(*app, global);
  add_encode_command(*app, global);
  add_factors_command(*app, global);
  add_metrics_command(*app, global);
  add_reproduce_command(*app, global);
  add_classify_command(*app, global);
  add_study_command(*app, global);
  add_data_command(*app, global);
  add_traverse_command(*app, global);
  add_reconstruct_command(*app, global);
  add_sample_command(*app, global);
  add_plot_command(*app, global);
  add_serve_command(*app, global);
  for (auto* sub : app->get_subcommands({})) sub->configurable(true);
  return app;
}

void configure_runtime(const GlobalOptions& global) {
  int threads = global.threads;
  if (threads <= 0) {
    threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  set_threads(threads);
  // DVAE_KERNEL_PATH=scalar|avx2|avx512 forces the hand-written kernels' path
  // (core/cpu_dispatch.h); the one place below apps/ that reads it.
  if (const char* path = std::getenv("DVAE_KERNEL_PATH"); path && *path) {
    set_kernel_path(parse_kernel_path(path, "DVAE_KERNEL_PATH"));
  }
  // DVAE_GEMM=blas|onednn forces the MLP steps' matrix-product library (core/gemm.h).
  if (const char* gemm = std::getenv("DVAE_GEMM"); gemm && *gemm) {
    set_gemm_backend(parse_gemm_backend(gemm, "DVAE_GEMM"));
  }
}

std::string data_root(const GlobalOptions& global) {
  if (!global.data_root.empty()) return global.data_root;
  if (const char* env = std::getenv("DVAE_DATA"); env && *env) return env;
  if (std::filesystem::is_directory("data")) return "data";
  return std::string(DVAE_DEFAULT_DATA_ROOT);
}

bool interactive(const GlobalOptions& global) { return !global.quiet && ::isatty(STDERR_FILENO); }

}  // namespace dvae::cli
