// Adam and SGD with momentum over one flat parameter buffer. Every parameter
// (and its gradient) becomes a view into one contiguous float32 tensor, so a
// step is one fused pass over all parameters (AVX-512, AVX2+FMA or portable,
// as kernel_path() in core/cpu_dispatch.h says; split over LibTorch's intra-op
// threads) instead of about ten LibTorch kernels per parameter tensor. The update is torch::optim::Adam's / SGD's (no weight
// decay, no amsgrad, no nesterov) to float rounding; being elementwise, it is
// bit-identical for every thread count.
//
// Contract with callers: gradients accumulate into the flat gradient buffer
// (autograd's in-place accumulation or code writing into p.grad()), so never
// call Module::zero_grad or torch::optim on these parameters: zero_grad()
// here zeroes the buffer in place. Module::load replaces parameter storage;
// load() re-binds the parameters afterwards (restore the model first).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace dvae {

/// Which update and its hyper-parameters (PyTorch's defaults apart from lr).
struct FlatOptimizerOptions {
  std::string kind = "adam";  ///< "adam" (Kingma and Ba 2014) | "sgd" (heavy-ball momentum)
  double lr = 1e-3;           ///< learning rate (paper: 1e-3)
  double beta1 = 0.9;         ///< Adam first-moment decay (default 0.9)
  double beta2 = 0.999;       ///< Adam second-moment decay (default 0.999)
  double eps = 1e-8;          ///< Adam denominator epsilon (default 1e-8)
  double momentum = 0.9;      ///< SGD momentum (default 0.9)
};

/// A fused optimiser over flattened parameters.
class FlatOptimizer {
 public:
  /// Moves params' values into one flat buffer (params become views of it) and
  /// gives each a gradient that is a view of one flat gradient buffer (zeroed).
  /// All params must be float32 on one device; throws dvae::Error otherwise or
  /// for an unknown kind.
  FlatOptimizer(std::vector<torch::Tensor> params, FlatOptimizerOptions options);
  /// Zeroes every gradient (one pass over the flat gradient buffer).
  void zero_grad();
  /// One update of every parameter from the current gradients.
  void step();
  /// Number of steps taken (restored by load).
  int64_t steps() const { return steps_; }
  /// The options given at construction (lr as last set by set_lr).
  const FlatOptimizerOptions& options() const { return options_; }
  /// The learning rate of the following steps (a schedule's; > 0, throws dvae::Error otherwise).
  void set_lr(double lr);
  /// The flat parameter buffer [P].
  const torch::Tensor& flat_params() const { return flat_; }
  /// The flat gradient buffer [P].
  const torch::Tensor& flat_grad() const { return flat_grad_; }
  /// Optimiser state, flat [P] each: Adam {exp_avg, exp_avg_sq}, SGD {momentum buffer}.
  std::vector<torch::Tensor> state() const;
  /// Writes kind, step count and state into archive.
  void save(torch::serialize::OutputArchive& archive) const;
  /// Restores step count and state, then re-binds the parameters to the flat
  /// buffers (taking their current values). Throws dvae::Error when the archive
  /// holds another kind or another number of values.
  void load(torch::serialize::InputArchive& archive);

 private:
  void bind();

  std::vector<torch::Tensor> params_;
  FlatOptimizerOptions options_;
  torch::Tensor flat_, flat_grad_, state0_, state1_;  // state1_ is undefined for SGD
  int64_t steps_ = 0;
};

}  // namespace dvae
