// Parameterised tests over the matrix-product backends this build runs
// (core/gemm.h): TEST_P(Suite, ...) { GemmBackendScope gemm(GetParam()); ... } and
// DVAE_TEST_EVERY_GEMM_BACKEND(Suite) instantiate Suite once per backend
// (blas everywhere, onednn where the build has it), named by the backend.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "core/gemm.h"

namespace dvae::test {

/// The test-name suffix of a backend ("blas", "onednn").
inline std::string gemm_backend_test_name(const testing::TestParamInfo<GemmBackend>& info) {
  return gemm_backend_name(info.param);
}

}  // namespace dvae::test

/// Instantiates the TEST_P suite `suite` (param GemmBackend) for every backend this build runs.
#define DVAE_TEST_EVERY_GEMM_BACKEND(suite)                                                          \
  INSTANTIATE_TEST_SUITE_P(GemmBackends, suite, testing::ValuesIn(::dvae::available_gemm_backends()), \
                           ::dvae::test::gemm_backend_test_name)
