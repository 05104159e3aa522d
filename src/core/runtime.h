// The compute runtime: CPU features, which BLAS library and kernel LibTorch
// actually calls, thread configuration, and the device to run on. dvae's speed
// on CPU hangs on these (see README "Threads and BLAS").
#pragma once

#include <torch/torch.h>

#include <string>

namespace dvae {

/// CPU identity and the SIMD features that matter for fp32/bf16 kernels.
struct CpuInfo {
  std::string vendor;      ///< "GenuineIntel", "AuthenticAMD", ...
  std::string model_name;  ///< brand string
  int family = 0;          ///< display family
  int model = 0;           ///< display model
  bool avx2 = false;       ///< AVX2 + FMA
  bool avx512f = false;    ///< AVX-512 foundation
  bool avx512vl = false;   ///< AVX-512 vector length extensions (128/256-bit EVEX)
  bool avx512_bf16 = false;  ///< AVX-512 BF16
  bool amx = false;        ///< AMX tiles (bf16/int8 matrix units)
};

/// Reads the CPU's identity and features with cpuid.
CpuInfo cpu_info();

/// What is known about the BLAS library loaded into this process.
struct BlasInfo {
  std::string library;   ///< resolved path of the library defining sgemm_ (or "unknown")
  std::string vendor;    ///< "OpenBLAS", "BLIS", "reference", "unknown"
  std::string core;      ///< OpenBLAS kernel in use ("SkylakeX", "Haswell", "Prescott"...), or ""
  std::string config;    ///< OpenBLAS build configuration string, or ""
  int threads = 0;       ///< BLAS thread count when the library reports one
};

/// Describes the BLAS whose sgemm_ this process calls (the library that defines it).
BlasInfo blas_info();

/// True when the CPU has AVX-512 but the OpenBLAS kernel in use does not use it.
bool openblas_kernel_underuses_cpu(const CpuInfo& cpu, const BlasInfo& blas);

/// Sets LibTorch's intra-op threads and OpenBLAS's threads to n (n >= 1).
void set_threads(int n);

/// Max relative error of a float32 matrix product through LibTorch against a
/// float64 reference on a fixed pseudo-random problem (kernel sanity check).
double blas_self_check_error();

/// Measured sgemm rate through LibTorch (GFLOP/s) for an n x n x n product.
double sgemm_gflops(int64_t n, int repeats);

/// How many times slower a small biased product (addmm, [100,500] x [500,500]
/// + bias) runs than the same product as mm then an in-place add, on threads
/// threads in this process: about 1 normally; 4-140 where spinning OpenMP
/// workers starve the product (measured on 2-vCPU Intel machines with the
/// default wait policy). Takes a few tens of milliseconds.
double addmm_slowdown(int threads);

// How many distinct threads run the chunks of an at::parallel_for called from
// dvae's own code on `threads` intra-op threads (LibTorch's setting is restored).
// Below `threads` when dvae was built without LibTorch's OpenMP flag: the header
// template then runs every chunk on the calling thread.
int parallel_for_threads_used(int threads);

/// Resolves "auto" | "cpu" | "cuda" | "cuda:K" to a device; throws dvae::UsageError
/// naming --device when CUDA is asked for but not usable.
torch::Device resolve_device(const std::string& name);

}  // namespace dvae
