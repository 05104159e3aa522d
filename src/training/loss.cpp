// The beta-ELBO (Higgins et al. 2017, the paper's equation in section 3.1).
#include "training/loss.h"

namespace dvae {

torch::Tensor kl_to_standard_normal(const torch::Tensor& mu, const torch::Tensor& logvar) {
  return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar);  // [B,D]
}

torch::Tensor bernoulli_nll(const torch::Tensor& x_logits, const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  const auto nll = F::binary_cross_entropy_with_logits(
      x_logits, x, F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone));  // [B,1,H,W]
  return nll.flatten(1).sum(1);  // [B,1,H,W] -> [B]
}

ElboTerms beta_elbo_loss(const torch::Tensor& x_logits, const torch::Tensor& x, const torch::Tensor& mu,
                         const torch::Tensor& logvar, double beta) {
  namespace F = torch::nn::functional;
  const double batch = static_cast<double>(x.size(0));
  ElboTerms t;
  // Sum over every pixel of the batch, then one division: same value as
  // bernoulli_nll(...).mean() without the [B,1,H,W] intermediate being kept twice.
  t.recon = F::binary_cross_entropy_with_logits(
                x_logits, x, F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kSum)) /
            batch;                                                   // []
  t.kl_per_latent = kl_to_standard_normal(mu, logvar).mean(0);  // [B,D] -> [D]
  t.kl = t.kl_per_latent.sum();                                 // [D] -> []
  t.loss = t.recon + beta * t.kl;                               // []
  return t;
}

}  // namespace dvae
