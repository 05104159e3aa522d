// One function per subcommand file: each adds its subcommand to the app.
// Adding a subcommand means one new cmd_*.cpp and one line here and in app.cpp.
#pragma once

#include "cli/app.h"

namespace dvae::cli {

/// `dvae info`: versions, BLAS kernel, threads, CPU features, CUDA.
void add_info_command(CLI::App& app, GlobalOptions& global);
/// `dvae train`: train a beta-VAE into a run folder (resumable).
void add_train_command(CLI::App& app, GlobalOptions& global);
/// `dvae export`: a checkpoint's weights as a dict of named tensors for Python.
void add_export_command(CLI::App& app, GlobalOptions& global);
/// `dvae encode`: a trained encoder's latent codes of a data split as CSV.
void add_encode_command(CLI::App& app, GlobalOptions& global);
/// `dvae metrics`: disentanglement metrics of codes (dvae encode) against factors (dvae factors).
void add_metrics_command(CLI::App& app, GlobalOptions& global);
/// `dvae reproduce`: the whole paper in one resumable command, with a report.
void add_reproduce_command(CLI::App& app, GlobalOptions& global);
/// `dvae factors`: morphometrics and generator factors of a data split as CSV.
void add_factors_command(CLI::App& app, GlobalOptions& global);
/// `dvae classify`: few-label probes on frozen VAE encoders vs the supervised baseline.
void add_classify_command(CLI::App& app, GlobalOptions& global);

/// `dvae study run SPEC.toml` / `dvae study keys`: any study declared in TOML.
void add_study_command(CLI::App& app, GlobalOptions& global);

/// `dvae data info|fetch`: data set statistics and downloads.
void add_data_command(CLI::App& app, GlobalOptions& global);

/// `dvae traverse`: latent traversal figure (rows = latents by test KL).
void add_traverse_command(CLI::App& app, GlobalOptions& global);
/// `dvae reconstruct`: test images over their reconstructions by one or two VAEs.
void add_reconstruct_command(CLI::App& app, GlobalOptions& global);
/// `dvae sample`: images decoded from prior samples.
void add_sample_command(CLI::App& app, GlobalOptions& global);
/// `dvae serve`: the latent explorer, a page and a JSON API over trained VAEs.
void add_serve_command(CLI::App& app, GlobalOptions& global);
/// `dvae plot`: Figure 4, confusion maps, galleries, training curves, per-latent KL.
void add_plot_command(CLI::App& app, GlobalOptions& global);

}  // namespace dvae::cli
