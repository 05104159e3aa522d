// The process-wide kernel path (see cpu_dispatch.h).
#include "core/cpu_dispatch.h"

#include <atomic>

#include "core/check.h"

namespace dvae {
namespace {

constexpr int kUnset = -1;
std::atomic<int> g_path{kUnset};

}  // namespace

const char* kernel_path_name(KernelPath path) {
  switch (path) {
    case KernelPath::kScalar: return "scalar";
    case KernelPath::kAvx2: return "avx2";
    case KernelPath::kAvx512: return "avx512";
  }
  return "?";
}

KernelPath parse_kernel_path(const std::string& name, const std::string& what) {
  for (KernelPath p : {KernelPath::kScalar, KernelPath::kAvx2, KernelPath::kAvx512}) {
    if (name == kernel_path_name(p)) return p;
  }
  throw UsageError(what + "=" + name + ": expected scalar, avx2 or avx512");
}

bool cpu_runs(KernelPath path, const CpuInfo& cpu) {
  switch (path) {
    case KernelPath::kScalar: return true;
    case KernelPath::kAvx2: return cpu.avx2;
    case KernelPath::kAvx512: return cpu.avx2 && cpu.avx512f && cpu.avx512vl;
  }
  return false;
}

KernelPath best_kernel_path(const CpuInfo& cpu) {
  if (cpu_runs(KernelPath::kAvx512, cpu)) return KernelPath::kAvx512;
  if (cpu_runs(KernelPath::kAvx2, cpu)) return KernelPath::kAvx2;
  return KernelPath::kScalar;
}

std::vector<KernelPath> runnable_kernel_paths() {
  const CpuInfo cpu = cpu_info();
  std::vector<KernelPath> paths;
  for (KernelPath p : {KernelPath::kScalar, KernelPath::kAvx2, KernelPath::kAvx512}) {
    if (cpu_runs(p, cpu)) paths.push_back(p);
  }
  return paths;
}

KernelPath kernel_path() {
  int p = g_path.load(std::memory_order_relaxed);
  if (p == kUnset) {
    p = static_cast<int>(best_kernel_path(cpu_info()));
    int expected = kUnset;
    g_path.compare_exchange_strong(expected, p);
    p = g_path.load(std::memory_order_relaxed);
  }
  return static_cast<KernelPath>(p);
}

void set_kernel_path(KernelPath path) {
  const CpuInfo cpu = cpu_info();
  DVAE_CHECK(cpu_runs(path, cpu), "kernel path ", kernel_path_name(path), ": this CPU (", cpu.model_name,
             ") cannot execute it; it runs up to ", kernel_path_name(best_kernel_path(cpu)));
  g_path.store(static_cast<int>(path), std::memory_order_relaxed);
}

KernelPathScope::KernelPathScope(KernelPath path) : previous_(kernel_path()) { set_kernel_path(path); }

KernelPathScope::~KernelPathScope() { g_path.store(static_cast<int>(previous_), std::memory_order_relaxed); }

}  // namespace dvae
