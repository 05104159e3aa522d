// Study specs: TOML parsing (strict: every key known, typed and in range),
// validation, presets applied first, JSON form.
#include "experiments/study_spec.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "core/check.h"
#include "core/one_line.h"
#include "evaluation/classifier_kind.h"
#include "evaluation/disentanglement.h"
#include "experiments/claims.h"
#include "models/vae.h"
#include "training/objectives.h"

namespace dvae {

namespace {

// Reads typed, range-checked values of one table, naming where.key in every error.
class Reader {
 public:
  Reader(const toml::table& table, std::string where, std::string prefix)
      : table_(table), where_(std::move(where)), prefix_(std::move(prefix)) {}

  std::string name(const std::string& key) const { return where_ + ": key '" + prefix_ + key + "'"; }

  const toml::node* get(const std::string& key) {
    used_.insert(key);
    return table_.get(key);
  }

  bool has(const std::string& key) const { return table_.contains(key); }

  void str(const std::string& key, std::string& out) {
    if (const auto* n = get(key)) {
      const auto v = n->value<std::string>();
      DVAE_CHECK_USAGE(n->is_string() && v, name(key), ": expected a string");
      out = *v;
    }
  }

  void boolean(const std::string& key, bool& out) {
    if (const auto* n = get(key)) {
      DVAE_CHECK_USAGE(n->is_boolean(), name(key), ": expected true or false");
      out = *n->value<bool>();
    }
  }

  int64_t int_of(const toml::node& n, const std::string& key, int64_t lo, int64_t hi) const {
    DVAE_CHECK_USAGE(n.is_integer(), name(key), ": expected an integer in [", lo, ", ", hi, "]");
    const int64_t v = *n.value<int64_t>();
    DVAE_CHECK_USAGE(v >= lo && v <= hi, name(key), ": ", v, ", expected an integer in [", lo, ", ", hi, "]");
    return v;
  }

  double real_of(const toml::node& n, const std::string& key, double lo, double hi, bool open_lo) const {
    DVAE_CHECK_USAGE(n.is_integer() || n.is_floating_point(), name(key), ": expected a number in ",
                     open_lo ? "(" : "[", lo, ", ", hi, "]");
    const double v = *n.value<double>();
    DVAE_CHECK_USAGE(std::isfinite(v) && (open_lo ? v > lo : v >= lo) && v <= hi, name(key), ": ", v,
                     ", expected a finite number in ", open_lo ? "(" : "[", lo, ", ", hi, "]");
    return v;
  }

  void integer(const std::string& key, int64_t& out, int64_t lo, int64_t hi) {
    if (const auto* n = get(key)) out = int_of(*n, key, lo, hi);
  }

  void real(const std::string& key, double& out, double lo, double hi, bool open_lo = false) {
    if (const auto* n = get(key)) out = real_of(*n, key, lo, hi, open_lo);
  }

  void strings(const std::string& key, std::vector<std::string>& out, bool allow_single = true) {
    const auto* n = get(key);
    if (!n) return;
    out.clear();
    if (allow_single && n->is_string()) {
      out.push_back(*n->value<std::string>());
      return;
    }
    const auto* arr = n->as_array();
    DVAE_CHECK_USAGE(arr, name(key), ": expected ", allow_single ? "a string or " : "", "an array of strings");
    for (auto&& e : *arr) {
      DVAE_CHECK_USAGE(e.is_string(), name(key), ": expected an array of strings");
      out.push_back(*e.value<std::string>());
    }
  }

  void sizes(const std::string& key, std::vector<int64_t>& out) {
    const auto* n = get(key);
    if (!n) return;
    const auto* arr = n->as_array();
    DVAE_CHECK_USAGE(arr, name(key), ": expected an array of positive integers or \"all\"");
    out.clear();
    std::set<int64_t> seen;
    for (auto&& e : *arr) {
      int64_t v = 0;
      if (e.is_string() && *e.value<std::string>() == "all") {
        v = -1;
      } else {
        DVAE_CHECK_USAGE(e.is_integer() && *e.value<int64_t>() > 0 && *e.value<int64_t>() <= 1000000, name(key),
                         ": expected positive integers (at most 1000000) or \"all\"");
        v = *e.value<int64_t>();
      }
      DVAE_CHECK_USAGE(seen.insert(v).second, name(key), ": size ", v < 0 ? "all" : std::to_string(v),
                       " given twice");
      out.push_back(v);
    }
  }

