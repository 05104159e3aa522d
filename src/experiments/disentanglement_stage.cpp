// Scores trained VAEs with the disentanglement metrics and writes the report
// section that relates them to few-label accuracy. See disentanglement_stage.h.
#include "experiments/disentanglement_stage.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "analysis/scatter_plot.h"
#include "core/check.h"
#include "core/random.h"
#include "data/datasets.h"
#include "data/factor_source.h"
#include "data/factor_table.h"
#include "dvae/version.h"
#include "evaluation/statistics.h"
#include "evaluation/trained_encoder.h"

namespace dvae {
namespace fs = std::filesystem;

namespace {

nlohmann::json options_json(const MetricOptions& o) {
  return {{"bins", o.bins},
          {"num_train", o.num_train},
          {"num_test", o.num_test},
          {"train_fraction", o.train_fraction},
          {"seed", o.seed},
          {"gbt", {{"rounds", o.gbt.rounds}, {"eta", o.gbt.eta}, {"max_depth", o.gbt.max_depth}}},
          {"batch_size", o.batch_size},
          {"intervention_train", o.intervention_train},
          {"intervention_eval", o.intervention_eval},
          {"variance_estimate", o.variance_estimate},
          {"prune_threshold", o.prune_threshold}};
}

// The generator of a data set ("" when it has none), built once per data set.
class Generators {
 public:
  explicit Generators(std::string data_root) : data_root_(std::move(data_root)) {}
  const FactorSource* of(const std::string& dataset) {
    auto it = sources_.find(dataset);
    if (it == sources_.end()) {
      const DatasetInfo* info = find_dataset(dataset);
      std::unique_ptr<FactorSource> s;
      if (info && info->factor_source) s = info->factor_source(data_root_, "test");
      it = sources_.emplace(dataset, std::move(s)).first;
    }
    return it->second.get();
  }

