// The few-label protocol: paired subsets, probes, supervised baseline, resumable
// results file, summaries and error analysis.
#include "evaluation/protocol.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "core/atomic_file.h"
#include "core/check.h"
#include "core/json_check.h"
#include "core/random.h"
#include "data/sampler.h"
#include "evaluation/classifier_kind.h"
#include "evaluation/metrics.h"
#include "evaluation/statistics.h"

namespace dvae {

namespace {

std::string n_label(int64_t n) { return n < 0 ? std::string("all") : std::to_string(n); }

// Sort key of a size: the full set (-1) after every n.
int64_t n_rank(int64_t n) { return n < 0 ? INT64_MAX : n; }

std::string row_key(const ResultRow& r) {
  return r.dataset + "|" + r.arch + "|" + r.model + "|" + std::to_string(r.vae_seed) + "|" + std::to_string(r.n) +
         "|" + std::to_string(r.trial) + "|" + std::to_string(r.seed);
}

std::string subset_hash(const torch::Tensor& subset) {
  const auto s = subset.to(torch::kLong).contiguous();
  return sha256_hex(std::string(reinterpret_cast<const char*>(s.data_ptr<int64_t>()),
                                static_cast<size_t>(s.numel()) * sizeof(int64_t)));
}

// Fills accuracy, confusion, per-class accuracy and predictions from test predictions.
void fill_scores(ResultRow& row, const torch::Tensor& predictions, const ImageSet& test) {
  const auto pred = predictions.to(torch::kLong).contiguous();
  row.accuracy = accuracy(pred, test.labels);
  const auto cm = confusion_matrix(pred, test.labels, test.num_classes);  // [C,C]
  row.confusion.assign(test.num_classes, {});
  for (int64_t i = 0; i < test.num_classes; ++i) row.confusion[i] = to_int_vector(cm[i]);
  const auto pca = per_class_accuracy(cm).contiguous();
  row.per_class_accuracy.assign(pca.data_ptr<double>(), pca.data_ptr<double>() + pca.numel());
  row.predictions = to_int_vector(pred);
}

// Throws when an existing row was made with other settings than the new run would use.
void check_same_settings(const ResultRow& old_row, const ResultRow& want, const std::string& path) {
  const bool same = old_row.epochs == want.epochs && std::abs(old_row.lr - want.lr) <= 1e-12 * want.lr &&
                    old_row.hidden == want.hidden && old_row.with_logvar == want.with_logvar &&
                    std::abs(old_row.beta - want.beta) <= 1e-12 && old_row.settings == want.settings;
  DVAE_CHECK(same, path, ": row ", old_row.arch, " ", old_row.model, " n=", n_label(old_row.n), " trial ",
             old_row.trial, " was made with epochs ", old_row.epochs, ", lr ", old_row.lr, ", hidden ", old_row.hidden,
             ", with_logvar ", old_row.with_logvar, ", beta ", old_row.beta, ", expected epochs ", want.epochs, ", lr ",
             want.lr, ", hidden ", want.hidden, ", with_logvar ", want.with_logvar, ", beta ", want.beta,
             (old_row.settings == want.settings ? std::string()
                                                : ", settings " + want.settings.dump() + " not " + old_row.settings.dump()),
             " (use a new output folder)");
}

double mean_of(const std::vector<double>& v) { return sample_mean(v); }

}  // namespace

nlohmann::json row_to_json(const ResultRow& r) {
  nlohmann::json j{{"arch", r.arch},
                   {"model", r.model},
                   {"classifier", r.classifier},
                   {"vae_seed", r.vae_seed},
                   {"beta", r.beta},
                   {"n", r.n},
                   {"trial", r.trial},
                   {"seed", r.seed},
                   {"dataset", r.dataset},
                   {"subset_size", r.subset_size},
                   {"subset_sha256", r.subset_sha256},
                   {"accuracy", r.accuracy},
                   {"train_loss", r.train_loss},
                   {"epochs_to_convergence", r.epochs_to_convergence},
                   {"seconds", r.seconds},
                   {"epochs", r.epochs},
                   {"lr", r.lr},
                   {"hidden", r.hidden},
                   {"with_logvar", r.with_logvar},
                   {"epoch_loss", r.epoch_loss},
                   {"validation_loss", r.validation_loss},
                   {"confusion", r.confusion},
                   {"per_class_accuracy", r.per_class_accuracy},
                   {"predictions", r.predictions}};
  if (!r.settings.is_null()) j["settings"] = r.settings;
  return j;
}

ResultRow row_from_json(const nlohmann::json& j, const std::string& where) {
  ResultRow r;
  require_json_integer_fields(j, where, {"vae_seed", "n", "trial", "subset_size", "epochs_to_convergence", "epochs",
                                         "hidden", "confusion", "predictions"});
  DVAE_CHECK(!j.contains("seed") || j.at("seed").is_number_integer(), where, ": key \"seed\" holds ",
             j.at("seed").dump().substr(0, 40), ", expected an unsigned integer");
  try {
    r.arch = j.at("arch").get<std::string>();
    r.model = j.at("model").get<std::string>();
    r.classifier = j.value("classifier", std::string());
    r.vae_seed = j.value("vae_seed", int64_t{0});
    r.beta = j.at("beta").get<double>();
    r.n = j.at("n").get<int64_t>();
    r.trial = j.at("trial").get<int64_t>();
    r.seed = j.at("seed").get<uint64_t>();
    r.dataset = j.value("dataset", std::string());
    r.subset_size = j.value("subset_size", int64_t{0});
    r.subset_sha256 = j.value("subset_sha256", std::string());
    r.accuracy = j.at("accuracy").get<double>();
    r.train_loss = j.at("train_loss").get<double>();
    r.epochs_to_convergence = j.at("epochs_to_convergence").get<int64_t>();
    r.seconds = j.at("seconds").get<double>();
    r.epochs = j.value("epochs", int64_t{0});
    r.lr = j.value("lr", 0.0);
    r.hidden = j.value("hidden", int64_t{0});
    r.with_logvar = j.value("with_logvar", false);
    if (j.contains("settings")) r.settings = j.at("settings");
    r.epoch_loss = j.value("epoch_loss", std::vector<double>{});
    r.validation_loss = j.value("validation_loss", std::vector<double>{});
    r.confusion = j.at("confusion").get<std::vector<std::vector<int64_t>>>();
    r.per_class_accuracy = j.at("per_class_accuracy").get<std::vector<double>>();
    r.predictions = j.at("predictions").get<std::vector<int64_t>>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(detail::concat(where, ": ", e.what(), ", expected a results row (see evaluation/protocol.h)"));
  }
  DVAE_CHECK(r.accuracy >= 0.0 && r.accuracy <= 1.0, where, ": accuracy ", r.accuracy, ", expected 0..1");
  DVAE_CHECK(r.n >= 1 || r.n == -1, where, ": n ", r.n, ", expected >= 1 or -1 (the full training set)");
  DVAE_CHECK(r.trial >= 0 && r.vae_seed >= 0, where, ": trial ", r.trial, " and vae_seed ", r.vae_seed,
             ", expected >= 0");
  return r;
}

std::vector<ResultRow> read_results(const std::string& path, TornTail torn_tail) {
  std::vector<ResultRow> rows;
  if (!std::filesystem::exists(path)) return rows;
  const std::string text = read_file(path);
  std::vector<std::string> good_lines;
  size_t start = 0;
  int64_t line_no = 0;
  bool torn = false;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    const bool last_unterminated = end == std::string::npos;
    if (last_unterminated) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      DVAE_CHECK(last_unterminated, path, ":", line_no, ": not a JSON object, expected one results row per line");
      torn = true;  // a write killed half way: drop it
      break;
    }
    rows.push_back(row_from_json(j, path + ":" + std::to_string(line_no)));
    good_lines.push_back(line);
  }
  if (torn_tail == TornTail::kRepair && (torn || (!text.empty() && text.back() != '\n'))) {
    std::string fixed;
    for (const auto& l : good_lines) fixed += l + "\n";
    write_file_atomic(path, fixed);
  }
  return rows;
}

