// Tests of the CNN encoder and InfoGAN decoder: shapes, the paper's parameter
// counts, gradients reaching every parameter, size checks.
#include <gtest/gtest.h>

#include "core/check.h"
#include "models/cnn.h"
#include "param_count.h"

namespace dvae {
namespace {

using test::count_params;

TEST(Cnn, ShapesAndParameterCountsFollowThePaper) {
  torch::manual_seed(0);
  CnnEncoderImpl encoder{CnnOptions{}};
  CnnDecoderImpl decoder{CnnOptions{}};
  const auto x = torch::rand({5, 1, 28, 28});
  const Posterior q = encoder.encode(x);
  EXPECT_EQ(q.mu.sizes(), (std::vector<int64_t>{5, 10}));
  EXPECT_EQ(q.logvar.sizes(), (std::vector<int64_t>{5, 10}));
  EXPECT_EQ(decoder.decode(q.mu).sizes(), (std::vector<int64_t>{5, 1, 28, 28}));
  // conv 1->32 5x5, conv 32->64 5x5, fc 1024->1024, heads 1024->10 (x2).
  EXPECT_EQ(count_params(encoder), 832 + 51264 + 1049600 + 2 * 10250);
  // fc 10->1024, BN, fc 1024->6272, BN, deconv 128->64 4x4, BN, deconv 64->1 4x4.
  EXPECT_EQ(count_params(decoder), 11264 + 2048 + 6428800 + 12544 + 131136 + 128 + 1025);
  EXPECT_EQ(decoder.buffers().size(), 9u);  // running mean, var, batch count per BatchNorm
}

TEST(Cnn, EveryParameterReceivesAGradient) {
  torch::manual_seed(1);
  CnnOptions o;
  o.fc = 32;
  CnnEncoderImpl encoder{o};
  CnnDecoderImpl decoder{o};
  const Posterior q = encoder.encode(torch::rand({4, 1, 28, 28}));
  (decoder.decode(q.mu).pow(2).sum() + q.logvar.sum()).backward();
  for (auto* m : std::vector<torch::nn::Module*>{&encoder, &decoder}) {
    for (const auto& p : m->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
      EXPECT_GT(p.value().grad().abs().sum().item<float>(), 0.0f) << p.key();
    }
  }
}

TEST(Cnn, OtherImageSizesWork) {
  CnnOptions o;
  o.image_size = 32;
  o.fc = 8;
  CnnEncoderImpl encoder{o};
  CnnDecoderImpl decoder{o};
  const Posterior q = encoder.encode(torch::rand({2, 1, 32, 32}));
  EXPECT_EQ(decoder.decode(q.mu).sizes(), (std::vector<int64_t>{2, 1, 32, 32}));
}

TEST(Cnn, RejectsUnsupportedSizes) {
  CnnOptions o;
  o.image_size = 30;
  EXPECT_THROW(CnnEncoderImpl{o}, Error);
  EXPECT_THROW(CnnDecoderImpl{o}, Error);
  o.image_size = 28;
  o.latent_dim = 0;
  EXPECT_THROW(CnnEncoderImpl{o}, Error);
}

}  // namespace
}  // namespace dvae
