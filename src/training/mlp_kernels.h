// The fused elementwise kernels of the hand-written MLP steps (the VAE's,
// training/mlp_step.h, and the supervised baseline's,
// evaluation/supervised_step.h): bias + activation, the activation's
// derivative, BCE with logits and its gradient, bias gradients. Softplus runs
// as fused passes in the AVX-512, AVX2 or portable variant kernel_path()
// names (core/cpu_dispatch.h), split over LibTorch's intra-op threads; relu
// and tanh go through LibTorch's kernels. Not for the matrix products (the
// callers run them through core/gemm.h's gemm_out).
//
// Tensor legend: B batch, N row width (K hidden units or P pixels). Every
// tensor is a contiguous row-major float32 CPU tensor.
#pragma once

#include <torch/torch.h>

#include <string>

namespace dvae {

/// pre [B,N] += bias [N]; post [B,N] = softplus(pre) (torch::softplus: beta 1, linear above 20).
void bias_softplus(torch::Tensor& pre, const torch::Tensor& bias, torch::Tensor& post);

/// grad [B,N] *= softplus'(pre) = sigmoid(pre).
void softplus_grad(torch::Tensor& grad, const torch::Tensor& pre);

/// logits [B,P] += bias [P]; dlogits = (sigmoid(logits) - x) * inv_b; returns the
/// BCE-with-logits sum over the batch (per-row float sums added in double, in
/// row order whatever the thread count).
double bce_logits(torch::Tensor& logits, const torch::Tensor& bias, const torch::Tensor& x, torch::Tensor& dlogits,
                  double inv_b);

/// out [N] = in [B,N] summed over the batch (a bias gradient), into an existing tensor.
void column_sum_into(torch::Tensor out, const torch::Tensor& in);

/// pre [B,N] += bias; post = act(pre) for act softplus | relu | tanh; throws dvae::Error otherwise.
void bias_activation(const std::string& activation, torch::Tensor& post, torch::Tensor& pre,
                     const torch::Tensor& bias);

/// grad [B,N] *= act'(pre), in place, where post = act(pre); throws dvae::Error for an unknown act.
void activation_backward(const std::string& activation, torch::Tensor& grad, const torch::Tensor& pre,
                         const torch::Tensor& post);

}  // namespace dvae
