// `dvae classify`: the few-label protocol for one architecture - probes on the
// frozen standard and disentangled VAE encoders and the supervised baseline, on
// the same subsets per trial - with results, summary and error analysis files.
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "core/atomic_file.h"
#include "core/check.h"
#include "core/runtime.h"
#include "core/torch_compat.h"
#include "data/datasets.h"
#include "dvae/version.h"
#include "evaluation/protocol.h"
#include "training/checkpoint.h"

namespace dvae::cli {

namespace {

struct ClassifyArgs {
  std::string standard;        // --standard CKPT
  std::string disentangled;    // --disentangled CKPT
  std::string arch;            // --arch (checked against the checkpoints)
  std::string sizes = "1,3,5,10,100,1000,all";
  int64_t trials = 5;          // --trials (n < 1000)
  int64_t trials_large = 1;    // --trials-large (n >= 1000 and all)
  int64_t epochs = 100;        // --epochs (probes)
  double lr = 0.01;            // --lr (probes)
  int64_t hidden = 0;          // --hidden H
  bool with_logvar = false;    // --with-logvar
  bool no_supervised = false;  // --no-supervised
  int64_t supervised_epochs = 100;
  double supervised_lr = 1e-3;
  std::string dataset;         // --dataset NAME (default: the checkpoints' data set)
  std::string data_dir;        // --data-dir DIR
  uint64_t seed = 1;           // --seed
  int64_t max_listed = 20;     // --max-listed
  std::string out;             // --out DIR
};

// "1,3,all" -> {1, 3, -1}; throws UsageError naming --sizes.
std::vector<int64_t> parse_sizes(const std::string& text) {
  std::vector<int64_t> sizes;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item == "all") {
      sizes.push_back(-1);
      continue;
    }
    size_t used = 0;
    int64_t n = 0;
    try {
      n = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    DVAE_CHECK_USAGE(used == item.size() && !item.empty() && n > 0, "--sizes: '", item,
                     "' in '", text, "', expected positive integers or 'all' separated by commas");
    sizes.push_back(n);
  }
  DVAE_CHECK_USAGE(!sizes.empty(), "--sizes: '", text, "', expected at least one size");
  return sizes;
}

LoadedVae load_checked(const std::string& path, const char* flag, torch::Device device) {
  DVAE_CHECK(std::filesystem::is_regular_file(path), flag, ": ", path,
             " does not exist, expected a checkpoint written by dvae train");
  return load_vae(path, device);
}

void run_classify(const ClassifyArgs& a, const GlobalOptions& global) {
  const std::vector<int64_t> sizes = parse_sizes(a.sizes);
  DVAE_CHECK_USAGE(a.dataset.empty() || a.data_dir.empty(), "--dataset/--data-dir: both given, expected at most one");
  configure_runtime(global);
  const torch::Device device = resolve_device(global.device);
  const LoadedVae standard = load_checked(a.standard, "--standard", device);
  const LoadedVae disentangled = load_checked(a.disentangled, "--disentangled", device);
  DVAE_CHECK_USAGE(standard.meta.arch == disentangled.meta.arch, "--disentangled: architecture ",
                   disentangled.meta.arch, ", expected the --standard checkpoint's ", standard.meta.arch);
  DVAE_CHECK_USAGE(a.arch.empty() || a.arch == standard.meta.arch, "--arch: ", a.arch, ", but the checkpoints are ",
                   standard.meta.arch, " (omit --arch to use theirs)");
  const ModelOptions model = model_options_from_json(standard.meta.model_options);

  const std::string dataset_name = a.dataset.empty() ? standard.meta.dataset : a.dataset;
  const Dataset data = a.data_dir.empty() ? load_dataset(dataset_name, data_root(global)) : load_dataset_dir(a.data_dir);

  ProtocolOptions options;
  options.sizes = sizes;
  options.trials_small = a.trials;
  options.trials_large = a.trials_large;
  options.probe.epochs = a.epochs;
  options.probe.lr = a.lr;
  options.probe.hidden = a.hidden;
  options.with_logvar = a.with_logvar;
  options.supervised_baseline = !a.no_supervised;
  options.supervised.epochs = a.supervised_epochs;
  options.supervised.lr = a.supervised_lr;
  options.seed = a.seed;

  std::filesystem::create_directories(a.out);
  nlohmann::json config = {
      {"dvae_version", kVersion},
      {"libtorch_version", compat::torch_version()},
      {"arch", model.arch},
      {"model_options", standard.meta.model_options},
      {"standard", {{"checkpoint", a.standard}, {"beta", standard.meta.beta}, {"epoch", standard.meta.epoch}}},
      {"disentangled",
       {{"checkpoint", a.disentangled}, {"beta", disentangled.meta.beta}, {"epoch", disentangled.meta.epoch}}},
      {"dataset", data.name},
      {"data_dir", data.dir},
      {"sizes", sizes},
      {"trials_small", options.trials_small},
      {"trials_large", options.trials_large},
      {"probe",
       {{"epochs", options.probe.epochs},
        {"lr", options.probe.lr},
        {"batch_size", options.probe.batch_size},
        {"hidden", options.probe.hidden},
        {"convergence_tolerance", options.probe.convergence_tolerance}}},
      {"with_logvar", options.with_logvar},
      {"supervised",
       {{"enabled", options.supervised_baseline},
        {"epochs", options.supervised.epochs},
        {"lr", options.supervised.lr},
        {"batch_size", options.supervised.batch_size}}},
      {"seed", options.seed},
      {"threads", torch::get_num_threads()},
      {"device", device.str()}};
  // Written first only when absent (a run killed later still leaves its settings), and
  // replaced after a successful run: a rerun refused for other settings keeps the old file.
  const std::string config_path = a.out + "/config.json";
  if (!std::filesystem::exists(config_path)) write_file_atomic(config_path, config.dump(2) + "\n");

  std::vector<FrozenEncoder> encoders = {
      {"disentangled", disentangled.meta.beta, disentangled.vae->encoder()},
      {"standard", standard.meta.beta, standard.vae->encoder()},
  };
  ProtocolLog log;
  if (!global.quiet) log = [](const std::string& m) { std::cerr << m << "\n"; };
  const auto rows = run_protocol(data, model, encoders, options, a.out + "/results.jsonl", device, log);

  write_file_atomic(config_path, config.dump(2) + "\n");
  const Summary summary = summarise(rows);
  write_file_atomic(a.out + "/summary.csv", summary_csv(summary));
  write_file_atomic(a.out + "/paired.csv", paired_csv(summary));
  write_file_atomic(a.out + "/errors.json", error_analysis(rows, data.test.labels, a.max_listed).dump(1) + "\n");
  std::cout << format_summary(summary);
  std::cout << "\nwrote " << a.out << "/{results.jsonl,summary.csv,paired.csv,errors.json,config.json}\n";
}

}  // namespace

