// `dvae study run SPEC.toml`: any study (experiments/study_spec.h); `dvae study keys`: its keys.
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/study_runner.h"
#include "core/check.h"

namespace dvae::cli {

void add_study_command(CLI::App& app, GlobalOptions& global) {
  auto* cmd = app.add_subcommand(
      "study", "run a study declared in TOML: representation models x VAE seeds x classifiers x label budgets, with "
               "paired statistics, claims and a report (keys: `dvae study keys`)");
  cmd->require_subcommand(1);
  struct Args {
    std::string spec;
    std::string out;
    bool force = false;
    bool check = false;
  };
  auto args = std::make_shared<Args>();
  auto* run = cmd->add_subcommand("run", "run (or resume) the study in SPEC.toml and write OUT/report/index.html");
  run->add_option("spec", args->spec, "study file (TOML)")->required()->check(CLI::ExistingFile);
  run->add_option("--out", args->out, "output folder (default runs/<SPEC's name without .toml>)");
  run->add_flag("--force", args->force, "redo finished units instead of skipping them");
  run->add_flag("--check", args->check, "only parse and validate SPEC, print the resolved study as JSON");
  run->callback([&global, args]() {
    const StudySpec spec = load_study(args->spec);
    if (args->check) {
      std::cout << study_to_json(spec).dump(2) << "\n";
      return;
    }
    configure_runtime(global);
    const std::string out =
        args->out.empty() ? "runs/" + std::filesystem::path(args->spec).stem().string() : args->out;
    run_study_command(spec, out, args->force, global);
  });
  auto* keys = cmd->add_subcommand("keys", "print every key of a study file with its meaning and default");
  keys->callback([]() { std::cout << study_keys_help(); });
}

}  // namespace dvae::cli
