// MlpTrainingStep: the MLP VAE's forward, beta-ELBO and backward by hand.
#include "training/mlp_step.h"

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

// out = a b into an existing tensor (a gradient view).
void mm_into(torch::Tensor out, const torch::Tensor& a, const torch::Tensor& b) { at::mm_out(out, a, b); }

void column_sum(torch::Tensor out, const torch::Tensor& in) { at::sum_out(out, in, at::IntArrayRef(kBatchDim)); }

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

void bias_softplus_scalar(float* pre, const float* bias, float* post, Rows r) {
  for (int64_t i = r.begin; i < r.end; ++i) {
    for (int64_t j = 0; j < r.n; ++j) {
      const float v = pre[i * r.n + j] + bias[j];
      pre[i * r.n + j] = v;
      post[i * r.n + j] = softplus_scalar(v);
    }
  }
}

void softplus_grad_scalar(float* grad, const float* pre, Rows r) {
  for (int64_t k = r.begin * r.n; k < r.end * r.n; ++k) grad[k] *= sigmoid_scalar(pre[k]);
}

double bce_logits_scalar(float* logits, const float* bias, const float* x, float* dlogits, float inv_b, Rows r) {
  double total = 0.0;
  for (int64_t i = r.begin; i < r.end; ++i) {
    float row = 0.0f;
    for (int64_t j = 0; j < r.n; ++j) {
      const int64_t k = i * r.n + j;
      const float l = logits[k] + bias[j];
      logits[k] = l;
      row += softplus_scalar(l) - x[k] * l;
      dlogits[k] = (sigmoid_scalar(l) - x[k]) * inv_b;
    }
    total += row;
  }
  return total;
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
void bias_softplus(torch::Tensor& pre, const torch::Tensor& bias, torch::Tensor& post) {
  const auto fn = kernel_path() == KernelPath::kAvx512 ? bias_softplus_avx512
                  : kernel_path() == KernelPath::kAvx2 ? bias_softplus_avx2
                                                       : bias_softplus_portable;
  float* p = pre.data_ptr<float>();
  const float* bi = bias.data_ptr<float>();
  float* q = post.data_ptr<float>();
  for_rows(pre.size(0), pre.size(1), [&](Rows r) { fn(p, bi, q, r); });
}

// grad [B,N] *= softplus'(pre) = sigmoid(pre).
void softplus_grad(torch::Tensor& grad, const torch::Tensor& pre) {
  const auto fn = kernel_path() == KernelPath::kAvx512 ? softplus_grad_avx512
                  : kernel_path() == KernelPath::kAvx2 ? softplus_grad_avx2
                                                       : softplus_grad_portable;
  float* g = grad.data_ptr<float>();
  const float* p = pre.data_ptr<float>();
  for_rows(grad.size(0), grad.size(1), [&](Rows r) { fn(g, p, r); });
}

// logits [B,P] += bias; dlogits = (sigmoid(logits) - x) * inv_b; returns the
// BCE-with-logits sum over the batch. Per-task float row sums added in double,
// in row order whatever the thread count.
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

}  // namespace

MlpTrainingStep::MlpTrainingStep(VaeImpl& vae, int64_t max_batch)
    : activation_(vae.options().mlp_activation), max_batch_(max_batch) {
  const ModelOptions& o = vae.options();
  DVAE_CHECK(o.arch == "mlp", "the hand-written MLP training step got a ", o.arch, " VAE, expected mlp");
  DVAE_CHECK(max_batch > 0, "MLP training step: batch capacity ", max_batch, ", expected > 0");
  for (const auto& item : vae.named_parameters()) params_[item.key()] = item.value();
  const char* names[] = {"encoder.fc1.weight",    "encoder.fc1.bias", "encoder.fc2.weight", "encoder.fc2.bias",
                         "encoder.mu.weight",     "encoder.mu.bias",  "encoder.logvar.weight",
                         "encoder.logvar.bias",   "decoder.fc1.weight", "decoder.fc1.bias", "decoder.fc2.weight",
                         "decoder.fc2.bias",      "decoder.out.weight", "decoder.out.bias"};
  for (const char* name : names) {
    DVAE_CHECK(params_.count(name) == 1, "MLP training step: the VAE has no parameter ", name,
               ", expected the MLP of models/mlp.h");
  }
  DVAE_CHECK(params_.size() == sizeof(names) / sizeof(names[0]), "MLP training step: the VAE has ", params_.size(),
             " parameters, expected 14");
  const int64_t k = o.mlp_hidden;
  const int64_t d = o.latent_dim;
  const int64_t p = o.image_size * o.image_size;
  const auto opts = param("encoder.fc1.weight").options().requires_grad(false);
  for (auto* t : {&a1_, &h1_, &a2_, &h2_, &c1_, &g1_, &c2_, &g2_, &dk1_, &dk2_}) *t = torch::empty({max_batch, k}, opts);
  for (auto* t : {&mu_, &logvar_, &eps_, &std_, &z_, &dz_, &dmu_, &dlogvar_}) *t = torch::empty({max_batch, d}, opts);
  logits_ = torch::empty({max_batch, p}, opts);
  dlogits_ = torch::empty({max_batch, p}, opts);
}

