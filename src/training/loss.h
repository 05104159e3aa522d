// The beta-ELBO objective of the paper (section 3.1, after Higgins et al. 2017):
// Bernoulli reconstruction negative log-likelihood plus beta times the analytic
// KL divergence of q(z|x) = N(mu, diag(exp(logvar))) from the prior N(0, I).
// Not for classifier losses (those live with the classifier trainer).
//
// The reduction of every objective (training/objectives.h): each term is
// summed over pixels (reconstruction) or latents (KL and its parts) per image,
// then averaged over the batch: nats per image. lr and beta keep their meaning
// whatever the batch size, and every logged term is comparable across
// objectives.
//
// Tensor legend: B batch, H=W pixels, D latent dimensions.
#pragma once

#include <torch/torch.h>

namespace dvae {

/// The terms of the beta-ELBO loss for one batch; all are batch means.
struct ElboTerms {
  torch::Tensor loss;           ///< [] recon + beta * kl (what is minimised)
  torch::Tensor recon;          ///< [] BCE summed over pixels, mean over the batch (nats)
  torch::Tensor kl;             ///< [] KL summed over latents, mean over the batch (nats)
  torch::Tensor kl_per_latent;  ///< [D] KL of each latent, mean over the batch (nats)
};

/// KL(N(mu, exp(logvar)) || N(0, 1)) per sample and latent:
/// 0.5 * (mu^2 + exp(logvar) - 1 - logvar). [B,D] -> [B,D].
torch::Tensor kl_to_standard_normal(const torch::Tensor& mu, const torch::Tensor& logvar);

/// Bernoulli negative log-likelihood of targets x in [0,1] under logits, summed
/// over pixels: [B,1,H,W] x [B,1,H,W] -> [B].
torch::Tensor bernoulli_nll(const torch::Tensor& x_logits, const torch::Tensor& x);

/// -ELBO with the KL weighted by beta (beta = 1: the standard VAE bound).
ElboTerms beta_elbo_loss(const torch::Tensor& x_logits, const torch::Tensor& x, const torch::Tensor& mu,
                         const torch::Tensor& logvar, double beta);

}  // namespace dvae