torch::Tensor protocol_subset(const ImageSet& train, int64_t n, int64_t trial, uint64_t seed,
                              int64_t validation_per_class) {
  SamplerOptions so;
  so.n = n;
  so.seed = seed;
  so.val_per_class = validation_per_class;
  return sample_labelled(train.labels, train.num_classes, so, static_cast<uint64_t>(trial)).labelled;
}

torch::Tensor protocol_validation(const ImageSet& train, int64_t validation_per_class, uint64_t seed) {
  if (validation_per_class <= 0) return {};
  SamplerOptions so;
  so.seed = seed;
  so.val_per_class = validation_per_class;
  return validation_indices(train.labels, train.num_classes, so).contiguous();
}

bool classifier_uses(const ClassifierSpec& classifier, const std::string& model) {
  return classifier.encoders.empty() ||
         std::find(classifier.encoders.begin(), classifier.encoders.end(), model) != classifier.encoders.end();
}

std::vector<ClassifierSpec> paper_classifiers(int64_t hidden) {
  ClassifierSpec probe;
  probe.probe.hidden = hidden;
  ClassifierSpec supervised;
  supervised.name = "supervised";
  supervised.kind = "supervised";
  supervised.supervised.hidden = hidden;
  return {probe, supervised};
}

std::string series_name(const std::string& encoder_model, const ClassifierSpec& classifier,
                        const ProtocolOptions& options) {
  int64_t probes = 0;
  for (const auto& c : options.classifiers) probes += find_classifier_kind(c.kind).uses_encoder ? 1 : 0;
  return probes > 1 ? encoder_model + " / " + classifier.name : encoder_model;
}