torch::Tensor MlpTrainingStep::param(const std::string& name) const { return params_.at(name); }

void MlpTrainingStep::activation(torch::Tensor& out, torch::Tensor& pre, const torch::Tensor& bias) const {
  if (activation_ == "softplus") {
    bias_softplus(pre, bias, out);
    return;
  }
  pre.add_(bias);
  if (activation_ == "relu") {
    at::clamp_min_out(out, pre, 0);
  } else {
    at::tanh_out(out, pre);
  }
}

// grad <- grad * act'(pre), in place; post = act(pre).
void MlpTrainingStep::activation_backward(torch::Tensor& grad, const torch::Tensor& pre,
                                          const torch::Tensor& post) const {
  if (activation_ == "softplus") {
    softplus_grad(grad, pre);
  } else if (activation_ == "relu") {
    at::threshold_backward_out(grad, grad, pre, 0);
  } else {
    at::tanh_backward_out(grad, grad, post);
  }
}

StepTerms MlpTrainingStep::run(const torch::Tensor& x_in, double beta, at::Generator generator) {
  return run(x_in, beta, std::move(generator), RowSlice{0, x_in.size(0)});
}

StepTerms MlpTrainingStep::run(const torch::Tensor& x_in, double beta, at::Generator generator, RowSlice slice) {
  torch::NoGradGuard no_grad;
  const int64_t b = x_in.size(0);
  if (slice.total == 0) slice.total = b;
  DVAE_CHECK(b >= 1 && b <= max_batch_, "MLP training step: batch of ", b, ", expected 1..", max_batch_);
  DVAE_CHECK(slice.offset >= 0 && slice.offset + b <= slice.total && slice.total <= max_batch_,
             "MLP training step: rows ", slice.offset, "..", slice.offset + b, " of a batch of ", slice.total,
             ", expected a slice of at most ", max_batch_, " rows");
  for (const auto& [name, p] : params_) {
    DVAE_CHECK(p.grad().defined(), "MLP training step: ", name, " has no gradient tensor, expected one bound by the optimiser");
  }
  const auto rows = [b](const torch::Tensor& t) { return t.narrow(0, 0, b); };
  const torch::Tensor x = x_in.reshape({b, -1});  // [B,1,H,W] -> [B,P]
  auto a1 = rows(a1_), h1 = rows(h1_), a2 = rows(a2_), h2 = rows(h2_);
  auto mu = rows(mu_), logvar = rows(logvar_), sd = rows(std_), z = rows(z_);
  auto eps = eps_.narrow(0, slice.offset, b);  // this slice's rows of the global batch's draws
  auto c1 = rows(c1_), g1 = rows(g1_), c2 = rows(c2_), g2 = rows(g2_);
  auto logits = rows(logits_), dlogits = rows(dlogits_);
  auto dk1 = rows(dk1_), dk2 = rows(dk2_), dz = rows(dz_), dmu = rows(dmu_), dlogvar = rows(dlogvar_);
  const auto W = [this](const char* name) { return param(name); };
  const auto G = [this](const char* name) { return param(name).grad(); };

  // Forward. Encoder.
  at::mm_out(a1, x, W("encoder.fc1.weight").t());  // [B,P] -> [B,K]
  activation(h1, a1, W("encoder.fc1.bias"));
  at::mm_out(a2, h1, W("encoder.fc2.weight").t());  // [B,K] -> [B,K]
  activation(h2, a2, W("encoder.fc2.bias"));
  at::mm_out(mu, h2, W("encoder.mu.weight").t()).add_(W("encoder.mu.bias"));               // [B,K] -> [B,D]
  at::mm_out(logvar, h2, W("encoder.logvar.weight").t()).add_(W("encoder.logvar.bias"));   // [B,K] -> [B,D]
  // Reparameterisation z = mu + exp(logvar / 2) * eps.
  sd.copy_(logvar).mul_(0.5).exp_();                // [B,D]
  eps_.narrow(0, 0, slice.total).normal_(0.0, 1.0, generator);  // [total,D], as torch::randn
  at::addcmul_out(z, mu, sd, eps);                  // [B,D]
  // Decoder.
  at::mm_out(c1, z, W("decoder.fc1.weight").t());  // [B,D] -> [B,K]
  activation(g1, c1, W("decoder.fc1.bias"));
  at::mm_out(c2, g1, W("decoder.fc2.weight").t());  // [B,K] -> [B,K]
  activation(g2, c2, W("decoder.fc2.bias"));
  at::mm_out(logits, g2, W("decoder.out.weight").t());  // [B,K] -> [B,P], bias added by bce_logits

  // Loss: BCE with logits summed over pixels, KL summed over latents; both
  // means over the global batch (this slice's rows summed, / slice.total).
  const double inv_b = 1.0 / static_cast<double>(slice.total);
  StepTerms terms;
  // BCE with logits l and target x: softplus(l) - x l, summed; and, for the
  // backward pass, d recon / d logits = (sigmoid(l) - x) / B, in the same pass.
  const torch::Tensor x_c = x.contiguous();
  terms.recon = bce_logits(logits, W("decoder.out.bias"), x_c, dlogits, inv_b) * inv_b;
  const auto var = sd * sd;                                                         // exp(logvar) [B,D]
  terms.kl = 0.5 * (mu * mu + var - 1.0 - logvar).sum().item<double>() * inv_b;   // [B,D] -> []
  terms.loss = terms.recon + beta * terms.kl;

  // Backward from dlogits [B,P] (above).
  mm_into(G("decoder.out.weight"), dlogits.t(), g2);                       // [P,B] x [B,K] -> [P,K]
  column_sum(G("decoder.out.bias"), dlogits);                             // [B,P] -> [P]
  at::mm_out(dk2, dlogits, W("decoder.out.weight"));                          // [B,P] -> [B,K]
  activation_backward(dk2, c2, g2);
  mm_into(G("decoder.fc2.weight"), dk2.t(), g1);                           // -> [K,K]
  column_sum(G("decoder.fc2.bias"), dk2);                                 // -> [K]
  at::mm_out(dk1, dk2, W("decoder.fc2.weight"));                              // [B,K] -> [B,K]
  activation_backward(dk1, c1, g1);
  mm_into(G("decoder.fc1.weight"), dk1.t(), z);                            // -> [K,D]
  column_sum(G("decoder.fc1.bias"), dk1);                                 // -> [K]
  at::mm_out(dz, dk1, W("decoder.fc1.weight"));                               // [B,K] -> [B,D]
  // Through z = mu + sd * eps, plus beta * KL: dKL/dmu = mu / B, dKL/dlogvar = (exp(logvar) - 1) / 2B.
  at::add_out(dmu, dz, mu, beta * inv_b);                                     // [B,D]
  at::mul_out(dlogvar, dz, eps).mul_(sd).mul_(0.5).add_(var - 1.0, 0.5 * beta * inv_b);  // [B,D]
  mm_into(G("encoder.mu.weight"), dmu.t(), h2);                            // -> [D,K]
  column_sum(G("encoder.mu.bias"), dmu);                                  // -> [D]
  mm_into(G("encoder.logvar.weight"), dlogvar.t(), h2);                    // -> [D,K]
  column_sum(G("encoder.logvar.bias"), dlogvar);                          // -> [D]
  at::mm_out(dk2, dmu, W("encoder.mu.weight")).addmm_(dlogvar, W("encoder.logvar.weight"));  // [B,D] -> [B,K]
  activation_backward(dk2, a2, h2);
  mm_into(G("encoder.fc2.weight"), dk2.t(), h1);                           // -> [K,K]
  column_sum(G("encoder.fc2.bias"), dk2);                                 // -> [K]
  at::mm_out(dk1, dk2, W("encoder.fc2.weight"));                              // [B,K] -> [B,K]
  activation_backward(dk1, a1, h1);
  mm_into(G("encoder.fc1.weight"), dk1.t(), x);                            // -> [K,P]
  column_sum(G("encoder.fc1.bias"), dk1);                                 // -> [K]
  return terms;
}

}  // namespace dvae
