// Runs a study (experiments/study_spec.h) as resumable units of work recorded
// in a SQLite results database (experiments/results_db.h), in named stages:
//   plan     every unit and its key (a hash of everything that determines it)
//   train    VAEs and supervised cells: independent units, run side by side on
//            the cores (each with its share of the threads), longest first
//   probe    every probe classifier on every trained encoder
//   figures  traversals, samples, KL, curves, reconstructions, confusions, Figure 4
//   report   summaries, paired statistics, claims with forest plots, HTML + Markdown
// Units are shared by key: two studies in one output folder that contain the
// same VAE (same data, model settings, seed) train it once.
//
// Output folder layout (OUT):
//   config.json                       resolved study + environment
//   results.sqlite                    one row per finished unit
//   vae/<arch>-beta<B>-<key>/         checkpoint.pt, log.jsonl, config.json
//   classify/probe-<key>/results.jsonl        one VAE's probe rows (resumable)
//   classify/supervised-<key>/results.jsonl   one supervised size's rows (resumable)
//   figures/<dataset>-<arch>/...      PNG/SVG/CSV of every figure
//   report/index.html, report/report.md       the report (self-contained folder)
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>

#include "experiments/shards.h"
#include "experiments/study_spec.h"

namespace dvae {

/// Where and how a study runs (not part of any unit's identity).
struct StudyContext {
  std::string out_dir = "runs/study";      ///< OUT
  std::string data_root = "data";          ///< folder of named data sets
  torch::Device device = torch::kCPU;      ///< compute device
  bool force = false;                      ///< redo finished units
  std::function<void(const std::string&)> log;  ///< progress lines (with percentage and ETA); may be empty
  nlohmann::json environment;              ///< versions, BLAS, threads, device: shown in the report
  ShardSpec shard;                         ///< only shard K/N's units, no figures or report (experiments/shards.h)
  std::string spec_toml;                   ///< the study file's text, kept in a shard's shard.json
  bool lock_held = false;                  ///< the caller holds OUT's lock (study merge)
};

/// What a run produced.
struct StudyOutcome {
  std::string report_html;    ///< OUT/report/index.html
  std::string report_md;      ///< OUT/report/report.md
  int64_t units_run = 0;      ///< units computed by this call
  int64_t units_skipped = 0;  ///< units found finished in the database
  double seconds = 0;         ///< wall time of this call
};

/// Runs (or resumes) the study; holds OUT's lock for its duration.
StudyOutcome run_study(const StudySpec& spec, const StudyContext& context);

}  // namespace dvae
