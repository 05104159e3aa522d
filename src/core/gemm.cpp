#include "core/gemm.h"

#include <atomic>

#include "core/check.h"

#ifdef DVAE_WITH_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#endif

namespace dvae {

namespace {

// -1: not chosen yet (the rule decides on first use).
std::atomic<int> g_backend{-1};

#ifdef DVAE_WITH_ONEDNN
// A 2-D float CPU matrix as BLAS sees it: 'N' with leading dimension ld for a
// row-major one, 'T' for the transpose of a row-major one; false otherwise.
bool as_operand(const torch::Tensor& x, char& trans, int64_t& ld) {
  if (x.dim() != 2 || x.scalar_type() != torch::kFloat32 || !x.device().is_cpu()) return false;
  const int64_t rows = x.size(0), cols = x.size(1);
  if (x.stride(1) == 1 && x.stride(0) >= std::max<int64_t>(1, cols)) {
    trans = 'N';
    ld = x.stride(0);
    return true;
  }
  if (x.stride(0) == 1 && x.stride(1) >= std::max<int64_t>(1, rows)) {
    trans = 'T';
    ld = x.stride(1);
    return true;
  }
  return false;
}

bool onednn_gemm(const torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b, bool accumulate) {
  char ta = 'N', tb = 'N', tc = 'N';
  int64_t lda = 0, ldb = 0, ldc = 0;
  if (!as_operand(a, ta, lda) || !as_operand(b, tb, ldb)) return false;
  if (!as_operand(out, tc, ldc) || tc != 'N') return false;  // out must be row-major
  const int64_t M = a.size(0), K = a.size(1), N = b.size(1);
  if (M == 0 || N == 0 || K == 0) return false;  // at::mm_out's semantics for empty products
  const dnnl_status_t s = dnnl_sgemm(ta, tb, M, N, K, 1.0f, a.data_ptr<float>(), lda, b.data_ptr<float>(), ldb,
                                     accumulate ? 1.0f : 0.0f, out.data_ptr<float>(), ldc);
  DVAE_CHECK(s == dnnl_success, "gemm: oneDNN's dnnl_sgemm failed (status ", static_cast<int>(s), ") on [", M, ",",
             K, "] x [", K, ",", N, "]");
  return true;
}
#endif

}  // namespace

const char* gemm_backend_name(GemmBackend backend) { return backend == GemmBackend::kOneDnn ? "onednn" : "blas"; }

bool onednn_available() {
#ifdef DVAE_WITH_ONEDNN
  return true;
#else
  return false;
#endif
}

GemmBackend parse_gemm_backend(const std::string& name, const std::string& what) {
  if (name == "blas") return GemmBackend::kBlas;
  if (name == "onednn") {
    DVAE_CHECK_USAGE(onednn_available(), what, "=onednn: this build has no oneDNN (install libdnnl-dev and rebuild)");
    return GemmBackend::kOneDnn;
  }
  throw UsageError(what + "=" + name + ": expected blas or onednn");
}

GemmBackend default_gemm_backend(const CpuInfo& cpu, std::string* why) {
  const auto say = [&](const char* text) {
    if (why) *why = text;
  };
  if (!onednn_available()) {
    say("this build has no oneDNN");
    return GemmBackend::kBlas;
  }
  if (cpu.avx512f && cpu.vendor == "AuthenticAMD" && cpu.family == 25) {
    say("AMD Zen 4 (family 25 with AVX-512): oneDNN measured 1.0-1.2x OpenBLAS at the steps' shapes");
    return GemmBackend::kOneDnn;
  }
  if (cpu.avx512f) {
    say("AVX-512 CPU: OpenBLAS's kernel (oneDNN not measured faster here)");
    return GemmBackend::kBlas;
  }
  if (cpu.avx2) {
    say("AVX2 CPU without AVX-512: oneDNN measured 1.15-1.4x OpenBLAS at the steps' shapes");
    return GemmBackend::kOneDnn;
  }
  say("no AVX2: the system BLAS");
  return GemmBackend::kBlas;
}

std::vector<GemmBackend> available_gemm_backends() {
  std::vector<GemmBackend> all{GemmBackend::kBlas};
  if (onednn_available()) all.push_back(GemmBackend::kOneDnn);
  return all;
}

GemmBackend gemm_backend() {
  int b = g_backend.load();
  if (b < 0) {
    b = static_cast<int>(default_gemm_backend(cpu_info()));
    int expected = -1;
    if (!g_backend.compare_exchange_strong(expected, b)) b = expected;
  }
  return static_cast<GemmBackend>(b);
}

void set_gemm_backend(GemmBackend backend) {
  DVAE_CHECK(backend == GemmBackend::kBlas || onednn_available(), "gemm backend onednn: this build has no oneDNN");
  g_backend = static_cast<int>(backend);
}

GemmBackendScope::GemmBackendScope(GemmBackend backend) : previous_(gemm_backend()) { set_gemm_backend(backend); }
GemmBackendScope::~GemmBackendScope() { set_gemm_backend(previous_); }

void gemm_out(const torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b, bool accumulate) {
  DVAE_CHECK(a.dim() == 2 && b.dim() == 2 && out.dim() == 2 && a.size(1) == b.size(0) && out.size(0) == a.size(0) &&
                 out.size(1) == b.size(1),
             "gemm: shapes ", out.sizes(), " = ", a.sizes(), " x ", b.sizes(), ", expected [M,N] = [M,K] x [K,N]");
#ifdef DVAE_WITH_ONEDNN
  if (gemm_backend() == GemmBackend::kOneDnn && onednn_gemm(out, a, b, accumulate)) return;
#endif
  torch::Tensor o = out;  // at::mm_out / addmm_ want an lvalue
  if (accumulate) {
    o.addmm_(a, b);
  } else {
    at::mm_out(o, a, b);
  }
}

}  // namespace dvae
