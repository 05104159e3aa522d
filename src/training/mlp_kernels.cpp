// The MLP steps' fused elementwise kernels (training/mlp_kernels.h): one
// vector body per pass, built for AVX-512, AVX2+FMA and baseline x86-64.
#include "training/mlp_kernels.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/check.h"
#include "core/cpu_dispatch.h"
#include "core/simd.h"

namespace dvae {
namespace {

// Softplus as torch::softplus (beta 1, linear above 20).
constexpr double kSoftplusThreshold = 20.0;
// Bias gradients sum over the batch dimension.
constexpr int64_t kBatchDim[] = {0};

// The fused elementwise passes, each over rows [begin, end) of a row-major
// [B,N] matrix, in three variants chosen by kernel_path(): one vector body
// (core/simd.h) built for AVX-512 (W = 16), AVX2 (W = 8) and baseline x86-64
// (W = 8 as SSE pairs); the scalar functions do the tails. Softplus is torch::softplus's (beta 1, threshold 20).
//   bias_softplus:    pre += bias; post = softplus(pre)
//   softplus_grad:    grad *= sigmoid(pre)                 (= softplus'(pre))
//   bce_logits:       logits += bias; returns sum of softplus(l) - x l (BCE with
//                     logits, summed); dlogits = (sigmoid(l) - x) * inv_b
struct Rows {
  int64_t begin = 0, end = 0, n = 0;  // rows [begin, end) of a [B,n] matrix
};

float softplus_scalar(float v) {
  return v > static_cast<float>(kSoftplusThreshold) ? v : std::max(v, 0.0f) + std::log1p(std::exp(-std::abs(v)));
}

float sigmoid_scalar(float v) {
  const float e = std::exp(-std::abs(v));
  return v >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

// softplus(v) and sigmoid(v) of each lane from e = exp(-|v|).
template <typename F, typename I>
DVAE_SIMD_INLINE F softplus_vec(F v, F e) {
  const F s = simd::max(v, simd::splat<F>(0.0f)) + simd::log1p_unit<F, I>(e);
  return v > static_cast<float>(kSoftplusThreshold) ? v : s;
}

template <typename F>
DVAE_SIMD_INLINE F sigmoid_vec(F v, F e) {
  const F r = 1.0f / (1.0f + e);
  return v >= 0.0f ? r : e * r;
}

template <int W>
DVAE_SIMD_INLINE void bias_softplus_vec(float* pre, const float* bias, float* post, Rows r) {
  using F = typename simd::Vec<W>::F;
  using I = typename simd::Vec<W>::I;
  for (int64_t i = r.begin; i < r.end; ++i) {
    float* p = pre + i * r.n;
    float* q = post + i * r.n;
    int64_t j = 0;
    for (; j + W <= r.n; j += W) {
      const F v = simd::load<F>(p + j) + simd::load<F>(bias + j);
      simd::store(p + j, v);
      simd::store(q + j, softplus_vec<F, I>(v, simd::exp<F, I>(-simd::max(v, -v))));
    }
    for (; j < r.n; ++j) {
      p[j] += bias[j];
      q[j] = softplus_scalar(p[j]);
    }
  }
}

template <int W>
DVAE_SIMD_INLINE void softplus_grad_vec(float* grad, const float* pre, Rows r) {
  using F = typename simd::Vec<W>::F;
  using I = typename simd::Vec<W>::I;
  int64_t k = r.begin * r.n;
  const int64_t end = r.end * r.n;
  for (; k + W <= end; k += W) {
    const F v = simd::load<F>(pre + k);
    simd::store(grad + k, simd::load<F>(grad + k) * sigmoid_vec(v, simd::exp<F, I>(-simd::max(v, -v))));
  }
  for (; k < end; ++k) grad[k] *= sigmoid_scalar(pre[k]);
}

template <int W>
DVAE_SIMD_INLINE double bce_logits_vec(float* logits, const float* bias, const float* x, float* dlogits, float inv_b,
                                       Rows r) {
  using F = typename simd::Vec<W>::F;
  using I = typename simd::Vec<W>::I;
  double total = 0.0;
  for (int64_t i = r.begin; i < r.end; ++i) {
    float* l_row = logits + i * r.n;
    const float* x_row = x + i * r.n;
    float* d_row = dlogits + i * r.n;
    F acc = simd::splat<F>(0.0f);
    int64_t j = 0;
    for (; j + W <= r.n; j += W) {
      const F l = simd::load<F>(l_row + j) + simd::load<F>(bias + j);
      const F xv = simd::load<F>(x_row + j);
      const F e = simd::exp<F, I>(-simd::max(l, -l));
      simd::store(l_row + j, l);
      acc += softplus_vec<F, I>(l, e) - xv * l;
      simd::store(d_row + j, (sigmoid_vec(l, e) - xv) * inv_b);
    }
    float row = simd::hsum(acc);
    for (; j < r.n; ++j) {
      const float l = l_row[j] + bias[j];
      l_row[j] = l;
      row += softplus_scalar(l) - x_row[j] * l;
      d_row[j] = (sigmoid_scalar(l) - x_row[j]) * inv_b;
    }
    total += row;
  }
  return total;
}

// The portable variants: the same vector body at baseline x86-64 (GCC splits
// 8-lane vectors into SSE pairs), which beats a scalar exp/log1p per value.
void bias_softplus_portable(float* pre, const float* bias, float* post, Rows r) {
  bias_softplus_vec<8>(pre, bias, post, r);
}
void softplus_grad_portable(float* grad, const float* pre, Rows r) { softplus_grad_vec<8>(grad, pre, r); }
double bce_logits_portable(float* logits, const float* bias, const float* x, float* dlogits, float inv_b, Rows r) {
  return bce_logits_vec<8>(logits, bias, x, dlogits, inv_b, r);
}

DVAE_TARGET_AVX2 void bias_softplus_avx2(float* pre, const float* bias, float* post, Rows r) {
  bias_softplus_vec<8>(pre, bias, post, r);
}
DVAE_TARGET_AVX512 void bias_softplus_avx512(float* pre, const float* bias, float* post, Rows r) {
  bias_softplus_vec<16>(pre, bias, post, r);
}
DVAE_TARGET_AVX2 void softplus_grad_avx2(float* grad, const float* pre, Rows r) { softplus_grad_vec<8>(grad, pre, r); }
DVAE_TARGET_AVX512 void softplus_grad_avx512(float* grad, const float* pre, Rows r) {
  softplus_grad_vec<16>(grad, pre, r);
}
DVAE_TARGET_AVX2 double bce_logits_avx2(float* logits, const float* bias, const float* x, float* dlogits, float inv_b,
                                        Rows r) {
  return bce_logits_vec<8>(logits, bias, x, dlogits, inv_b, r);
}
DVAE_TARGET_AVX512 double bce_logits_avx512(float* logits, const float* bias, const float* x, float* dlogits,
                                            float inv_b, Rows r) {
  return bce_logits_vec<16>(logits, bias, x, dlogits, inv_b, r);
}

// Rows per parallel task: about 32k values, as LibTorch's elementwise kernels.
int64_t row_grain(int64_t n) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, n)); }

