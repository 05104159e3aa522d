// The embedding story end to end: `cmake --install` of this build, then
// examples/embed_encoder built as a separate CMake project against the
// installed package (find_package(dvae), dvae::dvae), run on a checkpoint
// trained by `dvae train`; its codes must equal `dvae encode`'s.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

TEST(InstallSlow, EmbeddingProgramBuildsAgainstTheInstalledPackageAndMatchesDvaeEncode) {
  test::TempDir dir;
  test::write_synthetic_mnist(dir.file("data"), 60, 30, 8);
  auto r = test::run_dvae("--quiet train --threads 1 --data-dir " + dir.file("data") +
                          " --arch mlp --latent 3 --hidden 8 --batch-size 20 --epochs 1 --out " + dir.file("run"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string checkpoint = dir.file("run/checkpoint.pt");
  r = test::run_dvae("--quiet encode --checkpoint " + checkpoint + " --out " + dir.file("codes.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const std::string prefix = dir.file("prefix"), build = dir.file("build");
  r = test::run_shell("cmake --install " + std::string(DVAE_BUILD_DIR) + " --prefix " + prefix);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(std::filesystem::exists(prefix + "/bin/dvae"));
  EXPECT_TRUE(std::filesystem::exists(prefix + "/include/dvae/dvae.h"));
  EXPECT_TRUE(std::filesystem::exists(prefix + "/lib/cmake/dvae/dvaeConfig.cmake"));
  r = test::run_shell("cmake -S " + std::string(DVAE_SOURCE_DIR) + "/examples/embed_encoder -B " + build +
                      " -DCMAKE_PREFIX_PATH=" + prefix + " -DTorch_DIR=" + DVAE_TORCH_DIR);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = test::run_shell("cmake --build " + build);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  r = test::run_shell(build + "/embed_encoder " + checkpoint + " " + dir.file("data/t10k-images-idx3-ubyte") + " 7");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto mine = test::parse_csv(r.out);
  const auto reference = test::parse_csv(read_file(dir.file("codes.csv")));
  ASSERT_EQ(mine.size(), 8u) << r.out;
  EXPECT_EQ(mine[0], (std::vector<std::string>{"index", "mu_0", "mu_1", "mu_2"}));
  for (size_t i = 1; i < mine.size(); ++i) {
    ASSERT_EQ(mine[i].size(), 4u);
    for (size_t d = 0; d < 3; ++d) EXPECT_NEAR(std::stod(mine[i][1 + d]), std::stod(reference[i][2 + d]), 1e-5);
  }
  r = test::run_shell(build + "/embed_encoder " + dir.file("none.pt") + " " + dir.file("data/t10k-images-idx3-ubyte"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("none.pt"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dvae
