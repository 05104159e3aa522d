// The M2 bounds (Kingma et al. 2014, equations 6-9; see m2_objective.h).
#include "training/m2_objective.h"

#include <cmath>

#include "core/check.h"
#include "training/loss.h"

namespace dvae {

namespace F = torch::nn::functional;

torch::Tensor m2_log_likelihood(const M2Likelihood& p, const torch::Tensor& x) {
  const auto target = x.expand_as(p.mean);  // [...,P]
  if (!p.logvar.defined()) {
    const int64_t units = p.mean.size(-1);
    return -bernoulli_nll(p.mean.reshape({-1, units}), target.reshape({-1, units}))
                .reshape(p.mean.sizes().slice(0, p.mean.dim() - 1));  // [...,P] -> [...]
  }
  // log N(x; m, exp(lv)) = -(log 2 pi + lv + (x - m)^2 exp(-lv)) / 2, summed over units
  const double log2pi = std::log(2.0 * M_PI);
  return (-0.5 * (log2pi + p.logvar + (target - p.mean).pow(2) * torch::exp(-p.logvar))).sum(-1);  // -> [...]
}

torch::Tensor m2_negative_bound(const torch::Tensor& log_px, const torch::Tensor& kl, int64_t num_classes,
                                double beta) {
  const double log_py = -std::log(static_cast<double>(num_classes));  // uniform p(y)
  return -(log_px + log_py - beta * kl);
}

torch::Tensor m2_unlabelled_loss(const torch::Tensor& y_logits, const torch::Tensor& neg_bound) {
  const auto log_q = F::log_softmax(y_logits, 1);   // [B,C]
  return (log_q.exp() * (neg_bound + log_q)).sum(1);  // [B,C] -> [B]
}

M2Weights m2_weights(double alpha, int64_t n_labelled, int64_t n_unlabelled) {
  DVAE_CHECK(n_labelled > 0 && n_unlabelled >= 0 && alpha >= 0, "M2: ", n_labelled, " labelled and ", n_unlabelled,
             " unlabelled images, alpha ", alpha, ", expected labelled > 0, unlabelled >= 0, alpha >= 0");
  const double n = static_cast<double>(n_labelled + n_unlabelled);
  return {static_cast<double>(n_labelled) / n, static_cast<double>(n_unlabelled) / n, alpha};
}

M2Terms m2_objective(M2Impl& m2, const M2Batch& batch, double beta, const M2Weights& w, at::Generator& generator) {
  const int64_t C = m2.options().num_classes;
  M2Terms t;
  const bool labelled = batch.x_l.defined() && batch.x_l.size(0) > 0;
  const bool unlabelled = batch.x_u.defined() && batch.x_u.size(0) > 0;
  DVAE_CHECK(labelled || unlabelled, "M2: empty batch, expected labelled or unlabelled rows");
  const auto zero = torch::zeros({}, labelled ? batch.x_l.options() : batch.x_u.options());
  t.labelled = t.unlabelled = t.cross_entropy = zero;
  if (labelled) {
    const int64_t B = batch.x_l.size(0);
    const auto x = batch.x_l.reshape({B, -1});                                   // [B,P]
    const auto y = F::one_hot(batch.y_l, C).to(x.dtype());                        // [B,C]
    const Posterior q = m2.encode(batch.x_l, y);                                  // -> [B,Z] x 2
    const auto eps = torch::randn(q.mu.sizes(), generator, torch::kFloat32).to(q.mu.device());
    const auto z = q.mu + torch::exp(0.5 * q.logvar) * eps;                       // [B,Z]
    const auto log_px = m2_log_likelihood(m2.decode(z, y), x);                    // [B]
    const auto kl = kl_to_standard_normal(q.mu, q.logvar).sum(1);                 // [B,Z] -> [B]
    t.labelled = m2_negative_bound(log_px, kl, C, beta).mean();
    t.cross_entropy = F::cross_entropy(m2.classify(batch.x_l), batch.y_l);
  }
  if (unlabelled) {
    const int64_t B = batch.x_u.size(0);
    const auto x = batch.x_u.reshape({B, -1});                                    // [B,P]
    const Posterior q = m2.encode_all(batch.x_u);                                 // -> [C,B,Z] x 2
    const auto eps = torch::randn(q.mu.sizes(), generator, torch::kFloat32).to(q.mu.device());
    const auto z = q.mu + torch::exp(0.5 * q.logvar) * eps;                       // [C,B,Z]
    const auto y = torch::eye(C, x.options()).unsqueeze(1);                       // [C,1,C]
    const auto log_px = m2_log_likelihood(m2.decode(z, y), x.unsqueeze(0));       // [C,B,P] -> [C,B]
    const auto kl = kl_to_standard_normal(q.mu, q.logvar).sum(2);                 // [C,B,Z] -> [C,B]
    const auto neg_bound = m2_negative_bound(log_px, kl, C, beta).t();           // [C,B] -> [B,C]
    t.unlabelled = m2_unlabelled_loss(m2.classify(batch.x_u), neg_bound).mean();
  }
  t.loss = w.labelled * t.labelled + w.unlabelled * t.unlabelled + w.classification * t.cross_entropy;
  return t;
}

}  // namespace dvae
