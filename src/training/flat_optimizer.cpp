// FlatOptimizer: parameter flattening and the fused Adam / SGD passes.
#include "training/flat_optimizer.h"

#include <cmath>

#include "core/check.h"
#include "core/cpu_dispatch.h"
#include "core/simd.h"

namespace dvae {
namespace {

// Values per parallel chunk: large enough to amortise a thread hand-off.
constexpr int64_t kGrain = 1 << 15;

// Adam's constants for one step, in float as the kernels use them.
struct AdamStep {
  float beta1, one_minus_beta1, beta2, one_minus_beta2;
  float inv_sqrt_bias2;  // 1 / sqrt(1 - beta2^t)
  float eps;
  float neg_step;  // -lr / (1 - beta1^t)
};

// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p += -lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)
void adam_scalar(float* p, const float* g, float* m, float* v, int64_t begin, int64_t end, const AdamStep& c) {
  for (int64_t i = begin; i < end; ++i) {
    const float mi = c.beta1 * m[i] + c.one_minus_beta1 * g[i];
    const float vi = c.beta2 * v[i] + c.one_minus_beta2 * g[i] * g[i];
    m[i] = mi;
    v[i] = vi;
    p[i] += c.neg_step * (mi / (std::sqrt(vi) * c.inv_sqrt_bias2 + c.eps));
  }
}

// The same update, W lanes at a time (the tail through adam_scalar).
template <int W>
DVAE_SIMD_INLINE void adam_vector(float* p, const float* g, float* m, float* v, int64_t begin, int64_t end,
                                  const AdamStep& c) {
  using F = typename simd::Vec<W>::F;
  int64_t i = begin;
  for (; i + W <= end; i += W) {
    const F gi = simd::load<F>(g + i);
    const F mi = c.beta1 * simd::load<F>(m + i) + c.one_minus_beta1 * gi;
    const F vi = c.beta2 * simd::load<F>(v + i) + (c.one_minus_beta2 * gi) * gi;
    simd::store(m + i, mi);
    simd::store(v + i, vi);
    const F denom = simd::sqrt(vi) * c.inv_sqrt_bias2 + c.eps;
    simd::store(p + i, simd::load<F>(p + i) + c.neg_step * (mi / denom));
  }
  adam_scalar(p, g, m, v, i, end, c);
}

DVAE_TARGET_AVX2 void adam_avx2(float* p, const float* g, float* m, float* v, int64_t begin, int64_t end,
                                const AdamStep& c) {
  adam_vector<8>(p, g, m, v, begin, end, c);
}

DVAE_TARGET_AVX512 void adam_avx512(float* p, const float* g, float* m, float* v, int64_t begin, int64_t end,
                                    const AdamStep& c) {
  adam_vector<16>(p, g, m, v, begin, end, c);
}

// buf = momentum buf + g; p -= lr buf (torch::optim::SGD without dampening).
void sgd_scalar(float* p, const float* g, float* buf, int64_t begin, int64_t end, float momentum, float neg_lr) {
  for (int64_t i = begin; i < end; ++i) {
    const float b = momentum * buf[i] + g[i];
    buf[i] = b;
    p[i] += neg_lr * b;
  }
}

template <int W>
DVAE_SIMD_INLINE void sgd_vector(float* p, const float* g, float* buf, int64_t begin, int64_t end, float momentum,
                                 float neg_lr) {
  using F = typename simd::Vec<W>::F;
  int64_t i = begin;
  for (; i + W <= end; i += W) {
    const F b = momentum * simd::load<F>(buf + i) + simd::load<F>(g + i);
    simd::store(buf + i, b);
    simd::store(p + i, simd::load<F>(p + i) + neg_lr * b);
  }
  sgd_scalar(p, g, buf, i, end, momentum, neg_lr);
}

DVAE_TARGET_AVX2 void sgd_avx2(float* p, const float* g, float* buf, int64_t begin, int64_t end, float momentum,
                               float neg_lr) {
  sgd_vector<8>(p, g, buf, begin, end, momentum, neg_lr);
}

DVAE_TARGET_AVX512 void sgd_avx512(float* p, const float* g, float* buf, int64_t begin, int64_t end, float momentum,
                                   float neg_lr) {
  sgd_vector<16>(p, g, buf, begin, end, momentum, neg_lr);
}

using AdamKernel = void (*)(float*, const float*, float*, float*, int64_t, int64_t, const AdamStep&);
using SgdKernel = void (*)(float*, const float*, float*, int64_t, int64_t, float, float);

AdamKernel adam_kernel(KernelPath path) {
  switch (path) {
    case KernelPath::kAvx512: return adam_avx512;
    case KernelPath::kAvx2: return adam_avx2;
    case KernelPath::kScalar: break;
  }
  return adam_scalar;
}

SgdKernel sgd_kernel(KernelPath path) {
  switch (path) {
    case KernelPath::kAvx512: return sgd_avx512;
    case KernelPath::kAvx2: return sgd_avx2;
    case KernelPath::kScalar: break;
  }
  return sgd_scalar;
}

}  // namespace

FlatOptimizer::FlatOptimizer(std::vector<torch::Tensor> params, FlatOptimizerOptions options)
    : params_(std::move(params)), options_(std::move(options)) {
  DVAE_CHECK(options_.kind == "adam" || options_.kind == "sgd", "optimizer '", options_.kind,
             "', expected adam or sgd");
  DVAE_CHECK(!params_.empty(), "optimizer: no parameters to optimise");
  int64_t total = 0;
  for (const auto& p : params_) {
    DVAE_CHECK(p.scalar_type() == torch::kFloat32, "optimizer: parameters must be float32, got ", p.scalar_type());
    DVAE_CHECK(p.device() == params_[0].device(), "optimizer: parameters must share one device");
    total += p.numel();
  }
  const auto opts = params_[0].options().requires_grad(false);
  flat_ = torch::empty({total}, opts);
  flat_grad_ = torch::zeros({total}, opts);
  state0_ = torch::zeros({total}, opts);
  if (options_.kind == "adam") state1_ = torch::zeros({total}, opts);
  bind();
}

void FlatOptimizer::bind() {
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (auto& p : params_) {
    const int64_t n = p.numel();
    auto view = flat_.narrow(0, offset, n).view(p.sizes());  // [n] -> p's shape
    if (p.data_ptr() != view.data_ptr()) view.copy_(p);
    p.set_data(view);
    p.mutable_grad() = flat_grad_.narrow(0, offset, n).view(p.sizes());
    offset += n;
  }
}

void FlatOptimizer::zero_grad() { flat_grad_.zero_(); }

void FlatOptimizer::set_lr(double lr) {
  DVAE_CHECK(lr > 0 && std::isfinite(lr), "optimizer: learning rate ", lr, ", expected a finite number > 0");
  options_.lr = lr;
}

void FlatOptimizer::step() {
  torch::NoGradGuard no_grad;
  ++steps_;
  const int64_t n = flat_.numel();
  if (!flat_.is_cpu()) {
    // Other devices: the same update through LibTorch kernels.
    if (options_.kind == "sgd") {
      state0_.mul_(options_.momentum).add_(flat_grad_);
      flat_.add_(state0_, -options_.lr);
      return;
    }
    const double bias1 = 1.0 - std::pow(options_.beta1, static_cast<double>(steps_));
    const double bias2 = 1.0 - std::pow(options_.beta2, static_cast<double>(steps_));
    state0_.mul_(options_.beta1).add_(flat_grad_, 1.0 - options_.beta1);
    state1_.mul_(options_.beta2).addcmul_(flat_grad_, flat_grad_, 1.0 - options_.beta2);
    const auto denom = (state1_.sqrt() / std::sqrt(bias2)).add_(options_.eps);
    flat_.addcdiv_(state0_, denom, -options_.lr / bias1);
    return;
  }
  float* p = flat_.data_ptr<float>();
  const float* g = flat_grad_.data_ptr<float>();
  float* s0 = state0_.data_ptr<float>();
  if (options_.kind == "sgd") {
    const auto momentum = static_cast<float>(options_.momentum);
    const auto neg_lr = static_cast<float>(-options_.lr);
    const auto sgd = sgd_kernel(kernel_path());
    at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) { sgd(p, g, s0, begin, end, momentum, neg_lr); });
    return;
  }
  const double bias1 = 1.0 - std::pow(options_.beta1, static_cast<double>(steps_));
  const double bias2 = 1.0 - std::pow(options_.beta2, static_cast<double>(steps_));
  const AdamStep c{static_cast<float>(options_.beta1),  static_cast<float>(1.0 - options_.beta1),
                   static_cast<float>(options_.beta2),  static_cast<float>(1.0 - options_.beta2),
                   static_cast<float>(1.0 / std::sqrt(bias2)), static_cast<float>(options_.eps),
                   static_cast<float>(-options_.lr / bias1)};
  float* s1 = state1_.data_ptr<float>();
  const auto adam = adam_kernel(kernel_path());
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) { adam(p, g, s0, s1, begin, end, c); });
}