int64_t protocol_trials(const ProtocolOptions& options, int64_t n) {
  return (n < 0 || n >= 1000) ? options.trials_large : options.trials_small;
}

std::vector<ResultRow> run_protocol(const Dataset& data, const ModelOptions& model,
                                    const std::vector<FrozenEncoder>& encoders, const ProtocolOptions& options,
                                    const std::string& results_path, torch::Device device, const ProtocolLog& log) {
  DVAE_CHECK(!options.sizes.empty(), "run_protocol: no subset sizes, expected at least one");
  std::set<int64_t> seen_sizes;
  for (int64_t n : options.sizes) {
    DVAE_CHECK(n == -1 || n > 0, "run_protocol: subset size ", n, ", expected a positive n or -1 (all)");
    DVAE_CHECK(seen_sizes.insert(n).second, "run_protocol: subset size ", n_label(n), " given twice");
  }
  DVAE_CHECK(options.trials_small > 0 && options.trials_large > 0, "run_protocol: trials ", options.trials_small,
             "/", options.trials_large, ", expected > 0");
  DVAE_CHECK(options.validation_per_class >= 0, "run_protocol: validation_per_class ", options.validation_per_class,
             ", expected >= 0");
  std::set<std::pair<std::string, int64_t>> names;
  std::set<std::string> classifier_names;
  for (const auto& c : options.classifiers) {
    find_classifier_kind(c.kind);
    DVAE_CHECK(!c.name.empty() && classifier_names.insert(c.name).second, "run_protocol: classifier name '",
               c.name, "', expected unique non-empty names");
  }
  for (const auto& e : encoders) {
    DVAE_CHECK(e.encoder != nullptr, "run_protocol: encoder of model '", e.model, "' is null");
    DVAE_CHECK(!e.model.empty() && !classifier_names.count(e.model) && names.insert({e.model, e.vae_seed}).second,
               "run_protocol: model name '", e.model, "' (VAE seed ", e.vae_seed,
               "), expected unique names other than the classifiers' (",
               options.classifiers.empty() ? std::string() : options.classifiers.front().name, ", ...)");
  }
  DVAE_CHECK(data.train.size() > 0 && data.test.size() > 0, "run_protocol: data set ", data.name,
             " has an empty split, expected training and test images");
  auto say = [&](const std::string& m) {
    if (log) log(m);
  };
  if (auto parent = std::filesystem::path(results_path).parent_path(); !parent.empty()) {
    std::filesystem::create_directories(parent);
  }

  std::map<std::string, ResultRow> done;
  for (auto& r : read_results(results_path)) done[row_key(r)] = std::move(r);

  // The grid: every (n, trial) subset, drawn once and shared by all models.
  const torch::Tensor validation = protocol_validation(data.train, options.validation_per_class, options.seed);
  std::vector<ProtocolCell> cells;
  for (int64_t n : options.sizes) {
    for (int64_t t = 0; t < protocol_trials(options, n); ++t) {
      auto subset = protocol_subset(data.train, n, t, options.seed, options.validation_per_class);
      cells.push_back({n, t, subset, subset_hash(subset)});
    }
  }

  std::vector<ResultRow> out;
  std::vector<std::string> order;  // row keys in the order n, trial, classifier, encoder
  for (const auto& spec : options.classifiers) {
    const ClassifierKind& kind = find_classifier_kind(spec.kind);
    // The row a (cell, encoder) would produce, before training.
    auto blank = [&](const ProtocolCell& c, int64_t e) {
      ResultRow r;
      r.arch = model.arch;
      r.classifier = spec.name;
      if (e >= 0) {
        r.model = series_name(encoders[e].model, spec, options);
        r.beta = encoders[e].beta;
        r.vae_seed = encoders[e].vae_seed;
      } else {
        r.model = spec.name;
      }
      r.n = c.n;
      r.trial = c.trial;
      r.seed = options.seed;
      r.dataset = data.name;
      r.subset_size = c.subset.numel();
      r.subset_sha256 = c.hash;
      if (kind.semi_supervised) {
        r.epochs = spec.semi.train.epochs;
        r.lr = spec.semi.train.lr;
        r.hidden = spec.semi.hidden;
        r.settings = semi_supervised_to_json(spec.semi);
      } else {
        r.epochs = kind.uses_encoder ? spec.probe.epochs : spec.supervised.epochs;
        r.lr = kind.uses_encoder ? spec.probe.lr : spec.supervised.lr;
        r.hidden = kind.uses_encoder ? spec.probe.hidden : spec.supervised.hidden;
        r.with_logvar = kind.uses_encoder && spec.with_logvar;
      }
      return r;
    };
    auto pending = [&](const ResultRow& want) {
      const auto it = done.find(row_key(want));
      if (it == done.end()) return true;
      check_same_settings(it->second, want, results_path);
      DVAE_CHECK(it->second.subset_sha256.empty() || it->second.subset_sha256 == want.subset_sha256, results_path,
                 ": row ", want.model, " n=", n_label(want.n), " trial ", want.trial,
                 " was trained on another subset, expected the sampler's subset (use a new output folder)");
      return false;
    };
    auto finish = [&](ResultRow& r, const torch::Tensor& predictions) {
      const auto p0 = std::chrono::steady_clock::now();
      fill_scores(r, predictions, data.test);
      r.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - p0).count();
      append_line_durable(results_path, row_to_json(r).dump());
      std::ostringstream line;
      line << r.arch << " " << r.model << (kind.uses_encoder ? " (VAE seed " + std::to_string(r.vae_seed) + ")" : "")
           << " n=" << n_label(r.n) << " trial " << r.trial << ": accuracy " << std::fixed << std::setprecision(4)
           << r.accuracy << " (" << std::setprecision(1) << r.seconds << " s)";
      say(line.str());
      done[row_key(r)] = r;
    };
    const std::string work_dir = (std::filesystem::path(results_path).parent_path() / "semi_supervised").string();
    const ClassifierRun run{data,   model,    encoders, spec,    options, cells, validation,
                            device, work_dir, blank,    pending, finish,  say};
    kind.run(run);
    for (const auto& c : cells) {
      if (kind.uses_encoder) {
        for (size_t e = 0; e < encoders.size(); ++e)
          if (classifier_uses(spec, encoders[e].model)) order.push_back(row_key(blank(c, static_cast<int64_t>(e))));
      } else {
        order.push_back(row_key(blank(c, -1)));
      }
    }
  }
  for (const auto& key : order) out.push_back(done.at(key));
  std::stable_sort(out.begin(), out.end(), [](const ResultRow& a, const ResultRow& b) {
    return std::make_tuple(n_rank(a.n), a.trial) < std::make_tuple(n_rank(b.n), b.trial);
  });
  return out;
}

