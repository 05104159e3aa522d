// Parameterised tests over the kernel paths this CPU runs (core/cpu_dispatch.h):
// TEST_P(Suite, ...) { KernelPathScope path(GetParam()); ... } and
// DVAE_TEST_EVERY_KERNEL_PATH(Suite) instantiate Suite once per runnable path
// (scalar everywhere, avx2 / avx512 where the CPU has them), named by the path.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "core/cpu_dispatch.h"

namespace dvae::test {

/// The test-name suffix of a kernel path ("scalar", "avx2", "avx512").
inline std::string kernel_path_test_name(const testing::TestParamInfo<KernelPath>& info) {
  return kernel_path_name(info.param);
}

}  // namespace dvae::test

/// Instantiates the TEST_P suite `suite` (param KernelPath) for every path this CPU runs.
#define DVAE_TEST_EVERY_KERNEL_PATH(suite)                                                     \
  INSTANTIATE_TEST_SUITE_P(KernelPaths, suite, testing::ValuesIn(::dvae::runnable_kernel_paths()), \
                           ::dvae::test::kernel_path_test_name)