// Runs fn(Rows) over the rows of a [B,n] matrix on LibTorch's intra-op threads.
template <typename Fn>
void for_rows(int64_t b, int64_t n, const Fn& fn) {
  at::parallel_for(0, b, row_grain(n), [&](int64_t begin, int64_t end) { fn(Rows{begin, end, n}); });
}

// pre [B,N] += bias [N]; post = softplus(pre). All contiguous float.
}  // namespace

void bias_softplus(torch::Tensor& pre, const torch::Tensor& bias, torch::Tensor& post) {
  const auto fn = kernel_path() == KernelPath::kAvx512 ? bias_softplus_avx512
                  : kernel_path() == KernelPath::kAvx2 ? bias_softplus_avx2
                                                       : bias_softplus_portable;
  float* p = pre.data_ptr<float>();
  const float* bi = bias.data_ptr<float>();
  float* q = post.data_ptr<float>();
  for_rows(pre.size(0), pre.size(1), [&](Rows r) { fn(p, bi, q, r); });
}

void softplus_grad(torch::Tensor& grad, const torch::Tensor& pre) {
  const auto fn = kernel_path() == KernelPath::kAvx512 ? softplus_grad_avx512
                  : kernel_path() == KernelPath::kAvx2 ? softplus_grad_avx2
                                                       : softplus_grad_portable;
  float* g = grad.data_ptr<float>();
  const float* p = pre.data_ptr<float>();
  for_rows(grad.size(0), grad.size(1), [&](Rows r) { fn(g, p, r); });
}

double bce_logits(torch::Tensor& logits, const torch::Tensor& bias, const torch::Tensor& x, torch::Tensor& dlogits,
                  double inv_b) {
  const auto fn = kernel_path() == KernelPath::kAvx512 ? bce_logits_avx512
                  : kernel_path() == KernelPath::kAvx2 ? bce_logits_avx2
                                                       : bce_logits_portable;
  const int64_t b = logits.size(0);
  std::vector<double> row_sums(static_cast<size_t>(b));
  float* l = logits.data_ptr<float>();
  const float* bi = bias.data_ptr<float>();
  const float* xs = x.data_ptr<float>();
  float* d = dlogits.data_ptr<float>();
  const auto ib = static_cast<float>(inv_b);
  for_rows(b, logits.size(1), [&](Rows r) {
    for (int64_t i = r.begin; i < r.end; ++i) row_sums[i] = fn(l, bi, xs, d, ib, Rows{i, i + 1, r.n});
  });
  double total = 0.0;
  for (double v : row_sums) total += v;
  return total;
}


void column_sum_into(torch::Tensor out, const torch::Tensor& in) { at::sum_out(out, in, at::IntArrayRef(kBatchDim)); }

void bias_activation(const std::string& activation, torch::Tensor& post, torch::Tensor& pre,
                     const torch::Tensor& bias) {
  if (activation == "softplus") {
    bias_softplus(pre, bias, post);
    return;
  }
  pre.add_(bias);
  if (activation == "relu") {
    at::clamp_min_out(post, pre, 0);
  } else if (activation == "tanh") {
    at::tanh_out(post, pre);
  } else {
    throw Error("MLP step: activation '" + activation + "', expected softplus, relu or tanh");
  }
}

void activation_backward(const std::string& activation, torch::Tensor& grad, const torch::Tensor& pre,
                         const torch::Tensor& post) {
  if (activation == "softplus") {
    softplus_grad(grad, pre);
  } else if (activation == "relu") {
    at::threshold_backward_out(grad, grad, pre, 0);
  } else if (activation == "tanh") {
    at::tanh_backward_out(grad, grad, post);
  } else {
    throw Error("MLP step: activation '" + activation + "', expected softplus, relu or tanh");
  }
}

}  // namespace dvae