Metric metric_from_name(const std::string& name) {
  if (name == "accuracy") return Metric::kAccuracy;
  if (name == "train_loss") return Metric::kTrainLoss;
  if (name == "epochs_to_convergence") return Metric::kEpochsToConvergence;
  throw Error("metric '" + name + "', expected accuracy, train_loss or epochs_to_convergence");
}

std::string metric_name(Metric metric) {
  switch (metric) {
    case Metric::kAccuracy: return "accuracy";
    case Metric::kTrainLoss: return "train_loss";
    case Metric::kEpochsToConvergence: return "epochs_to_convergence";
  }
  return "accuracy";
}

bool higher_is_better(Metric metric) { return metric == Metric::kAccuracy; }

double metric_value(const ResultRow& row, Metric metric) {
  switch (metric) {
    case Metric::kAccuracy: return row.accuracy;
    case Metric::kTrainLoss: return row.train_loss;
    case Metric::kEpochsToConvergence: return static_cast<double>(row.epochs_to_convergence);
  }
  return row.accuracy;
}

namespace {

// Rows of one (dataset, arch, n, model) cell: vae seed -> trial -> row.
using SeedTrials = std::map<int64_t, std::map<int64_t, const ResultRow*>>;

SeedTrials cell_rows(const std::vector<ResultRow>& rows, const std::string& dataset, const std::string& arch,
                     int64_t n, const std::string& model) {
  SeedTrials out;
  for (const auto& r : rows) {
    if (r.dataset == dataset && r.arch == arch && r.n == n && r.model == model) out[r.vae_seed][r.trial] = &r;
  }
  return out;
}

// The replication units of one model in a cell: seed means (two or more seeds) or trials.
std::vector<double> cell_units(const SeedTrials& cell, Metric metric) {
  std::vector<double> units;
  if (cell.size() >= 2) {
    for (const auto& [seed, trials] : cell) {
      std::vector<double> v;
      for (const auto& [t, r] : trials) v.push_back(metric_value(*r, metric));
      units.push_back(sample_mean(v));
    }
  } else if (!cell.empty()) {
    for (const auto& [t, r] : cell.begin()->second) units.push_back(metric_value(*r, metric));
  }
  return units;
}

}  // namespace

