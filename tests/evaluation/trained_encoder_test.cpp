// Tests for evaluation/trained_encoder: a checkpoint's encoder gives the same
// codes as the VAE it was saved from, for bytes and floats; wrong inputs and
// files are one-line errors naming what was expected.
#include "evaluation/trained_encoder.h"

#include <gtest/gtest.h>

#include "core/check.h"
#include "evaluation/features.h"
#include "support/checkpoint_fixtures.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

struct SavedVae {
  test::TempDir dir;
  std::string path = dir.file("checkpoint.pt");
  Vae vae = nullptr;
  explicit SavedVae(const std::string& arch) {
    ModelOptions m;
    m.arch = arch;
    m.image_size = arch == "cnn" ? 16 : 8;
    m.mlp_hidden = 16;
    m.cnn_fc = 16;
    m.latent_dim = 3;
    vae = test::save_untrained_vae(path, m, 4.0, 5);
  }
  torch::Tensor images(int64_t n) const {
    const int64_t side = vae->options().image_size;
    return (torch::arange(n * side * side, torch::kLong) * 37 % 256).to(torch::kUInt8).view({n, side, side});
  }
};

class TrainedEncoderArch : public ::testing::TestWithParam<const char*> {};

TEST_P(TrainedEncoderArch, GivesTheSavedVaesMeansForBytesAndFloats) {
  SavedVae saved(GetParam());
  const TrainedEncoder encoder(saved.path);
  EXPECT_EQ(encoder.latent_dim(), 3);
  EXPECT_EQ(encoder.image_size(), saved.vae->options().image_size);
  EXPECT_EQ(encoder.meta().arch, GetParam());
  EXPECT_DOUBLE_EQ(encoder.meta().beta, 4.0);
  const torch::Tensor bytes = saved.images(5);
  const torch::Tensor mu = encoder.encode(bytes, 2);
  ASSERT_EQ(mu.sizes(), (std::vector<int64_t>{5, 3}));
  saved.vae->eval();
  const torch::Tensor expected = extract_features(*saved.vae->encoder(), bytes, false);
  EXPECT_TRUE(torch::allclose(mu, expected, 1e-5, 1e-6));
  const torch::Tensor floats = bytes.to(torch::kFloat).div(255.0f);  // [N,H,W] in [0,1]
  EXPECT_TRUE(torch::allclose(encoder.encode(floats), mu, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(encoder.encode(floats.unsqueeze(1)), mu, 1e-5, 1e-6));
  const torch::Tensor both = encoder.encode_with_logvar(bytes);
  ASSERT_EQ(both.sizes(), (std::vector<int64_t>{5, 6}));
  EXPECT_TRUE(torch::allclose(both.narrow(1, 0, 3), mu, 1e-5, 1e-6));
  EXPECT_TRUE(torch::equal(encoder.encode(bytes), encoder.encode(bytes)));  // deterministic
}

INSTANTIATE_TEST_SUITE_P(Archs, TrainedEncoderArch, ::testing::Values("mlp", "cnn"));

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(TrainedEncoder, WrongImagesAreOneLineErrorsSayingWhatIsExpected) {
  const SavedVae saved("mlp");
  const TrainedEncoder encoder(saved.path);
  const std::string wrong_size = error_of([&] { encoder.encode(torch::zeros({2, 9, 9}, torch::kUInt8)); });
  EXPECT_NE(wrong_size.find("expected [N,8,8]"), std::string::npos) << wrong_size;
  const std::string wrong_type = error_of([&] { encoder.encode(torch::zeros({2, 8, 8}, torch::kDouble)); });
  EXPECT_NE(wrong_type.find("expected uint8 [N,8,8] or float [N,1,8,8]"), std::string::npos) << wrong_type;
  const std::string channels = error_of([&] { encoder.encode(torch::zeros({2, 3, 8, 8})); });
  EXPECT_NE(channels.find("expected [N,8,8]"), std::string::npos) << channels;
  for (const auto& e : {wrong_size, wrong_type, channels}) EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

TEST(TrainedEncoder, MissingOrCorruptCheckpointNamesTheFile) {
  test::TempDir dir;
  const std::string missing = error_of([&] { TrainedEncoder(dir.file("none.pt")); });
  EXPECT_NE(missing.find(dir.file("none.pt")), std::string::npos) << missing;
  test::write_bytes(dir.file("bad.pt"), "not a checkpoint");
  const std::string corrupt = error_of([&] { TrainedEncoder(dir.file("bad.pt")); });
  EXPECT_NE(corrupt.find(dir.file("bad.pt")), std::string::npos) << corrupt;
}

}  // namespace
}  // namespace dvae
