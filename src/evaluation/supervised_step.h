// The supervised baseline's training step for the MLP encoder written out by
// hand: forward pass, softmax cross-entropy and backward pass as explicit
// matrix products into preallocated buffers, without autograd's graph. The
// same mathematics as SupervisedClassifierImpl::forward + cross_entropy +
// backward() (tests compare the loss and every gradient); the elementwise
// parts are the MLP VAE step's dispatched kernels (training/mlp_kernels.h).
// The encoder's logvar head is not part of the classifier's function: its
// parameters get no gradient (autograd leaves theirs untouched too). Not for
// the CNN encoder (it uses autograd). logits() is the same forward pass for
// inference (train_supervised's validation and test passes).
//
// Tensor legend: B batch, P = H*W pixels, K encoder hidden width, D latent
// units (the trunk's output, mu), J head hidden width, C classes. With
// nn::Linear's weight [out,in]: forward a = h W^T + b, backward dW = da^T h,
// db = sum_B da, dh = da W.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

#include "evaluation/supervised.h"

namespace dvae {

/// Hand-written training step of a SupervisedClassifier with the MLP encoder.
class SupervisedMlpStep {
 public:
  /// Binds to net's parameters (by name) and allocates buffers for up to
  /// max_batch images. model must be the options net was built from; throws
  /// dvae::Error when it is not an MLP or net's parameters are not the MLP
  /// classifier's.
  SupervisedMlpStep(SupervisedClassifierImpl& net, const ModelOptions& model, int64_t max_batch);
  /// One step on x [B,1,H,W] with labels y (int64 [B], in [0,C)): returns the
  /// mean cross-entropy and OVERWRITES .grad() of every parameter but the
  /// logvar head's with its gradient. B <= max_batch; every parameter needs a
  /// defined gradient tensor (as FlatOptimizer binds them).
  double run(const torch::Tensor& x, const torch::Tensor& y);
  /// The classifier's logits for x [N,1,H,W] (any N >= 1, max_batch rows at a
  /// time) into out (float [N,C], contiguous): SupervisedClassifierImpl::forward
  /// without autograd, through the products and kernels run() uses. Leaves
  /// the gradients alone.
  void logits(const torch::Tensor& x, const torch::Tensor& out);

 private:
  const torch::Tensor& param(const std::string& name) const;
  /// The forward pass of x [b,P] (b <= max_batch) into the buffers' first b
  /// rows; returns those rows of the logits [b,C].
  torch::Tensor forward(const torch::Tensor& x);

  std::map<std::string, torch::Tensor> params_;
  std::string activation_;
  bool head_hidden_ = false;  // the head has its J-wide ReLU layer
  int64_t max_batch_ = 0;
  // Preallocated [max_batch, ...] buffers; a step uses their first B rows.
  torch::Tensor a1_, h1_, a2_, h2_;  // encoder pre-/post-activations [B,K]
  torch::Tensor mu_, dmu_;           // trunk output and its gradient [B,D]
  torch::Tensor c_, g_, dg_;         // head hidden pre-/post-activation, gradient [B,J]
  torch::Tensor logits_, dlogits_;   // [B,C]
  torch::Tensor dk2_, dk1_;          // encoder hidden gradients [B,K]
};

}  // namespace dvae
