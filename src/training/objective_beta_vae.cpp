// beta-vae (Higgins et al. 2017, the paper's objective): reconstruction + beta *
// KL(q(z|x) || N(0, I)); beta = 1 is the ELBO of Kingma and Welling. The MLP
// on CPU trains it with the hand-written step of mlp_step.h (same loss).
#include "training/loss.h"
#include "training/objectives.h"

namespace dvae {
namespace {

class BetaVaeLoss : public ObjectiveLoss {
 public:
  explicit BetaVaeLoss(double beta) : beta_(beta) {}
  ObjectiveTerms loss(const ObjectiveBatch& b) override {
    const ElboTerms e = beta_elbo_loss(b.x_logits, b.x, b.mu, b.logvar, beta_);
    return {e.loss, e.recon, e.kl, {}};
  }

 private:
  double beta_;
};

}  // namespace

Objective beta_vae_objective() {
  return {"beta-vae",
          "reconstruction + beta * KL(q(z|x) || N(0, I)) (beta = 1: the standard VAE)",
          "Higgins et al. 2017, beta-VAE (ICLR)",
          {"beta"},
          /*hand_written_mlp_step=*/true,
          /*data_parallel=*/true,
          [](ObjectiveSettings&) {},
          [](const ObjectiveContext& c) -> std::unique_ptr<ObjectiveLoss> {
            return std::make_unique<BetaVaeLoss>(c.beta);
          }};
}

}  // namespace dvae
