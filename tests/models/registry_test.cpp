// Tests of the architecture registry: names, factories, unknown names.
#include <gtest/gtest.h>

#include "core/check.h"
#include "models/vae.h"

namespace dvae {
namespace {

TEST(Registry, ListsTheRegisteredArchitectures) {
  EXPECT_EQ(registered_archs(), (std::vector<std::string>{"cnn", "mlp"}));
}

TEST(Registry, FactoriesBuildTheNamedArchitecture) {
  ModelOptions o;
  o.arch = "cnn";
  o.latent_dim = 4;
  const auto encoder = make_encoder(o);
  EXPECT_EQ(encoder->encode(torch::rand({2, 1, 28, 28})).mu.sizes(), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(make_decoder(o)->decode(torch::zeros({2, 4})).sizes(), (std::vector<int64_t>{2, 1, 28, 28}));
}

TEST(Registry, UnknownArchitectureNamesTheChoices) {
  ModelOptions o;
  o.arch = "resnet";
  try {
    make_encoder(o);
    FAIL() << "expected dvae::Error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("resnet"), std::string::npos) << what;
    EXPECT_NE(what.find("cnn, mlp"), std::string::npos) << what;
  }
  EXPECT_THROW(make_decoder(o), Error);
  EXPECT_THROW(Vae{o}, Error);
}

}  // namespace
}  // namespace dvae
