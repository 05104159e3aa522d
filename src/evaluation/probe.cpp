// Fused, allocation-free training of stacked probe heads (see probe.h).
#include "evaluation/probe.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <numeric>
#include <thread>

#include "core/check.h"
#include "core/cpu_dispatch.h"
#include "core/random.h"
#include "core/simd.h"

namespace dvae {

namespace {

// Layout of one head's P parameters inside its row of the stacked buffer:
// [hidden_weight F*H | hidden_bias H | weight K*C | bias C], K = H or F.
struct Layout {
  int64_t f = 0, h = 0, c = 0, k = 0;
  int64_t w1 = 0, b1 = 0, w2 = 0, b2 = 0, size = 0;
  Layout(int64_t features, int64_t hidden, int64_t classes) : f(features), h(hidden), c(classes) {
    k = h > 0 ? h : f;
    w1 = 0;
    b1 = w1 + f * h;
    w2 = b1 + h;
    b2 = w2 + k * c;
    size = b2 + c;
  }
};

void check_task(const ProbeTask& t, size_t i) {
  DVAE_CHECK(t.features.defined() && t.features.dim() == 2 && t.features.scalar_type() == torch::kFloat &&
                 t.features.is_contiguous() && t.features.device().is_cpu(),
             "train_probes: task ", i, " features must be a contiguous float [N,F] CPU tensor");
  DVAE_CHECK(t.labels.defined() && t.labels.dim() == 1 && t.labels.scalar_type() == torch::kLong &&
                 t.labels.is_contiguous() && t.labels.size(0) == t.features.size(0),
             "train_probes: task ", i, " labels must be contiguous int64 [N] with N = ", t.features.size(0));
  DVAE_CHECK(t.subset.defined() && t.subset.dim() == 1 && t.subset.scalar_type() == torch::kLong &&
                 t.subset.numel() > 0,
             "train_probes: task ", i, " subset must be a non-empty int64 [M] tensor");
  DVAE_CHECK(t.num_classes > 0, "train_probes: task ", i, " num_classes ", t.num_classes, ", expected > 0");
  if (t.validation.defined()) {
    DVAE_CHECK(t.validation.dim() == 1 && t.validation.scalar_type() == torch::kLong &&
                   t.validation.is_contiguous() && t.validation.numel() > 0 &&
                   t.validation.min().item<int64_t>() >= 0 &&
                   t.validation.max().item<int64_t>() < t.features.size(0),
               "train_probes: task ", i, " validation must be non-empty contiguous int64 rows in [0, ",
               t.features.size(0), ")");
  }
  const auto s = t.subset;
  DVAE_CHECK(s.min().item<int64_t>() >= 0 && s.max().item<int64_t>() < t.features.size(0), "train_probes: task ",
             i, " subset indices outside [0, ", t.features.size(0), ")");
  const auto y = t.labels.index_select(0, s);
  DVAE_CHECK(y.min().item<int64_t>() >= 0 && y.max().item<int64_t>() < t.num_classes, "train_probes: task ", i,
             " labels outside [0, ", t.num_classes, ")");
}

// Mean cross-entropy of the head in params on rows (plain scalar code: it runs
// once per epoch on a few hundred rows, outside the hot loop).
double head_loss(const float* params, const Layout& L, const float* feat, const int64_t* labels,
                 const torch::Tensor& rows) {
  const auto* r = rows.data_ptr<int64_t>();
  const int64_t V = rows.numel();
  std::vector<double> in(static_cast<size_t>(L.k)), z(static_cast<size_t>(L.c));
  double sum = 0.0;
  for (int64_t i = 0; i < V; ++i) {
    const float* x = feat + r[i] * L.f;  // [F]
    if (L.h > 0) {
      for (int64_t j = 0; j < L.h; ++j) {
        double a = params[L.b1 + j];
        for (int64_t f = 0; f < L.f; ++f) a += static_cast<double>(params[L.w1 + f * L.h + j]) * x[f];
        in[j] = a > 0 ? a : 0.0;
      }
    } else {
      for (int64_t f = 0; f < L.f; ++f) in[f] = x[f];
    }
    double mx = -INFINITY;
    for (int64_t c = 0; c < L.c; ++c) {
      double a = params[L.b2 + c];
      for (int64_t k = 0; k < L.k; ++k) a += static_cast<double>(params[L.w2 + k * L.c + c]) * in[k];
      z[c] = a;
      mx = std::max(mx, a);
    }
    double se = 0.0;
    for (int64_t c = 0; c < L.c; ++c) se += std::exp(z[c] - mx);
    sum += std::log(se) + mx - z[labels[r[i]]];
  }
  return V > 0 ? sum / static_cast<double>(V) : 0.0;
}

// The kernel works on blocks of W examples held in GCC/Clang vector types
// (core/simd.h), with activations stored transposed ([features][example blocks])
// so that every inner loop runs over examples. It is compiled three times - W = 16
// for AVX-512, W = 8 for AVX2+FMA and W = 8 for baseline x86-64 (pairs of SSE
// registers) - and kernel_path() (core/cpu_dispatch.h) picks one. Paths differ
// only in rounding; on one path results never depend on threads or stacking.
// A 64-byte aligned array of T (std::allocator does not promise that alignment).
template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { std::free(data_); }
  // Makes room for count elements (contents are not kept) and returns the array.
  T* reserve(size_t count) {
    count = std::max<size_t>(count, 1);
    if (count > size_) {
      std::free(data_);
      const size_t bytes = (count * sizeof(T) + 63) / 64 * 64;
      data_ = static_cast<T*>(std::aligned_alloc(64, bytes));
      DVAE_CHECK(data_ != nullptr, "train_probes: out of memory for ", bytes, " bytes of scratch");
      size_ = count;
    }
    return data_;
  }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

// Per-thread scratch, [rows][blocks] of W-lane vectors each; grown, never shrunk.
struct Scratch {
  AlignedBuffer<float> x, hid, z, dh;  // XT [F][NB], HT [H][NB], ZT/G [C][NB], DH [H][NB] (x W lanes)
  AlignedBuffer<float> m, sum;         // [NB] row max and softmax denominators (x W lanes)
  AlignedBuffer<float> rows;        // [M][S] the subset's features and label, one cache line per row for F < 16
  std::vector<float> grad;          // [P]
};

// Adam (Kingma and Ba 2014) over one head's P parameters, in the order of
// torch::optim::Adam; kVectorSqrt: W lanes at a time (needs the AVX targets).
template <int W, bool kVectorSqrt>
DVAE_SIMD_INLINE void adam_update(float* params, float* am, float* av, const float* g, int64_t size, float b1,
                                  float b2, float eps, float step_size, float inv_sqrt_bc2) {
  int64_t p = 0;
  if constexpr (kVectorSqrt) {
    using V = typename simd::Vec<W>::F;
    for (; p + W <= size; p += W) {
      const V gp = simd::load<V>(g + p);
      const V mp = simd::load<V>(am + p) * b1 + gp * (1.0f - b1);
      const V vp = simd::load<V>(av + p) * b2 + gp * gp * (1.0f - b2);
      simd::store(am + p, mp);
      simd::store(av + p, vp);
      simd::store(params + p, simd::load<V>(params + p) - step_size * mp / (simd::sqrt(vp) * inv_sqrt_bc2 + eps));
    }
  }
  for (; p < size; ++p) {
    const float gp = g[p];
    am[p] = am[p] * b1 + gp * (1.0f - b1);
    av[p] = av[p] * b2 + gp * gp * (1.0f - b2);
    params[p] -= step_size * am[p] / (std::sqrt(av[p]) * inv_sqrt_bc2 + eps);
  }
}

// Trains one head in place: params/m/v are its rows [P] of the stacked buffers.
template <int W, bool kVectorSqrt>
DVAE_SIMD_INLINE void train_one_body(const ProbeTask& task, const ProbeOptions& opt, const Layout& L, float* params,
                                float* am, float* av, Scratch& s, ProbeFit& fit) {
  const auto t0 = std::chrono::steady_clock::now();
  const float* feat = task.features.data_ptr<float>();
  const int64_t* labels = task.labels.data_ptr<int64_t>();
  const auto subset_c = task.subset.contiguous();
  const int64_t* subset = subset_c.data_ptr<int64_t>();
  const int64_t M = task.subset.numel();
  const int64_t B = std::min(opt.batch_size, M);
  const int64_t NB = (B + W - 1) / W;  // example blocks of a full batch
  const int64_t F = L.f, H = L.h, C = L.c, K = L.k;

  // Initialisation as torch::nn::Linear: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  Rng rng(task.seed);
  auto uniform_fill = [&](int64_t offset, int64_t count, int64_t fan_in) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    for (int64_t i = 0; i < count; ++i) params[offset + i] = static_cast<float>((2.0 * rng.uniform() - 1.0) * bound);
  };
  if (H > 0) {
    uniform_fill(L.w1, F * H, F);
    uniform_fill(L.b1, H, F);
  }
  uniform_fill(L.w2, K * C, K);
  uniform_fill(L.b2, C, K);
  std::fill(am, am + L.size, 0.0f);
  std::fill(av, av + L.size, 0.0f);