std::vector<torch::Tensor> FlatOptimizer::state() const {
  if (options_.kind == "sgd") return {state0_};
  return {state0_, state1_};
}

void FlatOptimizer::save(torch::serialize::OutputArchive& archive) const {
  archive.write("kind", c10::IValue(options_.kind));
  archive.write("steps", c10::IValue(steps_));
  archive.write("state0", state0_, /*is_buffer=*/true);
  if (state1_.defined()) archive.write("state1", state1_, /*is_buffer=*/true);
}

void FlatOptimizer::load(torch::serialize::InputArchive& archive) {
  c10::IValue kind;
  c10::IValue steps;
  DVAE_CHECK(archive.try_read("kind", kind) && kind.isString(),
             "optimizer state without a kind, expected one written by this version of dvae");
  DVAE_CHECK(kind.toStringRef() == options_.kind, "optimizer state of ", kind.toStringRef(), ", expected ",
             options_.kind);
  DVAE_CHECK(archive.try_read("steps", steps) && steps.isInt(), "optimizer state without a step count");
  torch::Tensor s0;
  torch::Tensor s1;
  archive.read("state0", s0, /*is_buffer=*/true);
  DVAE_CHECK(s0.numel() == state0_.numel(), "optimizer state has ", s0.numel(), " values, expected ",
             state0_.numel());
  if (state1_.defined()) {
    archive.read("state1", s1, /*is_buffer=*/true);
    DVAE_CHECK(s1.numel() == state1_.numel(), "optimizer state has ", s1.numel(), " values, expected ",
               state1_.numel());
  }
  torch::NoGradGuard no_grad;
  state0_.copy_(s0.to(state0_.device()).view({-1}));
  if (state1_.defined()) state1_.copy_(s1.to(state1_.device()).view({-1}));
  steps_ = steps.toInt();
  bind();
}

}  // namespace dvae
