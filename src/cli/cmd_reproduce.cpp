// `dvae reproduce`: the paper's study (experiments/presets.cpp) in one resumable command.
#include <iostream>

#include "cli/commands.h"
#include "cli/flag_checks.h"
#include "cli/study_runner.h"
#include "core/check.h"

namespace dvae::cli {

void add_reproduce_command(CLI::App& app, GlobalOptions& global) {
  struct Args {
    std::string preset = "quick";
    std::string config_file;
    std::vector<std::string> archs;
    std::string dataset;
    std::string out = "runs/reproduce";
    bool force = false;
    int64_t seed = -1;
    int64_t vae_seeds = 0;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "reproduce",
      "the paper's study: train the VAEs, run the few-label grid with the supervised baseline, test the paper's "
      "claims, draw every figure and write OUT/report/index.html; rerunning resumes");
  cmd->add_option("--preset", args->preset,
                  "quick (a few minutes on 2 cores, 2 VAE seeds) | paper (the paper's settings) | semi-supervised "
                  "(M2 and M1+M2 beside the probes and the baseline; hours)")
      ->capture_default_str()
      ->check(CLI::IsMember(preset_names()));
  cmd->add_option("--config", args->config_file,
                  "study file (TOML) applied over the preset: any key of `dvae study keys`")
      ->check(CLI::ExistingFile);
  cmd->add_option("--arch", args->archs, "architectures, comma separated (default: the preset's)")->delimiter(',');
  cmd->add_option("--dataset", args->dataset, "data set name or folder (default mnist)");
  cmd->add_option("--vae-seeds", args->vae_seeds, "independent trainings of each VAE (default: the preset's; 1..1000)")
      ->check(int_in(1, 1000));
  cmd->add_option("--out", args->out, "output folder")->capture_default_str();
  cmd->add_option("--seed", args->seed, "base seed (default 1)")->check(int_in(0, kMaxSeed));
  cmd->add_flag("--force", args->force, "redo finished units instead of skipping them");
  cmd->callback([&global, args]() {
    StudySpec spec = preset_study(args->preset);
    if (!args->config_file.empty()) spec = load_study(args->config_file, &spec);
    if (!args->archs.empty()) spec.archs = args->archs;
    if (!args->dataset.empty()) spec.datasets = {args->dataset};
    if (args->seed >= 0) spec.seed = static_cast<uint64_t>(args->seed);
    if (args->vae_seeds > 0) spec.vae_seeds = args->vae_seeds;
    validate_study(spec, "reproduce");
    configure_runtime(global);
    run_study_command(spec, args->out, args->force, global);
  });
}

}  // namespace dvae::cli
