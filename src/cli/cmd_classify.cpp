// `dvae classify`: the few-label protocol for one architecture - probes on any
// number of frozen VAE encoders (--encoder NAME=CHECKPOINT) and the supervised
// baseline, on the same subsets per trial - with results, summary and error
// analysis files.
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/flag_checks.h"
#include "core/atomic_file.h"
#include "core/check.h"
#include "core/cpu_dispatch.h"
#include "core/gemm.h"
#include "core/runtime.h"
#include "core/torch_compat.h"
#include "data/datasets.h"
#include "dvae/version.h"
#include "evaluation/protocol.h"
#include "experiments/run_lock.h"
#include "training/checkpoint.h"

namespace dvae::cli {

namespace {

struct ClassifyArgs {
  std::vector<std::string> encoders;  // --encoder NAME=CKPT, repeated
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
  int64_t validation_per_class = 100;  // --validation-per-class
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
    DVAE_CHECK_USAGE(used == item.size() && !item.empty() && n > 0 && n <= 1000000, "--sizes: '", item, "' in '",
                     text, "', expected integers in [1, 1000000] or 'all' separated by commas");
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
  struct Named {
    std::string name, path;
  };
  std::vector<Named> named;
  for (const auto& e : a.encoders) {
    const auto eq = e.rfind('=');  // the last '=': names like "beta=4" are common, paths with '=' rare
    DVAE_CHECK_USAGE(eq != std::string::npos && eq > 0 && eq + 1 < e.size(), "--encoder: '", e,
                     "', expected NAME=CHECKPOINT");
    const std::string name = e.substr(0, eq);
    DVAE_CHECK_USAGE(name != "supervised" && name != "probe", "--encoder: name '", name,
                     "' is a classifier's name, expected another");
    for (const auto& n : named) DVAE_CHECK_USAGE(n.name != name, "--encoder: name '", name, "' given twice");
    named.push_back({name, e.substr(eq + 1)});
  }
  DVAE_CHECK_USAGE(!named.empty(), "--encoder: none given, expected at least one NAME=CHECKPOINT");
  configure_runtime(global);
  const torch::Device device = resolve_device(global.device);
  std::vector<LoadedVae> loaded;
  for (const auto& n : named) loaded.push_back(load_checked(n.path, "--encoder", device));
  for (size_t i = 1; i < loaded.size(); ++i) {
    DVAE_CHECK_USAGE(loaded[i].meta.arch == loaded[0].meta.arch, "--encoder ", named[i].name, ": architecture ",
                     loaded[i].meta.arch, ", expected ", loaded[0].meta.arch, " like ", named[0].name);
  }
  DVAE_CHECK_USAGE(a.arch.empty() || a.arch == loaded[0].meta.arch, "--arch: ", a.arch, ", but the checkpoints are ",
                   loaded[0].meta.arch, " (omit --arch to use theirs)");
  const ModelOptions model = model_options_from_json(loaded[0].meta.model_options);

  const std::string dataset_name = a.dataset.empty() ? loaded[0].meta.dataset : a.dataset;
  const Dataset data = a.data_dir.empty() ? load_dataset(dataset_name, data_root(global)) : load_dataset_dir(a.data_dir);

  ProtocolOptions options;
  options.sizes = sizes;
  options.trials_small = a.trials;
  options.trials_large = a.trials_large;
  options.classifiers = paper_classifiers(a.hidden);
  ClassifierSpec& probe = options.classifiers[0];
  probe.probe.epochs = a.epochs;
  probe.probe.lr = a.lr;
  probe.with_logvar = a.with_logvar;
  ClassifierSpec& supervised = options.classifiers[1];
  supervised.supervised.epochs = a.supervised_epochs;
  supervised.supervised.lr = a.supervised_lr;
  if (a.no_supervised) options.classifiers.pop_back();
  options.seed = a.seed;
  options.validation_per_class = a.validation_per_class;