  template <typename T>
  void per_arch(const std::string& key, PerArch<T>& out, T lo, T hi, bool open_lo = false) {
    const auto* n = get(key);
    if (!n) return;
    auto one = [&](const toml::node& v, const std::string& k) -> T {
      if constexpr (std::is_same_v<T, int64_t>) {
        (void)open_lo;
        return int_of(v, k, lo, hi);
      } else {
        return real_of(v, k, lo, hi, open_lo);
      }
    };
    if (const auto* t = n->as_table()) {
      out.by_arch.clear();
      for (auto&& [arch, v] : *t) {
        const std::string a(arch.str());
        DVAE_CHECK_USAGE(is_registered_arch(a), name(key), ": architecture '", a, "', expected one of ",
                         arch_names_text());
        out.by_arch[a] = one(v, key + "." + a);
      }
    } else {
      out.value = one(*n, key);
      out.by_arch.clear();
    }
  }

  // Every key of the table must have been read.
  void finish() const {
    for (auto&& [k, v] : table_) {
      const std::string key(k.str());
      DVAE_CHECK_USAGE(used_.count(key), where_, ": unknown key '", prefix_, key,
                       "' (the keys are listed by `dvae study keys`)");
    }
  }

 private:
  static bool is_registered_arch(const std::string& a) {
    for (const auto& n : registered_archs())
      if (n == a) return true;
    return false;
  }
  static std::string arch_names_text() {
    std::string s;
    for (const auto& n : registered_archs()) s += (s.empty() ? "" : ", ") + n;
    return s;
  }
  const toml::table& table_;
  std::string where_, prefix_;
  std::set<std::string> used_;
};

// The array of tables under key ([[models]] or an inline array of tables).
std::vector<const toml::table*> tables_of(const toml::table& root, const std::string& key, const std::string& where) {
  std::vector<const toml::table*> out;
  const auto* node = root.get(key);
  if (!node) return out;
  const auto* arr = node->as_array();
  DVAE_CHECK_USAGE(arr, where, ": key '", key, "': expected an array of tables ([[", key, "]])");
  for (auto&& e : *arr) {
    DVAE_CHECK_USAGE(e.is_table(), where, ": key '", key, "': expected an array of tables ([[", key, "]])");
    out.push_back(e.as_table());
  }
  return out;
}

ModelSpec parse_model(const toml::table& t, const std::string& where, size_t i) {
  Reader r(t, where, "models[" + std::to_string(i) + "].");
  ModelSpec m;
  DVAE_CHECK_USAGE(t.contains("name"), r.name("name"), ": missing, expected the model's name");
  r.str("name", m.name);
  r.str("objective", m.objective);
  DVAE_CHECK_USAGE(is_objective(m.objective), r.name("objective"), ": '", m.objective, "', expected one of ",
                   objective_names_text());
  const Objective& objective = find_objective(m.objective);
  DVAE_CHECK_USAGE(!t.contains("beta") || objective.uses("beta"), r.name("beta"), ": objective ", m.objective,
                   " does not use beta, expected its own parameters (`dvae study keys`)");
  r.per_arch<double>("beta", m.beta, 0.0, 1e6);
  for (const auto& p : objective_parameter_names()) {
    const auto* n = r.get(p);
    if (!n) continue;
    DVAE_CHECK_USAGE(objective.uses(p), r.name(p), ": objective ", m.objective, " does not use ", p,
                     ", expected it only with an objective that does (`dvae study keys`)");
    const ParameterRange range = objective_parameter_range(p);
    if (range.integer) {
      m.parameters[p] = r.int_of(*n, p, static_cast<int64_t>(range.lo), static_cast<int64_t>(range.hi));
    } else {
      m.parameters[p] = r.real_of(*n, p, range.lo, range.hi, range.open_lo);
    }
  }
  if (objective.uses("c_max")) {
    const ObjectiveSettings s = model_objective_settings(m);
    DVAE_CHECK_USAGE(s.c_min <= s.c_max, r.name("c_min"), ": ", s.c_min, " above c_max = ", s.c_max,
                     ", expected c_min <= c_max");
  }
  r.integer("latent_dim", m.latent_dim, 1, 4096);
  r.per_arch<int64_t>("epochs", m.epochs, 1, 100000);
  r.per_arch<int64_t>("train_images", m.train_images, 0, int64_t{1} << 40);
  r.finish();
  return m;
}

// The keys of an M2 kind ("m2", "m1m2"): see evaluation/semi_supervised.h.
void parse_semi_supervised(Reader& r, const toml::table& t, SemiSupervisedOptions& o) {
  DVAE_CHECK_USAGE(!t.contains("with_logvar"), r.name("with_logvar"), ": only probe classifiers take it");
  r.integer("epochs", o.train.epochs, 1, 100000);
  r.real("lr", o.train.lr, 0.0, 10.0, true);
  r.real("lr_decay", o.train.lr_decay, 0.0, 1.0, true);
  r.real("beta", o.train.beta, 0.0, 1e6);
  r.real("alpha", o.train.alpha, 0.0, 1e6);
  r.integer("batch_size", o.train.unlabelled_batch, 1, 1000000);
  r.integer("labelled_batch", o.train.labelled_batch, 1, 1000000);
  r.integer("eval_every", o.train.eval_every, 0, 100000);
  r.integer("hidden", o.hidden, 1, 65536);
  r.integer("hidden_layers", o.hidden_layers, 1, 16);
  r.integer("z_dim", o.z_dim, 1, 4096);
  r.str("trunk", o.trunk);
  DVAE_CHECK_USAGE(o.trunk == "mlp" || o.trunk == "cnn", r.name("trunk"), ": '", o.trunk,
                   "', expected mlp or cnn");
  r.real("active_threshold", o.active_threshold, 0.0, 1e6);
}

ClassifierSpec parse_classifier(const toml::table& t, const std::string& where, size_t i) {
  Reader r(t, where, "classifiers[" + std::to_string(i) + "].");
  ClassifierSpec c;
  DVAE_CHECK_USAGE(t.contains("name"), r.name("name"), ": missing, expected the classifier's name");
  r.str("name", c.name);
  r.str("kind", c.kind);
  try {
    find_classifier_kind(c.kind);
  } catch (const Error& e) {
    throw UsageError(r.name("kind") + ": " + e.what());
  }
  const bool probe = find_classifier_kind(c.kind).uses_encoder;
  if (probe) {
    r.strings("encoders", c.encoders);
  } else {
    DVAE_CHECK_USAGE(!t.contains("encoders"), r.name("encoders"), ": only classifiers on an encoder take it");
  }
  if (find_classifier_kind(c.kind).semi_supervised) {
    parse_semi_supervised(r, t, c.semi);
    r.finish();
    return c;
  }
  int64_t epochs = 100, hidden = 0, batch = 100;
  double lr = probe ? c.probe.lr : c.supervised.lr;
  r.integer("epochs", epochs, 1, 100000);
  r.real("lr", lr, 0.0, 10.0, true);
  r.integer("hidden", hidden, 0, 65536);
  r.integer("batch_size", batch, 1, 1000000);
  if (probe) {
    r.boolean("with_logvar", c.with_logvar);
  } else {
    DVAE_CHECK_USAGE(!t.contains("with_logvar"), r.name("with_logvar"), ": only probe classifiers take it");
  }
  r.finish();
  c.probe.epochs = c.supervised.epochs = epochs;
  c.probe.hidden = c.supervised.hidden = hidden;
  c.probe.batch_size = c.supervised.batch_size = batch;
  (probe ? c.probe.lr : c.supervised.lr) = lr;
  return c;
}

ClaimSpec parse_claim(const toml::table& t, const std::string& where, size_t i) {
  Reader r(t, where, "claims[" + std::to_string(i) + "].");
  ClaimSpec c;
  DVAE_CHECK_USAGE(t.contains("kind"), r.name("kind"), ": missing, expected one of ", claim_kind_names());
  r.str("kind", c.kind);
  r.str("statement", c.statement);
  r.strings("a", c.a);
  r.strings("b", c.b);
  r.strings("models", c.models, false);
  r.sizes("sizes", c.sizes);
  r.strings("archs", c.archs);
  r.strings("datasets", c.datasets);
  r.str("metric", c.metric);
  r.real("margin", c.margin, 0.0, 1e9, true);
  r.real("min_fraction", c.min_fraction, 0.0, 1.0);
  r.real("max_fraction", c.max_fraction, 0.0, 1.0);
  r.finish();
  return c;
}

// Applies the keys of root over spec (the preset, if any, is already in spec).
void apply_keys(StudySpec& spec, const toml::table& root, const std::string& where) {
  Reader r(root, where, "");
  r.get("preset");  // applied by the caller
  r.str("title", spec.title);
  r.boolean("indicative", spec.indicative);
  r.strings("datasets", spec.datasets);
  r.strings("archs", spec.archs);
  int64_t seed = static_cast<int64_t>(spec.seed);
  r.integer("seed", seed, 0, INT64_MAX);
  spec.seed = static_cast<uint64_t>(seed);
  r.integer("vae_seeds", spec.vae_seeds, 1, 1000);
  r.sizes("sizes", spec.sizes);
  r.integer("trials_small", spec.trials_small, 1, 1000);
  r.integer("trials_large", spec.trials_large, 1, 1000);
  r.integer("validation_per_class", spec.validation_per_class, 0, 100000);
  if (r.get("disentanglement")) {
    std::vector<std::string> names;
    r.strings("disentanglement", names);
    if (names.size() == 1 && names[0] == "all") {
      names.clear();
      for (const auto& m : metric_registry()) names.push_back(m.name);
    }
    spec.disentanglement = names;
  }
  r.integer("disentanglement_points", spec.disentanglement_points, 10, 1000000);
  r.integer("vae_nproc", spec.vae_nproc, 1, 64);
  if (r.get("models")) {
    spec.models.clear();
    const auto tables = tables_of(root, "models", where);
    for (size_t i = 0; i < tables.size(); ++i) spec.models.push_back(parse_model(*tables[i], where, i));
  }
  if (r.get("classifiers")) {
    spec.classifiers.clear();
    const auto tables = tables_of(root, "classifiers", where);
    for (size_t i = 0; i < tables.size(); ++i) spec.classifiers.push_back(parse_classifier(*tables[i], where, i));
  }
  if (r.get("claims")) {
    spec.claims.clear();
    const auto tables = tables_of(root, "claims", where);
    for (size_t i = 0; i < tables.size(); ++i) spec.claims.push_back(parse_claim(*tables[i], where, i));
  }
  r.finish();
}

// Line number (1-based) of text, without its end of line; "" past the end.
std::string line_of(const std::string& text, size_t number) {
  size_t start = 0;
  for (size_t i = 1; i < number && start != std::string::npos; ++i) {
    start = text.find('\n', start);
    if (start != std::string::npos) ++start;
  }
  if (start == std::string::npos || start >= text.size()) return "";
  std::string line = text.substr(start, text.find('\n', start) - start);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line.size() > 80 ? line.substr(0, 77) + "..." : line;
}

toml::table parse_toml(const std::string& text, const std::string& where) {
  try {
    return toml::parse(text, where);
  } catch (const toml::parse_error& e) {
    // The line names the key, which toml++'s description (about the value) may not.
    const size_t line = e.source().begin.line;
    const std::string shown = one_line(line_of(text, line));
    throw UsageError(where + ": TOML syntax error at line " + std::to_string(line) +
                     (shown.empty() ? "" : " (" + shown + ")") + ": " + one_line(e.description()) +
                     "; expected valid TOML");
  }
}

}  // namespace

StudySpec parse_study(const std::string& text, const std::string& where, const StudySpec* base) {
  const toml::table root = parse_toml(text, where);
  StudySpec spec;
  spec.classifiers = paper_classifiers();
  if (base) spec = *base;
  // The preset first, whatever the key order (toml++ visits keys alphabetically).
  if (const auto* p = root.get("preset")) {
    DVAE_CHECK_USAGE(p->is_string(), where, ": key 'preset': expected a string (paper, quick or semi-supervised)");
    try {
      spec = preset_study(*p->value<std::string>());
    } catch (const UsageError& e) {
      throw UsageError(where + ": key 'preset': " + e.what());
    }
  }
  apply_keys(spec, root, where);
  validate_study(spec, where);
  return spec;
}

StudySpec load_study(const std::string& path, const StudySpec* base) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  return parse_study(text, path, base);
}

