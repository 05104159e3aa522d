// CPU features through cpuid, the loaded BLAS through the dynamic linker, and
// thread control through LibTorch and (when present) OpenBLAS's C API.
#include "core/runtime.h"

#include <cpuid.h>
#include <dlfcn.h>
#include <link.h>

#include <atomic>
#include <chrono>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/check.h"
#include "core/torch_compat.h"

namespace dvae {

CpuInfo cpu_info() {
  CpuInfo info;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return info;
  const unsigned max_leaf = a;
  char vendor[13] = {};
  std::memcpy(vendor, &b, 4);
  std::memcpy(vendor + 4, &d, 4);
  std::memcpy(vendor + 8, &c, 4);
  info.vendor = vendor;
  __get_cpuid(1, &a, &b, &c, &d);
  const int base_family = (a >> 8) & 0xf;
  const int base_model = (a >> 4) & 0xf;
  info.family = base_family == 0xf ? base_family + ((a >> 20) & 0xff) : base_family;
  info.model = (base_family == 0x6 || base_family == 0xf) ? base_model + (((a >> 16) & 0xf) << 4) : base_model;
  const bool fma = c & (1u << 12);
  const bool osxsave = c & (1u << 27);
  unsigned long long xcr0 = 0;
  if (osxsave) {
    unsigned lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (static_cast<unsigned long long>(hi) << 32) | lo;
  }
  const bool avx_os = (xcr0 & 0x6) == 0x6;
  const bool avx512_os = (xcr0 & 0xe6) == 0xe6;
  const bool amx_os = (xcr0 & (3ull << 17)) == (3ull << 17);
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    info.avx2 = avx_os && fma && (b & (1u << 5));
    info.avx512f = avx512_os && (b & (1u << 16));
    info.avx512vl = info.avx512f && (b & (1u << 31));
    info.amx = amx_os && (d & (1u << 24)) && (d & (1u << 22));
    __cpuid_count(7, 1, a, b, c, d);
    info.avx512_bf16 = info.avx512f && (a & (1u << 5));
  }
  char brand[49] = {};
  if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000004) {
    for (unsigned leaf = 0; leaf < 3; ++leaf) {
      __get_cpuid(0x80000002 + leaf, &a, &b, &c, &d);
      std::memcpy(brand + leaf * 16, &a, 4);
      std::memcpy(brand + leaf * 16 + 4, &b, 4);
      std::memcpy(brand + leaf * 16 + 8, &c, 4);
      std::memcpy(brand + leaf * 16 + 12, &d, 4);
    }
  }
  info.model_name = brand;
  while (!info.model_name.empty() && info.model_name.back() == ' ') info.model_name.pop_back();
  return info;
}

namespace {

int find_blas(struct dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::string*>(data);
  const std::string name = info->dlpi_name ? info->dlpi_name : "";
  if (name.find("libblas") != std::string::npos || name.find("libopenblas") != std::string::npos ||
      name.find("libblis") != std::string::npos) {
    if (out->empty()) *out = name;
  }
  return 0;
}

template <typename Fn>
Fn blas_symbol(const char* name) {
  return reinterpret_cast<Fn>(::dlsym(RTLD_DEFAULT, name));
}

// The loaded library whose sgemm_ the process (and so LibTorch) calls, or "".
// Several BLAS libraries can be loaded at once: with BLIS's libblas.so.3 first
// on LD_LIBRARY_PATH, OpenBLAS's liblapack.so.3 still loads libopenblas.so.0,
// so the openblas_* symbols exist although sgemm_ resolves to BLIS.
std::string sgemm_provider() {
  void* sgemm = ::dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info where{};
  if (sgemm == nullptr || ::dladdr(sgemm, &where) == 0 || where.dli_fname == nullptr) return "";
  return where.dli_fname;
}

std::string canonical_or_same(const std::string& path) {
  std::error_code ec;
  const auto real = std::filesystem::canonical(path, ec);
  return ec ? path : real.string();
}

}  // namespace

BlasInfo blas_info() {
  BlasInfo info;
  std::string path = sgemm_provider();
  if (path.empty()) dl_iterate_phdr(find_blas, &path);
  info.library = path.empty() ? "unknown" : canonical_or_same(path);
  // Ask the sgemm_ provider (and the libraries it depends on) for OpenBLAS's
  // API, not the whole process, so that an OpenBLAS loaded only for LAPACK
  // is not mistaken for the BLAS in use.
  void* handle = path.empty() ? nullptr : ::dlopen(path.c_str(), RTLD_LAZY | RTLD_NOLOAD);
  auto symbol = [handle](const char* name) { return handle ? ::dlsym(handle, name) : ::dlsym(RTLD_DEFAULT, name); };
  using CharFn = char* (*)();
  using IntFn = int (*)();
  std::string lower = info.library;
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(ch));
  if (auto corename = reinterpret_cast<CharFn>(symbol("openblas_get_corename"))) {
    info.vendor = "OpenBLAS";
    info.core = corename();
    if (auto config = reinterpret_cast<CharFn>(symbol("openblas_get_config"))) info.config = config();
    if (auto threads = reinterpret_cast<IntFn>(symbol("openblas_get_num_threads"))) info.threads = threads();
  } else if (symbol("bli_info_get_version_str") || lower.find("blis") != std::string::npos) {
    // Debian's BLIS libblas.so.3 exports only the BLAS and CBLAS interfaces
    // (no bli_* symbols), so its folder (blis-openmp, blis-pthread...) names it.
    info.vendor = "BLIS";
  } else if (lower.find("/blas/") != std::string::npos) {
    info.vendor = "reference";
  } else {
    info.vendor = "unknown";
  }
  if (handle) ::dlclose(handle);
  return info;
}

