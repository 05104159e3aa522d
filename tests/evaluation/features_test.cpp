// Tests for evaluation/features: the mean (or mean and log-variance) of every
// image, batch size independent, encoder mode restored.
#include "evaluation/features.h"

#include <gtest/gtest.h>

#include "core/check.h"
#include "toy_encoder.h"

namespace dvae {
namespace {

ImageSet tiny_set(int64_t n) {
  ImageSet s;
  s.images = (torch::arange(n * 16, torch::kLong) * 7 % 256).to(torch::kUInt8).view({n, 4, 4});
  s.labels = torch::arange(n, torch::kLong) % 3;
  s.num_classes = 3;
  s.source = "tiny";
  return s;
}

TEST(features, MeanOfEveryImageIndependentOfBatch) {
  auto enc = std::make_shared<test::ToyEncoderImpl>(16, 3, 1);
  const ImageSet set = tiny_set(7);
  const auto f = extract_features(*enc, set, false, 3);  // batches 3, 3, 1
  ASSERT_EQ(f.sizes(), (std::vector<int64_t>{7, 3}));
  torch::NoGradGuard g;
  const auto expected = enc->encode(set.batch(torch::arange(7, torch::kLong))).mu;
  EXPECT_LE((f - expected).abs().max().item<float>(), 1e-6);
  EXPECT_TRUE(f.is_contiguous());
  EXPECT_EQ(f.scalar_type(), torch::kFloat);
}

TEST(features, WithLogvarConcatenatesMeanAndLogvar) {
  auto enc = std::make_shared<test::ToyEncoderImpl>(16, 3, 2);
  const auto f = extract_features(*enc, tiny_set(5), true);
  ASSERT_EQ(f.sizes(), (std::vector<int64_t>{5, 6}));
  EXPECT_LE((f.narrow(1, 0, 3) + f.narrow(1, 3, 3)).abs().max().item<float>(), 1e-6);  // logvar = -mu
  EXPECT_GT(f.narrow(1, 0, 3).abs().max().item<float>(), 1e-3);
}

TEST(features, RestoresTrainingModeAndRejectsEmptySet) {
  auto enc = std::make_shared<test::ToyEncoderImpl>(16, 2, 3);
  enc->train();
  extract_features(*enc, tiny_set(2), false);
  EXPECT_TRUE(enc->is_training());
  EXPECT_THROW(extract_features(*enc, ImageSet{}, false), Error);
}

TEST(features, TensorOfBytesOrFloatsGivesTheSameFeaturesAsTheImageSet) {
  auto enc = std::make_shared<test::ToyEncoderImpl>(16, 3, 1);
  const ImageSet set = tiny_set(5);
  const auto from_set = extract_features(*enc, set, true, 2);
  EXPECT_TRUE(torch::equal(extract_features(*enc, set.images, true, 2), from_set));
  const auto floats = set.images.to(torch::kFloat).div(255.0f).unsqueeze(1);  // [5,4,4] -> [5,1,4,4]
  EXPECT_TRUE(torch::equal(extract_features(*enc, floats, true, 4), from_set));
}

TEST(features, TensorOfAnotherTypeOrRankIsAnError) {
  auto enc = std::make_shared<test::ToyEncoderImpl>(16, 3, 1);
  const ImageSet set = tiny_set(2);
  for (const auto& bad : {set.images.to(torch::kFloat), set.images.unsqueeze(1), set.images.to(torch::kInt),
                          torch::Tensor(), torch::zeros({0, 4, 4}, torch::kUInt8)}) {
    EXPECT_THROW(extract_features(*enc, bad, false), Error);
  }
}

}  // namespace
}  // namespace dvae