void validate_study(const StudySpec& s, const std::string& where) {
  DVAE_CHECK_USAGE(!s.datasets.empty(), where, ": key 'datasets': empty, expected at least one data set");
  DVAE_CHECK_USAGE(!s.archs.empty(), where, ": key 'archs': empty, expected at least one of mlp, cnn");
  std::set<std::string> archs;
  for (const auto& a : s.archs) {
    bool known = false;
    for (const auto& n : registered_archs()) known = known || n == a;
    DVAE_CHECK_USAGE(known, where, ": key 'archs': '", a, "', expected registered architectures (mlp, cnn)");
    DVAE_CHECK_USAGE(archs.insert(a).second, where, ": key 'archs': '", a, "' given twice");
  }
  DVAE_CHECK_USAGE(!s.sizes.empty(), where, ": key 'sizes': empty, expected at least one size");
  DVAE_CHECK_USAGE(!s.models.empty() || !s.classifiers.empty(), where,
                   ": no models and no classifiers, expected at least one [[models]] or [[classifiers]]");
  std::set<std::string> names;
  for (size_t i = 0; i < s.models.size(); ++i) {
    const auto& m = s.models[i];
    DVAE_CHECK_USAGE(!m.name.empty() && names.insert(m.name).second, where, ": key 'models[", i, "].name': '",
                     m.name, "', expected a unique non-empty name");
    if (!is_objective(m.objective)) {
      throw UsageError(where + ": key 'models[" + std::to_string(i) + "].objective': '" + m.objective +
                       "', expected one of " + objective_names_text());
    }
    DVAE_CHECK_USAGE(s.vae_nproc == 1 || find_objective(m.objective).data_parallel, where, ": key 'vae_nproc': ",
                     s.vae_nproc, " with models[", i, "].objective '", m.objective,
                     "', expected vae_nproc = 1 or only objectives that train data-parallel (",
                     data_parallel_objectives_text(), ")");
  }
  std::set<std::string> metrics;
  for (const auto& m : s.disentanglement) {
    bool known = false;
    for (const auto& d : metric_registry()) known = known || d.name == m;
    DVAE_CHECK_USAGE(known, where, ": key 'disentanglement': '", m, "', expected \"all\" or some of ",
                     metric_names_text());
    DVAE_CHECK_USAGE(metrics.insert(m).second, where, ": key 'disentanglement': '", m, "' given twice");
  }
  bool probe = false;
  for (size_t i = 0; i < s.classifiers.size(); ++i) {
    const auto& c = s.classifiers[i];
    DVAE_CHECK_USAGE(!c.name.empty() && names.insert(c.name).second, where, ": key 'classifiers[", i,
                     "].name': '", c.name, "', expected a name unique among models and classifiers");
    probe = probe || find_classifier_kind(c.kind).uses_encoder;
    for (const auto& e : c.encoders) {
      const bool known = std::any_of(s.models.begin(), s.models.end(), [&](const ModelSpec& m) { return m.name == e; });
      DVAE_CHECK_USAGE(known, where, ": key 'classifiers[", i, "].encoders': '", e, "', expected a model's name");
    }
  }
  DVAE_CHECK_USAGE(s.models.empty() || probe, where,
                   ": models but no probe classifier, expected a [[classifiers]] of kind \"probe\"");
  // Series names (what claims refer to): each model, each model / probe when several probes, each supervised.
  const ProtocolOptions protocol = study_protocol(s);
  std::set<std::string> series;
  for (const auto& c : s.classifiers) {
    if (!find_classifier_kind(c.kind).uses_encoder) {
      series.insert(c.name);
      continue;
    }
    for (const auto& m : s.models)
      if (classifier_uses(c, m.name)) series.insert(series_name(m.name, c, protocol));
  }
  for (size_t i = 0; i < s.claims.size(); ++i) {
    validate_claim(s.claims[i], series, where + ": claims[" + std::to_string(i) + "]");
  }
}

