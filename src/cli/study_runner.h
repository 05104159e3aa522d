// What `dvae study run` and `dvae reproduce` share: the environment recorded
// with a study's results and running it with progress on stderr.
#pragma once

#include "cli/app.h"
#include "experiments/study.h"

namespace dvae::cli {

/// Versions, CPU, BLAS, threads, wait policy and device, for config.json and the report.
nlohmann::json environment_json(const torch::Device& device);

/// Runs spec into out (resuming), prints where the report went; force redoes finished units.
/// shard: only shard K/N's units (spec_toml kept in its shard.json); lock_held: the caller holds out's lock.
void run_study_command(const StudySpec& spec, const std::string& out, bool force, const GlobalOptions& global,
                       const ShardSpec& shard = {}, const std::string& spec_toml = "", bool lock_held = false);

}  // namespace dvae::cli
