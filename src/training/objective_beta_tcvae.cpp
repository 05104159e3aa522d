// beta-tcvae (Chen et al. 2018, "Isolating sources of disentanglement in
// VAEs", eq. 2 and section 3.1): the KL term split into
//   index-code MI  E[log q(z|x) - log q(z)]
//   total corr.    E[log q(z) - sum_d log q(z_d)]
//   dim-wise KL    E[sum_d log q(z_d) - log p(z)]
// weighted alpha = 1, beta, gamma = 1, with log q(z) and log q(z_d) by
// minibatch-weighted sampling over the batch's posteriors (N training images,
// batch B):
//   log q(z_i)   ~ logsumexp_j log q(z_i | x_j) - log(N B)
//   log q(z_id)  ~ logsumexp_j log q(z_id | x_j) - log(N B)
// The three terms add up to E[log q(z|x) - log p(z)] on every batch, a one-
// sample estimate of the KL: with beta = 1 the loss is the ELBO in expectation.
//
// Tensor legend: B batch, D latent dimensions; [i,j,d] = sample i under x_j's posterior.
#include <cmath>

#include "core/check.h"
#include "training/loss.h"
#include "training/objectives.h"

namespace dvae {
namespace {

// log N(z; mu, exp(logvar)) elementwise (broadcasting).
torch::Tensor log_normal(const torch::Tensor& z, const torch::Tensor& mu, const torch::Tensor& logvar) {
  return -0.5 * (std::log(2.0 * M_PI) + logvar + (z - mu).pow(2) * torch::exp(-logvar));
}

class BetaTcVaeLoss : public ObjectiveLoss {
 public:
  BetaTcVaeLoss(double beta, int64_t dataset_size) : beta_(beta), dataset_size_(dataset_size) {
    DVAE_CHECK(dataset_size >= 1, "beta-tcvae: training set of ", dataset_size, " images, expected >= 1");
  }
  ObjectiveTerms loss(const ObjectiveBatch& b) override {
    const ElboTerms e = beta_elbo_loss(b.x_logits, b.x, b.mu, b.logvar, 1.0);
    const int64_t batch = b.z.size(0);
    const double log_nb = std::log(static_cast<double>(dataset_size_) * static_cast<double>(batch));
    const auto pairs = log_normal(b.z.unsqueeze(1), b.mu.unsqueeze(0), b.logvar.unsqueeze(0));  // [B,B,D]
    const auto log_qz = torch::logsumexp(pairs.sum(2), 1) - log_nb;                             // [B,B] -> [B]
    const auto log_prod_qzd = (torch::logsumexp(pairs, 1) - log_nb).sum(1);                     // [B,B,D] -> [B]
    const auto log_qzx = log_normal(b.z, b.mu, b.logvar).sum(1);                                // [B,D] -> [B]
    const auto log_pz = log_normal(b.z, torch::zeros_like(b.z), torch::zeros_like(b.z)).sum(1);  // [B]
    const auto mi = (log_qzx - log_qz).mean();
    const auto tc = (log_qz - log_prod_qzd).mean();
    const auto dwkl = (log_prod_qzd - log_pz).mean();
    ObjectiveTerms t{e.recon + mi + beta_ * tc + dwkl, e.recon, e.kl, {}};
    t.extra["mi"] = mi;
    t.extra["tc"] = tc;
    t.extra["dwkl"] = dwkl;
    return t;
  }

 private:
  double beta_;
  int64_t dataset_size_;
};

}  // namespace

Objective beta_tcvae_objective() {
  return {"beta-tcvae",
          "reconstruction + MI + beta * TC + dimension-wise KL (minibatch-weighted sampling of log q(z))",
          "Chen et al. 2018, Isolating sources of disentanglement in VAEs (NeurIPS)",
          {"beta"},
          /*hand_written_mlp_step=*/false,
          /*data_parallel=*/false,
          [](ObjectiveSettings&) {},
          [](const ObjectiveContext& c) -> std::unique_ptr<ObjectiveLoss> {
            return std::make_unique<BetaTcVaeLoss>(c.beta, c.dataset_size);
          }};
}

}  // namespace dvae