ObjectiveSettings model_objective_settings(const ModelSpec& m) {
  ObjectiveSettings s = default_objective_settings(m.objective);
  for (const auto& [p, v] : m.parameters.items()) set_objective_parameter(s, p, v, "model " + m.name);
  return s;
}

ProtocolOptions study_protocol(const StudySpec& s) {
  ProtocolOptions p;
  p.sizes = s.sizes;
  p.trials_small = s.trials_small;
  p.trials_large = s.trials_large;
  p.classifiers = s.classifiers;
  p.seed = s.seed;
  p.validation_per_class = s.validation_per_class;
  return p;
}

namespace {

template <typename T>
nlohmann::json per_arch_json(const PerArch<T>& v, const std::vector<std::string>& archs) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& a : archs) j[a] = v.at(a);
  return j;
}

}  // namespace

nlohmann::json study_to_json(const StudySpec& s) {
  nlohmann::json models = nlohmann::json::array(), classifiers = nlohmann::json::array(),
                 claims = nlohmann::json::array();
  for (const auto& m : s.models) {
    models.push_back({{"name", m.name},
                      {"objective", m.objective},
                      {"beta", per_arch_json(m.beta, s.archs)},
                      {"latent_dim", m.latent_dim},
                      {"epochs", per_arch_json(m.epochs, s.archs)},
                      {"train_images", per_arch_json(m.train_images, s.archs)}});
    // The resolved parameters of objectives other than beta-vae (whose JSON is as before they existed).
    nlohmann::json resolved = objective_settings_to_json(model_objective_settings(m));
    resolved.erase("objective");
    if (!resolved.empty()) models.back()["parameters"] = resolved;
  }
  for (const auto& c : s.classifiers) {
    const bool probe = find_classifier_kind(c.kind).uses_encoder;
    if (find_classifier_kind(c.kind).semi_supervised) {
      nlohmann::json j = semi_supervised_to_json(c.semi);
      j["name"] = c.name;
      j["kind"] = c.kind;
      j["epochs"] = c.semi.train.epochs;
      j["encoders"] = c.encoders;
      classifiers.push_back(j);
      continue;
    }
    classifiers.push_back({{"name", c.name},
                           {"kind", c.kind},
                           {"epochs", probe ? c.probe.epochs : c.supervised.epochs},
                           {"lr", probe ? c.probe.lr : c.supervised.lr},
                           {"hidden", probe ? c.probe.hidden : c.supervised.hidden},
                           {"batch_size", probe ? c.probe.batch_size : c.supervised.batch_size},
                           {"with_logvar", probe && c.with_logvar},
                           {"encoders", c.encoders}});
  }
  for (const auto& c : s.claims) {
    claims.push_back({{"kind", c.kind}, {"statement", c.statement}, {"a", c.a}, {"b", c.b}, {"models", c.models},
                      {"sizes", c.sizes}, {"archs", c.archs}, {"datasets", c.datasets}, {"metric", c.metric},
                      {"margin", c.margin}, {"min_fraction", c.min_fraction}, {"max_fraction", c.max_fraction}});
  }
  return {{"title", s.title},
          {"preset", s.preset},
          {"indicative", s.indicative},
          {"datasets", s.datasets},
          {"archs", s.archs},
          {"seed", s.seed},
          {"vae_seeds", s.vae_seeds},
          {"sizes", s.sizes},
          {"trials_small", s.trials_small},
          {"trials_large", s.trials_large},
          {"validation_per_class", s.validation_per_class},
          {"models", models},
          {"classifiers", classifiers},
          {"claims", claims},
          {"disentanglement", s.disentanglement},
          {"disentanglement_points", s.disentanglement_points}};
}

