// `dvae metrics`: disentanglement metrics (MIG, SAP, DCI, modularity) of latent
// codes written by `dvae encode` against factors written by `dvae factors`,
// rows matched on `index`. Prints a table; with --out also a JSON file.
// The generator scores (BetaVAE, FactorVAE) need an encoder and a generator, so
// they run inside a study (experiments/disentanglement_stage.h), not here.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/flag_checks.h"
#include "core/atomic_file.h"
#include "core/check.h"
#include "evaluation/disentanglement.h"
#include "evaluation/metric_inputs.h"

namespace dvae::cli {
namespace {

struct MetricsArgs {
  std::string codes;        // --codes CODES.csv
  std::string factors;      // --factors FACTORS.csv
  std::string out;          // --out FILE.json
  std::string metrics;      // --metric NAME,... (default: every table metric)
  bool with_label = false;  // --with-label
  int64_t bins = 20;        // --bins
  int64_t seed = 0;         // --seed
};

// The requested table metrics, checked before any file is read.
std::vector<const MetricDef*> requested_metrics(const std::string& list) {
  std::vector<const MetricDef*> out;
  if (list.empty()) {
    for (const auto& m : metric_registry()) {
      if (m.table) out.push_back(&m);
    }
    return out;
  }
  std::stringstream in(list);
  for (std::string name; std::getline(in, name, ',');) {
    const MetricDef* found = nullptr;
    for (const auto& m : metric_registry()) {
      if (m.name == name) found = &m;
    }
    DVAE_CHECK_USAGE(found, "--metric: '", name, "', expected one of ", metric_names_text());
    DVAE_CHECK_USAGE(found->table, "--metric: '", name,
                     "' needs a generator and an encoder; it is computed in a study (preset disentanglement)");
    out.push_back(found);
  }
  DVAE_CHECK_USAGE(!out.empty(), "--metric: empty list, expected one of ", metric_names_text());
  return out;
}

void run_metrics(const MetricsArgs& a, const GlobalOptions& global) {
  const std::vector<const MetricDef*> metrics = requested_metrics(a.metrics);
  configure_runtime(global);
  const FactorCodes data = match_codes_to_factors(read_factor_csv(a.codes), a.codes, read_factor_csv(a.factors),
                                                  a.factors, a.with_label);
  MetricOptions options;
  options.bins = a.bins;
  options.seed = static_cast<uint64_t>(a.seed);
  nlohmann::json values = nlohmann::json::object();
  nlohmann::json seconds = nlohmann::json::object();
  std::ostringstream table;
  table << "metric                 value   seconds\n";
  for (const MetricDef* m : metrics) {
    const auto t0 = std::chrono::steady_clock::now();
    const MetricValues v = m->table(data, options);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    seconds[m->name] = s;
    for (const auto& [name, value] : v) {
      values[name] = value;
      char line[96];
      std::snprintf(line, sizeof line, "%-20s %7.4f %9.2f\n", name.c_str(), value, s);
      table << line;
    }
  }
  if (!global.quiet) {
    std::cout << data.codes.size(0) << " rows, " << data.codes.size(1) << " codes, " << data.factors.size(1)
              << " factors (";
    for (size_t j = 0; j < data.factor_names.size(); ++j) std::cout << (j ? ", " : "") << data.factor_names[j];
    std::cout << ")\n" << table.str() << std::flush;
  }
  if (!a.out.empty()) {
    const nlohmann::json out = {{"codes", a.codes},
                                {"factors", a.factors},
                                {"rows", data.codes.size(0)},
                                {"latent_dim", data.codes.size(1)},
                                {"factor_names", data.factor_names},
                                {"discrete", data.discrete},
                                {"options",
                                 {{"bins", options.bins},
                                  {"seed", options.seed},
                                  {"num_train", options.num_train},
                                  {"num_test", options.num_test},
                                  {"train_fraction", options.train_fraction},
                                  {"gbt_rounds", options.gbt.rounds},
                                  {"gbt_eta", options.gbt.eta},
                                  {"gbt_max_depth", options.gbt.max_depth}}},
                                {"metrics", values},
                                {"seconds", seconds}};
    write_file_atomic(a.out, out.dump(2) + "\n");
    if (!global.quiet) std::cout << "wrote " << a.out << std::endl;
  }
}

}  // namespace

void add_metrics_command(CLI::App& app, GlobalOptions& global) {
  auto a = std::make_shared<MetricsArgs>();
  auto* cmd = app.add_subcommand("metrics", "disentanglement metrics of latent codes against known factors");
  cmd->add_option("--codes", a->codes, "codes CSV written by dvae encode (index, label, mu_0..)")->required();
  cmd->add_option("--factors", a->factors, "factors CSV written by dvae factors (index, label, factor columns)")
      ->required();
  cmd->add_option("--out", a->out, "also write the values as JSON (.json)");
  cmd->add_option("--metric", a->metrics, "comma-separated: mig, sap, dci, modularity (default: all)");
  cmd->add_flag("--with-label", a->with_label, "score the label column as a discrete factor too");
  cmd->add_option("--bins", a->bins, "histogram bins for codes and continuous factors")
      ->capture_default_str()
      ->check(int_in(2, 1000));
  cmd->add_option("--seed", a->seed, "seed of the train/test row split and the boosted trees")
      ->capture_default_str()
      ->check(int_in(0, kMaxSeed));
  cmd->callback([a, &global]() { run_metrics(*a, global); });
}

}  // namespace dvae::cli
