// FlatAdam: parameter flattening and the fused update.
#include "training/flat_adam.h"

#include <cmath>

#include "core/check.h"

namespace dvae {

FlatAdam::FlatAdam(std::vector<torch::Tensor> params, FlatAdamOptions options)
    : params_(std::move(params)), options_(options) {
  DVAE_CHECK(!params_.empty(), "FlatAdam: no parameters to optimise");
  int64_t total = 0;
  for (const auto& p : params_) {
    DVAE_CHECK(p.scalar_type() == torch::kFloat32, "FlatAdam: parameters must be float32");
    DVAE_CHECK(p.device() == params_[0].device(), "FlatAdam: parameters must share one device");
    total += p.numel();
  }
  const auto opts = params_[0].options().requires_grad(false);
  flat_ = torch::empty({total}, opts);
  flat_grad_ = torch::zeros({total}, opts);
  exp_avg_ = torch::zeros({total}, opts);
  exp_avg_sq_ = torch::zeros({total}, opts);
  denom_ = torch::empty({total}, opts);
  int64_t offset = 0;
  torch::NoGradGuard no_grad;
  for (auto& p : params_) {
    const int64_t n = p.numel();
    auto view = flat_.narrow(0, offset, n).view(p.sizes());  // [n] -> p's shape
    view.copy_(p);
    p.set_data(view);
    p.mutable_grad() = flat_grad_.narrow(0, offset, n).view(p.sizes());
    offset += n;
  }
}

void FlatAdam::zero_grad() { flat_grad_.zero_(); }

void FlatAdam::step() {
  torch::NoGradGuard no_grad;
  ++step_;
  const double bias1 = 1.0 - std::pow(options_.beta1, static_cast<double>(step_));
  const double bias2 = 1.0 - std::pow(options_.beta2, static_cast<double>(step_));
  // As torch::optim::Adam (1.13): m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
  // denom = sqrt(v) / sqrt(bias2) + eps; p -= lr / bias1 * m / denom.
  exp_avg_.mul_(options_.beta1).add_(flat_grad_, 1.0 - options_.beta1);
  exp_avg_sq_.mul_(options_.beta2).addcmul_(flat_grad_, flat_grad_, 1.0 - options_.beta2);
  torch::sqrt_out(denom_, exp_avg_sq_);
  denom_.div_(std::sqrt(bias2)).add_(options_.eps);
  flat_.addcdiv_(exp_avg_, denom_, -options_.lr / bias1);
}

void FlatAdam::save(torch::serialize::OutputArchive& archive) const {
  archive.write("flat_adam.exp_avg", exp_avg_);
  archive.write("flat_adam.exp_avg_sq", exp_avg_sq_);
  archive.write("flat_adam.step", torch::tensor(step_, torch::kLong));
}

void FlatAdam::load(torch::serialize::InputArchive& archive) {
  torch::Tensor m, v, s;
  archive.read("flat_adam.exp_avg", m);
  archive.read("flat_adam.exp_avg_sq", v);
  archive.read("flat_adam.step", s);
  DVAE_CHECK(m.numel() == exp_avg_.numel() && v.numel() == exp_avg_sq_.numel(), "optimizer state has ", m.numel(),
             " values, expected ", exp_avg_.numel(), " (a checkpoint of another model?)");
  torch::NoGradGuard no_grad;
  exp_avg_.copy_(m.to(exp_avg_.device()));
  exp_avg_sq_.copy_(v.to(exp_avg_sq_.device()));
  step_ = s.item<int64_t>();
}

}  // namespace dvae
