// `dvae study run SPEC.toml`: any study (experiments/study_spec.h); `dvae study keys`: its keys.
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/study_runner.h"
#include "core/atomic_file.h"
#include "core/check.h"
#include "experiments/results_db.h"
#include "experiments/run_lock.h"
#include "experiments/shards.h"

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
    std::string shard;                     // --shard K/N
    std::vector<std::string> shard_dirs;  // merge: OUT_1 ... OUT_N
    std::string merge_out;                // merge: --out
  };
  auto args = std::make_shared<Args>();
  auto* run = cmd->add_subcommand("run", "run (or resume) the study in SPEC.toml and write OUT/report/index.html");
  run->add_option("spec", args->spec, "study file (TOML)")->required()->check(CLI::ExistingFile);
  run->add_option("--out", args->out, "output folder (default runs/<SPEC's name without .toml>)");
  run->add_flag("--force", args->force, "redo finished units instead of skipping them");
  run->add_flag("--check", args->check, "only parse and validate SPEC, print the resolved study as JSON");
  run->add_option("--shard", args->shard,
                  "K/N: compute only shard K (0..N-1) of N, e.g. $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT; "
                  "then dvae study merge");
  run->callback([&global, args]() {
    const ShardSpec shard = args->shard.empty() ? ShardSpec{} : parse_shard(args->shard);
    const StudySpec spec = load_study(args->spec);
    if (args->check) {
      std::cout << study_to_json(spec).dump(2) << "\n";
      return;
    }
    configure_runtime(global);
    const std::string out =
        args->out.empty() ? "runs/" + std::filesystem::path(args->spec).stem().string() : args->out;
    run_study_command(spec, out, args->force, global, shard, read_file(args->spec));
  });
  auto* merge = cmd->add_subcommand(
      "merge", "merge the folders of a study's N shards (dvae study run --shard K/N) into OUT and write the report");
  merge->add_option("shards", args->shard_dirs, "the shard folders OUT_1 ... OUT_N")
      ->required()
      ->check(CLI::ExistingDirectory);
  merge->add_option("--out", args->merge_out, "merged output folder")->required();
  merge->callback([&global, args]() {
    configure_runtime(global);
    // Held from the first copy to the report, so a `study run` on OUT meanwhile is refused.
    const RunLock lock(args->merge_out);
    const ShardManifest manifest = merge_shards(args->shard_dirs, args->merge_out);
    const StudySpec spec = parse_study(manifest.spec_toml, args->shard_dirs.front() + "/shard.json");
    DVAE_CHECK(unit_key(study_to_json(spec)) == manifest.spec_hash, args->shard_dirs.front(),
               "/shard.json: its study resolves to another hash with this dvae, expected the dvae version that "
               "ran the shards");
    run_study_command(spec, args->merge_out, false, global, {}, "", /*lock_held=*/true);
  });
  auto* keys = cmd->add_subcommand("keys", "print every key of a study file with its meaning and default");
  keys->callback([]() { std::cout << study_keys_help(); });
}

}  // namespace dvae::cli
