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
#include "core/random.h"
#include "data/sampler.h"
#include "evaluation/features.h"
#include "evaluation/metrics.h"

namespace dvae {

namespace {

constexpr uint64_t kProbeStream = 0x70726f6265;        // "probe"
constexpr uint64_t kSupervisedStream = 0x7375706572;   // "super"

std::string n_label(int64_t n) { return n < 0 ? std::string("all") : std::to_string(n); }

// Models in report order: disentangled, standard, supervised, then others by name.
int model_rank(const std::string& model) {
  if (model == "disentangled") return 0;
  if (model == "standard") return 1;
  if (model == "supervised") return 2;
  return 3;
}

// Sort key of a size: the full set (-1) after every n.
int64_t n_rank(int64_t n) { return n < 0 ? INT64_MAX : n; }

std::string row_key(const std::string& dataset, const std::string& arch, const std::string& model, int64_t n,
                    int64_t trial, uint64_t seed) {
  return dataset + "|" + arch + "|" + model + "|" + std::to_string(n) + "|" + std::to_string(trial) + "|" +
         std::to_string(seed);
}

std::string row_key(const ResultRow& r) { return row_key(r.dataset, r.arch, r.model, r.n, r.trial, r.seed); }

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
                    std::abs(old_row.beta - want.beta) <= 1e-12;
  DVAE_CHECK(same, path, ": row ", old_row.arch, " ", old_row.model, " n=", n_label(old_row.n), " trial ",
             old_row.trial, " was made with epochs ", old_row.epochs, ", lr ", old_row.lr, ", hidden ", old_row.hidden,
             ", with_logvar ", old_row.with_logvar, ", beta ", old_row.beta, ", expected epochs ", want.epochs, ", lr ",
             want.lr, ", hidden ", want.hidden, ", with_logvar ", want.with_logvar, ", beta ", want.beta,
             " (use a new output folder)");
}

double mean_of(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

double std_of(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean_of(v);
  double s = 0.0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

}  // namespace

nlohmann::json row_to_json(const ResultRow& r) {
  return nlohmann::json{{"arch", r.arch},
                        {"model", r.model},
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
                        {"confusion", r.confusion},
                        {"per_class_accuracy", r.per_class_accuracy},
                        {"predictions", r.predictions}};
}

ResultRow row_from_json(const nlohmann::json& j, const std::string& where) {
  ResultRow r;
  try {
    r.arch = j.at("arch").get<std::string>();
    r.model = j.at("model").get<std::string>();
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
    r.epoch_loss = j.value("epoch_loss", std::vector<double>{});
    r.confusion = j.at("confusion").get<std::vector<std::vector<int64_t>>>();
    r.per_class_accuracy = j.at("per_class_accuracy").get<std::vector<double>>();
    r.predictions = j.at("predictions").get<std::vector<int64_t>>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(detail::concat(where, ": ", e.what(), ", expected a results row (see evaluation/protocol.h)"));
  }
  return r;
}

std::vector<ResultRow> read_results(const std::string& path) {
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
  if (torn || (!text.empty() && text.back() != '\n')) {
    std::string fixed;
    for (const auto& l : good_lines) fixed += l + "\n";
    write_file_atomic(path, fixed);
  }
  return rows;
}

torch::Tensor protocol_subset(const ImageSet& train, int64_t n, int64_t trial, uint64_t seed) {
  SamplerOptions so;
  so.n = n;
  so.seed = seed;
  return sample_labelled(train.labels, train.num_classes, so, static_cast<uint64_t>(trial)).labelled;
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
  std::set<std::string> names;
  for (const auto& e : encoders) {
    DVAE_CHECK(e.encoder != nullptr, "run_protocol: encoder of model '", e.model, "' is null");
    DVAE_CHECK(!e.model.empty() && e.model != "supervised" && names.insert(e.model).second,
               "run_protocol: model name '", e.model, "', expected unique names other than 'supervised'");
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
  struct Cell {
    int64_t n;
    int64_t trial;
    torch::Tensor subset;
    std::string hash;
  };
  std::vector<Cell> cells;
  for (int64_t n : options.sizes) {
    for (int64_t t = 0; t < protocol_trials(options, n); ++t) {
      auto subset = protocol_subset(data.train, n, t, options.seed);
      cells.push_back({n, t, subset, subset_hash(subset)});
    }
  }

  // The row a (cell, model) would produce, before training.
  auto blank_row = [&](const Cell& c, const std::string& name, double beta, bool probe) {
    ResultRow r;
    r.arch = model.arch;
    r.model = name;
    r.beta = beta;
    r.n = c.n;
    r.trial = c.trial;
    r.seed = options.seed;
    r.dataset = data.name;
    r.subset_size = c.subset.numel();
    r.subset_sha256 = c.hash;
    r.epochs = probe ? options.probe.epochs : options.supervised.epochs;
    r.lr = probe ? options.probe.lr : options.supervised.lr;
    r.hidden = options.probe.hidden;
    r.with_logvar = probe && options.with_logvar;
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

  // Probes: features once per encoder, then every pending head of the grid in one stack.
  std::vector<ProbeTask> tasks;
  std::vector<ResultRow> task_rows;
  std::vector<size_t> task_encoder;
  std::vector<torch::Tensor> train_features(encoders.size()), test_features(encoders.size());
  for (size_t e = 0; e < encoders.size(); ++e) {
    for (const auto& c : cells) {
      ResultRow want = blank_row(c, encoders[e].model, encoders[e].beta, true);
      if (!pending(want)) continue;
      if (!train_features[e].defined()) {
        const auto t0 = std::chrono::steady_clock::now();
        train_features[e] = extract_features(*encoders[e].encoder, data.train, options.with_logvar,
                                             options.feature_batch);
        test_features[e] = extract_features(*encoders[e].encoder, data.test, options.with_logvar,
                                            options.feature_batch);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::ostringstream m;
        m << model.arch << " " << encoders[e].model << ": features " << train_features[e].sizes() << " + "
          << test_features[e].sizes() << " in " << std::fixed << std::setprecision(2) << s << " s";
        say(m.str());
      }
      const uint64_t head_seed =
          derive_seed(options.seed, {kProbeStream, static_cast<uint64_t>(c.n), static_cast<uint64_t>(c.trial)});
      tasks.push_back({train_features[e], data.train.labels.contiguous(), c.subset, data.train.num_classes, head_seed});
      task_rows.push_back(std::move(want));
      task_encoder.push_back(e);
    }
  }
  if (!tasks.empty()) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto fits = train_probes(tasks, options.probe);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::ostringstream m;
    m << model.arch << ": " << tasks.size() << " probe heads trained in " << std::fixed << std::setprecision(2) << s
      << " s";
    say(m.str());
    for (size_t i = 0; i < fits.size(); ++i) {
      ResultRow& r = task_rows[i];
      const auto p0 = std::chrono::steady_clock::now();
      fill_scores(r, probe_predict(fits[i].head, test_features[task_encoder[i]]), data.test);
      r.train_loss = fits[i].final_loss;
      r.epoch_loss = fits[i].epoch_loss;
      r.epochs_to_convergence = fits[i].epochs_to_convergence;
      r.seconds = fits[i].seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - p0).count();
      append_line_durable(results_path, row_to_json(r).dump());
      std::ostringstream line;
      line << r.arch << " " << r.model << " n=" << n_label(r.n) << " trial " << r.trial << ": accuracy " << std::fixed
           << std::setprecision(4) << r.accuracy;
      say(line.str());
      done[row_key(r)] = r;
    }
  }

  // Supervised baseline, one durable row at a time (the expensive part).
  if (options.supervised_baseline) {
    SupervisedOptions so = options.supervised;
    so.hidden = options.probe.hidden;
    so.convergence_tolerance = options.probe.convergence_tolerance;
    for (const auto& c : cells) {
      ResultRow r = blank_row(c, "supervised", 0.0, false);
      if (!pending(r)) continue;
      const uint64_t s =
          derive_seed(options.seed, {kSupervisedStream, static_cast<uint64_t>(c.n), static_cast<uint64_t>(c.trial)});
      const SupervisedFit fit = train_supervised(model, data.train, c.subset, data.test, so, s, device);
      fill_scores(r, fit.test_predictions, data.test);
      r.train_loss = fit.final_loss;
      r.epoch_loss = fit.epoch_loss;
      r.epochs_to_convergence = fit.epochs_to_convergence;
      r.seconds = fit.seconds;
      append_line_durable(results_path, row_to_json(r).dump());
      std::ostringstream line;
      line << r.arch << " supervised n=" << n_label(r.n) << " trial " << r.trial << ": accuracy " << std::fixed
           << std::setprecision(4) << r.accuracy << " (" << std::setprecision(1) << r.seconds << " s)";
      say(line.str());
      done[row_key(r)] = r;
    }
  }

  // Every row of the requested grid, in order n, trial, model.
  std::vector<ResultRow> out;
  for (const auto& c : cells) {
    for (const auto& e : encoders) {
      out.push_back(done.at(row_key(data.name, model.arch, e.model, c.n, c.trial, options.seed)));
    }
    if (options.supervised_baseline) {
      out.push_back(done.at(row_key(data.name, model.arch, "supervised", c.n, c.trial, options.seed)));
    }
  }
  return out;
}

Summary summarise(const std::vector<ResultRow>& rows) {
  using Key = std::tuple<std::string, int64_t, int, std::string>;  // arch, n rank, model rank, model
  std::map<Key, std::vector<const ResultRow*>> groups;
  for (const auto& r : rows) groups[{r.arch, n_rank(r.n), model_rank(r.model), r.model}].push_back(&r);
  Summary s;
  for (const auto& [key, members] : groups) {
    CellSummary c;
    c.arch = std::get<0>(key);
    c.model = std::get<3>(key);
    c.n = members.front()->n;
    c.trials = static_cast<int64_t>(members.size());
    std::vector<double> acc, loss, epochs, secs;
    for (const auto* r : members) {
      acc.push_back(r->accuracy);
      loss.push_back(r->train_loss);
      epochs.push_back(static_cast<double>(r->epochs_to_convergence));
      secs.push_back(r->seconds);
    }
    c.accuracy_mean = mean_of(acc);
    c.accuracy_std = std_of(acc);
    c.train_loss_mean = mean_of(loss);
    c.epochs_mean = mean_of(epochs);
    c.seconds_mean = mean_of(secs);
    s.cells.push_back(c);
  }
  // Pairs within (arch, n): every two models present, in report order.
  using PairKey = std::tuple<std::string, int64_t>;
  std::map<PairKey, std::map<std::pair<int, std::string>, std::map<int64_t, double>>> by_model;
  std::map<PairKey, int64_t> n_of;
  for (const auto& r : rows) {
    by_model[{r.arch, n_rank(r.n)}][{model_rank(r.model), r.model}][r.trial] = r.accuracy;
    n_of[{r.arch, n_rank(r.n)}] = r.n;
  }
  for (const auto& [key, models] : by_model) {
    for (auto a = models.begin(); a != models.end(); ++a) {
      for (auto b = std::next(a); b != models.end(); ++b) {
        std::vector<double> diffs;
        for (const auto& [trial, acc_a] : a->second) {
          const auto it = b->second.find(trial);
          if (it != b->second.end()) diffs.push_back(acc_a - it->second);
        }
        if (diffs.empty()) continue;
        s.paired.push_back({std::get<0>(key), n_of[key], a->first.second, b->first.second,
                            static_cast<int64_t>(diffs.size()), mean_of(diffs), std_of(diffs)});
      }
    }
  }
  return s;
}

std::string format_summary(const Summary& summary) {
  std::vector<std::string> models;
  std::vector<std::pair<std::string, int64_t>> rows;  // (arch, n) in order
  for (const auto& c : summary.cells) {
    if (std::find(models.begin(), models.end(), c.model) == models.end()) models.push_back(c.model);
    if (std::find(rows.begin(), rows.end(), std::make_pair(c.arch, c.n)) == rows.end()) rows.emplace_back(c.arch, c.n);
  }
  std::stable_sort(models.begin(), models.end(),
                   [](const std::string& a, const std::string& b) { return model_rank(a) < model_rank(b); });
  auto find_cell = [&](const std::string& arch, int64_t n, const std::string& model) -> const CellSummary* {
    for (const auto& c : summary.cells) {
      if (c.arch == arch && c.n == n && c.model == model) return &c;
    }
    return nullptr;
  };
  std::ostringstream out;
  out << std::fixed;
  const int w = 24;
  out << "test accuracy, mean +/- std over trials (trials)\n" << std::left << std::setw(6) << "arch" << std::setw(6)
      << "n";
  for (const auto& m : models) out << std::setw(w) << m;
  out << "\n";
  for (const auto& [arch, n] : rows) {
    out << std::setw(6) << arch << std::setw(6) << n_label(n);
    for (const auto& m : models) {
      const auto* c = find_cell(arch, n, m);
      std::ostringstream cell;
      cell << std::fixed << std::setprecision(4);
      if (c) cell << c->accuracy_mean << " +/- " << c->accuracy_std << " (" << c->trials << ")";
      out << std::setw(w) << (c ? cell.str() : "-");
    }
    out << "\n";
  }
  // Paired differences.
  std::vector<std::string> pair_names;
  for (const auto& p : summary.paired) {
    const auto name = p.model_a + "-" + p.model_b;
    if (std::find(pair_names.begin(), pair_names.end(), name) == pair_names.end()) pair_names.push_back(name);
  }
  if (!pair_names.empty()) {
    out << "\npaired accuracy difference A-B, mean +/- std over trials\n" << std::setw(6) << "arch" << std::setw(6)
        << "n";
    for (const auto& p : pair_names) out << std::setw(w + 2) << p;
    out << "\n";
    for (const auto& [arch, n] : rows) {
      out << std::setw(6) << arch << std::setw(6) << n_label(n);
      for (const auto& name : pair_names) {
        std::string text = "-";
        for (const auto& p : summary.paired) {
          if (p.arch == arch && p.n == n && p.model_a + "-" + p.model_b == name) {
            std::ostringstream cell;
            cell << std::showpos << std::fixed << std::setprecision(4) << p.difference_mean << std::noshowpos
                 << " +/- " << p.difference_std;
            text = cell.str();
          }
        }
        out << std::setw(w + 2) << text;
      }
      out << "\n";
    }
  }
  out << "\nfinal training loss / epochs to convergence (means over trials)\n" << std::setw(6) << "arch" << std::setw(6)
      << "n";
  for (const auto& m : models) out << std::setw(w) << m;
  out << "\n";
  for (const auto& [arch, n] : rows) {
    out << std::setw(6) << arch << std::setw(6) << n_label(n);
    for (const auto& m : models) {
      const auto* c = find_cell(arch, n, m);
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
  out << "arch,model,n,trials,accuracy_mean,accuracy_std,train_loss_mean,epochs_to_convergence_mean,seconds_mean\n";
  out << std::setprecision(10);
  for (const auto& c : summary.cells) {
    out << c.arch << "," << c.model << "," << c.n << "," << c.trials << "," << c.accuracy_mean << "," << c.accuracy_std
        << "," << c.train_loss_mean << "," << c.epochs_mean << "," << c.seconds_mean << "\n";
  }
  return out.str();
}

std::string paired_csv(const Summary& summary) {
  std::ostringstream out;
  out << "arch,n,model_a,model_b,pairs,difference_mean,difference_std\n";
  out << std::setprecision(10);
  for (const auto& p : summary.paired) {
    out << p.arch << "," << p.n << "," << p.model_a << "," << p.model_b << "," << p.pairs << "," << p.difference_mean
        << "," << p.difference_std << "\n";
  }
  return out.str();
}

nlohmann::json error_analysis(const std::vector<ResultRow>& rows, const torch::Tensor& test_labels,
                              int64_t max_listed) {
  using Key = std::tuple<std::string, int64_t, int64_t>;  // arch, n rank, trial
  std::map<Key, std::map<std::pair<int, std::string>, const ResultRow*>> groups;
  for (const auto& r : rows) groups[{r.arch, n_rank(r.n), r.trial}][{model_rank(r.model), r.model}] = &r;
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
        comparisons.push_back({{"arch", ra.arch},
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
