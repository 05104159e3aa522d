// Tests for `dvae classify`: a small end-to-end run on synthetic data and
// checkpoints, resume, and one-line errors with exit codes 1 and 2.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "support/checkpoint_fixtures.h"
#include "support/fixtures.h"
#include "training/checkpoint.h"

namespace dvae {
namespace {

// Writes an untrained VAE checkpoint for 8x8 images with the given beta.
void write_vae(const std::string& path, double beta, uint64_t seed) {
  ModelOptions m;
  m.arch = "mlp";
  m.image_size = 8;
  m.mlp_hidden = 16;
  m.latent_dim = 3;
  test::save_untrained_vae(path, m, beta, seed);
}

struct ClassifyFixture {
  test::TempDir dir;
  ClassifyFixture() {
    test::write_synthetic_mnist(dir.file("data"), 100, 50, 8, false, 3);
    write_vae(dir.file("std.pt"), 1.0, 1);
    write_vae(dir.file("dis.pt"), 4.0, 2);
    write_vae(dir.file("b8.pt"), 8.0, 3);
  }
  std::string args(const std::string& extra) const {
    return "classify --encoder beta=1=" + dir.file("std.pt") + " --encoder beta4=" + dir.file("dis.pt") +
           " --encoder \"beta 8=" + dir.file("b8.pt") + "\" --data-dir " + dir.file("data") +
           " --validation-per-class 2 --out " + dir.file("out") + " " + extra;
  }
};

TEST(cmd_classify, WritesResultsSummaryErrorsAndConfigThenResumesSlow) {
  ClassifyFixture f;
  const auto r = test::run_dvae(f.args("--sizes 1,all --trials 2 --epochs 3 --supervised-epochs 1 --quiet"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("test accuracy"), std::string::npos) << r.out;
  for (const char* name : {"results.jsonl", "summary.csv", "paired.csv", "errors.json", "config.json"}) {
    EXPECT_TRUE(std::filesystem::exists(f.dir.file(std::string("out/") + name))) << name;
  }
  const std::string results = read_file(f.dir.file("out/results.jsonl"));
  EXPECT_EQ(std::count(results.begin(), results.end(), '\n'), 3 * 4);  // (2 + 1 trials) x (3 encoders + supervised)
  for (const char* name : {"\"model\":\"beta=1\"", "\"model\":\"beta4\"", "\"model\":\"beta 8\"",
                           "\"model\":\"supervised\""}) {
    EXPECT_NE(results.find(name), std::string::npos) << name;
  }
  const auto errors = nlohmann::json::parse(read_file(f.dir.file("out/errors.json")));
  EXPECT_EQ(errors["comparisons"].size(), 3u * 6u);  // 6 pairs of 4 models per trial
  const auto config = nlohmann::json::parse(read_file(f.dir.file("out/config.json")));
  EXPECT_EQ(config["seed"], 1);
  EXPECT_EQ(config["encoders"][1]["name"], "beta4");
  EXPECT_EQ(config["encoders"][1]["beta"], 4.0);
  EXPECT_NE(read_file(f.dir.file("out/summary.csv")).find("\"beta 8\""), std::string::npos);
  const auto again = test::run_dvae(f.args("--sizes 1,all --trials 2 --epochs 3 --supervised-epochs 1 --quiet"));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(read_file(f.dir.file("out/results.jsonl")), results);
}

TEST(cmd_classify, MissingCheckpointExitsOneWithOneLine) {
  ClassifyFixture f;
  std::filesystem::remove(f.dir.file("std.pt"));
  const auto r = test::run_dvae(f.args("--no-supervised"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("error: --encoder: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(cmd_classify, BadSizesExitTwoWithOneLine) {
  ClassifyFixture f;
  for (const char* sizes : {"1,x", "0"}) {
    const auto r = test::run_dvae(f.args(std::string("--sizes=") + sizes));
    EXPECT_EQ(r.exit_code, 2) << sizes;
    EXPECT_NE(r.err.find("error: --sizes"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  const auto wrong_arch = test::run_dvae(f.args("--arch cnn"));
  EXPECT_EQ(wrong_arch.exit_code, 2) << wrong_arch.err;
  for (const char* bad : {"--encoder nameonly", "--encoder =x.pt", "--encoder supervised=x.pt",
                          "--validation-per-class -1"}) {
    const auto r = test::run_dvae(f.args(bad));
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
  }
}

}  // namespace
}  // namespace dvae
