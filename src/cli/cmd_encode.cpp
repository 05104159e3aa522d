// `dvae encode`: a trained encoder's latent codes of every image of a data
// split, as CSV (one row per image: index, label, mu_0..mu_{D-1}, and with
// --with-logvar logvar_0..logvar_{D-1}), for analysis outside dvae.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "core/atomic_file.h"
#include "core/check.h"
#include "core/runtime.h"
#include "data/datasets.h"
#include "evaluation/trained_encoder.h"

namespace dvae::cli {
namespace {

struct EncodeArgs {
  std::string checkpoint;      // --checkpoint CKPT
  std::string dataset;         // --dataset NAME|DIR (default: the checkpoint's data set)
  std::string data_dir;        // --data-dir DIR
  std::string split = "test";  // --split train|test
  bool with_logvar = false;    // --with-logvar
  std::string out;             // --out FILE.csv
};

// Rows "index,label,v0,v1,..." with floats printed so that they read back exactly.
std::string codes_csv(const torch::Tensor& codes, const torch::Tensor& labels, int64_t latent_dim, bool with_logvar) {
  std::string csv = "index,label";
  for (int64_t d = 0; d < latent_dim; ++d) csv += ",mu_" + std::to_string(d);
  if (with_logvar) {
    for (int64_t d = 0; d < latent_dim; ++d) csv += ",logvar_" + std::to_string(d);
  }
  csv += "\n";
  const auto c = codes.accessor<float, 2>();
  const auto l = labels.accessor<int64_t, 1>();
  char buf[32];
  for (int64_t i = 0; i < c.size(0); ++i) {
    csv += std::to_string(i) + "," + std::to_string(l[i]);
    for (int64_t j = 0; j < c.size(1); ++j) {
      std::snprintf(buf, sizeof buf, ",%.9g", static_cast<double>(c[i][j]));
      csv += buf;
    }
    csv += "\n";
  }
  return csv;
}

void run_encode(const EncodeArgs& a, const GlobalOptions& global) {
  DVAE_CHECK_USAGE(a.dataset.empty() || a.data_dir.empty(), "--dataset/--data-dir: both given, expected at most one");
  DVAE_CHECK_USAGE(a.split == "train" || a.split == "test", "--split: '", a.split, "', expected train or test");
  configure_runtime(global);
  const TrainedEncoder encoder(a.checkpoint, resolve_device(global.device));
  const std::string name = a.dataset.empty() ? encoder.meta().dataset : a.dataset;
  const Dataset data = a.data_dir.empty() ? load_dataset(name, data_root(global)) : load_dataset_dir(a.data_dir);
  const ImageSet& set = a.split == "train" ? data.train : data.test;
  DVAE_CHECK(set.rows() == encoder.image_size() && set.cols() == encoder.image_size(), set.source, ": ", set.rows(),
             "x", set.cols(), " images, expected ", encoder.image_size(), "x", encoder.image_size(),
             " as the encoder of ", a.checkpoint, " was trained on");
  const torch::Tensor codes = a.with_logvar ? encoder.encode_with_logvar(set.images) : encoder.encode(set.images);
  write_file_atomic(a.out, codes_csv(codes, set.labels, encoder.latent_dim(), a.with_logvar));
  if (!global.quiet) {
    std::cout << "wrote " << a.out << ": " << set.size() << " " << data.name << " " << a.split << " images x "
              << codes.size(1) << " values (" << (a.with_logvar ? "mu and logvar" : "mu") << " of a "
              << encoder.meta().arch << " VAE, beta " << encoder.meta().beta << ", epoch " << encoder.meta().epoch
              << ")" << std::endl;
  }
}

}  // namespace

void add_encode_command(CLI::App& app, GlobalOptions& global) {
  auto a = std::make_shared<EncodeArgs>();
  auto* cmd = app.add_subcommand("encode", "write a trained encoder's latent codes of a data split as CSV");
  cmd->add_option("--checkpoint", a->checkpoint, "checkpoint.pt written by dvae train")->required();
  cmd->add_option("--dataset", a->dataset, "data set name or folder (default: the checkpoint's data set)");
  cmd->add_option("--data-dir", a->data_dir, "folder with the four IDX files (instead of --dataset)");
  cmd->add_option("--split", a->split, "train | test")->capture_default_str();
  cmd->add_flag("--with-logvar", a->with_logvar, "also write the posterior log-variances");
  cmd->add_option("--out", a->out, "output file (.csv): index, label, mu_0.. [, logvar_0..]")->required();
  cmd->callback([a, &global]() { run_encode(*a, global); });
}

}  // namespace dvae::cli
