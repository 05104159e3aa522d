// `dvae data info` (counts, class histogram, pixel statistics of a data set)
// and `dvae data fetch` (download a data set of the MNIST family).
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/flag_checks.h"
#include "core/check.h"
#include "data/datasets.h"
#include "data/fetch.h"

namespace dvae::cli {

namespace {

struct DataInfoArgs {
  std::string dataset;   // --dataset NAME
  std::string data_dir;  // --data-dir DIR
  bool json = false;     // --json
};

struct DataFetchArgs {
  std::string name;    // NAME
  std::string mirror;  // --mirror URL
  bool force = false;  // --force
  long timeout_s = 30;  // --timeout
};

nlohmann::json stats_json(const DatasetStats& s) {
  return {{"count", s.count}, {"rows", s.rows}, {"cols", s.cols}, {"histogram", s.histogram},
          {"pixel_mean", s.pixel_mean}, {"pixel_std", s.pixel_std}};
}

void print_split(const char* split, const DatasetStats& s, const std::vector<std::string>& class_names) {
  std::cout << std::left << std::setw(13) << split << s.count << " images, pixel mean " << std::fixed
            << std::setprecision(4) << s.pixel_mean << ", std " << s.pixel_std << "\n";
  std::cout << "  classes    ";
  for (size_t c = 0; c < s.histogram.size(); ++c) {
    std::cout << (c ? "  " : "") << c << ":" << s.histogram[c];
  }
  std::cout << "\n";
  if (!class_names.empty() && class_names.size() == s.histogram.size() && class_names[0] != "0") {
    std::cout << "  names      ";
    for (size_t c = 0; c < class_names.size(); ++c) std::cout << (c ? ", " : "") << c << "=" << class_names[c];
    std::cout << "\n";
  }
}

void run_info(const DataInfoArgs& args, const GlobalOptions& global) {
  DVAE_CHECK_USAGE(args.dataset.empty() != args.data_dir.empty(),
                   "dvae data info: give exactly one of --dataset NAME or --data-dir DIR");
  configure_runtime(global);
  const Dataset data = args.dataset.empty() ? load_dataset_dir(args.data_dir)
                                            : load_dataset(args.dataset, data_root(global));
  const DatasetStats train = dataset_stats(data.train);
  const DatasetStats test = dataset_stats(data.test);
  const std::string fingerprint = dataset_fingerprint(data);
  const DatasetInfo* info = find_dataset(data.name);
  if (args.json) {
    nlohmann::json j = {{"dataset", data.name}, {"source", data.dir},    {"rows", train.rows},
                        {"cols", train.cols},   {"num_classes", data.train.num_classes},
                        {"train", stats_json(train)}, {"test", stats_json(test)}, {"fingerprint", fingerprint}};
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << std::left << std::setw(13) << "dataset" << data.name << "\n"
            << std::setw(13) << "source" << data.dir << "\n"
            << std::setw(13) << "image size" << train.rows << "x" << train.cols << " pixels, uint8, "
            << data.train.num_classes << " classes\n";
  const std::vector<std::string> names = info ? info->class_names : std::vector<std::string>{};
  print_split("train", train, names);
  print_split("test", test, {});
  std::cout << std::setw(13) << "fingerprint" << "sha256:" << fingerprint << "\n";
}

void run_fetch(const DataFetchArgs& args, const GlobalOptions& global) {
  const RemoteDataset& spec = remote_dataset(args.name);  // unknown name: usage error
  FetchOptions options;
  options.mirror = args.mirror;
  options.force = args.force;
  options.low_speed_time_s = args.timeout_s;
  options.connect_timeout_s = args.timeout_s;
  if (!global.quiet) options.log = [](const std::string& line) { std::cerr << line << "\n"; };
  const std::string dir = fetch_files(spec, data_root(global) + "/" + spec.name, options);
  std::cout << spec.name << ": " << spec.files.size() << " files in " << dir << ", SHA-256 verified\n";
}

}  // namespace

void add_data_command(CLI::App& app, GlobalOptions& global) {
  auto* data = app.add_subcommand("data", "inspect or download data sets (MNIST, Fashion-MNIST, KMNIST)");
  data->require_subcommand(1);

  auto info_args = std::make_shared<DataInfoArgs>();
  auto* info = data->add_subcommand("info", "counts, class histogram, pixel mean/std, image size and source folder");
  auto* ds = info->add_option("--dataset", info_args->dataset, "registered data set: mnist, fashion-mnist, kmnist");
  auto* dir = info->add_option("--data-dir", info_args->data_dir,
                               "folder holding train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
                               "t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]");
  ds->excludes(dir);
  dir->excludes(ds);
  info->add_flag("--json", info_args->json, "print the statistics as JSON");
  info->callback([info_args, &global]() { run_info(*info_args, global); });

  auto fetch_args = std::make_shared<DataFetchArgs>();
  auto* fetch = data->add_subcommand("fetch", "download a data set's four .gz files into DATA_ROOT/NAME, SHA-256 checked");
  fetch->add_option("name", fetch_args->name, "mnist | fashion-mnist | kmnist")->required();
  fetch->add_option("--mirror", fetch_args->mirror, "base URL to download from instead of the built-in mirrors");
  fetch->add_flag("--force", fetch_args->force, "download again even when verified files are present");
  fetch->add_option("--timeout", fetch_args->timeout_s, "seconds a connection or a stalled transfer may take")
      ->capture_default_str()
      ->check(int_in(1, 86400));
  fetch->callback([fetch_args, &global]() { run_fetch(*fetch_args, global); });
}

}  // namespace dvae::cli
