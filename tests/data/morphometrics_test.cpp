// Morphometrics: hand-computable shapes (a line, a rectangle, a sheared bar),
// invariants (mirror symmetry, translation), the batch entry point, and the
// first three real MNIST training images against Morpho-MNIST's Python values.
#include <gtest/gtest.h>

#include <cmath>

#include "data/idx.h"
#include "data/datasets.h"
#include "data/morphometrics.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

constexpr int kMorphoSize = 28;

std::vector<uint8_t> blank() { return std::vector<uint8_t>(kMorphoSize * kMorphoSize, 0); }

void fill_rect(std::vector<uint8_t>& img, int r0, int r1, int c0, int c1) {
  for (int r = r0; r < r1; ++r) {
    for (int c = c0; c < c1; ++c) img[static_cast<size_t>(r * kMorphoSize + c)] = 255;
  }
}

// A bar 3 px wide from row 4 to row 23 whose centre moves by k px per row upwards
// (k > 0: the top is to the right, a right lean).
std::vector<uint8_t> sheared_bar(double k) {
  std::vector<uint8_t> img = blank();
  for (int r = 4; r < 24; ++r) {
    const double centre = 13.5 + k * (13.5 - r);
    for (int c = 0; c < kMorphoSize; ++c) {
      if (std::fabs(c - centre) <= 1.5) img[static_cast<size_t>(r * kMorphoSize + c)] = 255;
    }
  }
  return img;
}

MorphometricsOptions unscaled() {
  MorphometricsOptions o;
  o.scale = 1;
  return o;
}

TEST(Morphometrics, NamesInColumnOrder) {
  EXPECT_EQ(morphometric_names(),
            (std::vector<std::string>{"area", "length", "thickness", "slant", "width", "height"}));
}

TEST(Morphometrics, HorizontalLineAtScaleOneIsExact) {
  std::vector<uint8_t> img = blank();
  fill_rect(img, 10, 11, 5, 15);  // 10 pixels in a row
  const Morphometrics m = measure_image(img.data(), kMorphoSize, kMorphoSize, unscaled());
  EXPECT_DOUBLE_EQ(m.area, 10.0);
  EXPECT_DOUBLE_EQ(m.length, 9.0);     // 9 unit steps along the skeleton
  EXPECT_DOUBLE_EQ(m.thickness, 2.0);  // distance 1 to the background everywhere
  EXPECT_DOUBLE_EQ(m.slant, 0.0);      // one row: no shear (the reference gives NaN)
  EXPECT_NEAR(m.width, 9.8, 1e-12);    // 98% of 10 columns
}

TEST(Morphometrics, DiagonalLineStepsCountRootTwo) {
  std::vector<uint8_t> img = blank();
  for (int k = 0; k < 8; ++k) img[static_cast<size_t>((6 + k) * kMorphoSize + 6 + k)] = 255;
  const Morphometrics m = measure_image(img.data(), kMorphoSize, kMorphoSize, unscaled());
  EXPECT_DOUBLE_EQ(m.area, 8.0);
  EXPECT_NEAR(m.length, 7.0 * std::sqrt(2.0), 1e-12);
}

TEST(Morphometrics, RectangleAtScaleOneHasExactAreaWidthHeight) {
  std::vector<uint8_t> img = blank();
  fill_rect(img, 8, 20, 10, 16);  // 12 rows x 6 columns
  const Morphometrics m = measure_image(img.data(), kMorphoSize, kMorphoSize, unscaled());
  EXPECT_DOUBLE_EQ(m.area, 72.0);
  EXPECT_NEAR(m.width, 6.0 * 0.98, 1e-12);   // 1% of the mass cut on each side
  EXPECT_NEAR(m.height, 12.0 * 0.98, 1e-12);
  EXPECT_NEAR(m.slant, 0.0, 1e-12);
  // Morpho-MNIST's Python code gives 24.3848 and 4.6667 for this rectangle.
  EXPECT_NEAR(m.length, 24.38477631085024, 1e-9);
  EXPECT_NEAR(m.thickness, 4.666666666666667, 1e-9);
}

