// Tests for analysis/traversal: KL per latent by hand, row order, and that a
// collapsed latent's row barely changes while an active latent's row clearly does.
#include "analysis/traversal.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/check.h"
#include "tiny_models.h"

namespace dvae {
namespace {

// D = 3 latents over 4x4 images: latent 0 drives every pixel strongly, latent 1 not at all
// (collapsed), latent 2 drives the top half weakly.
std::shared_ptr<test::LinearDecoderImpl> tiny_decoder() {
  auto weight = torch::zeros({16, 3});
  weight.select(1, 0).fill_(4.0);
  weight.select(1, 2).slice(0, 0, 8).fill_(1.0);
  return std::make_shared<test::LinearDecoderImpl>(weight, torch::zeros({16}), 4, 4);
}

TEST(Traversal, LatentKlMatchesHandComputation) {
  test::MeanPixelEncoderImpl encoder;
  const ImageSet set = test::constant_images(5, 3, 3);  // grey levels 0,10,20,30,40
  const auto kl = latent_kl(encoder, set, 2);           // batch 2 exercises the tail batch
  ASSERT_EQ(kl.size(0), 3);
  double expected0 = 0.0;
  for (int i = 0; i < 5; ++i) expected0 += 0.5 * std::pow(10.0 * i / 255.0, 2);
  EXPECT_NEAR(kl[0].item<double>(), expected0 / 5.0, 1e-7);
  EXPECT_NEAR(kl[1].item<double>(), 0.0, 1e-12);
  EXPECT_NEAR(kl[2].item<double>(), 0.5 * (4.0 - std::log(4.0) - 1.0), 1e-6);
}

TEST(Traversal, RowsSortedByKlAndCollapsedMarked) {
  auto decoder = tiny_decoder();
  const auto kl = torch::tensor({1.5, 0.001, 0.7}, torch::kFloat64);
  const Traversal t = traverse_latents(*decoder, torch::zeros({3}), kl);
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0].latent, 0);
  EXPECT_EQ(t.rows[1].latent, 2);
  EXPECT_EQ(t.rows[2].latent, 1);
  EXPECT_FALSE(t.rows[0].collapsed);
  EXPECT_FALSE(t.rows[1].collapsed);
  EXPECT_TRUE(t.rows[2].collapsed);
  EXPECT_EQ(t.images.sizes(), (torch::IntArrayRef{33, 1, 4, 4}));
  EXPECT_DOUBLE_EQ(t.values[0].item<double>(), -3.0);
  EXPECT_DOUBLE_EQ(t.values[5].item<double>(), 0.0);
  EXPECT_DOUBLE_EQ(t.values[10].item<double>(), 3.0);
  const auto labels = traversal_row_labels(t);
  EXPECT_EQ(labels[0], "z0  KL 1.500");
  EXPECT_EQ(labels[2], "z1  KL 0.001 (collapsed)");
}

TEST(Traversal, CollapsedLatentChangesNothingActiveLatentChangesClearly) {
  auto decoder = tiny_decoder();
  const auto kl = torch::tensor({1.5, 0.001, 0.7}, torch::kFloat64);
  const Traversal t = traverse_latents(*decoder, torch::tensor({0.3f, -0.2f, 0.5f}), kl);
  auto row = [&](int64_t r) { return t.images.slice(0, r * 11, (r + 1) * 11); };  // [11,1,4,4]
  auto spread = [&](int64_t r) { return (row(r).amax(0) - row(r).amin(0)).max().item<double>(); };
  EXPECT_GT(spread(0), 0.99);  // sigmoid(-12 + ...) .. sigmoid(12 + ...)
  EXPECT_GT(spread(1), 0.8);   // latent 2, weight 1 over [-3, 3], top half only
  EXPECT_LT(spread(2), 1e-6);  // the collapsed latent 1 has zero weight
  // The varied latent takes the value itself; the others keep the base code.
  const double expected = 1.0 / (1.0 + std::exp(-(4.0 * 0.0 + 1.0 * 0.5)));  // row 0, step 5 (z0 = 0), top pixel
  EXPECT_NEAR(row(0)[5][0][0][0].item<double>(), expected, 1e-6);
  // Latent 2's row leaves the bottom half (which it does not drive) fixed.
  const auto bottom = row(1).select(2, 3);  // [11,1,4]
  EXPECT_LT((bottom.amax(0) - bottom.amin(0)).max().item<double>(), 1e-6);
}

TEST(Traversal, RejectsBadOptions) {
  auto decoder = tiny_decoder();
  const auto kl = torch::tensor({1.0, 0.0, 0.5}, torch::kFloat64);
  TraversalOptions o;
  o.steps = 1;
  EXPECT_THROW(traverse_latents(*decoder, torch::zeros({3}), kl, o), Error);
  EXPECT_THROW(traverse_latents(*decoder, torch::zeros({2}), kl), Error);
}

TEST(Traversal, LatentsByKlBreaksTiesByIndex) {
  const auto order = latents_by_kl(torch::tensor({0.5, 2.0, 0.5, 0.0}, torch::kFloat64));
  EXPECT_EQ(order, (std::vector<int64_t>{1, 0, 2, 3}));
}

}  // namespace
}  // namespace dvae
