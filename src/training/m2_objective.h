// The semi-supervised objective of Kingma et al. 2014 (M2, equations 6-9),
// with a beta on the z-KL term ("disentangled M2"):
//
//   -L(x,y) = -log p(x|y,z) - log p(y) + beta * KL(q(z|x,y) || N(0,I)),  z ~ q(z|x,y), p(y) = 1/C
//   -U(x)   = sum_y q(y|x) (-L(x,y)) - H(q(y|x))
//   J^alpha = sum_l -L(x_l,y_l) + sum_u -U(x_u) + alpha N mean_l(-log q(y_l|x_l))   (equation 9, alpha N = 0.1 N)
//
// over the data set of N = N_l + N_u images. A batch estimates J^alpha / N,
// the per-image objective:
//
//   J = (N_l/N) mean_batch_l(-L) + (N_u/N) mean_batch_u(-U) + alpha mean_batch_l(-log q(y|x))
//
// (m2_weights()), so the classification term weighs alpha = 0.1 against one
// image's bound whatever the batch composition. This is what nips14-ssl
// computes (learn_yz_x_ss.py: alpha * n_tot / n_labeled on the *sum* over a
// minibatch's labelled rows, the whole divided by n_tot / n_minibatches); with
// balanced batches that oversample the labelled set, weighting the batch *mean*
// of the cross-entropy by alpha * N / N_l instead would weigh it N / N_l times
// too much (590x at 100 labels), and q(y|x) then only fits the labels.
// Every term is in nats (reconstruction summed over input units).
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

/// The weights of J's three batch means (see the header comment).
struct M2Weights {
  double labelled = 1;        ///< of mean_l -L(x_l, y_l): N_l / N
  double unlabelled = 1;      ///< of mean_u -U(x_u): N_u / N
  double classification = 0;  ///< of mean_l -log q(y_l|x_l): alpha
};

/// Kingma's J^alpha / N as batch-mean weights: {N_l/N, N_u/N, alpha}; throws
/// dvae::Error unless n_labelled > 0, n_unlabelled >= 0 and alpha >= 0.
M2Weights m2_weights(double alpha, int64_t n_labelled, int64_t n_unlabelled);

/// The terms of J on one batch (batch means, nats).
struct M2Terms {
  torch::Tensor loss;        ///< [] J (the weighted sum)
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
M2Terms m2_objective(M2Impl& m2, const M2Batch& batch, double beta, const M2Weights& weights,
                     at::Generator& generator);

}  // namespace dvae
