// Tests for analysis/reconstruction: losses by hand, seeded and worst-first
// choices, the stacked layout, prior samples and the misclassification gallery.
#include "analysis/reconstruction.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/check.h"
#include "tiny_models.h"

namespace dvae {
namespace {

VaeParts zero_vae() {
  // Logits 0 everywhere: every pixel has probability 1/2 whatever the image.
  return {std::make_shared<test::MeanPixelEncoderImpl>(),
          std::make_shared<test::LinearDecoderImpl>(torch::zeros({9, 3}), torch::zeros({9}), 3, 3)};
}

TEST(Reconstruction, LossIsBernoulliNllSummedOverPixels) {
  const ImageSet set = test::constant_images(4, 3, 3);
  const auto loss = reconstruction_losses(zero_vae(), set, 3);
  ASSERT_EQ(loss.size(0), 4);
  for (int64_t i = 0; i < 4; ++i) EXPECT_NEAR(loss[i].item<double>(), 9.0 * std::log(2.0), 1e-5);
  // A decoder whose logits follow the mean pixel reconstructs image i better than one at 1/2.
  auto w = torch::zeros({9, 3});
  w.select(1, 0).fill_(8.0);
  VaeParts tracking{std::make_shared<test::MeanPixelEncoderImpl>(),
                    std::make_shared<test::LinearDecoderImpl>(w, torch::full({9}, -4.0), 3, 3)};
  const auto better = reconstruction_losses(tracking, set);
  EXPECT_LT(better[0].item<double>(), loss[0].item<double>());  // image 0 is black: logits -4 fit it
}

TEST(Reconstruction, PickRandomIsSeededAndDistinct) {
  const auto a = pick_random(100, 10, 7);
  const auto b = pick_random(100, 10, 7);
  const auto c = pick_random(100, 10, 8);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, c));
  std::set<int64_t> seen;
  for (int64_t i = 0; i < 10; ++i) {
    const int64_t v = a[i].item<int64_t>();
    EXPECT_GE(v, 0);
    EXPECT_LT(v, 100);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_THROW(pick_random(5, 6, 1), Error);
}

TEST(Reconstruction, PickWorstTakesLargestLossesFirst) {
  const auto worst = pick_worst(torch::tensor({1.0, 5.0, 3.0, 5.0, 0.5}, torch::kFloat64), 3);
  EXPECT_EQ(worst[0].item<int64_t>(), 1);
  EXPECT_EQ(worst[1].item<int64_t>(), 3);
  EXPECT_EQ(worst[2].item<int64_t>(), 2);
}

TEST(Reconstruction, StackedLayoutHasOriginalsThenOneRowPerModel) {
  const ImageSet set = test::constant_images(7, 3, 3);
  const auto r = reconstruct({zero_vae(), zero_vae()}, set, torch::tensor({6, 0, 3, 1, 2}, torch::kInt64));
  ASSERT_EQ(r.reconstructions.size(), 2u);
  EXPECT_EQ(r.originals.sizes(), (torch::IntArrayRef{5, 1, 3, 3}));
  EXPECT_NEAR(r.originals[0][0][0][0].item<double>(), 60.0 / 255.0, 1e-6);
  EXPECT_NEAR(r.reconstructions[1][2][0][1][1].item<double>(), 0.5, 1e-6);
  const auto [cells, rows] = reconstruction_layout(r, 3);  // 2 blocks of 3 columns, 3 rows each
  EXPECT_EQ(rows, 6);
  EXPECT_EQ(cells.size(0), 18);
  EXPECT_NEAR(cells[0][0][0][0].item<double>(), 60.0 / 255.0, 1e-6);   // block 0, originals, image 6
  EXPECT_NEAR(cells[3][0][0][0].item<double>(), 0.5, 1e-6);            // block 0, model 1
  EXPECT_NEAR(cells[9][0][0][0].item<double>(), 10.0 / 255.0, 1e-6);   // block 1, originals, image 1
  EXPECT_NEAR(cells[11][0][0][0].item<double>(), 1.0, 1e-6);           // block 1, blank cell (white)
}

TEST(Reconstruction, PriorSamplesAreSeeded) {
  auto w = torch::ones({9, 3});
  test::LinearDecoderImpl decoder(w, torch::zeros({9}), 3, 3);
  const auto a = sample_prior(decoder, 5, 3, 11);
  const auto b = sample_prior(decoder, 5, 3, 11);
  const auto c = sample_prior(decoder, 5, 3, 12);
  EXPECT_EQ(a.sizes(), (torch::IntArrayRef{5, 1, 3, 3}));
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, c));
  EXPECT_GE(a.min().item<double>(), 0.0);
  EXPECT_LE(a.max().item<double>(), 1.0);
}

TEST(Reconstruction, GalleryKeepsWrongPredictionsInTestOrder) {
  const ImageSet set = test::constant_images(12, 2, 2);  // labels 0..9, 0, 1
  std::vector<int64_t> predictions{0, 7, 2, 3, 1, 5, 6, 7, 8, 9, 0, 0};
  const Gallery g = misclassified(set, predictions, 2);
  EXPECT_EQ(g.total_wrong, 3);
  ASSERT_EQ(g.predicted.size(), 2u);
  EXPECT_EQ(g.index[0].item<int64_t>(), 1);
  EXPECT_EQ(g.index[1].item<int64_t>(), 4);
  EXPECT_EQ(g.predicted, (std::vector<int64_t>{7, 1}));
  EXPECT_EQ(g.truth, (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(g.images.sizes(), (torch::IntArrayRef{2, 1, 2, 2}));
  EXPECT_THROW(misclassified(set, {1, 2}, 4), Error);
}

}  // namespace
}  // namespace dvae
