// Tests for analysis/figures and the figure subcommands (traverse, reconstruct,
// sample, plot): sizes follow from the grid parameters, sidecars say what is
// shown, and the commands write decodable PNGs and well-formed SVGs.
#include "analysis/figures.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "analysis/png.h"
#include "core/atomic_file.h"
#include "core/check.h"
#include "evaluation/protocol.h"
#include "gnuplot_check.h"
#include "support/fixtures.h"
#include "tiny_models.h"
#include "training/checkpoint.h"

namespace dvae {
namespace {

namespace fs = std::filesystem;

using test::have_gnuplot;

VaeParts tiny_vae() {
  // 3 latents on 4x4 images: latent 0 drives every pixel, latents 1 and 2 nothing.
  auto weight = torch::zeros({16, 3});
  weight.select(1, 0).fill_(4.0);
  return {std::make_shared<test::MeanPixelEncoderImpl>(),
          std::make_shared<test::LinearDecoderImpl>(weight, torch::zeros({16}), 4, 4)};
}

TEST(Figures, SiblingPathsReplaceTheExtension) {
  EXPECT_EQ(sibling_path("out/t.png", "_grid.png"), "out/t_grid.png");
  EXPECT_EQ(sibling_path("t.png", ".json"), "t.json");
  EXPECT_EQ(sibling_path("dir/noext", ".json"), "dir/noext.json");
}

TEST(Figures, BareTraversalGridSizeAndSidecar) {
  test::TempDir dir;
  FigureOptions figure;
  figure.labels = false;
  figure.grid.scale = 2;
  TraversalOptions options;
  options.steps = 5;
  const FigureFiles f = write_traversal_figure(tiny_vae(), test::constant_images(10, 4, 4), -1, options, "t",
                                               dir.file("t.png"), figure);
  const auto png = read_png(f.figure);
  const GridSize expected = grid_size(3, 5, 4, 4, figure.grid);
  EXPECT_EQ(png.size(0), expected.height);
  EXPECT_EQ(png.size(1), expected.width);
  const auto info = nlohmann::json::parse(read_file(dir.file("t.json")));
  EXPECT_EQ(info["rows"][0]["latent"], 2);          // logvar log 4: KL 0.81 (the decoder ignores it)
  EXPECT_EQ(info["rows"][1]["latent"], 0);          // mean pixel: KL 0.5 * mean(m^2) = 0.0219
  EXPECT_NEAR(info["rows"][1]["kl"].get<double>(), 0.5 * 28.5 * 100.0 / (255.0 * 255.0), 1e-6);
  EXPECT_EQ(info["rows"][2]["collapsed"], true);    // latent 1: KL exactly 0
  EXPECT_EQ(info["collapsed"], 1);
  EXPECT_EQ(info["base"], "prior");
}

TEST(Figures, GalleryCaptionsEveryWrongImage) {
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot not installed";
  test::TempDir dir;
  const ImageSet set = test::constant_images(12, 4, 4);
  std::vector<int64_t> predictions{0, 7, 2, 3, 1, 5, 6, 7, 8, 9, 0, 0};
  const FigureFiles f = write_gallery_figure(set, predictions, 10, 2, "gallery", dir.file("g.png"));
  EXPECT_EQ(f.info["total_wrong"], 3);
  EXPECT_EQ(f.info["predicted"], (std::vector<int64_t>{7, 1, 0}));
  const auto grid = read_png(f.grid);
  FigureOptions o;
  o.grid.caption_height = 16;
  EXPECT_EQ(grid.size(0), grid_size(2, 2, 4, 4, o.grid).height);
  EXPECT_GT(read_png(f.figure).size(0), grid.size(0));
  EXPECT_NE(read_file(sibling_path(dir.file("g.png"), ".gp")).find("7 (true 1)"), std::string::npos);
}

/// A tiny saved MLP VAE on 8x8 synthetic images, and the synthetic data set.
class FigureCommandsSlow : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_gnuplot()) GTEST_SKIP() << "gnuplot not installed";
    test::write_synthetic_mnist(data_.path(), 40, 30, 8);
    ModelOptions options;
    options.arch = "mlp";
    options.latent_dim = 4;
    options.image_size = 8;
    options.mlp_hidden = 16;
    torch::manual_seed(5);
    Vae vae(options);
    CheckpointMeta meta;
    meta.arch = "mlp";
    meta.latent_dim = 4;
    meta.beta = 4.0;
    meta.dataset = "synthetic";
    meta.epoch = 1;
    meta.epochs = 1;
    meta.model_options = model_options_to_json(options);
    meta.train_options = nlohmann::json::object();
    save_checkpoint(out_.file("a.pt"), *vae, meta, nullptr);
    torch::manual_seed(6);
    Vae other(options);
    meta.beta = 1.0;
    save_checkpoint(out_.file("b.pt"), *other, meta, nullptr);
  }
  std::string flags() const { return "--quiet --threads 1 --device cpu --data-dir " + data_.path(); }

  test::TempDir data_;
  test::TempDir out_;
};

