// The kernel-path decision: names, which CPUs run which path, the process-wide
// setting and its scope.
#include "core/cpu_dispatch.h"

#include <gtest/gtest.h>

#include "core/check.h"

namespace dvae {
namespace {

CpuInfo cpu_with(bool avx2, bool avx512f, bool avx512vl) {
  CpuInfo cpu;
  cpu.avx2 = avx2;
  cpu.avx512f = avx512f;
  cpu.avx512vl = avx512vl;
  return cpu;
}

TEST(CpuDispatch, NamesRoundTripAndUnknownNamesAreUsageErrors) {
  for (KernelPath p : {KernelPath::kScalar, KernelPath::kAvx2, KernelPath::kAvx512}) {
    EXPECT_EQ(parse_kernel_path(kernel_path_name(p), "DVAE_KERNEL_PATH"), p);
  }
  try {
    parse_kernel_path("sse4", "DVAE_KERNEL_PATH");
    FAIL() << "expected dvae::UsageError";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), "DVAE_KERNEL_PATH=sse4: expected scalar, avx2 or avx512");
  }
}

TEST(CpuDispatch, EachPathNeedsItsFeatures) {
  const CpuInfo baseline = cpu_with(false, false, false);
  const CpuInfo zen3 = cpu_with(true, false, false);
  const CpuInfo zen4 = cpu_with(true, true, true);
  const CpuInfo knl_like = cpu_with(true, true, false);  // AVX-512 F without VL
  EXPECT_TRUE(cpu_runs(KernelPath::kScalar, baseline));
  EXPECT_FALSE(cpu_runs(KernelPath::kAvx2, baseline));
  EXPECT_TRUE(cpu_runs(KernelPath::kAvx2, zen3));
  EXPECT_FALSE(cpu_runs(KernelPath::kAvx512, zen3));
  EXPECT_FALSE(cpu_runs(KernelPath::kAvx512, knl_like));
  EXPECT_TRUE(cpu_runs(KernelPath::kAvx512, zen4));
  EXPECT_EQ(best_kernel_path(baseline), KernelPath::kScalar);
  EXPECT_EQ(best_kernel_path(zen3), KernelPath::kAvx2);
  EXPECT_EQ(best_kernel_path(knl_like), KernelPath::kAvx2);
  EXPECT_EQ(best_kernel_path(zen4), KernelPath::kAvx512);
}

TEST(CpuDispatch, DefaultIsTheBestPathOfThisCpuAndEveryRunnablePathIsListed) {
  const auto paths = runnable_kernel_paths();
  ASSERT_FALSE(paths.empty());
  EXPECT_EQ(paths.front(), KernelPath::kScalar);
  EXPECT_EQ(paths.back(), best_kernel_path(cpu_info()));
  EXPECT_EQ(kernel_path(), best_kernel_path(cpu_info()));
}

TEST(CpuDispatch, ScopeSetsAndRestoresThePath) {
  const KernelPath before = kernel_path();
  {
    KernelPathScope scalar(KernelPath::kScalar);
    EXPECT_EQ(kernel_path(), KernelPath::kScalar);
  }
  EXPECT_EQ(kernel_path(), before);
}

TEST(CpuDispatch, APathThisCpuCannotRunIsRefused) {
  const CpuInfo cpu = cpu_info();
  for (KernelPath p : {KernelPath::kAvx2, KernelPath::kAvx512}) {
    if (cpu_runs(p, cpu)) continue;
    EXPECT_THROW(set_kernel_path(p), Error) << kernel_path_name(p);
    return;
  }
  GTEST_SKIP() << "this CPU runs every path";
}

}  // namespace
}  // namespace dvae
