// Adam over one flat parameter buffer: every parameter (and its gradient)
// becomes a view into a single contiguous tensor, so one step is six
// elementwise kernels over all parameters instead of ~ten per parameter
// tensor. Same update, in the same floating-point order, as
// torch::optim::Adam without weight decay or amsgrad (Kingma and Ba 2014).
#pragma once

#include <torch/torch.h>

#include <vector>

namespace dvae {

/// Adam hyper-parameters (PyTorch's defaults apart from lr).
struct FlatAdamOptions {
  double lr = 1e-3;      ///< learning rate (paper: 1e-3)
  double beta1 = 0.9;    ///< first-moment decay (default 0.9)
  double beta2 = 0.999;  ///< second-moment decay (default 0.999)
  double eps = 1e-8;     ///< denominator epsilon (default 1e-8)
};

/// Fused Adam on flattened parameters.
class FlatAdam {
 public:
  /// Moves params' storage into one flat buffer (params become views of it) and
  /// gives each a gradient that is a view of one flat gradient buffer. All params
  /// must be float32 on one device; their values are preserved.
  FlatAdam(std::vector<torch::Tensor> params, FlatAdamOptions options);
  /// Zeroes the flat gradient in place (one kernel).
  void zero_grad();
  /// One Adam update of every parameter.
  void step();
  /// Number of steps taken.
  int64_t steps() const { return step_; }
  /// First moments, flat [P].
  const torch::Tensor& exp_avg() const { return exp_avg_; }
  /// Second moments, flat [P].
  const torch::Tensor& exp_avg_sq() const { return exp_avg_sq_; }
  /// The flat parameter buffer [P].
  const torch::Tensor& flat_params() const { return flat_; }
  /// Saves moments and step count into archive under prefix.
  void save(torch::serialize::OutputArchive& archive) const;
  /// Restores moments and step count; throws dvae::Error on a size mismatch.
  void load(torch::serialize::InputArchive& archive);

 private:
  std::vector<torch::Tensor> params_;
  FlatAdamOptions options_;
  torch::Tensor flat_, flat_grad_, exp_avg_, exp_avg_sq_, denom_;
  int64_t step_ = 0;
};

}  // namespace dvae