 private:
  std::string data_root_;
  std::map<std::string, std::unique_ptr<FactorSource>> sources_;
};

// The test split's codes and known factors: generator factors when the images
// carry them, else the (cached) morphometrics.
FactorCodes test_factor_codes(const DisentanglementUnit& u, const TrainedEncoder& encoder,
                              const FactorSource* source, const DisentanglementContext& ctx) {
  const ImageSet& test = u.data->test;
  FactorCodes d;
  d.codes = encoder.encode(test.images).to(torch::kDouble);  // [N,D]
  if (!test.factor_names.empty() && test.factors.defined()) {
    d.factors = test.factors.to(torch::kDouble);
    d.factor_names = test.factor_names;
    for (size_t k = 0; k < d.factor_names.size(); ++k) {
      bool discrete = false;
      if (source) {
        for (const auto& r : source->factor_ranges()) discrete = discrete || (r.name == d.factor_names[k] && r.discrete);
      }
      d.discrete.push_back(discrete);
    }
    return d;
  }
  FactorTableOptions fo;
  fo.cache_dir = ctx.out_dir + "/factors";
  fo.cache_key = factor_cache_key(u.fingerprint, "test");
  const FactorTable t = factor_table(test, fo);
  d.factors = t.values.to(torch::kDouble);
  d.factor_names = t.names;
  d.discrete.assign(t.names.size(), false);
  return d;
}

// The interventional source of a generator with the unit's encoder behind it.
InterventionalSource interventional(const FactorSource& source, const TrainedEncoder& encoder) {
  InterventionalSource s;
  s.factor_names = source.factor_names();
  s.sample_factors = [&source](int64_t n, uint64_t seed) {
    Rng rng(seed);
    return source.sample_factors(n, rng);
  };
  s.codes = [&source, &encoder](const torch::Tensor& factors, uint64_t seed) {
    Rng rng(seed);
    return encoder.encode(source.render(factors, rng));  // [n,F] -> [n,1,H,W] -> [n,D]
  };
  return s;
}

MetricValues score_unit(const DisentanglementUnit& u, const DisentanglementContext& ctx, Generators& generators) {
  const TrainedEncoder encoder(u.checkpoint, ctx.device);
  const FactorSource* source = generators.of(u.dataset);
  const FactorCodes data = test_factor_codes(u, encoder, source, ctx);
  MetricOptions o = ctx.options;
  MetricValues out;
  for (const auto& name : ctx.metrics) {
    const MetricDef& m = find_metric(name);
    MetricValues v;
    if (m.table) {
      v = m.table(data, o);
    } else if (source) {
      v = m.interventional(interventional(*source, encoder), o);
    }  // an interventional metric on a data set without a generator: not defined, left out
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

std::string fixed(double v, int precision) {
  if (!std::isfinite(v)) return "-";
  std::ostringstream s;
  s << std::fixed << std::setprecision(precision) << v;
  return s.str();
}

std::string n_text(int64_t n) { return n < 0 ? "all" : std::to_string(n); }

// The sizes the section correlates: the study's sizes up to 100 labels per class.
std::vector<int64_t> few_label_sizes(const std::vector<int64_t>& sizes) {
  std::vector<int64_t> out;
  for (int64_t n : sizes) {
    if (n > 0 && n <= 100) out.push_back(n);
  }
  return out;
}

// Every value name in the scores, first-seen order.
std::vector<std::string> value_names(const std::vector<DisentanglementScore>& scores) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const auto& s : scores) {
    for (const auto& [name, v] : s.metrics) {
      if (seen.insert(name).second) names.push_back(name);
    }
  }
  return names;
}

double value_of(const DisentanglementScore& s, const std::string& name) {
  for (const auto& [n, v] : s.metrics) {
    if (n == name) return v;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

MetricOptions study_metric_options(int64_t points, uint64_t seed) {
  MetricOptions o;
  o.seed = seed;
  o.intervention_train = points;
  o.intervention_eval = std::max<int64_t>(1, points / 2);
  o.variance_estimate = std::min<int64_t>(10000, 10 * points);
  return o;
}

double probe_accuracy_at(const DisentanglementUnit& unit, int64_t n) {
  double sum = 0;
  int64_t count = 0;
  for (const auto& r : unit.probe_rows) {
    if (r.n != n) continue;
    sum += r.accuracy;
    ++count;
  }
  return count > 0 ? sum / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN();
}

std::vector<DisentanglementScore> score_disentanglement(const std::vector<DisentanglementUnit>& units,
                                                        const DisentanglementContext& ctx) {
  DVAE_CHECK(ctx.db, "disentanglement stage: no results store");
  Generators generators(ctx.data_root);
  std::vector<DisentanglementScore> out;
  for (const auto& u : units) {
    DVAE_CHECK(u.data, "disentanglement stage: ", u.label, ": no data set");
    const nlohmann::json key_spec = {{"unit", "disentanglement"}, {"vae", u.vae_key},
                                     {"checkpoint", u.checkpoint_sha}, {"metrics", ctx.metrics},
                                     {"options", options_json(ctx.options)}, {"dvae", kVersion}};
    const std::string key = unit_key(key_spec);
    DisentanglementScore s;
    s.unit = u;
    const auto record = ctx.db->find(key);
    if (record && !ctx.force && record->payload.contains("metrics")) {
      for (const auto& pair : record->payload.at("metrics")) {
        s.metrics.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<double>());
      }
      if (ctx.log) ctx.log(u.label + ": disentanglement scored earlier, skipped");
      out.push_back(std::move(s));
      continue;
    }
    if (ctx.log) ctx.log(u.label + ": scoring disentanglement");
    const auto t0 = std::chrono::steady_clock::now();
    s.metrics = score_unit(u, ctx, generators);
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    nlohmann::json pairs = nlohmann::json::array();
    for (const auto& [name, v] : s.metrics) pairs.push_back({name, v});
    ctx.db->put_disentanglement(u.vae_key, s.metrics);
    // vae and checkpoint let `study merge` check the record against its VAE (experiments/shards.h).
    ctx.db->put({key, "disentanglement", u.label + " disentanglement", "", "",
                 nlohmann::json{{"metrics", pairs}, {"vae", u.vae_key}, {"checkpoint", u.checkpoint_sha}},
                 s.seconds});
    out.push_back(std::move(s));
  }
  return out;
}

std::string disentanglement_rule_text() {
  return "Rule: for each metric and label budget n, Spearman's rho between the metric and the probe's mean test "
         "accuracy over the trained VAEs (one point per VAE) says 'better' when its 95% interval (Fisher z, "
         "variance 1.06/(n-3)) lies above 0, 'worse' when it lies below 0, 'not clearly' otherwise. The answer is "
         "yes only if most (metric, n) pairs say better and none says worse; no (the reverse) only if most say "
         "worse and none better; otherwise not clearly.";
}

ReportSection disentanglement_section(const std::vector<DisentanglementScore>& scores, const std::vector<int64_t>& sizes,
                                      const std::string& figure_dir) {
  ReportSection sec;
  sec.title = "Disentanglement and few-label accuracy";
  sec.id = "disentanglement";
  const std::vector<std::string> names = value_names(scores);
  const std::vector<int64_t> few = few_label_sizes(sizes);
  sec.blocks.push_back({"p",
                        "Every trained VAE scored on its data set's test split: generator factors (and the "
                        "BetaVAE / FactorVAE scores on the generator) where the images have them, Morpho-MNIST "
                        "morphometrics otherwise. Active latents: test KL > 0.01 nats. Accuracy: the probe's mean "
                        "over label trials.",
                        "", {}, {}});
  ReportBlock table{"table", "", "", {"data set", "arch", "model", "weights", "seed", "active", "test ELBO"}, {}};
  for (const auto& name : names) table.head.push_back(name);
  for (int64_t n : few) table.head.push_back("acc n=" + n_text(n));
  for (const auto& s : scores) {
    const auto& u = s.unit;
    std::vector<std::string> row = {u.dataset, u.arch, u.model, u.weights, std::to_string(u.seed_index),
                                    std::to_string(u.stats.value("active_latents", int64_t{0})),
                                    fixed(u.stats.value("test_elbo", std::nan("")), 2)};
    for (const auto& name : names) row.push_back(fixed(value_of(s, name), 3));
    for (int64_t n : few) row.push_back(fixed(100.0 * probe_accuracy_at(u, n), 1));
    table.rows.push_back(row);
  }
  sec.blocks.push_back(table);
  if (few.empty() || names.empty()) return sec;

  std::vector<std::string> datasets;
  for (const auto& s : scores) {
    if (std::find(datasets.begin(), datasets.end(), s.unit.dataset) == datasets.end()) datasets.push_back(s.unit.dataset);
  }
  sec.blocks.push_back({"p", disentanglement_rule_text(), "", {}, {}});
  for (const auto& dataset : datasets) {
    ReportBlock corr{"table", "", "", {"metric", "n", "VAEs", "Spearman rho", "95% interval", "says"}, {}};
    int64_t better = 0, worse = 0, pairs = 0;
    std::vector<ReportBlock> figures;
    for (size_t m = 0; m < names.size(); ++m) {
      std::vector<ScatterPanel> panels;
      for (int64_t n : few) {
        ScatterPanel p;
        for (const auto& s : scores) {
          if (s.unit.dataset != dataset) continue;
          const double x = value_of(s, names[m]), y = probe_accuracy_at(s.unit, n);
          if (!std::isfinite(x) || !std::isfinite(y)) continue;
          p.x.push_back(x);
          p.y.push_back(100.0 * y);
        }
        const RankCorrelation r = spearman(p.x, p.y);
        std::string says = "not clearly";
        if (r.has_interval && r.ci_low > 0) says = "better", ++better;
        if (r.has_interval && r.ci_high < 0) says = "worse", ++worse;
        if (!p.x.empty()) ++pairs;
        corr.rows.push_back({names[m], n_text(n), std::to_string(r.n), fixed(r.rho, 2),
                             r.has_interval ? "[" + fixed(r.ci_low, 2) + ", " + fixed(r.ci_high, 2) + "]" : "-",
                             says});
        p.title = "n = " + n_text(n) + ": rho " + fixed(r.rho, 2) +
                  (r.has_interval ? " [" + fixed(r.ci_low, 2) + ", " + fixed(r.ci_high, 2) + "]" : "");
        panels.push_back(std::move(p));
      }
      std::string file = dataset + "-" + names[m];
      for (char& c : file) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
      }
      try {
        const PlotFiles f = plot_scatter_panels(panels, dataset + ": " + names[m] + " against probe accuracy",
                                                names[m], "probe test accuracy (%)", figure_dir + "/" + file);
        figures.push_back({"figure", dataset + ": " + names[m] + " against few-label probe accuracy, one point per "
                                                                 "trained VAE",
                           f.png, {}, {}});
      } catch (const Error& e) {
        figures.push_back({"note", "plot of " + names[m] + " not drawn: " + std::string(e.what()), "", {}, {}});
      }
    }
    std::string answer = "not clearly";
    if (better * 2 > pairs && worse == 0) answer = "yes";
    if (worse * 2 > pairs && better == 0) answer = "no, the reverse";
    std::ostringstream q;
    q << dataset << ": do more disentangled encoders classify better with few labels? In dvae's measurements: "
      << answer << " (" << better << " of " << pairs << " metric/size pairs say better, " << worse
      << " worse; rule above).";
    sec.blocks.push_back({"p", q.str(), "", {}, {}});
    sec.blocks.push_back(corr);
    sec.blocks.insert(sec.blocks.end(), figures.begin(), figures.end());
  }
  return sec;
}

}  // namespace dvae
