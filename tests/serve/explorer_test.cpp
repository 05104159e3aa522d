// Tests of serve/explorer.h: where each model's per-latent KL comes from, the
// probe's training set, and the errors for models that do not fit the data.
#include <gtest/gtest.h>

#include "analysis/traversal.h"
#include "core/check.h"
#include "data/datasets.h"
#include "serve/explorer.h"
#include "support/checkpoint_fixtures.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

ModelOptions tiny(int64_t latent, int64_t side = 8) {
  ModelOptions m;
  m.latent_dim = latent;
  m.mlp_hidden = 8;
  m.image_size = side;
  return m;
}

TEST(ServeExplorer, KlComesFromTheCheckpointsLastEpochElseFromTheTestSet) {
  test::TempDir dir;
  test::write_synthetic_mnist(dir.file("data"), 40, 20, 8);
  const Vae computed = test::save_untrained_vae(dir.file("computed.pt"), tiny(3), 1.0, 3);
  torch::manual_seed(4);
  Vae stored(tiny(3));
  CheckpointMeta meta = test::checkpoint_meta(tiny(3), 4.0, 4);
  meta.last_stats = {{"kl_per_latent", {0.5, 0.001, 2.0}}, {"test_elbo", -99.5}};
  save_checkpoint(dir.file("stored.pt"), *stored, meta, nullptr);

  const Dataset data = load_dataset_dir(dir.file("data"));
  const Explorer ex({{"computed", dir.file("computed.pt")}, {"stored", dir.file("stored.pt")}}, data);
  const ExplorerModel& c = ex.model(0);
  EXPECT_EQ(c.kl_source(), "test set");
  const torch::Tensor want = latent_kl(*computed->encoder(), data.test);
  ASSERT_EQ(c.kl().size(), 3u);
  for (int64_t d = 0; d < 3; ++d) EXPECT_NEAR(c.kl()[d], want[d].item<double>(), 1e-5);

  const ExplorerModel& s = ex.model(1);
  EXPECT_EQ(s.kl_source(), "checkpoint");
  EXPECT_EQ(s.kl(), (std::vector<double>{0.5, 0.001, 2.0}));
  EXPECT_EQ(s.order(), (std::vector<int64_t>{2, 0, 1}));
  const auto j = s.describe(0.01);
  EXPECT_EQ(j["collapsed"], nlohmann::json({false, true, false}));
  EXPECT_EQ(j["active_latents"], 2);
  EXPECT_EQ(j["test_elbo"], -99.5);
  EXPECT_EQ(ex.find("stored"), &s);
  EXPECT_EQ(ex.find("none"), nullptr);
  EXPECT_EQ(s.probe(), nullptr);
}

TEST(ServeExplorer, ProbeTrainsOnNLabelsPerClassOrTheWholeTrainingSet) {
  test::TempDir dir;
  test::write_synthetic_mnist(dir.file("data"), 50, 20, 8);
  test::save_untrained_vae(dir.file("m.pt"), tiny(4), 1.0, 5);
  ExplorerOptions options;
  options.probe_labels = 3;
  options.probe.epochs = 5;
  const Dataset data = load_dataset_dir(dir.file("data"));
  const Explorer few({{"m", dir.file("m.pt")}}, data, options);
  ASSERT_NE(few.model(0).probe(), nullptr);
  EXPECT_EQ(few.model(0).probe()->train_images, 30);
  EXPECT_EQ(few.model(0).probe()->labels_per_class, 3);
  const torch::Tensor p = few.model(0).class_probabilities(torch::randn({6, 4}));
  EXPECT_EQ(p.sizes(), (std::vector<int64_t>{6, 10}));
  EXPECT_TRUE(torch::allclose(p.sum(1), torch::ones({6}), 1e-5, 1e-5));
  options.probe_labels = -1;
  const Explorer all({{"m", dir.file("m.pt")}}, data, options);
  EXPECT_EQ(all.model(0).probe()->train_images, 50);
  const double acc = all.model(0).probe()->test_accuracy;
  EXPECT_GE(acc, 0.0);
  EXPECT_LE(acc, 1.0);
}

TEST(ServeExplorer, CnnModelsDecodeAndEncodeLikeTheirModules) {
  test::TempDir dir;
  test::write_synthetic_mnist(dir.file("data"), 20, 10, 28);
  ModelOptions cnn;
  cnn.arch = "cnn";
  cnn.latent_dim = 6;
  Vae vae = test::save_untrained_vae(dir.file("cnn.pt"), cnn, 6.0, 7);
  vae->eval();
  const Explorer ex({{"cnn", dir.file("cnn.pt")}}, load_dataset_dir(dir.file("data")));
  const torch::Tensor z = torch::randn({3, 6});
  const torch::Tensor images = ex.model(0).decode(z);
  ASSERT_EQ(images.sizes(), (std::vector<int64_t>{3, 28, 28}));
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::allclose(images, torch::sigmoid(vae->decoder()->decode(z)).squeeze(1), 1e-5, 1e-6));
  const torch::Tensor x = torch::rand({2, 1, 28, 28});
  EXPECT_TRUE(torch::allclose(ex.model(0).encode(x).mu, vae->encoder()->encode(x).mu, 1e-5, 1e-6));
  EXPECT_EQ(ex.model(0).kl().size(), 6u);
}

TEST(ServeExplorer, ModelsOfAnotherImageSizeOrMissingFilesAreErrorsNamingThem) {
  test::TempDir dir;
  test::write_synthetic_mnist(dir.file("data"), 20, 10, 8);
  test::save_untrained_vae(dir.file("big.pt"), tiny(3, 12), 1.0, 1);
  const Dataset data = load_dataset_dir(dir.file("data"));
  try {
    Explorer({{"big", dir.file("big.pt")}}, data);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("big.pt: a model of 12x12 images"), std::string::npos) << e.what();
  }
  try {
    Explorer({{"gone", dir.file("gone.pt")}}, data);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gone.pt does not exist"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dvae
