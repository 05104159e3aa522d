// What `dvae study run` and `dvae reproduce` share: the environment recorded
// with a study's results and running it with progress on stderr.
#pragma once

#include "cli/app.h"
#include "experiments/study.h"

namespace dvae::cli {

/// Versions, CPU, BLAS, threads, wait policy and device, for config.json and the report.
nlohmann::json environment_json(const torch::Device& device);

/// Runs spec into out (resuming), prints where the report went; force redoes finished units.
void run_study_command(const StudySpec& spec, const std::string& out, bool force, const GlobalOptions& global);

}  // namespace dvae::cli
