// Tests of serve/image_input.h: grey levels of PNG pixels, resizing, and
// MNIST-style centring checked against values worked out by hand.
#include <gtest/gtest.h>

#include "serve/image_input.h"

namespace dvae {
namespace {

// Centre of mass (row, column) of img [S,S] in pixel-centre coordinates.
std::pair<double, double> centre_of_mass(const torch::Tensor& img) {
  const auto s = img.size(0);
  const auto ys = torch::arange(s, torch::kFloat32).add(0.5).unsqueeze(1);
  const auto xs = torch::arange(s, torch::kFloat32).add(0.5).unsqueeze(0);
  const double m = img.sum().item<double>();
  return {img.mul(ys).sum().item<double>() / m, img.mul(xs).sum().item<double>() / m};
}

TEST(ServeImageInput, GreyLevelsAverageColourChannels) {
  const torch::Tensor rgb = torch::tensor({0, 255, 255, 255, 255, 255}, torch::kUInt8).view({1, 2, 3});
  const torch::Tensor g = grey_levels(rgb);
  ASSERT_EQ(g.sizes(), (std::vector<int64_t>{1, 2}));
  EXPECT_NEAR(g[0][0].item<double>(), 2.0 / 3.0, 1e-6);
  EXPECT_NEAR(g[0][1].item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(grey_levels(torch::full({2, 2}, 51, torch::kUInt8))[1][1].item<double>(), 0.2, 1e-6);
  EXPECT_THROW(grey_levels(torch::zeros({2, 2, 4}, torch::kUInt8)), std::exception);
}

TEST(ServeImageInput, ResizeAveragesAreasWhenShrinking) {
  // A 4x4 image of 2x2 blocks 0, 1 / 1, 0 shrinks to exactly those four values.
  torch::Tensor x = torch::zeros({4, 4});
  x.slice(0, 0, 2).slice(1, 2, 4).fill_(1.0);
  x.slice(0, 2, 4).slice(1, 0, 2).fill_(1.0);
  const torch::Tensor y = resize_square(x, 2);
  EXPECT_TRUE(torch::allclose(y, torch::tensor({0.0f, 1.0f, 1.0f, 0.0f}).view({2, 2})));
  const torch::Tensor up = resize_square(torch::full({3, 5}, 0.25), 28);
  EXPECT_EQ(up.sizes(), (std::vector<int64_t>{28, 28}));
  EXPECT_TRUE(torch::allclose(up, torch::full({28, 28}, 0.25)));
}

TEST(ServeImageInput, FitScalesTheInkToTwentyPixelsAndCentresItsMass) {
  // A 40x20 white bar in the corner of a 200x300 drawing: its box becomes 20x10 in 28x28,
  // and its centre of mass moves to the image centre (14, 14).
  torch::Tensor drawing = torch::zeros({200, 300});
  drawing.slice(0, 150, 190).slice(1, 5, 25).fill_(1.0);
  const torch::Tensor fitted = fit_like_mnist(drawing, 28);
  ASSERT_EQ(fitted.sizes(), (std::vector<int64_t>{28, 28}));
  const torch::Tensor ink = fitted.gt(0.05);
  EXPECT_EQ(ink.any(1).sum().item<int64_t>(), 20);
  EXPECT_EQ(ink.any(0).sum().item<int64_t>(), 10);
  const auto [cy, cx] = centre_of_mass(fitted);
  EXPECT_NEAR(cy, 14.0, 0.5);
  EXPECT_NEAR(cx, 14.0, 0.5);
  EXPECT_NEAR(fitted.max().item<double>(), 1.0, 1e-5);
  // Other sides scale the box with them: round(20 * 8 / 28) = 6.
  EXPECT_EQ(fit_like_mnist(drawing, 8).gt(0.05).any(1).sum().item<int64_t>(), 6);
}

TEST(ServeImageInput, FitOfABlankImageIsBlank) {
  EXPECT_EQ(fit_like_mnist(torch::full({50, 50}, 0.01), 28).abs().sum().item<double>(), 0.0);
  EXPECT_THROW(fit_like_mnist(torch::zeros({0, 5}), 28), std::exception);
}

}  // namespace
}  // namespace dvae