std::optional<PairedSummary> compare_models(const std::vector<ResultRow>& rows, const std::string& dataset,
                                            const std::string& arch, int64_t n, const std::string& model_a,
                                            const std::string& model_b, Metric metric) {
  const SeedTrials a = cell_rows(rows, dataset, arch, n, model_a);
  const SeedTrials b = cell_rows(rows, dataset, arch, n, model_b);
  if (a.empty() || b.empty()) return std::nullopt;
  PairedSummary p;
  p.dataset = dataset;
  p.arch = arch;
  p.n = n;
  p.model_a = model_a;
  p.model_b = model_b;
  p.metric = metric_name(metric);
  std::vector<double> diffs;
  // A model with one seed (the supervised baseline, or a single VAE) pairs with every seed of the other.
  auto at = [](const SeedTrials& m, int64_t seed) -> const std::map<int64_t, const ResultRow*>* {
    if (m.size() == 1) return &m.begin()->second;
    const auto it = m.find(seed);
    return it == m.end() ? nullptr : &it->second;
  };
  if (a.size() >= 2 || b.size() >= 2) {
    p.unit = "VAE seeds";
    const SeedTrials& seeds = a.size() >= 2 ? a : b;
    for (const auto& [seed, unused] : seeds) {
      const auto* ta = at(a, seed);
      const auto* tb = at(b, seed);
      if (!ta || !tb) continue;
      std::vector<double> d;
      for (const auto& [t, ra] : *ta) {
        if (auto it = tb->find(t); it != tb->end()) d.push_back(metric_value(*ra, metric) - metric_value(*it->second, metric));
      }
      if (d.empty()) continue;
      p.trials = std::max<int64_t>(p.trials, static_cast<int64_t>(d.size()));
      diffs.push_back(sample_mean(d));
    }
  } else {
    p.unit = "label trials";
    p.trials = 1;
    const auto& ta = a.begin()->second;
    const auto& tb = b.begin()->second;
    for (const auto& [t, ra] : ta) {
      if (auto it = tb.find(t); it != tb.end()) diffs.push_back(metric_value(*ra, metric) - metric_value(*it->second, metric));
    }
  }
  if (diffs.empty()) return std::nullopt;
  const PairedTest test = paired_t_test(diffs);
  p.pairs = test.n;
  p.difference_mean = test.mean;
  p.difference_std = test.sd;
  p.ci_low = test.ci_low;
  p.ci_high = test.ci_high;
  p.p_value = test.p_two_sided;
  p.differences = diffs;
  return p;
}

