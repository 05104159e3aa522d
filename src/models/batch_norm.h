// Batch normalisation whose statistics span a data-parallel step's whole
// global batch (what PyTorch calls SyncBatchNorm): each process's sums of x
// and x^2 and its row count are added over processes by a differentiable
// BatchSum (training/distributed.h makes one from a process group), so that
// every process normalises with the global batch's mean and variance and the
// gradients equal one process's on the whole batch. One process keeps
// LibTorch's own BatchNorm (the CNN decoder calls this only when a BatchSum is set).
//
// Tensor legend: B rows of this process, C channels, N rows of the global batch (times H*W for 2-d).
#pragma once

#include <torch/torch.h>

#include <functional>

namespace dvae {

/// Sums a tensor over the processes of a data-parallel step; differentiable
/// (its gradient is the sum of the processes' gradients).
using BatchSum = std::function<torch::Tensor(const torch::Tensor&)>;

/// Training-mode batch norm of x [B,C] or [B,C,H,W] over the global batch:
/// y = (x - mean) / sqrt(var + eps) * weight + bias with the global biased
/// variance; running_mean/var (unbiased) and num_batches_tracked updated as
/// torch::nn::BatchNorm does with options' momentum (default 0.1) and eps.
torch::Tensor global_batch_norm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                torch::Tensor running_mean, torch::Tensor running_var,
                                torch::Tensor num_batches_tracked, const torch::nn::BatchNormOptions& options,
                                const BatchSum& batch_sum);

}  // namespace dvae
