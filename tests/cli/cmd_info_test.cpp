// Tests of `dvae info`'s kernel-path report and of DVAE_KERNEL_PATH, the
// override read at the top: a forced-scalar run trains like the default path.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/cpu_dispatch.h"
#include "core/gemm.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

TEST(CmdInfo, NamesTheKernelPathOfEveryHandWrittenKernel) {
  const auto r = test::run_dvae("info");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string best = kernel_path_name(best_kernel_path(cpu_info()));
  EXPECT_NE(r.out.find("kernel path    " + best + " (best this CPU runs: " + best), std::string::npos) << r.out;
  for (const char* kernel : {"fused Adam/SGD", "MLP step elementwise", "probe heads", "transposed conv col2im"}) {
    EXPECT_NE(r.out.find(kernel), std::string::npos) << kernel << "\n" << r.out;
  }
}

TEST(CmdInfo, KernelPathEnvironmentVariableForcesScalarAndRejectsUnknownNames) {
  auto r = test::run_shell("DVAE_KERNEL_PATH=scalar " + std::string(DVAE_BINARY) + " info");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("kernel path    scalar"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("probe heads (evaluation/probe)               scalar"), std::string::npos) << r.out;
  r = test::run_shell("DVAE_KERNEL_PATH=fast " + std::string(DVAE_BINARY) + " info");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "error: DVAE_KERNEL_PATH=fast: expected scalar, avx2 or avx512\n");
}

TEST(CmdInfo, NamesTheGemmBackendAndDvaeGemmForcesItOrFailsWithExitTwo) {
  auto r = test::run_dvae("info");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string rule = gemm_backend_name(default_gemm_backend(cpu_info()));
  EXPECT_NE(r.out.find("gemm           " + rule + " for the MLP steps' matrix products (rule: " + rule),
            std::string::npos)
      << r.out;
  r = test::run_shell("DVAE_GEMM=blas " + std::string(DVAE_BINARY) + " info");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("gemm           blas for"), std::string::npos) << r.out;
  r = test::run_shell("DVAE_GEMM=mkl " + std::string(DVAE_BINARY) + " info");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "error: DVAE_GEMM=mkl: expected blas or onednn\n");
}

double first_epoch_recon(const std::string& run_dir) {
  std::ifstream in(run_dir + "/log.jsonl");
  std::string line;
  std::getline(in, line);
  return nlohmann::json::parse(line)["train_recon"].get<double>();
}

// One epoch of a small MLP VAE on synthetic data with `env` before the command
// (e.g. "DVAE_GEMM=blas"), into dir/name; returns its first epoch's reconstruction term.
double train_once(const test::TempDir& dir, const std::string& env, const std::string& name) {
  if (!std::filesystem::exists(dir.file("data"))) test::write_synthetic_mnist(dir.file("data"), 60, 30, 28);
  const auto r = test::run_shell(env + " " + std::string(DVAE_BINARY) + " train --threads 1 --quiet --data-dir " +
                                 dir.file("data") + " --arch mlp --latent 2 --hidden 40 --batch-size 20 --epochs 1" +
                                 " --out " + dir.file(name));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return first_epoch_recon(dir.file(name));
}

TEST(CmdInfo, ForcedScalarTrainingMatchesTheDefaultPathToRounding) {
  test::TempDir dir;
  const double scalar = train_once(dir, "DVAE_KERNEL_PATH=scalar", "scalar");
  const double best = train_once(dir, "", "default");
  EXPECT_GT(scalar, 0.0);
  EXPECT_NEAR(scalar, best, 1e-4 * best);
}

TEST(CmdInfo, TrainingOnEitherGemmBackendMatchesToRounding) {
  if (!onednn_available()) GTEST_SKIP() << "this build has no oneDNN";
  test::TempDir dir;
  const double blas = train_once(dir, "DVAE_GEMM=blas", "blas");
  const double onednn = train_once(dir, "DVAE_GEMM=onednn", "onednn");
  EXPECT_GT(blas, 0.0);
  EXPECT_NEAR(blas, onednn, 1e-4 * blas);
  // Each run records the backend next to its outputs.
  for (const char* backend : {"blas", "onednn"}) {
    std::ifstream in(dir.file(std::string(backend) + "/config.json"));
    EXPECT_EQ(nlohmann::json::parse(in)["gemm"], backend);
  }
}

}  // namespace
}  // namespace dvae