bool openblas_kernel_underuses_cpu(const CpuInfo& cpu, const BlasInfo& blas) {
  if (blas.vendor != "OpenBLAS" || !cpu.avx512f) return false;
  static const char* kAvx512Cores[] = {"skylakex", "cooperlake", "sapphirerapids"};
  std::string core = blas.core;
  for (auto& ch : core) ch = static_cast<char>(std::tolower(ch));
  for (const char* k : kAvx512Cores) {
    if (core == k) return false;
  }
  return true;
}

void set_threads(int n) {
  DVAE_CHECK_USAGE(n >= 1, "--threads: expected a positive thread count, got ", n);
  torch::set_num_threads(n);
  using SetFn = void (*)(int);
  if (auto set = blas_symbol<SetFn>("openblas_set_num_threads")) set(n);
}

double blas_self_check_error() {
  const int64_t m = 67, k = 129, n = 45;
  auto a = torch::empty({m, k}, torch::kFloat64);
  auto b = torch::empty({k, n}, torch::kFloat64);
  auto* pa = a.data_ptr<double>();
  auto* pb = b.data_ptr<double>();
  uint64_t s = 12345;
  auto next = [&s]() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>((s >> 33) % 2001) / 1000.0 - 1.0;
  };
  for (int64_t i = 0; i < m * k; ++i) pa[i] = next();
  for (int64_t i = 0; i < k * n; ++i) pb[i] = next();
  auto ref = torch::zeros({m, n}, torch::kFloat64);
  auto* pr = ref.data_ptr<double>();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p)
      for (int64_t j = 0; j < n; ++j) pr[i * n + j] += pa[i * k + p] * pb[p * n + j];
  auto got = torch::mm(a.to(torch::kFloat32), b.to(torch::kFloat32)).to(torch::kFloat64);
  return ((got - ref).abs().max() / ref.abs().max()).item<double>();
}

double sgemm_gflops(int64_t n, int repeats) {
  torch::NoGradGuard no_grad;
  auto a = torch::randn({n, n});
  auto b = torch::randn({n, n});
  auto c = torch::mm(a, b);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) torch::mm_out(c, a, b);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return 2.0 * static_cast<double>(n) * n * n * repeats / seconds / 1e9;
}

double addmm_slowdown(int threads) {
  torch::NoGradGuard no_grad;
  const int before = at::get_num_threads();
  at::set_num_threads(threads);
  const auto x = torch::randn({100, 500});
  const auto w = torch::randn({500, 500});
  const auto bias = torch::randn({500});
  auto out = torch::empty({100, 500});
  const auto time = [&](bool biased) {
    constexpr int kRepeats = 20;
    for (int i = 0; i < 3; ++i) biased ? (void)torch::addmm_out(out, bias, x, w) : (void)torch::mm_out(out, x, w);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kRepeats; ++i) {
      if (biased) {
        torch::addmm_out(out, bias, x, w);
      } else {
        torch::mm_out(out, x, w).add_(bias);
      }
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  // Interleaved, best of three, so that a hiccup of the machine does not decide.
  double biased = 1e30, plain = 1e30;
  for (int round = 0; round < 3; ++round) {
    biased = std::min(biased, time(true));
    plain = std::min(plain, time(false));
  }
  at::set_num_threads(before);
  return biased / plain;
}

int parallel_for_threads_used(int threads) {
  const int before = at::get_num_threads();
  at::set_num_threads(threads);
  std::vector<std::atomic<int>> ran(static_cast<size_t>(threads));
  at::parallel_for(0, 64 * static_cast<int64_t>(threads), 1, [&](int64_t, int64_t) {
    const int t = at::get_thread_num();
    if (t >= 0 && t < threads) ran[static_cast<size_t>(t)].store(1);
  });
  at::set_num_threads(before);
  int used = 0;
  for (const auto& r : ran) used += r.load();
  return used;
}

torch::Device resolve_device(const std::string& name) {
  if (name == "auto") return compat::cuda_usable() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  if (name == "cpu") return torch::Device(torch::kCPU);
  if (name.rfind("cuda", 0) == 0) {
    DVAE_CHECK_USAGE(compat::cuda_usable(), "--device ", name,
                     ": CUDA is not usable (this LibTorch build has no CUDA or no GPU is present); use --device cpu");
    try {
      return torch::Device(name);
    } catch (const std::exception&) {
      throw UsageError("--device " + name + ": expected auto, cpu, cuda or cuda:K");
    }
  }
  throw UsageError("--device " + name + ": expected auto, cpu, cuda or cuda:K");
}

}  // namespace dvae
