// Tests of `dvae train` and `dvae export` through the binary: a tiny run on
// synthetic IDX files, resume, the one-line errors and exit codes.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/fixtures.h"

namespace dvae {
namespace {

namespace fs = std::filesystem;

TEST(CmdTrain, TrainsResumesAndExportsSlow) {
  test::TempDir dir;
  test::write_synthetic_mnist(dir.file("data"), 60, 30, 28);
  fs::create_directories(dir.file("data"));
  const std::string common = "train --threads 1 --data-dir " + dir.file("data") +
                             " --arch mlp --latent 2 --hidden 8 --batch-size 20 --out " + dir.file("run");
  auto r = test::run_dvae(common + " --epochs 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("epoch 1/1"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir.file("run/checkpoint.pt")));
  EXPECT_TRUE(fs::exists(dir.file("run/config.json")));
  r = test::run_dvae(common + " --epochs 1");  // existing run, no --resume
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("--resume"), std::string::npos) << r.err;
  r = test::run_dvae(common + " --epochs 2 --resume --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  r = test::run_dvae("export --checkpoint " + dir.file("run/checkpoint.pt") + " --out " + dir.file("w.pt"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir.file("w.pt")));
}

TEST(CmdTrain, BadInputGivesOneLineErrors) {
  test::TempDir dir;
  auto r = test::run_dvae("train --arch mlp --epochs 1 --lr abc --out " + dir.file("run"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = test::run_dvae("train --arch resnet --data-dir " + dir.path() + " --out " + dir.file("run"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  r = test::run_dvae("export --checkpoint " + dir.file("missing.pt") + " --out " + dir.file("w.pt"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(dir.file("missing.pt")), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dvae