Summary summarise(const std::vector<ResultRow>& rows) {
  Summary s;
  std::map<std::string, int> model_index;
  for (const auto& r : rows) {
    if (model_index.emplace(r.model, static_cast<int>(model_index.size())).second) s.models.push_back(r.model);
  }
  using Key = std::tuple<std::string, std::string, int64_t, int>;  // dataset, arch, n rank, model index
  std::map<Key, int64_t> n_of;
  std::map<Key, std::vector<const ResultRow*>> groups;
  for (const auto& r : rows) {
    const Key key{r.dataset, r.arch, n_rank(r.n), model_index[r.model]};
    groups[key].push_back(&r);
    n_of[key] = r.n;
  }
  std::set<std::string> supervised_models;
  for (const auto& r : rows) {
    if (!r.classifier.empty() && r.model == r.classifier && r.beta == 0.0) supervised_models.insert(r.model);
  }
  for (const auto& [key, members] : groups) {
    CellSummary c;
    c.dataset = std::get<0>(key);
    c.arch = std::get<1>(key);
    c.model = s.models[std::get<3>(key)];
    c.n = n_of[key];
    c.trials = static_cast<int64_t>(members.size());
    const SeedTrials cell = cell_rows(rows, c.dataset, c.arch, c.n, c.model);
    c.vae_seeds = static_cast<int64_t>(cell.size());
    c.unit = cell.size() >= 2 ? "VAE seeds" : "label trials";
    const std::vector<double> units = cell_units(cell, Metric::kAccuracy);
    const PairedTest t = paired_t_test(units);  // a one-sample t interval of the mean
    c.replicates = t.n;
    c.accuracy_mean = t.mean;
    c.accuracy_std = t.sd;
    c.accuracy_ci_low = t.ci_low;
    c.accuracy_ci_high = t.ci_high;
    std::vector<double> loss, epochs, secs;
    for (const auto* r : members) {
      loss.push_back(r->train_loss);
      epochs.push_back(static_cast<double>(r->epochs_to_convergence));
      secs.push_back(r->seconds);
    }
    c.train_loss_mean = mean_of(loss);
    c.epochs_mean = mean_of(epochs);
    c.seconds_mean = mean_of(secs);
    s.cells.push_back(c);
  }
  // Comparisons per (dataset, arch, n): every model against the first model, and every
  // representation model against each supervised baseline.
  std::set<std::tuple<std::string, std::string, int64_t, std::string, std::string>> seen;
  for (const auto& c : s.cells) {
    std::vector<std::string> refs;
    if (!s.models.empty()) refs.push_back(s.models.front());
    for (const auto& m : supervised_models) refs.push_back(m);
    for (const auto& ref : refs) {
      if (ref == c.model) continue;
      const auto key = std::make_tuple(c.dataset, c.arch, c.n, c.model, ref);
      if (!seen.insert(key).second) continue;
      if (supervised_models.count(c.model)) continue;  // each model is compared with it instead
      if (auto p = compare_models(rows, c.dataset, c.arch, c.n, c.model, ref)) s.paired.push_back(*p);
    }
  }
  return s;
}