namespace {

// The objectives and their parameters, for `dvae study keys`: a study sweeps
// objectives x their weight with one [[models]] table per point.
std::string objective_keys_help() {
  std::ostringstream o;
  o << "  objectives (each a [[models]] table; sweep one with several tables):\n";
  for (const auto& obj : objectives()) {
    o << "    " << obj.name << ": " << obj.description << "; " << obj.reference << "\n      parameters:";
    const ObjectiveSettings d = default_objective_settings(obj.name);
    for (const auto& p : obj.parameters) {
      o << " " << p;
      if (p != "beta") o << " = " << objective_parameter(d, p).dump();
    }
    o << "\n";
  }
  for (const auto& p : objective_parameter_names())
    o << "  " << p << std::string(p.size() < 29 ? 29 - p.size() : 1, ' ')
      << parameter_range_text(objective_parameter_range(p)) << "\n";
  return o.str();
}

}  // namespace

std::string study_keys_help() {
  std::ostringstream o;
  o << "Study file keys (TOML). Top level:\n"
    << "  preset = \"paper\"|\"quick\"|...  start from a preset ("+preset_names_text()+"); every other key overrides it (any order)\n"
    << "  title = \"dvae study\"         report heading\n"
    << "  datasets = [\"mnist\"]         data set names (mnist, fashion-mnist, kmnist) or IDX folders\n"
    << "  archs = [\"mlp\", \"cnn\"]       architectures; each compared only with itself\n"
    << "  seed = 1                     base seed of every unit (VAE inits, subsets, heads)\n"
    << "  vae_seeds = 1                independent trainings of each model (the unit of replication), 1..1000\n"
    << "  sizes = [1,3,5,10,100,1000,\"all\"]  labels per class; \"all\" = every non-validation image\n"
    << "  trials_small = 5             label trials for n < 1000 (1..1000)\n"
    << "  trials_large = 1             label trials for n >= 1000 and \"all\" (1..1000)\n"
    << "  validation_per_class = 100   held-out labelled images per class for epochs to convergence (0 = none)\n"
    << "  indicative = false           label every verdict indicative (the quick preset sets it)\n"
    << "  disentanglement = []         metrics scored for every trained VAE on its test split: \"all\" or some of\n"
    << "                               " << metric_names_text() << " (generator scores only on data sets with one)\n"
    << "  disentanglement_points = 1000  BetaVAE / FactorVAE training points (10..1000000; evaluation: half)\n"
    << "  vae_nproc = 1                data-parallel ranks per VAE unit on 127.0.0.1 (1..64; as train --nproc;\n"
    << "                               " << data_parallel_objectives_text() << " only; not in any hash)\n"
    << "[[models]] (representation models; the first is the reference of the comparison table):\n"
    << "  name = \"...\"                 required, unique; the label in every table and plot\n"
    << "  objective = \"beta-vae\"       one of: " << objective_names_text() << "\n"
    << "  beta = 1                     KL weight (beta-tcvae: TC weight), >= 0; a number or a table per\n"
    << "                               architecture {mlp = 4, cnn = 6}; only objectives that use it\n"
    << objective_keys_help()
    << "  latent_dim = 10              latent units, 1..4096\n"
    << "  epochs = {mlp = 50, cnn = 75}  VAE epochs, >= 1 (number or per-architecture table)\n"
    << "  train_images = 0             VAE training images (0 = all; number or per-architecture table)\n"
    << "[[classifiers]] (default: a linear \"probe\" and the \"supervised\" baseline):\n"
    << "  name = \"...\"                 required, unique among models and classifiers\n"
    << "  kind = \"probe\"               one of:";
  for (const auto& k : classifier_kinds()) o << " " << k.name << " (" << k.description << ");";
  o << "\n"
    << "  epochs = 100                 passes over the labelled subset, >= 1\n"
    << "  lr = 0.01 (probe) / 0.001 (supervised)   Adam learning rate, > 0\n"
    << "  hidden = 0                   hidden ReLU layer of the head (0 = linear softmax)\n"
    << "  batch_size = 100             minibatch (the effective batch is min(batch, subset))\n"
    << "  with_logvar = false          probe features [mu, logvar] instead of mu\n"
    << "  encoders = [\"standard\"]      probe and m1m2: only these models' encoders (default: every model)\n"
    << "  M2 kinds (m2, m1m2): epochs = 100 (passes over the unlabelled images), lr = 0.0003 (of epoch 1),\n"
    << "    lr_decay = 1 (lr multiplied by it after every epoch, in (0, 1]), beta = 1 (z-KL\n"
    << "    weight), alpha = 0.1 (classification weight alpha * N / N_labelled per labelled image), batch_size = 100\n"
    << "    (unlabelled per batch), labelled_batch = 100, hidden = 500, hidden_layers = 2, z_dim = 50,\n"
    << "    trunk = \"mlp\" | \"cnn\" (m2: the CNN encoder as q(y|x), q(z|x,y) trunk), eval_every = 1 (epochs\n"
    << "    between test-accuracy log lines), active_threshold = 0.1 (m1m2: code units kept)\n"
    << "[[claims]] (tested in the report; names refer to models, \"model / classifier\" with several probes,\n"
    << "            or supervised classifiers):\n"
    << "  kind = \"beats\"               one of: " << claim_kind_names() << "\n"
    << "  statement = \"...\"            the claim in words (generated when empty)\n"
    << "  a = \"x\", b = [\"y\", \"z\"]       beats: every a beats every b; matches: within margin\n"
    << "  models = [\"best\", ...]       order: each better than the next\n"
    << "  sizes, archs, datasets       cells covered (default: all of the study); gap: archs = [\"cnn\", \"mlp\"],\n"
    << "                               a - b larger on the first than on the second\n"
    << "  metric = \"accuracy\"          accuracy (higher is better) | train_loss | epochs_to_convergence (lower)\n"
    << "  margin = 0.02                matches: equivalence margin in metric units (> 0)\n"
    << "  min_fraction, max_fraction   collapse: range of the fraction of latents with KL < 0.01 nats\n"
    << "\n" << claim_rules_text();
  return o.str();
}

}  // namespace dvae