TEST(Morphometrics, RectangleUpscaledMatchesReference) {
  std::vector<uint8_t> img = blank();
  fill_rect(img, 8, 20, 10, 16);
  const Morphometrics m = measure_image(img.data(), kMorphoSize, kMorphoSize);
  // Morpho-MNIST (skimage 0.19, scipy 1.10): 71.75, 16.6244, 5.2255, 0, 6.7830, 12.3392.
  EXPECT_DOUBLE_EQ(m.area, 71.75);
  EXPECT_NEAR(m.slant, 0.0, 1e-9);
  EXPECT_NEAR(m.width, 6.782953410981698, 1e-3);
  EXPECT_NEAR(m.height, 12.339228855721394, 1e-3);
  EXPECT_NEAR(m.thickness, 5.2254901960784315, 1e-4);
  EXPECT_NEAR(m.length, 16.624368670764586, 1e-4);
}

TEST(Morphometrics, ShearedBarSlantHasTheShearsSignAndAngle) {
  for (const double k : {0.3, -0.3, 0.15}) {
    const std::vector<uint8_t> img = sheared_bar(k);
    const Morphometrics m = measure_image(img.data(), kMorphoSize, kMorphoSize);
    EXPECT_NEAR(m.slant, std::atan(k), 0.03) << "shear " << k;
    EXPECT_GT(m.slant * k, 0.0) << "shear " << k;
    EXPECT_NEAR(m.height, 20.0, 1.0) << "shear " << k;  // 20 rows, less 2% of the mass, plus the blur
  }
  const std::vector<uint8_t> upright = sheared_bar(0.0);
  EXPECT_NEAR(measure_image(upright.data(), kMorphoSize, kMorphoSize).slant, 0.0, 1e-9);
}

TEST(Morphometrics, MirrorImageNegatesSlantOnly) {
  const std::vector<uint8_t> img = sheared_bar(0.25);
  std::vector<uint8_t> mirrored = blank();
  for (int r = 0; r < kMorphoSize; ++r) {
    for (int c = 0; c < kMorphoSize; ++c) mirrored[static_cast<size_t>(r * kMorphoSize + c)] = img[static_cast<size_t>(r * kMorphoSize + kMorphoSize - 1 - c)];
  }
  const Morphometrics a = measure_image(img.data(), kMorphoSize, kMorphoSize);
  const Morphometrics b = measure_image(mirrored.data(), kMorphoSize, kMorphoSize);
  EXPECT_DOUBLE_EQ(a.area, b.area);
  EXPECT_NEAR(a.slant, -b.slant, 1e-9);
  EXPECT_NEAR(a.width, b.width, 0.3);  // the column cut points are not mirror-symmetric (x + 0.5 < t)
  EXPECT_NEAR(a.height, b.height, 1e-9);
  EXPECT_NEAR(a.thickness, b.thickness, 0.05);
}

TEST(Morphometrics, ThickerStrokeMeasuresThicker) {
  std::vector<uint8_t> thin = blank(), thick = blank();
  fill_rect(thin, 5, 23, 13, 15);   // 2 px wide
  fill_rect(thick, 5, 23, 12, 16);  // 4 px wide
  const Morphometrics a = measure_image(thin.data(), kMorphoSize, kMorphoSize);
  const Morphometrics b = measure_image(thick.data(), kMorphoSize, kMorphoSize);
  EXPECT_NEAR(a.thickness, 2.0, 0.2);
  EXPECT_NEAR(b.thickness, 4.0, 0.2);
  EXPECT_NEAR(b.area / a.area, 2.0, 0.05);
  EXPECT_NEAR(a.length, 18.0, 1.5);  // the bar's 18 rows, plus short forks into its corners
}

