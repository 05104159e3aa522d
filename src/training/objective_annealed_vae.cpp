// annealed-vae (Burgess et al. 2018, "Understanding disentangling in
// beta-VAE", eq. 8): reconstruction + gamma * |KL(q(z|x) || N(0, I)) - C|, with
// the capacity C raised linearly from c_min to c_max over capacity_iterations
// optimisation steps and held at c_max afterwards. With C = 0 it is the
// beta-VAE with beta = gamma (KL >= 0).
#include <algorithm>

#include "training/loss.h"
#include "training/objectives.h"

namespace dvae {
namespace {

class AnnealedVaeLoss : public ObjectiveLoss {
 public:
  explicit AnnealedVaeLoss(const ObjectiveSettings& s) : s_(s) {}
  ObjectiveTerms loss(const ObjectiveBatch& b) override {
    const ElboTerms e = beta_elbo_loss(b.x_logits, b.x, b.mu, b.logvar, 1.0);
    const double progress =
        std::min(1.0, static_cast<double>(b.step) / static_cast<double>(s_.capacity_iterations));
    const double capacity = s_.c_min + (s_.c_max - s_.c_min) * progress;  // nats
    ObjectiveTerms t{e.recon + s_.gamma * (e.kl - capacity).abs(), e.recon, e.kl, {}};
    t.extra["capacity"] = torch::tensor(capacity, torch::kFloat64);
    return t;
  }

 private:
  ObjectiveSettings s_;
};

}  // namespace

Objective annealed_vae_objective() {
  return {"annealed-vae",
          "reconstruction + gamma * |KL - C|, C raised linearly from c_min to c_max over capacity_iterations steps",
          "Burgess et al. 2018, Understanding disentangling in beta-VAE (arXiv:1804.03599)",
          {"gamma", "c_min", "c_max", "capacity_iterations"},
          /*hand_written_mlp_step=*/false,
          /*data_parallel=*/false,
          [](ObjectiveSettings& s) {
            s.gamma = 1000;  // the paper's dSprites settings
            s.c_min = 0;
            s.c_max = 25;
            s.capacity_iterations = 100000;
          },
          [](const ObjectiveContext& c) -> std::unique_ptr<ObjectiveLoss> {
            return std::make_unique<AnnealedVaeLoss>(c.settings);
          }};
}

}  // namespace dvae
