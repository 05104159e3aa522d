// The objective registry (see objectives.h): one line per objective.
#include "training/objectives.h"

#include "core/check.h"

namespace dvae {

namespace {

// Higgins et al. 2017: reconstruction + beta * KL (beta = 1 is the ELBO of Kingma and Welling).
void configure_beta_vae(TrainOptions& train, double beta) { train.beta = beta; }

}  // namespace

const std::vector<Objective>& objectives() {
  static const std::vector<Objective> list = {
      {"beta-vae", "reconstruction + beta * KL(q(z|x) || N(0, I)) (beta = 1: the standard VAE)", configure_beta_vae},
  };
  return list;
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

const Objective& find_objective(const std::string& name) {
  for (const auto& o : objectives())
    if (o.name == name) return o;
  throw Error("objective '" + name + "', expected one of " + objective_names_text());
}

}  // namespace dvae