std::string format_summary(const Summary& summary) {
  std::vector<std::tuple<std::string, std::string, int64_t>> rows;  // (dataset, arch, n) in order
  for (const auto& c : summary.cells) {
    const auto key = std::make_tuple(c.dataset, c.arch, c.n);
    if (std::find(rows.begin(), rows.end(), key) == rows.end()) rows.push_back(key);
  }
  auto find_cell = [&](const std::tuple<std::string, std::string, int64_t>& k,
                       const std::string& model) -> const CellSummary* {
    for (const auto& c : summary.cells) {
      if (std::make_tuple(c.dataset, c.arch, c.n) == k && c.model == model) return &c;
    }
    return nullptr;
  };
  std::ostringstream out;
  out << std::fixed;
  const int w = 30;
  out << "test accuracy, mean [95% interval] over the replication units (seeds x trials)\n" << std::left
      << std::setw(16) << "data" << std::setw(6) << "arch" << std::setw(6) << "n";
  for (const auto& m : summary.models) out << std::setw(w) << m;
  out << "\n";
  for (const auto& k : rows) {
    out << std::setw(16) << std::get<0>(k) << std::setw(6) << std::get<1>(k) << std::setw(6) << n_label(std::get<2>(k));
    for (const auto& m : summary.models) {
      const auto* c = find_cell(k, m);
      std::ostringstream cell;
      cell << std::fixed << std::setprecision(4);
      if (c) {
        cell << c->accuracy_mean << " [" << c->accuracy_ci_low << "," << c->accuracy_ci_high << "] ("
             << c->vae_seeds << "x" << c->trials / std::max<int64_t>(1, c->vae_seeds) << ")";
      }
      out << std::setw(w) << (c ? cell.str() : "-");
    }
    out << "\n";
  }
  if (!summary.paired.empty()) {
    out << "\npaired accuracy difference A-B: mean [95% interval], p (paired t-test), units\n";
    for (const auto& p : summary.paired) {
      out << std::setw(16) << p.dataset << std::setw(6) << p.arch << std::setw(6) << n_label(p.n) << p.model_a
          << " - " << p.model_b << ": " << std::showpos << std::setprecision(4) << p.difference_mean
          << std::noshowpos << " [" << p.ci_low << "," << p.ci_high << "], p " << std::setprecision(3) << p.p_value
          << ", " << p.pairs << " " << p.unit << "\n";
    }
  }
  out << "\nfinal training loss / epochs to convergence (means over rows)\n" << std::setw(16) << "data"
      << std::setw(6) << "arch" << std::setw(6) << "n";
  for (const auto& m : summary.models) out << std::setw(w) << m;
  out << "\n";
  for (const auto& k : rows) {
    out << std::setw(16) << std::get<0>(k) << std::setw(6) << std::get<1>(k) << std::setw(6) << n_label(std::get<2>(k));
    for (const auto& m : summary.models) {
      const auto* c = find_cell(k, m);
      std::ostringstream cell;
      if (c) cell << std::fixed << std::setprecision(4) << c->train_loss_mean << " / " << std::setprecision(1)
                  << c->epochs_mean;
      out << std::setw(w) << (c ? cell.str() : "-");
    }
    out << "\n";
  }
  return out.str();
}

