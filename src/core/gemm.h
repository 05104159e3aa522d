// The matrix products of the hand-written MLP steps (training/mlp_step.h, the
// VAE's; evaluation/supervised_step.h, the supervised baseline's) and of the
// step-bound benchmark: one function, two libraries behind it.
//
//   blas    at::mm_out, i.e. the system BLAS LibTorch calls (OpenBLAS);
//   onednn  oneDNN's dnnl_sgemm (the library Debian's LibTorch already loads
//           for its convolutions), with its own JIT AVX2 / AVX-512 kernels.
//
// At the steps' shapes (batch 100 against 784 x 500 and 500 x 500 weights)
// oneDNN's sgemm ran the 20 products of an MLP VAE step 1.15x (1 thread) and
// 1.4x (2 threads) as fast as OpenBLAS 0.3.21's Zen kernel on an AMD EPYC Zen 3
// (bench/step_bound.cpp --gemm, interleaved); on an AMD EPYC Zen 4 (family 25
// model 17, AVX-512) against OpenBLAS's Cooperlake kernel, 1.0-1.03x (1 thread)
// and 1.0-1.12x (2 threads), and the supervised step 1.0-1.1x / 1.15-2.1x. The
// default is therefore onednn on CPUs with AVX2 but no AVX-512 and on AMD family
// 25 with AVX-512 (Zen 4), where that was measured, and blas (OpenBLAS's SkylakeX
// kernel, measured there) on other AVX-512 CPUs (the Intel Xeon, Zen 5). The choice is a rule on the
// CPU, never a timing, so a seed gives the same numbers on the same machine;
// DVAE_GEMM=blas|onednn overrides it (read once, in cli/app.cpp). Builds without
// oneDNN's headers (DVAE_WITH_ONEDNN undefined) have blas only. The two
// libraries differ only in float rounding.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/runtime.h"

namespace dvae {

enum class GemmBackend {
  kBlas,    ///< at::mm_out (the system BLAS)
  kOneDnn,  ///< dnnl_sgemm
};

/// "blas" or "onednn".
const char* gemm_backend_name(GemmBackend backend);

/// Parses "blas" | "onednn"; throws dvae::UsageError naming `what` (e.g. "DVAE_GEMM")
/// for any other value, or for "onednn" when this build has no oneDNN.
GemmBackend parse_gemm_backend(const std::string& name, const std::string& what);

/// Whether this build can call oneDNN's sgemm.
bool onednn_available();

/// The rule's choice for cpu (see the header comment) and why, in a few words.
GemmBackend default_gemm_backend(const CpuInfo& cpu, std::string* why = nullptr);

/// The backends this build runs (blas first; for tests that try each).
std::vector<GemmBackend> available_gemm_backends();

/// The backend gemm_out uses now: default_gemm_backend(cpu_info()) unless set_gemm_backend chose another.
GemmBackend gemm_backend();

/// Makes gemm_out use backend from now on (process-wide).
void set_gemm_backend(GemmBackend backend);

/// Sets a backend for its lifetime and restores the previous one (tests, benchmarks).
class GemmBackendScope {
 public:
  explicit GemmBackendScope(GemmBackend backend);
  ~GemmBackendScope();
  GemmBackendScope(const GemmBackendScope&) = delete;
  GemmBackendScope& operator=(const GemmBackendScope&) = delete;

 private:
  GemmBackend previous_;
};

/// out [M,N] = a [M,K] b [K,N], or out += a b when accumulate, float32 on CPU.
/// a and b may be row-major matrices or transposes of them (x.t() views); out is
/// row-major (a row stride >= N, e.g. a gradient view). Anything else (other
/// layouts, dtypes or devices) goes through at::mm_out / addmm_ whatever the backend.
void gemm_out(const torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b, bool accumulate = false);

}  // namespace dvae