void add_classify_command(CLI::App& app, GlobalOptions& global) {
  auto* cmd = app.add_subcommand(
      "classify", "few-label classification: probes on frozen standard/disentangled VAE encoders vs supervised");
  auto a = std::make_shared<ClassifyArgs>();
  cmd->add_option("--standard", a->standard, "checkpoint of the standard VAE (beta = 1)")->required();
  cmd->add_option("--disentangled", a->disentangled, "checkpoint of the disentangled VAE (beta > 1)")->required();
  cmd->add_option("--arch", a->arch, "mlp | cnn (default: the checkpoints' architecture; must match it)");
  cmd->add_option("--sizes", a->sizes, "labels per class, comma separated; 'all' = full training set")
      ->capture_default_str();
  cmd->add_option("--trials", a->trials, "trials for n < 1000")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--trials-large", a->trials_large, "trials for n >= 1000 and 'all'")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--epochs", a->epochs, "probe epochs")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--lr", a->lr, "probe Adam learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--hidden", a->hidden, "hidden ReLU layer width of every head (0 = linear softmax)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--with-logvar", a->with_logvar, "probe features [mu, logvar] instead of mu");
  cmd->add_flag("--no-supervised", a->no_supervised, "skip the supervised baseline");
  cmd->add_option("--supervised-epochs", a->supervised_epochs, "supervised baseline epochs")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--supervised-lr", a->supervised_lr, "supervised baseline Adam learning rate")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--dataset", a->dataset, "data set name (default: the checkpoints' data set)");
  cmd->add_option("--data-dir", a->data_dir, "folder with the four IDX files (instead of --dataset)");
  cmd->add_option("--seed", a->seed, "base seed of subsets, head initialisations and shuffles")->capture_default_str();
  cmd->add_option("--max-listed", a->max_listed, "test indices listed per comparison in errors.json")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--out", a->out, "output folder (results.jsonl is resumed when present)")->required();
  cmd->callback([a, &global]() { run_classify(*a, global); });
}

}  // namespace dvae::cli
