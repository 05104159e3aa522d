// The objective registry (see objectives.h): one line per objective, and the
// settings' names, ranges and JSON form shared by the CLI, the study spec and
// the trainer.
#include "training/objectives.h"

#include <cmath>
#include <sstream>

#include "core/check.h"

namespace dvae {

// Each defined in its own file, objective_<name>.cpp.
Objective beta_vae_objective();
Objective annealed_vae_objective();
Objective beta_tcvae_objective();
Objective factor_vae_objective();

const std::vector<Objective>& objectives() {
  static const std::vector<Objective> list = {
      beta_vae_objective(),
      annealed_vae_objective(),
      beta_tcvae_objective(),
      factor_vae_objective(),
  };
  return list;
}

bool Objective::uses(const std::string& parameter) const {
  for (const auto& p : parameters)
    if (p == parameter) return true;
  return false;
}

bool is_objective(const std::string& name) {
  for (const auto& o : objectives())
    if (o.name == name) return true;
  return false;
}

std::string objective_names_text() {
  std::string s;
  for (const auto& o : objectives()) s += (s.empty() ? "" : ", ") + o.name;
  return s;
}

std::string objective_weights_text(const ObjectiveSettings& settings, double beta) {
  const Objective& o = find_objective(settings.name);
  std::string s;
  const auto add = [&](const char* name, double value) {
    if (!o.uses(name)) return;
    std::ostringstream v;
    v << value;
    s += (s.empty() ? "" : ", ") + std::string(name) + " " + v.str();
  };
  add("beta", beta);
  add("gamma", settings.gamma);
  add("c_max", settings.c_max);
  return s.empty() ? o.name : s;
}

std::string data_parallel_objectives_text() {
  std::string s;
  for (const auto& o : objectives())
    if (o.data_parallel) s += (s.empty() ? "" : ", ") + o.name;
  return s;
}

const Objective& find_objective(const std::string& name) {
  for (const auto& o : objectives())
    if (o.name == name) return o;
  throw Error("objective '" + name + "', expected one of " + objective_names_text());
}

ObjectiveSettings default_objective_settings(const std::string& name) {
  const Objective& o = find_objective(name);
  ObjectiveSettings s;
  s.name = name;
  o.defaults(s);
  return s;
}

const std::vector<std::string>& objective_parameter_names() {
  static const std::vector<std::string> names = {"gamma",       "c_min",       "c_max",  "capacity_iterations",
                                                 "disc_hidden", "disc_layers", "disc_lr"};
  return names;
}

namespace {

// The field of settings a parameter names (doubles and integers apart).
template <typename S>  // ObjectiveSettings, const or not
auto real_field(S& s, const std::string& p) -> decltype(&s.gamma) {
  if (p == "gamma") return &s.gamma;
  if (p == "c_min") return &s.c_min;
  if (p == "c_max") return &s.c_max;
  if (p == "disc_lr") return &s.disc_lr;
  return nullptr;
}

template <typename S>
auto int_field(S& s, const std::string& p) -> decltype(&s.disc_hidden) {
  if (p == "capacity_iterations") return &s.capacity_iterations;
  if (p == "disc_hidden") return &s.disc_hidden;
  if (p == "disc_layers") return &s.disc_layers;
  return nullptr;
}

std::string number_text(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

}  // namespace

ParameterRange objective_parameter_range(const std::string& p) {
  if (p == "gamma") return {0, 1e6, false, false};
  if (p == "c_min" || p == "c_max") return {0, 1e4, false, false};
  if (p == "capacity_iterations") return {1, 1e9, false, true};
  if (p == "disc_hidden") return {1, 65536, false, true};
  if (p == "disc_layers") return {1, 64, false, true};
  if (p == "disc_lr") return {0, 10, true, false};
  throw Error("objective parameter '" + p + "', expected one of gamma, c_min, c_max, capacity_iterations, " +
              "disc_hidden, disc_layers, disc_lr");
}

std::string parameter_range_text(const ParameterRange& r) {
  return std::string(r.integer ? "an integer in " : "a finite number in ") + (r.open_lo ? "(" : "[") +
         number_text(r.lo) + ", " + number_text(r.hi) + "]";
}

nlohmann::json objective_parameter(const ObjectiveSettings& settings, const std::string& p) {
  if (const double* d = real_field(settings, p)) return *d;
  if (const int64_t* i = int_field(settings, p)) return *i;
  (void)objective_parameter_range(p);  // throws naming the parameter
  return nullptr;
}

void set_objective_parameter(ObjectiveSettings& s, const std::string& p, const nlohmann::json& value,
                             const std::string& where) {
  const ParameterRange r = objective_parameter_range(p);
  const std::string expected = parameter_range_text(r);
  DVAE_CHECK(value.is_number() && (!r.integer || value.is_number_integer()), where, ": ", p, " = ", value.dump(),
             ", expected ", expected);
  const double v = value.get<double>();
  DVAE_CHECK(std::isfinite(v) && (r.open_lo ? v > r.lo : v >= r.lo) && v <= r.hi, where, ": ", p, " = ",
             value.dump(), ", expected ", expected);
  if (double* d = real_field(s, p)) *d = v;
  if (int64_t* i = int_field(s, p)) *i = value.get<int64_t>();
}

void check_objective_settings(const ObjectiveSettings& s) {
  const Objective& o = find_objective(s.name);
  for (const auto& p : objective_parameter_names()) {
    if (!o.uses(p)) continue;
    ObjectiveSettings copy = s;
    set_objective_parameter(copy, p, objective_parameter(s, p), "objective " + s.name);
  }
  if (o.uses("c_max")) {
    DVAE_CHECK(s.c_min <= s.c_max, "objective ", s.name, ": c_min = ", s.c_min, " above c_max = ", s.c_max,
               ", expected c_min <= c_max");
  }
}

nlohmann::json objective_settings_to_json(const ObjectiveSettings& s) {
  nlohmann::json j = nlohmann::json::object();
  if (s.name == "beta-vae") return j;
  const Objective& o = find_objective(s.name);
  j["objective"] = s.name;
  for (const auto& p : objective_parameter_names())
    if (o.uses(p)) j[p] = objective_parameter(s, p);
  return j;
}

}  // namespace dvae
