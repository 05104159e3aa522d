// Tests for the reproduce presets and TOML overrides.
#include "experiments/reproduce_config.h"

#include <gtest/gtest.h>

#include "core/check.h"
#include "support/fixtures.h"

namespace dvae {

TEST(PresetConfig, PaperIsThePapersSettings) {
  const auto c = preset_config("paper");
  EXPECT_EQ(c.mlp_epochs, 50);
  EXPECT_EQ(c.cnn_epochs, 75);
  EXPECT_EQ(c.sizes, (std::vector<int64_t>{1, 3, 5, 10, 100, 1000, -1}));
  EXPECT_EQ(c.trials_small, 5);
  EXPECT_EQ(c.trials_large, 1);
  EXPECT_EQ(c.probe_epochs, 100);
  EXPECT_EQ(c.supervised_epochs, 100);
  EXPECT_DOUBLE_EQ(c.mlp_beta, 4.0);
  EXPECT_DOUBLE_EQ(c.cnn_beta, 6.0);
  EXPECT_EQ(c.mlp_vae_train_images, 0);
}

TEST(PresetConfig, QuickIsSmallerAndNamed) {
  const auto c = preset_config("quick");
  EXPECT_EQ(c.preset, "quick");
  EXPECT_LT(c.mlp_epochs, 50);
  EXPECT_LT(c.sizes.size(), 7u);
}

TEST(PresetConfig, UnknownPresetIsAUsageError) { EXPECT_THROW(preset_config("fast"), UsageError); }

TEST(ApplyTomlOverrides, OverridesNamedKeysOnly) {
  test::TempDir dir;
  const auto path = dir.file("c.toml");
  test::write_bytes(path, "mlp_epochs = 3\nsizes = [1, 10, \"all\"]\narchs = [\"mlp\"]\nwith_logvar = true\n");
  auto c = preset_config("paper");
  apply_toml_overrides(c, path);
  EXPECT_EQ(c.mlp_epochs, 3);
  EXPECT_EQ(c.cnn_epochs, 75);
  EXPECT_EQ(c.sizes, (std::vector<int64_t>{1, 10, -1}));
  EXPECT_EQ(c.archs, (std::vector<std::string>{"mlp"}));
  EXPECT_TRUE(c.with_logvar);
  EXPECT_EQ(config_to_json(c)["mlp_epochs"], 3);
}

TEST(ApplyTomlOverrides, UnknownKeyNamesFileAndKey) {
  test::TempDir dir;
  const auto path = dir.file("c.toml");
  test::write_bytes(path, "mlp_epocs = 3\n");
  auto c = preset_config("paper");
  try {
    apply_toml_overrides(c, path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos);
    EXPECT_NE(msg.find("mlp_epocs"), std::string::npos);
  }
}

TEST(ApplyTomlOverrides, WrongTypeAndSyntaxErrorsAreClear) {
  test::TempDir dir;
  const auto path = dir.file("c.toml");
  test::write_bytes(path, "mlp_epochs = \"many\"\n");
  auto c = preset_config("paper");
  EXPECT_THROW(apply_toml_overrides(c, path), Error);
  test::write_bytes(path, "mlp_epochs = = 3\n");
  EXPECT_THROW(apply_toml_overrides(c, path), Error);
}

}  // namespace dvae
