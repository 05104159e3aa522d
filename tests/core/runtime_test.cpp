// Tests for the BLAS description: blas_info() names the library whose sgemm_
// the process calls, with the system's libblas.so.3 and with Debian's BLIS put
// first on LD_LIBRARY_PATH (while OpenBLAS stays loaded for LAPACK).
#include "core/runtime.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "support/fixtures.h"

namespace dvae {
namespace {

constexpr auto npos = std::string::npos;

// The canonical path of the loaded library that defines sgemm_, or "".
std::string sgemm_library() {
  void* sgemm = ::dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info where{};
  if (sgemm == nullptr || ::dladdr(sgemm, &where) == 0 || where.dli_fname == nullptr) return "";
  return std::filesystem::canonical(where.dli_fname).string();
}

// at::parallel_for is a header template: dvae's fused optimiser and elementwise
// kernels run on every intra-op thread only when dvae is compiled with LibTorch's
// OpenMP flag (without it, each ran on one thread while the others spun).
TEST(ParallelFor, DvaesOwnLoopsRunOnEveryIntraOpThread) {
  EXPECT_EQ(parallel_for_threads_used(2), 2);
  EXPECT_EQ(parallel_for_threads_used(3), 3);
  EXPECT_EQ(parallel_for_threads_used(1), 1);
}

// Also the probe that NamesBlisWhenBlisProvidesSgemm runs in a child process:
// it prints what blas_info() says on one line.
TEST(BlasInfo, NamesTheLibraryThatDefinesSgemm) {
  const BlasInfo blas = blas_info();
  std::cout << "probe vendor=" << blas.vendor << " library=" << blas.library << "\n";
  ASSERT_FALSE(sgemm_library().empty());
  EXPECT_EQ(blas.library, sgemm_library());
  if (blas.library.find("openblas") != npos) {
    EXPECT_EQ(blas.vendor, "OpenBLAS");
    EXPECT_FALSE(blas.core.empty());
  }
  if (blas.library.find("blis") != npos) {
    EXPECT_EQ(blas.vendor, "BLIS");
    EXPECT_TRUE(blas.core.empty());
  }
  EXPECT_LT(blas_self_check_error(), 1e-5);
}

TEST(BlasInfo, NamesBlisWhenBlisProvidesSgemm) {
  const std::string dir = "/usr/lib/x86_64-linux-gnu/blis-openmp";
  if (!std::filesystem::exists(dir + "/libblas.so.3")) GTEST_SKIP() << "Debian's libblis4-openmp is not installed";
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const auto r = test::run_shell("LD_LIBRARY_PATH=" + dir + " " + self +
                                 " --gtest_filter=BlasInfo.NamesTheLibraryThatDefinesSgemm");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("probe vendor=BLIS library=" + dir + "/libblas.so.3\n"), npos) << r.out;
}

}  // namespace
}  // namespace dvae