  using V = typename simd::Vec<W>::F;  // W examples
  using VI = typename simd::Vec<W>::I;
  constexpr int64_t kLanes = W;
  const auto lanes = [](AlignedBuffer<float>& b, int64_t count) { return reinterpret_cast<V*>(b.reserve(count * W)); };
  V* X = lanes(s.x, F * NB);
  V* HT = lanes(s.hid, H * NB);
  V* DH = lanes(s.dh, H * NB);
  V* Z = lanes(s.z, C * NB);
  V* MX = lanes(s.m, NB);
  V* SM = lanes(s.sum, NB);
  s.grad.resize(std::max<size_t>(s.grad.size(), L.size));
  float* g = s.grad.data();

  // The subset packed once: row j = features of subset[j], then its label (exact in
  // float below 2^24), padded to S floats, so a minibatch gathers whole cache lines.
  const int64_t S = (F + 1 + 15) / 16 * 16;
  float* packed = s.rows.reserve(M * S);
  for (int64_t j = 0; j < M; ++j) {
    std::copy(feat + subset[j] * F, feat + subset[j] * F + F, packed + j * S);
    packed[j * S + F] = static_cast<float>(labels[subset[j]]);
  }
  std::vector<uint32_t> order(M);  // 32-bit: half the cache footprint of the shuffle
  std::iota(order.begin(), order.end(), 0u);
  std::vector<const float*> rows(B);
  std::vector<int64_t> ys(B);
  std::vector<float> zy(B);
  fit.epoch_loss.assign(opt.epochs, 0.0);
  int64_t step = 0;
  const float b1 = static_cast<float>(opt.beta1), b2 = static_cast<float>(opt.beta2);
  const float eps = static_cast<float>(opt.eps);

