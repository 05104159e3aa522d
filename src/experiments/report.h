// The report of `dvae reproduce`: a self-contained folder (index.html that
// opens from disk, report.md for terminals and code hosts, every image, CSV
// and JSON beside them) with the settings, the accuracy table, paired
// differences, Figure 4, what each VAE learned, and a verdict on each claim
// of the paper's results section.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "evaluation/protocol.h"

namespace dvae {

/// One trained VAE as the report shows it.
struct VaeReport {
  std::string arch;         ///< "mlp" | "cnn"
  std::string model;        ///< "standard" | "disentangled"
  double beta = 1.0;        ///< KL weight
  int64_t epochs = 0;       ///< epochs trained
  nlohmann::json stats;     ///< last epoch's log line (test_elbo, test_kl, kl_per_latent, ...)
  double seconds = 0;       ///< training wall time recorded in its unit
  std::string traversal;    ///< traversal figure (PNG)
  std::string kl_chart;     ///< per-latent KL bar chart (PNG)
  std::string curves;       ///< training curves (PNG)
  std::string samples;      ///< prior samples (PNG)
};

/// Figures of one architecture that compare models.
struct ArchReport {
  std::string arch;                 ///< architecture
  std::string recon_random;         ///< random test images and both VAEs' reconstructions (PNG)
  std::string recon_worst;          ///< worst reconstructions (PNG)
  std::vector<std::pair<std::string, std::string>> confusions;  ///< (caption, PNG) per model at the smallest n
  std::vector<std::pair<std::string, std::string>> galleries;   ///< (caption, PNG) misclassified test images
};

/// One claim of the paper's results section and what this run says about it.
struct Claim {
  std::string statement;  ///< the claim, in the paper's terms
  std::string verdict;    ///< "yes", "no", "partly" or "not tested"
  std::string evidence;   ///< the numbers behind the verdict
};

/// Everything the report shows.
struct ReportData {
  nlohmann::json config;        ///< resolved settings
  nlohmann::json environment;   ///< versions, BLAS, threads, device
  std::vector<ResultRow> rows;  ///< every classifier row
  Summary summary;              ///< summarise(rows)
  std::vector<VaeReport> vaes;  ///< each trained VAE
  std::vector<ArchReport> archs;  ///< per-architecture comparison figures
  std::string figure4_png;      ///< Figure 4 (PNG)
  std::string figure4_svg;      ///< Figure 4 (SVG)
  std::string figure4_csv;      ///< numbers plotted in Figure 4
  double seconds = 0;           ///< wall time of the whole reproduction (all runs)
  std::vector<std::pair<std::string, double>> durations;  ///< (unit label, seconds)
};

/// Verdicts on the paper's claims from the summary and the VAEs' latent KLs.
std::vector<Claim> evaluate_claims(const ReportData& data);

/// Writes report_dir/index.html, report.md, results.csv, summary.json and copies every
/// referenced file into report_dir/files/. Returns the path of index.html.
std::string write_report(const ReportData& data, const std::string& report_dir);

}  // namespace dvae
