// Tests of `dvae factors` through the binary: the columns (morphometrics, then
// mnist-affine's generator factors), --limit, the cache reused by a second run,
// and bad flags as one-line usage errors (exit 2) naming the flag.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

// DVAE_BLAS_KERNEL=keep skips the start-up BLAS checks: dvae factors does no matrix products.
test::RunResult run_factors(const std::string& args) {
  return test::run_shell(std::string("DVAE_BLAS_KERNEL=keep ") + DVAE_BINARY + " " + args);
}

const std::vector<std::string> kMorphoHeader = {"index", "label", "area",  "length",
                                                "thickness", "slant", "width", "height"};

TEST(CmdFactors, WritesMorphometricsOfEveryImageAndReusesTheCache) {
  test::TempDir dir;
  test::write_synthetic_mnist(dir.file("data"), 30, 12);
  const std::string base = "factors --data-dir " + dir.file("data") + " --split test --cache-dir " + dir.file("cache");
  const auto first = run_factors(base + " --out " + dir.file("a.csv"));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("measured"), std::string::npos) << first.out;
  const auto rows = test::parse_csv(read_file(dir.file("a.csv")));
  ASSERT_EQ(rows.size(), 13u);
  EXPECT_EQ(rows[0], kMorphoHeader);
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 8u);
    EXPECT_EQ(rows[i][0], std::to_string(i - 1));
    EXPECT_GT(std::stod(rows[i][2]), 0.0) << "area of image " << i - 1;
  }
  const auto second = run_factors(base + " --out " + dir.file("b.csv"));
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("from the cache"), std::string::npos) << second.out;
  EXPECT_EQ(read_file(dir.file("a.csv")), read_file(dir.file("b.csv")));
  const auto limited = run_factors("--quiet " + base + " --limit 4 --out " + dir.file("c.csv"));
  ASSERT_EQ(limited.exit_code, 0) << limited.err;
  const auto few = test::parse_csv(read_file(dir.file("c.csv")));
  ASSERT_EQ(few.size(), 5u);
  EXPECT_EQ(few[4], rows[4]);
}

TEST(CmdFactors, MnistAffineAddsTheGeneratorFactors) {
  test::TempDir dir;
  test::write_synthetic_mnist(dir.file("root/mnist"), 20, 10);
  const auto r = run_factors("--data-root " + dir.file("root") +
                                " --quiet factors --dataset mnist-affine --limit 6 --no-cache --out " + dir.file("f.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = test::parse_csv(read_file(dir.file("f.csv")));
  ASSERT_EQ(rows.size(), 7u);
  std::vector<std::string> header = kMorphoHeader;
  for (const char* f : {"rotation", "scale", "shear", "tx", "ty", "thickening"}) header.emplace_back(f);
  EXPECT_EQ(rows[0], header);
  for (size_t i = 1; i < rows.size(); ++i) {
    const double rotation = std::stod(rows[i][8]);
    EXPECT_GE(rotation, -40.0);
    EXPECT_LE(rotation, 40.0);
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("root/.cache/factors")));  // --no-cache (the images are cached)
}

TEST(CmdFactors, BadFlagsAreOneLineUsageErrorsNamingTheFlag) {
  test::TempDir dir;
  test::write_synthetic_mnist(dir.file("data"), 10, 10);
  const std::string base = "factors --data-dir " + dir.file("data") + " --no-cache --out " + dir.file("f.csv");
  for (const auto& [args, flag] : std::vector<std::pair<std::string, std::string>>{
           {base + " --split valid", "--split"},
           {base + " --limit -1", "--limit"},
           {base + " --dataset mnist", "--dataset"},
           {"factors --dataset nope --out " + dir.file("f.csv"), "nope"},
           {"factors --data-dir " + dir.file("data") + " --no-cache --cache-dir " + dir.file("c") + " --out " +
                dir.file("f.csv"),
            "--cache-dir"}}) {
    const auto r = run_factors(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
    EXPECT_NE(r.err.find(flag), std::string::npos) << args << "\n" << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.file("f.csv"))) << args;
  }
}

}  // namespace
}  // namespace dvae