  std::filesystem::create_directories(a.out);
  const RunLock lock(a.out);  // two classify runs on one --out would append rows twice
  remove_stale_temporaries(a.out);
  nlohmann::json encoders_json = nlohmann::json::array();
  for (size_t i = 0; i < named.size(); ++i) {
    encoders_json.push_back({{"name", named[i].name},
                             {"checkpoint", named[i].path},
                             {"beta", loaded[i].meta.beta},
                             {"epoch", loaded[i].meta.epoch}});
  }
  nlohmann::json config = {
      {"dvae_version", kVersion},
      {"libtorch_version", compat::torch_version()},
      {"arch", model.arch},
      {"model_options", loaded[0].meta.model_options},
      {"encoders", encoders_json},
      {"dataset", data.name},
      {"data_dir", data.dir},
      {"sizes", sizes},
      {"trials_small", options.trials_small},
      {"trials_large", options.trials_large},
      {"probe",
       {{"epochs", probe.probe.epochs},
        {"lr", probe.probe.lr},
        {"batch_size", probe.probe.batch_size},
        {"hidden", probe.probe.hidden}}},
      {"with_logvar", probe.with_logvar},
      {"supervised",
       {{"enabled", !a.no_supervised},
        {"epochs", a.supervised_epochs},
        {"lr", a.supervised_lr},
        {"hidden", a.hidden}}},
      {"validation_per_class", options.validation_per_class},
      {"seed", options.seed},
      {"threads", torch::get_num_threads()},
      {"gemm", gemm_backend_name(gemm_backend())},
      {"kernel_path", kernel_path_name(kernel_path())},
      {"device", device.str()}};
  // Written first only when absent (a run killed later still leaves its settings), and
  // replaced after a successful run: a rerun refused for other settings keeps the old file.
  const std::string config_path = a.out + "/config.json";
  if (!std::filesystem::exists(config_path)) write_file_atomic(config_path, config.dump(2) + "\n");

  std::vector<FrozenEncoder> encoders;
  for (size_t i = 0; i < named.size(); ++i) {
    encoders.push_back({named[i].name, loaded[i].meta.beta, loaded[i].vae->encoder(), 0});
  }
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
      "classify", "few-label classification: probes on frozen VAE encoders (--encoder NAME=CKPT, repeated) vs supervised");
  auto a = std::make_shared<ClassifyArgs>();
  cmd->add_option("--encoder", a->encoders,
                  "NAME=CHECKPOINT of a trained VAE whose frozen encoder is probed; repeat for each (NAME labels its "
                  "rows and may contain '=': the checkpoint is what follows the last '=')")
      ->required();
  cmd->add_option("--arch", a->arch, "mlp | cnn (default: the checkpoints' architecture; must match it)");
  cmd->add_option("--sizes", a->sizes, "labels per class, comma separated; 'all' = full training set")
      ->capture_default_str();
  cmd->add_option("--trials", a->trials, "trials for n < 1000")->capture_default_str()->check(int_in(1, 1000));
  cmd->add_option("--trials-large", a->trials_large, "trials for n >= 1000 and 'all'")
      ->capture_default_str()
      ->check(int_in(1, 1000));
  cmd->add_option("--epochs", a->epochs, "probe epochs")->capture_default_str()->check(int_in(1, 100000));
  cmd->add_option("--lr", a->lr, "probe Adam learning rate")->capture_default_str()->check(real_in(0, 10, true));
  cmd->add_option("--hidden", a->hidden, "hidden ReLU layer width of every head (0 = linear softmax)")
      ->capture_default_str()
      ->check(int_in(0, 65536));
  cmd->add_flag("--with-logvar", a->with_logvar, "probe features [mu, logvar] instead of mu");
  cmd->add_flag("--no-supervised", a->no_supervised, "skip the supervised baseline");
  cmd->add_option("--supervised-epochs", a->supervised_epochs, "supervised baseline epochs")
      ->capture_default_str()
      ->check(int_in(1, 100000));
  cmd->add_option("--supervised-lr", a->supervised_lr, "supervised baseline Adam learning rate")
      ->capture_default_str()
      ->check(real_in(0, 10, true));
  cmd->add_option("--dataset", a->dataset, "data set name (default: the checkpoints' data set)");
  cmd->add_option("--data-dir", a->data_dir, "folder with the four IDX files (instead of --dataset)");
  cmd->add_option("--seed", a->seed, "base seed of subsets, head initialisations and shuffles")
      ->capture_default_str()
      ->check(int_in(0, kMaxSeed));
  cmd->add_option("--validation-per-class", a->validation_per_class,
                  "held-out labelled images per class for epochs to convergence (0 = none)")
      ->capture_default_str()
      ->check(int_in(0, 100000));
  cmd->add_option("--max-listed", a->max_listed, "test indices listed per comparison in errors.json")
      ->capture_default_str()
      ->check(int_in(0, 1000000));
  cmd->add_option("--out", a->out, "output folder (results.jsonl is resumed when present)")->required();
  cmd->callback([a, &global]() { run_classify(*a, global); });
}

}  // namespace dvae::cli