TEST_F(FigureCommandsSlow, TraverseWritesFigureGridAndSidecar) {
  const auto r = test::run_dvae("traverse --checkpoint " + out_.file("a.pt") + " --steps 7 --range 2 --scale 2 " +
                                flags() + " --out " + out_.file("t.png"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("latents collapsed"), std::string::npos) << r.out;
  GridOptions o;
  o.scale = 2;
  const GridSize size = grid_size(4, 7, 8, 8, o);
  const auto grid = read_png(out_.file("t_grid.png"));
  EXPECT_EQ(grid.size(0), size.height);
  EXPECT_EQ(grid.size(1), size.width);
  const auto figure = read_png(out_.file("t.png"));
  EXPECT_GT(figure.size(1), size.width);
  const auto info = nlohmann::json::parse(read_file(out_.file("t.json")));
  EXPECT_EQ(info["rows"].size(), 4u);
  EXPECT_DOUBLE_EQ(info["values"][0].get<double>(), -2.0);
}

TEST_F(FigureCommandsSlow, TraverseFromATestImageAndBadBase) {
  auto r = test::run_dvae("traverse --checkpoint " + out_.file("a.pt") + " --base 3 --no-labels " + flags() +
                          " --out " + out_.file("t3.png"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(read_file(out_.file("t3.json")))["base"], 3);
  EXPECT_FALSE(fs::exists(out_.file("t3_grid.png")));  // bare grid written at --out itself
  r = test::run_dvae("traverse --checkpoint " + out_.file("a.pt") + " --base middle " + flags() + " --out " +
                     out_.file("x.png"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("error: --base: 'middle'"), std::string::npos) << r.err;
  r = test::run_dvae("traverse --checkpoint " + out_.file("missing.pt") + " " + flags() + " --out " +
                     out_.file("x.png"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.pt"), std::string::npos) << r.err;
}

TEST_F(FigureCommandsSlow, ReconstructStacksTwoModelsAndSamples) {
  auto r = test::run_dvae("reconstruct --checkpoint " + out_.file("a.pt") + " --checkpoint2 " + out_.file("b.pt") +
                          " --k 5 --worst --scale 1 " + flags() + " --out " + out_.file("r.png"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  GridOptions o;
  o.scale = 1;
  const auto grid = read_png(out_.file("r_grid.png"));
  EXPECT_EQ(grid.size(0), grid_size(3, 5, 8, 8, o).height);  // originals + two models
  EXPECT_EQ(grid.size(1), grid_size(3, 5, 8, 8, o).width);
  const auto info = nlohmann::json::parse(read_file(out_.file("r.json")));
  const auto losses = info["models"][0]["loss"].get<std::vector<double>>();
  ASSERT_EQ(losses.size(), 5u);
  for (size_t i = 1; i < losses.size(); ++i) EXPECT_GE(losses[i - 1], losses[i]);  // worst first

  r = test::run_dvae("sample --checkpoint " + out_.file("a.pt") + " --n 10 --cols 4 --scale 1 " +
                     std::string("--quiet --threads 1 --out ") + out_.file("s.png"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_png(out_.file("s_grid.png")).size(0), grid_size(3, 4, 8, 8, o).height);
}

TEST_F(FigureCommandsSlow, PlotResultsAndLog) {
  // Results with predictions for the 30 synthetic test images (labels i % 10).
  std::string results;
  for (const std::string model : {"disentangled", "supervised"}) {
    for (int n : {1, 10, -1}) {
      for (int trial = 0; trial < 2; ++trial) {
        std::vector<int64_t> predictions(30);
        for (int i = 0; i < 30; ++i) predictions[static_cast<size_t>(i)] = (i % 7 == 0) ? (i + 1) % 10 : i % 10;
        std::vector<std::vector<int64_t>> confusion(10, std::vector<int64_t>(10, 0));
        for (int i = 0; i < 30; ++i) confusion[static_cast<size_t>(i % 10)][static_cast<size_t>(predictions[i])]++;
        ResultRow row;
        row.dataset = "synthetic";
        row.arch = "mlp";
        row.model = model;
        row.classifier = model == "supervised" ? "supervised" : "probe";
        row.beta = 4;
        row.n = n;
        row.trial = trial;
        row.seed = 1;
        row.accuracy = 0.8 + 0.05 * trial;
        row.confusion = confusion;
        row.predictions = predictions;
        results += row_to_json(row).dump() + "\n";
      }
    }
  }
  write_file_atomic(out_.file("results.jsonl"), results);
  write_file_atomic(out_.file("log.jsonl"),
                    "{\"epoch\":1,\"train_recon\":150,\"train_kl\":10,\"test_recon\":140,\"test_kl\":11,"
                    "\"kl_per_latent\":[5,0.001,6,0],\"active_latents\":2,\"test_elbo\":-151,\"beta\":4}\n"
                    "{\"epoch\":2,\"train_recon\":120,\"train_kl\":12,\"test_recon\":118,\"test_kl\":12.5,"
                    "\"kl_per_latent\":[6,0.002,6.5,0],\"active_latents\":2,\"test_elbo\":-130.5,\"beta\":4}\n");
  const std::string plots = out_.file("plots");
  const auto r = test::run_dvae("plot --results " + out_.file("results.jsonl") + " --log " + out_.file("log.jsonl") +
                                " --checkpoint " + out_.file("a.pt") + " " + flags() + " --out " + plots);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  for (const std::string name : {"figure4", "confusion_mlp_disentangled_n10", "training_curves", "latent_kl",
                                 "checkpoint_latent_kl"}) {
    EXPECT_GT(read_png(plots + "/" + name + ".png").size(0), 0) << name;
    EXPECT_NE(read_file(plots + "/" + name + ".svg").find("<svg"), std::string::npos) << name;
    EXPECT_TRUE(fs::exists(plots + "/" + name + ".csv")) << name;
  }
  EXPECT_GT(read_png(plots + "/gallery_mlp_supervised_n10.png").size(0), 0);
  const auto gallery = nlohmann::json::parse(read_file(plots + "/gallery_mlp_supervised_n10.json"));
  EXPECT_EQ(gallery["total_wrong"], 5);  // i = 0, 7, 14, 21, 28
  EXPECT_NE(read_file(plots + "/figure4.csv").find("synthetic,mlp,disentangled,4,-1,6000,0.825,"), std::string::npos);

  const auto bad = test::run_dvae("plot --out " + plots);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("nothing to plot"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace dvae
