// Tests of `dvae train` and `dvae export` through the binary: a tiny run on
// synthetic IDX files, resume, the one-line errors and exit codes.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
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

// Each objective parameter only with an objective that uses it: exit 2 naming the flag and the objective.
TEST(CmdTrain, ObjectiveFlagsAreRefusedWhenTheObjectiveDoesNotUseThem) {
  test::TempDir dir;
  const std::string common = "train --data-dir " + dir.file("data") + " --out " + dir.file("run");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--gamma 2", "beta-vae"},          {"--objective beta-tcvae --c-max 5", "beta-tcvae"},
      {"--objective factor-vae --beta 2", "factor-vae"}, {"--objective annealed-vae --disc-lr 0.1", "annealed-vae"},
      {"--objective beta-vae --disc-layers 2", "beta-vae"}};
  for (const auto& [flags, objective] : cases) {
    const auto r = test::run_dvae(common + " " + flags);
    EXPECT_EQ(r.exit_code, 2) << flags << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
    const std::string flag = flags.substr(flags.rfind("--"), flags.rfind(' ') - flags.rfind("--"));
    EXPECT_NE(r.err.find(flag), std::string::npos) << flags << ": " << r.err;
    EXPECT_NE(r.err.find(objective), std::string::npos) << flags << ": " << r.err;
  }
  auto r = test::run_dvae(common + " --objective info-vae");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--objective"), std::string::npos) << r.err;
  r = test::run_dvae(common + " --objective annealed-vae --c-min 9 --c-max 3");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--c-min"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir.file("run")));
}

TEST(CmdTrain, ObjectiveAndItsSettingsAreRecordedInTheConfig) {
  test::TempDir dir;
  test::write_synthetic_mnist(dir.file("data"), 40, 20, 28);
  const auto r = test::run_dvae("train --threads 1 --quiet --data-dir " + dir.file("data") +
                                " --latent 2 --hidden 8 --batch-size 20 --epochs 1 --objective factor-vae --gamma 3"
                                " --disc-hidden 8 --disc-layers 2 --disc-lr 0.001 --out " + dir.file("run"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto config = nlohmann::json::parse(read_file(dir.file("run/config.json")));
  EXPECT_EQ(config["objective"], "factor-vae");
  EXPECT_EQ(config["train"]["objective"], "factor-vae");
  EXPECT_EQ(config["train"]["gamma"], 3.0);
  EXPECT_EQ(config["train"]["disc_hidden"], 8);
  EXPECT_EQ(config["train"]["disc_layers"], 2);
  EXPECT_EQ(config["train"]["disc_lr"], 0.001);
  EXPECT_FALSE(config["train"].contains("c_max"));
  EXPECT_EQ(config["training_step"], "autograd");
}

}  // namespace
}  // namespace dvae