// Morpho-MNIST's Python code (skimage 0.19.3, scipy 1.10.1) on synthetic shapes:
// area, length, thickness, slant, width, height.
TEST(Morphometrics, SyntheticShapesMatchTheReference) {
  struct Case {
    const char* name;
    std::vector<uint8_t> image;
    double ref[6];
  };
  std::vector<uint8_t> thin = blank(), thick = blank(), rect = blank();
  fill_rect(thin, 5, 23, 13, 15);
  fill_rect(thick, 5, 23, 12, 16);
  fill_rect(rect, 8, 20, 10, 16);
  const std::vector<Case> cases = {
      {"bar 2 px", thin, {35.75, 19.21015510839149, 2.0, 0.0, 3.460194174757282, 18.051690821256038}},
      {"bar 4 px", thick, {71.75, 21.392135623730955, 3.8333333333333335, 0.0, 4.983181562675661, 18.040172626387175}},
      {"rectangle", rect, {71.75, 16.624368670764586, 5.2254901960784315, 0.0, 6.782953410981698, 12.339228855721394}},
      {"shear 0.3", sheared_bar(0.3),
       {60.375, 20.649494936611667, 2.75388012243647, 0.2787142360219859, 4.559536679536681, 19.961294964028774}},
      {"shear -0.3", sheared_bar(-0.3),
       {60.375, 20.442388155425117, 2.75388012243647, -0.2787142360219859, 4.559536679536684, 19.961294964028774}},
      {"shear 0.15", sheared_bar(0.15),
       {60.125, 23.78858223313768, 2.823943862682763, 0.14975200903702834, 4.521095477386936, 19.960940390544707}},
  };
  for (const Case& c : cases) {
    const Morphometrics m = measure_image(c.image.data(), kMorphoSize, kMorphoSize);
    const double got[6] = {m.area, m.length, m.thickness, m.slant, m.width, m.height};
    for (int k = 0; k < 6; ++k) EXPECT_NEAR(got[k], c.ref[k], 1e-4) << c.name << " " << morphometric_names()[k];
  }
}

TEST(Morphometrics, EmptyImageGivesZeros) {
  const std::vector<uint8_t> img = blank();
  const Morphometrics m = measure_image(img.data(), kMorphoSize, kMorphoSize);
  EXPECT_EQ(m.area, 0.0);
  EXPECT_EQ(m.length, 0.0);
  EXPECT_EQ(m.width, 0.0);
}

TEST(Morphometrics, BatchEqualsSingleImagesAndAddsTimings) {
  torch::Tensor images = torch::zeros({3, kMorphoSize, kMorphoSize}, torch::kUInt8);
  const std::vector<uint8_t> a = sheared_bar(0.2), b = sheared_bar(-0.1);
  std::memcpy(images[0].data_ptr<uint8_t>(), a.data(), a.size());
  std::memcpy(images[1].data_ptr<uint8_t>(), b.data(), b.size());
  MorphometricsTimings timings;
  const torch::Tensor m = measure_images(images, {}, &timings);  // [3,6]
  ASSERT_EQ(m.sizes(), (std::vector<int64_t>{3, 6}));
  const Morphometrics one = measure_image(b.data(), kMorphoSize, kMorphoSize);
  EXPECT_EQ(m[1][0].item<double>(), one.area);
  EXPECT_EQ(m[1][1].item<double>(), one.length);
  EXPECT_EQ(m[1][3].item<double>(), one.slant);
  EXPECT_EQ(m[1][5].item<double>(), one.height);
  EXPECT_EQ(m[2].abs().sum().item<double>(), 0.0);  // the blank image
  EXPECT_GT(timings.upscale, 0.0);
  EXPECT_GT(timings.skeleton, 0.0);
}

TEST(Morphometrics, RejectsWrongTensorType) {
  EXPECT_THROW(measure_images(torch::zeros({2, 28, 28}, torch::kFloat32)), Error);
  EXPECT_THROW(measure_images(torch::zeros({28, 28}, torch::kUInt8)), Error);
}

// Real data: Morpho-MNIST's Python reference (morphomnist.measure.measure_image,
// skimage 0.19.3, scipy 1.10.1) on the first three MNIST training images.
TEST(MorphometricsSlow, RealMnistFirstThreeTrainingImages) {
  const std::string dir = test::real_mnist_dir();
  if (dir.empty()) GTEST_SKIP() << "real MNIST not installed (run scripts/setup.sh)";
  const Dataset data = load_dataset_dir(dir, "mnist");
  const torch::Tensor m = measure_images(data.train.images.narrow(0, 0, 3));  // [3,6]
  const double ref[3][6] = {{107.1875, 47.748737, 2.525400, 0.231577, 14.523651, 19.889152},
                            {123.0625, 52.905592, 2.570187, 0.330892, 15.385168, 19.359169},
                            {78.1875, 47.109650, 1.853382, -0.213113, 20.472912, 19.133937}};
  // The reference's values are printed to 6 decimals.
  const double tol[6] = {1e-6, 1e-5, 1e-5, 1e-5, 1e-5, 1e-5};
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < 6; ++k) {
      EXPECT_NEAR(m[i][k].item<double>(), ref[i][k], tol[k]) << "image " << i << " " << morphometric_names()[k];
    }
  }
}

}  // namespace
}  // namespace dvae
