// `dvae factors`: the known factors of every image of a data split as CSV, one
// row per image: index, label, the Morpho-MNIST morphometrics (area, length,
// thickness, slant, width, height) and then any generator factors of the data
// set (mnist-affine: rotation, scale, shear, tx, ty, thickening). The
// morphometrics are cached per data set content, split and measure version.
#include <iomanip>
#include <iostream>

#include "cli/commands.h"
#include "cli/flag_checks.h"
#include "core/atomic_file.h"
#include "core/check.h"
#include "data/datasets.h"
#include "data/factor_table.h"

namespace dvae::cli {
namespace {

struct FactorsArgs {
  std::string dataset;          // --dataset NAME|DIR
  std::string data_dir;         // --data-dir DIR
  std::string split = "train";  // --split train|test
  int64_t limit = 0;            // --limit N (0: all)
  std::string cache_dir;        // --cache-dir DIR (default: DATA_ROOT/.cache/factors)
  bool no_cache = false;        // --no-cache
  std::string out;              // --out FILE.csv
};

void run_factors(const FactorsArgs& a, const GlobalOptions& global) {
  DVAE_CHECK_USAGE(a.dataset.empty() != a.data_dir.empty(), "--dataset/--data-dir: give exactly one");
  DVAE_CHECK_USAGE(a.split == "train" || a.split == "test", "--split: '", a.split, "', expected train or test");
  DVAE_CHECK_USAGE(!(a.no_cache && !a.cache_dir.empty()), "--cache-dir/--no-cache: both given, expected at most one");
  configure_runtime(global);
  const Dataset data = a.data_dir.empty() ? load_dataset(a.dataset, data_root(global)) : load_dataset_dir(a.data_dir);
  const ImageSet& set = a.split == "train" ? data.train : data.test;
  FactorTableOptions options;
  options.limit = a.limit;
  if (!a.no_cache) {
    options.cache_dir = a.cache_dir.empty() ? data_root(global) + "/.cache/factors" : a.cache_dir;
    options.cache_key = factor_cache_key(dataset_fingerprint(data), a.split);
  }
  FactorTableStats stats;
  const FactorTable table = factor_table(set, options, &stats);
  write_file_atomic(a.out, factor_table_csv(table));
  if (!global.quiet) {
    std::cout << "wrote " << a.out << ": " << table.values.size(0) << " " << data.name << " " << a.split
              << " images x " << table.names.size() << " factors; morphometrics "
              << (stats.cache_hit ? "from the cache " + stats.cache_file
                                  : "measured in " + std::to_string(stats.seconds).substr(0, 5) + " s" +
                                        (stats.cache_file.empty() ? "" : ", cached in " + stats.cache_file))
              << std::endl;
  }
}

}  // namespace

void add_factors_command(CLI::App& app, GlobalOptions& global) {
  auto a = std::make_shared<FactorsArgs>();
  auto* cmd = app.add_subcommand("factors", "write the known factors (morphometrics, generator factors) of a split as CSV");
  cmd->add_option("--dataset", a->dataset, "data set name (mnist, mnist-affine, ..) or folder");
  cmd->add_option("--data-dir", a->data_dir, "folder with the four IDX files (instead of --dataset)");
  cmd->add_option("--split", a->split, "train | test")->capture_default_str();
  cmd->add_option("--limit", a->limit, "only the first N images (0: all)")->capture_default_str()->check(int_in(0, 100000000));
  cmd->add_option("--cache-dir", a->cache_dir, "folder of the morphometrics cache (default: DATA_ROOT/.cache/factors)");
  cmd->add_flag("--no-cache", a->no_cache, "measure without reading or writing the cache");
  cmd->add_option("--out", a->out, "output file (.csv): index,label,area,length,thickness,slant,width,height[,generator factors]")
      ->required();
  cmd->callback([a, &global]() { run_factors(*a, global); });
}

}  // namespace dvae::cli
