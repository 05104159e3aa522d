// The MLP VAE's training step written out by hand: forward pass, beta-ELBO and
// backward pass as explicit matrix products into preallocated buffers, without
// autograd's graph. The same mathematics as VaeImpl::forward + beta_elbo_loss +
// backward() (tests compare every gradient), about twice as fast on CPU at the
// paper's batch of 100. The elementwise work around the products (bias +
// softplus, softplus's derivative, the BCE with its gradient) runs as the
// fused, dispatched passes of training/mlp_kernels.h. Not for other
// architectures (they use autograd).
//
// Tensor legend: B batch, P = H*W pixels, K hidden width, D latent dimensions.
// With nn::Linear's weight [out,in]: forward a = h W^T + b, backward
// dW = da^T h, db = sum_B da, dh = da W.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>

#include "models/vae.h"

namespace dvae {

/// Batch means of the loss terms of one step (nats).
struct StepTerms {
  double recon = 0;  ///< BCE summed over pixels, mean over the batch
  double kl = 0;     ///< KL summed over latents, mean over the batch
  double loss = 0;   ///< recon + beta * kl
};

/// Which rows of a global batch a step computes (data-parallel training):
/// rows [offset, offset + B) of a batch of total rows. One process: {0, B}.
struct RowSlice {
  int64_t offset = 0;  ///< first row of x within the global batch
  int64_t total = 0;   ///< rows of the global batch (0: x's own rows)
};

/// Called with a parameter's gradient as soon as the step has written it in
/// full (from the output layer backwards), e.g. to start its all-reduce.
using GradReady = std::function<void(const torch::Tensor& grad)>;

/// Hand-written training step of an MLP VAE (architecture "mlp").
class MlpTrainingStep {
 public:
  /// Binds to vae's parameters (by name) and allocates buffers for up to
  /// max_batch images on vae's device. Throws dvae::Error when vae is not an
  /// MLP VAE.
  MlpTrainingStep(VaeImpl& vae, int64_t max_batch);
  /// One step on x [B,1,H,W] in [0,1] (also the reconstruction target):
  /// samples eps ~ N(0, I) [B,D] from generator (the draws torch::randn would
  /// make from it), and OVERWRITES every parameter's .grad() with the gradient
  /// of recon + beta * kl. B <= max_batch.
  StepTerms run(const torch::Tensor& x, double beta, at::Generator generator);
  /// The step on rows slice of a global batch: draws eps for all slice.total
  /// rows (so that every rank's generator stays in step) and uses its rows
  /// [offset, offset + B); terms and gradients are this slice's share of the
  /// global batch means (sums / slice.total), so summing them over the slices
  /// gives the whole batch's. slice.total <= max_batch. ready (if set) is
  /// called with each gradient once it is final, output layer first.
  StepTerms run(const torch::Tensor& x, double beta, at::Generator generator, RowSlice slice,
                const GradReady& ready = {});

 private:
  torch::Tensor param(const std::string& name) const;
  void activation(torch::Tensor& out, torch::Tensor& pre, const torch::Tensor& bias) const;
  void activation_backward(torch::Tensor& grad, const torch::Tensor& pre, const torch::Tensor& post) const;

  std::map<std::string, torch::Tensor> params_;
  std::string activation_;
  int64_t max_batch_ = 0;
  // Preallocated [max_batch, ...] buffers; a step uses their first B rows.
  torch::Tensor a1_, h1_, a2_, h2_;    // encoder pre-/post-activations [B,K]
  torch::Tensor mu_, logvar_;          // [B,D]
  torch::Tensor eps_, std_, z_;        // [B,D]
  torch::Tensor c1_, g1_, c2_, g2_;    // decoder pre-/post-activations [B,K]
  torch::Tensor logits_, dlogits_;     // [B,P]
  torch::Tensor dk1_, dk2_;            // hidden gradients [B,K]
  torch::Tensor dz_, dmu_, dlogvar_;   // [B,D]
};

}  // namespace dvae