std::string summary_csv(const Summary& summary) {
  std::ostringstream out;
  out << "dataset,arch,model,n,vae_seeds,trials,unit,accuracy_mean,accuracy_std,accuracy_ci_low,accuracy_ci_high,"
         "train_loss_mean,epochs_to_convergence_mean,seconds_mean\n";
  out << std::setprecision(10);
  for (const auto& c : summary.cells) {
    out << c.dataset << "," << c.arch << ",\"" << c.model << "\"," << c.n << "," << c.vae_seeds << "," << c.trials
        << "," << c.unit << "," << c.accuracy_mean << "," << c.accuracy_std << "," << c.accuracy_ci_low << ","
        << c.accuracy_ci_high << "," << c.train_loss_mean << "," << c.epochs_mean << "," << c.seconds_mean << "\n";
  }
  return out.str();
}

std::string paired_csv(const Summary& summary) {
  std::ostringstream out;
  out << "dataset,arch,n,model_a,model_b,metric,unit,pairs,trials,difference_mean,difference_std,ci_low,ci_high,"
         "p_value\n";
  out << std::setprecision(10);
  for (const auto& p : summary.paired) {
    out << p.dataset << "," << p.arch << "," << p.n << ",\"" << p.model_a << "\",\"" << p.model_b << "\"," << p.metric
        << "," << p.unit << "," << p.pairs << "," << p.trials << "," << p.difference_mean << "," << p.difference_std
        << "," << p.ci_low << "," << p.ci_high << "," << p.p_value << "\n";
  }
  return out.str();
}

nlohmann::json error_analysis(const std::vector<ResultRow>& rows, const torch::Tensor& test_labels,
                              int64_t max_listed) {
  // Within (dataset, arch, n, trial) and VAE seed 0 (the supervised rows join every group).
  std::map<std::string, int> model_index;
  for (const auto& r : rows) model_index.emplace(r.model, static_cast<int>(model_index.size()));
  using Key = std::tuple<std::string, std::string, int64_t, int64_t>;  // dataset, arch, n rank, trial
  std::map<Key, std::map<int, const ResultRow*>> groups;
  for (const auto& r : rows) {
    if (r.vae_seed != 0) continue;
    groups[{r.dataset, r.arch, n_rank(r.n), r.trial}][model_index[r.model]] = &r;
  }
  auto first = [&](const std::vector<int64_t>& v) {
    return std::vector<int64_t>(v.begin(), v.begin() + std::min<int64_t>(max_listed, static_cast<int64_t>(v.size())));
  };
  nlohmann::json comparisons = nlohmann::json::array();
  for (const auto& [key, models] : groups) {
    for (auto a = models.begin(); a != models.end(); ++a) {
      for (auto b = std::next(a); b != models.end(); ++b) {
        const ResultRow& ra = *a->second;
        const ResultRow& rb = *b->second;
        DVAE_CHECK(static_cast<int64_t>(ra.predictions.size()) == test_labels.numel() &&
                       static_cast<int64_t>(rb.predictions.size()) == test_labels.numel(),
                   "error_analysis: ", ra.predictions.size(), " and ", rb.predictions.size(), " predictions for ",
                   test_labels.numel(), " test labels, expected equal counts");
        const Disagreement d = compare_predictions(torch::tensor(ra.predictions, torch::kLong),
                                                   torch::tensor(rb.predictions, torch::kLong), test_labels);
        comparisons.push_back({{"dataset", ra.dataset},
                               {"arch", ra.arch},
                               {"n", ra.n},
                               {"trial", ra.trial},
                               {"model_a", ra.model},
                               {"model_b", rb.model},
                               {"a_wrong_b_right", static_cast<int64_t>(d.a_wrong_b_right.size())},
                               {"a_right_b_wrong", static_cast<int64_t>(d.a_right_b_wrong.size())},
                               {"both_wrong", d.both_wrong},
                               {"both_right", d.both_right},
                               {"a_wrong_b_right_first", first(d.a_wrong_b_right)},
                               {"a_right_b_wrong_first", first(d.a_right_b_wrong)}});
      }
    }
  }
  return nlohmann::json{{"max_listed", max_listed}, {"comparisons", comparisons}};
}

}  // namespace dvae