  for (int64_t epoch = 0; epoch < opt.epochs; ++epoch) {
    rng.shuffle(order);
    double epoch_sum = 0.0;
    for (int64_t start = 0, batch_no = 0; start < M; start += B, ++batch_no) {
      const int64_t nb = std::min(B, M - start);
      const int64_t blocks = (nb + kLanes - 1) / kLanes;
      const float inv_b = 1.0f / static_cast<float>(nb);
      // Gather the batch transposed: X[f][block][lane], zero padding lanes.
      for (int64_t i = 0; i < nb; ++i) {
        rows[i] = packed + static_cast<int64_t>(order[start + i]) * S;
        ys[i] = static_cast<int64_t>(rows[i][F]);
      }
      for (int64_t f = 0; f < F; ++f) X[f * NB + blocks - 1] = simd::splat<V>(0.0f);
      for (int64_t i = 0; i < nb; ++i) {
        const float* x = rows[i];  // [F]
        for (int64_t f = 0; f < F; ++f) X[f * NB + i / kLanes][i % kLanes] = x[f];
      }
      // Hidden layer: HT[j] = relu(b1[j] + sum_f w1[f,j] X[f]).
      const V* IN = X;  // [K][NB] input of the output layer
      if (H > 0) {
        const float* w1 = params + L.w1;  // [F,H]
        for (int64_t j = 0; j < H; ++j) {
          V* h = HT + j * NB;
          for (int64_t q = 0; q < blocks; ++q) h[q] = simd::splat<V>(params[L.b1 + j]);
          for (int64_t f = 0; f < F; ++f) {
            const V w = simd::splat<V>(w1[f * H + j]);
            const V* xf = X + f * NB;
            for (int64_t q = 0; q < blocks; ++q) h[q] += w * xf[q];
          }
          for (int64_t q = 0; q < blocks; ++q) h[q] = h[q] > 0.0f ? h[q] : simd::splat<V>(0.0f);
        }
        IN = HT;
      }
      // Logits Z[c] = b2[c] + sum_k w2[k,c] IN[k]: [K][NB] -> [C][NB].
      const float* w2 = params + L.w2;  // [K,C]
      for (int64_t c = 0; c < C; ++c) {
        V* zc = Z + c * NB;
        for (int64_t q = 0; q < blocks; ++q) zc[q] = simd::splat<V>(params[L.b2 + c]);
        for (int64_t k = 0; k < K; ++k) {
          const V w = simd::splat<V>(w2[k * C + c]);
          const V* ik = IN + k * NB;
          for (int64_t q = 0; q < blocks; ++q) zc[q] += w * ik[q];
        }
      }
      // Softmax and cross-entropy per example (lane).
      for (int64_t q = 0; q < blocks; ++q) MX[q] = Z[q];
      for (int64_t c = 1; c < C; ++c) {
        for (int64_t q = 0; q < blocks; ++q) MX[q] = Z[c * NB + q] > MX[q] ? Z[c * NB + q] : MX[q];
      }
      for (int64_t i = 0; i < nb; ++i) zy[i] = Z[ys[i] * NB + i / kLanes][i % kLanes] - MX[i / kLanes][i % kLanes];
      for (int64_t q = 0; q < blocks; ++q) SM[q] = simd::splat<V>(0.0f);
      for (int64_t c = 0; c < C; ++c) {
        for (int64_t q = 0; q < blocks; ++q) {
          Z[c * NB + q] = simd::exp<V, VI>(Z[c * NB + q] - MX[q]);  // unnormalised probabilities
          SM[q] += Z[c * NB + q];
        }
      }
      // Loss = sum_i log(S_i) - zy_i. S_i lies in [1, C], so products of 16 of them
      // stay finite in double: one log per 16 examples instead of one each.
      double batch_sum = 0.0;
      for (int64_t i0 = 0; i0 < nb; i0 += 16) {
        double prod = 1.0;
        for (int64_t i = i0; i < std::min(nb, i0 + 16); ++i) {
          prod *= static_cast<double>(SM[i / kLanes][i % kLanes]);
          batch_sum -= static_cast<double>(zy[i]);
        }
        batch_sum += std::log(prod);
      }
      DVAE_CHECK(std::isfinite(batch_sum), "train_probes: non-finite loss at epoch ", epoch + 1, " batch ",
                 batch_no + 1, ", expected finite (lower the probe learning rate?)");
      epoch_sum += batch_sum;
      // dL/dZ = (softmax - onehot) / nb, zero in padding lanes.
      V last_mask = simd::splat<V>(0.0f);
      for (int64_t l = 0; l < kLanes; ++l) last_mask[l] = (blocks - 1) * kLanes + l < nb ? 1.0f : 0.0f;
      for (int64_t q = 0; q < blocks; ++q) SM[q] = inv_b / SM[q];
      SM[blocks - 1] *= last_mask;
      for (int64_t c = 0; c < C; ++c) {
        for (int64_t q = 0; q < blocks; ++q) Z[c * NB + q] *= SM[q];
      }
      for (int64_t i = 0; i < nb; ++i) Z[ys[i] * NB + i / kLanes][i % kLanes] -= inv_b;
      // Output layer gradients: gw2[k,c] = sum_i IN[k,i] G[c,i], gb2[c] = sum_i G[c,i].
      for (int64_t c = 0; c < C; ++c) {
        const V* gc = Z + c * NB;
        V acc = simd::splat<V>(0.0f);
        for (int64_t q = 0; q < blocks; ++q) acc += gc[q];
        g[L.b2 + c] = simd::hsum(acc);
        for (int64_t k = 0; k < K; ++k) {
          const V* ik = IN + k * NB;
          V a = simd::splat<V>(0.0f);
          for (int64_t q = 0; q < blocks; ++q) a += ik[q] * gc[q];
          g[L.w2 + k * C + c] = simd::hsum(a);
        }
      }
      if (H > 0) {
        // DH[j] = [HT[j] > 0] * sum_c w2[j,c] G[c]; gw1[f,j] = sum_i X[f,i] DH[j,i].
        for (int64_t j = 0; j < H; ++j) {
          V* d = DH + j * NB;
          for (int64_t q = 0; q < blocks; ++q) d[q] = simd::splat<V>(0.0f);
          for (int64_t c = 0; c < C; ++c) {
            const V w = simd::splat<V>(w2[j * C + c]);
            const V* gc = Z + c * NB;
            for (int64_t q = 0; q < blocks; ++q) d[q] += w * gc[q];
          }
          const V* h = HT + j * NB;
          V acc = simd::splat<V>(0.0f);
          for (int64_t q = 0; q < blocks; ++q) {
            d[q] = h[q] > 0.0f ? d[q] : simd::splat<V>(0.0f);
            acc += d[q];
          }
          g[L.b1 + j] = simd::hsum(acc);
          for (int64_t f = 0; f < F; ++f) {
            const V* xf = X + f * NB;
            V a = simd::splat<V>(0.0f);
            for (int64_t q = 0; q < blocks; ++q) a += xf[q] * d[q];
            g[L.w1 + f * H + j] = simd::hsum(a);
          }
        }
      }
      // Adam (Kingma and Ba 2014), in the order of torch::optim::Adam.
      ++step;
      const double bc1 = 1.0 - std::pow(opt.beta1, static_cast<double>(step));
      const double bc2 = 1.0 - std::pow(opt.beta2, static_cast<double>(step));
      const float step_size = static_cast<float>(opt.lr / bc1);
      const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
      adam_update<W, kVectorSqrt>(params, am, av, g, L.size, b1, b2, eps, step_size, inv_sqrt_bc2);
    }
    fit.epoch_loss[epoch] = epoch_sum / static_cast<double>(M);
    if (task.validation.defined()) fit.validation_loss.push_back(head_loss(params, L, feat, labels, task.validation));
  }
  fit.final_loss = fit.epoch_loss.empty() ? 0.0 : fit.epoch_loss.back();
  fit.epochs_to_convergence = task.validation.defined()
                                  ? best_epoch(fit.validation_loss)
                                  : epochs_to_convergence(fit.epoch_loss, opt.convergence_tolerance);
  fit.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

DVAE_TARGET_AVX512 void train_one_avx512(const ProbeTask& task, const ProbeOptions& opt, const Layout& L,
                                         float* params, float* am, float* av, Scratch& s, ProbeFit& fit) {
  train_one_body<16, true>(task, opt, L, params, am, av, s, fit);
}

DVAE_TARGET_AVX2 void train_one_avx2(const ProbeTask& task, const ProbeOptions& opt, const Layout& L, float* params,
                                     float* am, float* av, Scratch& s, ProbeFit& fit) {
  train_one_body<8, true>(task, opt, L, params, am, av, s, fit);
}

void train_one_baseline(const ProbeTask& task, const ProbeOptions& opt, const Layout& L, float* params, float* am,
                        float* av, Scratch& s, ProbeFit& fit) {
  train_one_body<8, false>(task, opt, L, params, am, av, s, fit);
}

using TrainOne = void (*)(const ProbeTask&, const ProbeOptions&, const Layout&, float*, float*, float*, Scratch&,
                          ProbeFit&);

// The variant of the kernel for path.
TrainOne train_one_kernel(KernelPath path) {
  switch (path) {
    case KernelPath::kAvx512: return train_one_avx512;
    case KernelPath::kAvx2: return train_one_avx2;
    case KernelPath::kScalar: break;
  }
  return train_one_baseline;
}

}  // namespace

std::vector<ProbeFit> train_probes(const std::vector<ProbeTask>& tasks, const ProbeOptions& options, int threads) {
  DVAE_CHECK(options.epochs > 0, "train_probes: epochs ", options.epochs, ", expected > 0");
  DVAE_CHECK(options.batch_size > 0, "train_probes: batch size ", options.batch_size, ", expected > 0");
  DVAE_CHECK(options.hidden >= 0, "train_probes: hidden width ", options.hidden, ", expected >= 0");
  DVAE_CHECK(options.lr > 0, "train_probes: learning rate ", options.lr, ", expected > 0");
  const auto T = static_cast<int64_t>(tasks.size());
  std::vector<ProbeFit> fits(tasks.size());
  if (T == 0) return fits;
  std::vector<Layout> layouts;
  int64_t max_p = 0;
  for (size_t i = 0; i < tasks.size(); ++i) {
    check_task(tasks[i], i);
    layouts.emplace_back(tasks[i].features.size(1), options.hidden, tasks[i].num_classes);
    max_p = std::max(max_p, layouts.back().size);
  }
  // Stacked parameters and Adam moments of all heads: [T,P] each.
  auto params = torch::zeros({T, max_p}, torch::kFloat);
  auto m = torch::zeros({T, max_p}, torch::kFloat);
  auto v = torch::zeros({T, max_p}, torch::kFloat);

  // Longest heads first, handed out dynamically, so threads finish together.
  std::vector<int64_t> queue(T);
  std::iota(queue.begin(), queue.end(), 0);
  auto cost = [&](int64_t i) {
    return static_cast<double>(tasks[i].subset.numel()) * static_cast<double>(layouts[i].size);
  };
  std::stable_sort(queue.begin(), queue.end(), [&](int64_t a, int64_t b) { return cost(a) > cost(b); });
  std::atomic<int64_t> next{0};
  const TrainOne train_one = train_one_kernel(kernel_path());
  auto worker = [&]() {
    Scratch scratch;
    for (int64_t q = next++; q < T; q = next++) {
      const int64_t i = queue[q];
      train_one(tasks[i], options, layouts[i], params[i].data_ptr<float>(), m[i].data_ptr<float>(),
                v[i].data_ptr<float>(), scratch, fits[i]);
    }
  };
  const int n_threads =
      static_cast<int>(std::min<int64_t>(T, threads > 0 ? threads : std::max(1, torch::get_num_threads())));
  if (n_threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    std::vector<std::exception_ptr> errors(n_threads);
    for (int w = 0; w < n_threads; ++w) {
      pool.emplace_back([&, w]() {
        try {
          worker();
        } catch (...) {
          errors[w] = std::current_exception();
          next = T;
        }
      });
    }
    for (auto& th : pool) th.join();
    for (auto& e : errors) {
      if (e) std::rethrow_exception(e);
    }
  }
  for (int64_t i = 0; i < T; ++i) {
    const Layout& L = layouts[i];
    const auto row = params[i];  // [P]
    ProbeHead& h = fits[i].head;
    if (L.h > 0) {
      h.hidden_weight = row.slice(0, L.w1, L.b1).view({L.f, L.h}).clone();
      h.hidden_bias = row.slice(0, L.b1, L.w2).clone();
    }
    h.weight = row.slice(0, L.w2, L.b2).view({L.k, L.c}).clone();
    h.bias = row.slice(0, L.b2, L.size).clone();
  }
  return fits;
}

torch::Tensor probe_logits(const ProbeHead& head, const torch::Tensor& features) {
  DVAE_CHECK(head.weight.defined(), "probe_logits: head has no weights, expected a trained head");
  auto x = features.to(torch::kFloat);
  if (head.hidden_weight.defined()) {
    x = torch::relu(torch::addmm(head.hidden_bias, x, head.hidden_weight));  // [N,F] -> [N,H]
  }
  return torch::addmm(head.bias, x, head.weight);  // [N,K] -> [N,C]
}

torch::Tensor probe_predict(const ProbeHead& head, const torch::Tensor& features) {
  return probe_logits(head, features).argmax(1);  // [N,C] -> [N]
}

int64_t best_epoch(const std::vector<double>& validation_loss) {
  if (validation_loss.empty()) return 0;
  return static_cast<int64_t>(std::min_element(validation_loss.begin(), validation_loss.end()) -
                              validation_loss.begin()) + 1;
}

int64_t epochs_to_convergence(const std::vector<double>& epoch_loss, double tolerance) {
  if (epoch_loss.empty()) return 0;
  const double final_loss = epoch_loss.back();
  const double peak = *std::max_element(epoch_loss.begin(), epoch_loss.end());
  const double band = tolerance * std::max(0.0, peak - final_loss);
  int64_t e = static_cast<int64_t>(epoch_loss.size());
  while (e > 0 && std::abs(epoch_loss[e - 1] - final_loss) <= band) --e;
  return e + 1;  // the last epoch is always inside the band, so e + 1 <= size
}

}  // namespace dvae
