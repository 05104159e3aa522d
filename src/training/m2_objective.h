// The semi-supervised objective of Kingma et al. 2014 (M2, equations 6-9),
// with a beta on the z-KL term ("disentangled M2"):
//
//   -L(x,y) = -log p(x|y,z) - log p(y) + beta * KL(q(z|x,y) || N(0,I)),  z ~ q(z|x,y), p(y) = 1/C
//   -U(x)   = sum_y q(y|x) (-L(x,y)) - H(q(y|x))
//   J       = mean_l(-L(x_l,y_l)) + mean_u(-U(x_u)) + alpha_weight * mean_l(-log q(y_l|x_l))
//
// All three terms are per-example means in nats (reconstruction summed over
// input units), so a balanced batch gives labelled and unlabelled images the
// same scale. alpha_weight is the weight of one labelled example's
// classification loss relative to one example's bound; Kingma's code uses
// 0.1 * N / N_labelled (nips14-ssl learn_yz_x_ss.py: beta = alpha * n_tot / n_labeled
// with alpha = 0.1), see m2_alpha_weight().
//
// Not for: sampling batches or optimisation (training/m2_trainer.h).
//
// Tensor legend: B batch, C classes, P input units, Z latent units.
#pragma once

#include <torch/torch.h>

#include "models/m2.h"

namespace dvae {

/// log p(x|y,z) summed over input units: likelihood [...,P], target x broadcastable to it -> [...].
torch::Tensor m2_log_likelihood(const M2Likelihood& likelihood, const torch::Tensor& x);

/// -L(x,y) from its parts: -(log_px - log C - beta * kl); any shape, elementwise.
torch::Tensor m2_negative_bound(const torch::Tensor& log_px, const torch::Tensor& kl, int64_t num_classes,
                                double beta);

/// -U(x) = sum_y q(y|x) (neg_bound(x,y) + log q(y|x)): y_logits [B,C], neg_bound [B,C] -> [B].
torch::Tensor m2_unlabelled_loss(const torch::Tensor& y_logits, const torch::Tensor& neg_bound);

/// Kingma's per-labelled-example classification weight alpha * n_total / n_labelled.
double m2_alpha_weight(double alpha, int64_t n_total, int64_t n_labelled);

/// The terms of J on one batch (batch means, nats).
struct M2Terms {
  torch::Tensor loss;        ///< [] J
  torch::Tensor labelled;    ///< [] mean_l -L(x_l, y_l) (0 without labelled rows)
  torch::Tensor unlabelled;  ///< [] mean_u -U(x_u) (0 without unlabelled rows)
  torch::Tensor cross_entropy;  ///< [] mean_l -log q(y_l|x_l)
};

/// One labelled or unlabelled batch as the bound sees it.
struct M2Batch {
  torch::Tensor x_l;  ///< [B_l,...] labelled inputs (already binarised / sampled); may be empty
  torch::Tensor y_l;  ///< int64 [B_l]
  torch::Tensor x_u;  ///< [B_u,...] unlabelled inputs; may be undefined or empty
};

/// J on batch, with z drawn through generator; every class of every unlabelled
/// image is enumerated in one batched pass (encode_all and a [C,B] decode).
M2Terms m2_objective(M2Impl& m2, const M2Batch& batch, double beta, double alpha_weight, at::Generator& generator);

}  // namespace dvae
