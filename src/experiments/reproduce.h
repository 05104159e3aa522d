// `dvae reproduce`: the whole paper for each architecture - train the
// standard (beta = 1) and disentangled VAEs, run the few-label grid with the
// supervised baseline, draw every figure, write the report - as resumable
// units of work recorded in a SQLite results database (see results_db.h).
//
// Output folder layout (OUT):
//   config.json            resolved settings + environment
//   results.sqlite         one row per finished unit (VAE, classifier cell, figure)
//   vae/<arch>-beta<B>-<key>/   checkpoint.pt, log.jsonl, config.json
//   classify/<arch>-<key>/results.jsonl   classifier rows (resumable)
//   figures/<arch>/...     PNG/SVG/CSV of every figure
//   report/index.html, report/report.md   the report (self-contained folder)
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>

#include "experiments/reproduce_config.h"

namespace dvae {

/// Where and how a reproduction runs (not part of any unit's identity).
struct ReproduceContext {
  std::string out_dir = "runs/reproduce";  ///< OUT
  std::string data_root = "data";          ///< folder of named data sets
  torch::Device device = torch::kCPU;      ///< compute device
  bool force = false;                      ///< redo finished units
  std::function<void(const std::string&)> log;  ///< progress lines (with percentage and ETA); may be empty
  nlohmann::json environment;              ///< versions, BLAS, threads, device: shown in the report
};

/// What a reproduction produced.
struct ReproduceOutcome {
  std::string report_html;  ///< OUT/report/index.html
  std::string report_md;    ///< OUT/report/report.md
  int64_t units_run = 0;    ///< units computed by this call
  int64_t units_skipped = 0;  ///< units found finished in the database
  double seconds = 0;       ///< wall time of this call
};

/// Runs (or resumes) the reproduction; holds OUT's lock for its duration.
ReproduceOutcome reproduce(const ReproduceConfig& config, const ReproduceContext& context);

}  // namespace dvae
