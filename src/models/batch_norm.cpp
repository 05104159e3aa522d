// global_batch_norm: batch statistics summed over processes, then LibTorch's formula.
#include "models/batch_norm.h"

#include "core/check.h"

namespace dvae {

torch::Tensor global_batch_norm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                torch::Tensor running_mean, torch::Tensor running_var,
                                torch::Tensor num_batches_tracked, const torch::nn::BatchNormOptions& options,
                                const BatchSum& batch_sum) {
  DVAE_CHECK(x.dim() == 2 || x.dim() == 4, "global batch norm: input of shape ", x.sizes(),
             ", expected [B,C] or [B,C,H,W]");
  DVAE_CHECK(batch_sum, "global batch norm: no BatchSum, expected one from the process group");
  const int64_t c = x.size(1);
  std::vector<int64_t> dims{0};
  if (x.dim() == 4) dims = {0, 2, 3};
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[1] = c;  // [1,C] or [1,C,1,1]
  // Sums in float64: E[x^2] - E[x]^2 loses less to cancellation there.
  const auto xd = x.to(torch::kFloat64);
  const double rows = static_cast<double>(x.numel() / std::max<int64_t>(c, 1));
  const auto local = torch::cat({xd.sum(dims), (xd * xd).sum(dims),
                                 torch::full({1}, rows, xd.options())});  // [2C+1]
  const auto global = batch_sum(local);                                   // [2C+1], summed over processes
  const auto n = global.narrow(0, 2 * c, 1).detach();                     // [1] rows of the global batch
  const auto mean = global.narrow(0, 0, c) / n;                           // [C]
  const auto var = global.narrow(0, c, c) / n - mean * mean;              // [C] biased
  const auto inv_std = torch::rsqrt(var + options.eps()).to(x.scalar_type());  // [C]
  auto y = (x - mean.to(x.scalar_type()).view(shape)) * inv_std.view(shape);
  if (options.affine()) y = y * weight.view(shape) + bias.view(shape);
  if (options.track_running_stats()) {
    torch::NoGradGuard no_grad;
    num_batches_tracked.add_(1);
    const double count = n.item<double>();
    const double momentum = options.momentum().has_value()
                                ? *options.momentum()
                                : 1.0 / static_cast<double>(num_batches_tracked.item<int64_t>());
    const auto unbiased = var.detach() * (count / std::max(count - 1.0, 1.0));
    running_mean.mul_(1.0 - momentum).add_(mean.detach().to(running_mean.scalar_type()), momentum);
    running_var.mul_(1.0 - momentum).add_(unbiased.to(running_var.scalar_type()), momentum);
  }
  return y;
}

}  // namespace dvae
