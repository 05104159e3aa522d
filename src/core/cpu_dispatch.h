// Which code path every hand-written CPU kernel takes: AVX-512, AVX2+FMA or
// portable (baseline x86-64 / any other CPU). The one place that decides it:
// kernels ask kernel_path() and run the variant it names; nothing else tests
// CPU flags. The default is the best path this CPU runs (CPUID, core/runtime.h);
// set_kernel_path() chooses another one (the CLI passes DVAE_KERNEL_PATH down,
// tests force each path). Not for LibTorch's or OpenBLAS's own kernels, which
// dispatch themselves.
//
// Kernels that follow it: the fused Adam / SGD (training/flat_optimizer.cpp),
// the MLP steps' fused elementwise passes (training/mlp_kernels.cpp: the VAE
// step and the supervised baseline's step), the probe
// heads (evaluation/probe.cpp) and the GEMM path's col2im
// (models/conv_transpose.cpp). Paths differ only in float rounding.
#pragma once

#include <string>
#include <vector>

#include "core/runtime.h"

namespace dvae {

/// A kernel variant, from slowest to fastest.
enum class KernelPath {
  kScalar,  ///< portable C++ (SSE2 on x86-64: what the build targets)
  kAvx2,    ///< AVX2 + FMA, 256-bit
  kAvx512,  ///< AVX-512 F + VL, 512-bit
};

/// "scalar", "avx2" or "avx512".
const char* kernel_path_name(KernelPath path);

/// Parses "scalar" | "avx2" | "avx512"; throws dvae::UsageError naming what names the value
/// (e.g. "DVAE_KERNEL_PATH") otherwise.
KernelPath parse_kernel_path(const std::string& name, const std::string& what);

/// Whether cpu can execute path (scalar always; avx2 needs AVX2+FMA; avx512 needs AVX-512 F and VL too).
bool cpu_runs(KernelPath path, const CpuInfo& cpu);

/// The fastest path cpu runs.
KernelPath best_kernel_path(const CpuInfo& cpu);

/// Every path this CPU runs, scalar first (for tests that try each).
std::vector<KernelPath> runnable_kernel_paths();

/// The path every hand-written kernel takes now: best_kernel_path(cpu_info())
/// unless set_kernel_path chose another.
KernelPath kernel_path();

/// Makes every hand-written kernel take path from now on (process-wide); throws
/// dvae::Error naming the path when this CPU cannot execute it.
void set_kernel_path(KernelPath path);

/// Sets a kernel path for its lifetime and restores the previous one (tests).
class KernelPathScope {
 public:
  /// Switches to path (see set_kernel_path).
  explicit KernelPathScope(KernelPath path);
  ~KernelPathScope();
  KernelPathScope(const KernelPathScope&) = delete;
  KernelPathScope& operator=(const KernelPathScope&) = delete;

 private:
  KernelPath previous_;
};

}  // namespace dvae
