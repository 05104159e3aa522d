// Tests of `dvae encode` through the binary: the CSV holds every test image's
// label and posterior mean (the same as TrainedEncoder in-process); bad flags
// and images of another size are one-line errors with exit codes 2 and 1.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "data/idx.h"
#include "evaluation/trained_encoder.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

struct EncodeFixture {
  test::TempDir dir;
  std::string checkpoint = dir.file("run/checkpoint.pt");
  EncodeFixture() {
    test::write_synthetic_mnist(dir.file("data"), 60, 30, 8);
    const auto r = test::run_dvae("--quiet train --threads 1 --data-dir " + dir.file("data") +
                                  " --arch mlp --latent 3 --hidden 8 --batch-size 20 --epochs 1 --out " +
                                  dir.file("run"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
};

TEST(CmdEncode, WritesEveryTestImagesLabelAndMeans) {
  EncodeFixture f;
  // No --dataset: the checkpoint's own data folder.
  const auto r = test::run_dvae("encode --checkpoint " + f.checkpoint + " --out " + f.dir.file("codes.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("30 "), std::string::npos) << r.out;
  const auto rows = test::parse_csv(read_file(f.dir.file("codes.csv")));
  ASSERT_EQ(rows.size(), 31u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"index", "label", "mu_0", "mu_1", "mu_2"}));
  const torch::Tensor labels = read_idx_labels(f.dir.file("data/t10k-labels-idx1-ubyte"), 10);
  const torch::Tensor images = read_idx_images(f.dir.file("data/t10k-images-idx3-ubyte"));
  const torch::Tensor mu = TrainedEncoder(f.checkpoint).encode(images);
  for (int64_t i = 0; i < 30; ++i) {
    const auto& row = rows[static_cast<size_t>(i) + 1];
    ASSERT_EQ(row.size(), 5u);
    EXPECT_EQ(row[0], std::to_string(i));
    EXPECT_EQ(std::stoll(row[1]), labels[i].item<int64_t>());
    for (int64_t d = 0; d < 3; ++d) EXPECT_NEAR(std::stod(row[2 + d]), mu[i][d].item<double>(), 1e-5);
  }
  const auto both = test::run_dvae("--quiet encode --checkpoint " + f.checkpoint + " --data-dir " +
                                   f.dir.file("data") + " --split train --with-logvar --out " + f.dir.file("all.csv"));
  ASSERT_EQ(both.exit_code, 0) << both.err;
  const auto all = test::parse_csv(read_file(f.dir.file("all.csv")));
  ASSERT_EQ(all.size(), 61u);
  EXPECT_EQ(all[0].back(), "logvar_2");
  EXPECT_EQ(all[1].size(), 8u);
}

TEST(CmdEncode, BadSplitOrImagesOfAnotherSizeAreOneLineErrors) {
  EncodeFixture f;
  const std::string base = "encode --checkpoint " + f.checkpoint + " --out " + f.dir.file("x.csv");
  auto r = test::run_dvae(base + " --split valid");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("error: --split", 0), 0u) << r.err;
  test::write_synthetic_mnist(f.dir.file("big"), 20, 10, 12);
  r = test::run_dvae(base + " --data-dir " + f.dir.file("big"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("12x12 images, expected 8x8"), std::string::npos) << r.err;
  r = test::run_dvae("encode --checkpoint " + f.dir.file("none.pt") + " --out " + f.dir.file("x.csv"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("none.pt"), std::string::npos) << r.err;
  for (const auto& e : {r.err}) EXPECT_EQ(std::count(e.begin(), e.end(), '\n'), 1) << e;
  EXPECT_FALSE(std::filesystem::exists(f.dir.file("x.csv")));
}

}  // namespace
}  // namespace dvae
