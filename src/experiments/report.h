// The report of a study (`dvae study run`, `dvae reproduce`): a self-contained
// folder (index.html that opens from disk, report.md for terminals and code
// hosts, every image, CSV and JSON beside them) with the settings, accuracy
// with 95% intervals, paired comparisons, each claim's verdict with its rule
// and forest plot, Figure 4, what each VAE learned, reconstructions and errors.
// Every label comes from the study's model names.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "evaluation/protocol.h"
#include "experiments/claims.h"

namespace dvae {

/// One trained VAE as the report shows it.
struct VaeReport {
  std::string dataset;      ///< data set name
  std::string arch;         ///< architecture
  std::string model;        ///< model name from the study
  std::string weights;      ///< the objective's weights in words ("beta 4", "gamma 40"; objective_weights_text)
  int64_t epochs = 0;       ///< epochs trained
  nlohmann::json stats;     ///< last epoch's log line (test_elbo, test_kl, kl_per_latent, ...)
  double seconds = 0;       ///< training wall time recorded in its unit
  std::string traversal;    ///< traversal figure (PNG)
  std::string kl_chart;     ///< per-latent KL bar chart (PNG)
  std::string curves;       ///< training curves (PNG)
  std::string samples;      ///< prior samples (PNG)
  std::string checkpoint;   ///< its checkpoint.pt (absolute), for the `dvae serve` command
};

/// Figures of one (data set, architecture) that compare models.
struct ArchReport {
  std::string dataset;              ///< data set name
  std::string arch;                 ///< architecture
  std::string recon_random;         ///< random test images and every model's reconstructions (PNG)
  std::string recon_caption;        ///< what its rows are
  std::string recon_worst;          ///< worst reconstructions (PNG)
  std::vector<std::pair<std::string, std::string>> confusions;  ///< (caption, PNG) per series at the smallest n
  std::vector<std::pair<std::string, std::string>> galleries;   ///< (caption, PNG) misclassified test images
};

/// Figure 4 of one data set.
struct Figure4 {
  std::string dataset;  ///< data set name
  std::string png;      ///< PNG
  std::string svg;      ///< SVG
  std::string csv;      ///< plotted numbers
};

/// One block of a section written by a study stage outside report.cpp.
struct ReportBlock {
  std::string kind;                           ///< "p" | "note" | "table" | "figure"
  std::string text;                           ///< paragraph text, or a figure's caption
  std::string path;                           ///< figure: the PNG
  std::vector<std::string> head;              ///< table: column names
  std::vector<std::vector<std::string>> rows; ///< table: cells
};

/// A section of the report from a stage of its own (e.g. disentanglement).
struct ReportSection {
  std::string title;                ///< heading (level 2)
  std::string id;                   ///< HTML anchor ("" = none)
  std::vector<ReportBlock> blocks;  ///< in order
};

/// Everything the report shows.
struct ReportData {
  std::string title = "dvae study";   ///< heading
  bool indicative = false;            ///< quick preset: every verdict is indicative
  nlohmann::json config;              ///< resolved study (study_to_json)
  nlohmann::json environment;         ///< versions, BLAS, threads, device
  std::vector<ResultRow> rows;        ///< every classifier row
  Summary summary;                    ///< summarise(rows)
  std::vector<ClaimResult> claims;    ///< evaluated claims, in study order
  std::vector<std::string> forest_plots;  ///< PNG per claim ("" when it has no test)
  std::vector<VaeReport> vaes;        ///< the first VAE seed of each model
  std::vector<ArchReport> archs;      ///< per (data set, architecture) comparison figures
  std::vector<Figure4> figure4;       ///< Figure 4 per data set
  std::vector<ReportSection> sections;  ///< sections of further stages, after Figure 4
  double seconds = 0;                 ///< wall time of the whole study (all calls)
  std::vector<std::pair<std::string, double>> durations;  ///< (unit label, seconds)
};

/// Writes report_dir/index.html, report.md, results.csv, summary.json and copies every
/// referenced file into report_dir/files/. Returns the path of index.html.
std::string write_report(const ReportData& data, const std::string& report_dir);

}  // namespace dvae
