// Runs the dvae binary: `dvae data info` on synthetic and malformed folders,
// `dvae data fetch` against a loopback server, exit codes and one-line errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "core/atomic_file.h"
#include "support/fixtures.h"
#include "support/http_server.h"

namespace dvae {
namespace {

using test::RunResult;
using test::TempDir;

// Runs dvae with the default BLAS kernel kept (no re-exec, no kernel self-check):
// these tests are about data handling, and it halves the start-up time.
RunResult run_data_cli(const std::string& args) {
  return test::run_shell(std::string("DVAE_BLAS_KERNEL=keep ") + DVAE_BINARY + " " + args);
}

bool one_error_line(const std::string& err) {
  return err.rfind("error: ", 0) == 0 && err.find('\n') == err.size() - 1;
}

TEST(DataCli, InfoPrintsCountsHistogramAndStatistics) {
  TempDir dir;
  test::write_synthetic_mnist(dir.path(), 30, 20, 8);
  const RunResult r = run_data_cli("data info --data-dir " + dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("source       " + dir.path()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("8x8 pixels"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("train        30 images"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("test         20 images"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0:3  1:3  2:3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fingerprint  sha256:"), std::string::npos) << r.out;
}

TEST(DataCli, InfoJsonMatchesTheFiles) {
  TempDir root;
  test::write_synthetic_mnist(root.file("kmnist"), 40, 10, 6, /*gzip=*/true);
  const RunResult r = run_data_cli("--data-root " + root.path() + " data info --dataset kmnist --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["dataset"], "kmnist");
  EXPECT_EQ(j["train"]["count"], 40);
  EXPECT_EQ(j["test"]["count"], 10);
  EXPECT_EQ(j["rows"], 6);
  EXPECT_EQ(j["train"]["histogram"][9], 4);
  EXPECT_GT(j["train"]["pixel_mean"].get<double>(), 0.0);
  EXPECT_LT(j["train"]["pixel_mean"].get<double>(), 1.0);
}

TEST(DataCli, UsageErrorsExitWithTwo) {
  TempDir dir;
  const std::vector<std::string> cases = {"data info", "data info --dataset mnist --data-dir " + dir.path(),
                                          "data info --dataset cifar10", "data fetch imagenet", "data fetch",
                                          "data info --bogus"};
  for (const std::string& args : cases) {
    const RunResult r = run_data_cli("--data-root " + dir.path() + " " + args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_TRUE(one_error_line(r.err)) << args << ": " << r.err;
  }
}

TEST(DataCli, MissingNamedDatasetExitsWithOneAndAHint) {
  TempDir root;
  const RunResult r = run_data_cli("--data-root " + root.path() + " data info --dataset mnist");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_error_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("dvae data fetch mnist"), std::string::npos) << r.err;
}

class DataCliMalformed : public ::testing::TestWithParam<test::MalformedIdxCase> {};

TEST_P(DataCliMalformed, ExitsWithOneNamingTheFile) {
  const test::MalformedIdxCase& c = GetParam();
  TempDir dir;
  const std::string path = test::write_malformed_mnist(dir.path(), c);
  const RunResult r = run_data_cli("data info --data-dir " + dir.path());
  EXPECT_EQ(r.exit_code, 1) << c.name << ": " << r.err;
  EXPECT_TRUE(one_error_line(r.err)) << c.name << ": " << r.err;
  EXPECT_NE(r.err.find(path), std::string::npos) << c.name << ": " << r.err;
  EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.name << ": " << r.err;
}

INSTANTIATE_TEST_SUITE_P(AllCases, DataCliMalformed, ::testing::ValuesIn(test::malformed_idx_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(DataCli, FetchWithWrongDigestsFailsAndLeavesNothing) {
  // The loopback mirror serves synthetic files, so MNIST's pinned digests cannot match.
  test::LocalHttpServer server;
  TempDir src, root;
  test::write_synthetic_mnist(src.path(), 10, 10, 4, /*gzip=*/true);
  for (const char* name : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                           "t10k-labels-idx1-ubyte.gz"}) {
    server.route(std::string("/m/") + name, test::HttpRoute{200, read_file(src.file(name))});
  }
  const RunResult r = run_data_cli("--quiet --data-root " + root.path() + " data fetch mnist --mirror " +
                                     server.base_url() + "/m");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(one_error_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("train-images-idx3-ubyte.gz: SHA-256"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("expected 440fcabf"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::is_empty(root.file("mnist")));
}

TEST(DataCli, FetchServerErrorExitsWithOne) {
  test::LocalHttpServer server;
  TempDir root;
  const RunResult r = run_data_cli("--quiet --data-root " + root.path() + " data fetch kmnist --mirror " +
                                     server.base_url() + "/nothing-here");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(one_error_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("HTTP status 404"), std::string::npos) << r.err;
}

TEST(DataCliSlow, RealMnistInfo) {
  const std::string dir = test::real_mnist_dir();
  if (dir.empty()) GTEST_SKIP() << "real MNIST not installed (run scripts/setup.sh)";
  const std::string root = std::filesystem::path(dir).parent_path().string();
  const RunResult r = test::run_dvae("--data-root " + root + " data info --dataset mnist");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("train        60000 images, pixel mean 0.1307, std 0.3081"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("test         10000 images"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace dvae
