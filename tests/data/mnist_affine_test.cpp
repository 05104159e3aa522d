// mnist-affine's transformation: each factor moves the image the documented way
// (direction and size), the identity keeps it, generation is seeded and
// deterministic, and the factor table travels with the images.
#include <gtest/gtest.h>

#include <cmath>

#include <filesystem>

#include "core/atomic_file.h"
#include "data/datasets.h"
#include "data/morphometrics.h"
#include "data/mnist_affine.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

constexpr int kAffineSize = 28;

std::vector<uint8_t> bar(int r0, int r1, int c0, int c1) {
  std::vector<uint8_t> img(kAffineSize * kAffineSize, 0);
  for (int r = r0; r < r1; ++r) {
    for (int c = c0; c < c1; ++c) img[static_cast<size_t>(r * kAffineSize + c)] = 255;
  }
  return img;
}

std::vector<uint8_t> transformed(const std::vector<uint8_t>& in, const AffineFactors& f) {
  std::vector<uint8_t> out(in.size());
  transform_digit(in.data(), out.data(), kAffineSize, f);
  return out;
}

// Centroid (x = column, y = row) and orientation of the major axis (radians,
// counter-clockwise on screen from the x axis).
struct Moments {
  double x = 0, y = 0, angle = 0, mass = 0;
};
Moments moments(const std::vector<uint8_t>& img) {
  double m = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
  for (int r = 0; r < kAffineSize; ++r) {
    for (int c = 0; c < kAffineSize; ++c) {
      const double v = img[static_cast<size_t>(r * kAffineSize + c)];
      m += v;
      sx += c * v;
      sy += r * v;
      sxx += c * c * v;
      sxy += c * r * v;
      syy += r * r * v;
    }
  }
  Moments out;
  out.mass = m;
  out.x = sx / m;
  out.y = sy / m;
  const double u20 = sxx / m - out.x * out.x, u11 = sxy / m - out.x * out.y, u02 = syy / m - out.y * out.y;
  out.angle = -0.5 * std::atan2(2 * u11, u20 - u02);  // minus: rows grow downwards
  return out;
}

TEST(MnistAffine, RangesAreTheDocumentedOnes) {
  const std::vector<FactorRange>& r = mnist_affine_ranges();
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[0].name, "rotation");
  EXPECT_EQ(r[0].lo, -40.0);
  EXPECT_EQ(r[0].hi, 40.0);
  EXPECT_EQ(r[1].name, "scale");
  EXPECT_EQ(r[1].lo, 0.8);
  EXPECT_EQ(r[1].hi, 1.15);
  EXPECT_EQ(r[2].name, "shear");
  EXPECT_EQ(r[3].name, "tx");
  EXPECT_EQ(r[4].name, "ty");
  EXPECT_EQ(r[5].name, "thickening");
  EXPECT_EQ(r[5].lo, -0.4);
  EXPECT_EQ(r[5].hi, 1.0);
}

TEST(MnistAffine, IdentityKeepsTheImage) {
  const std::vector<uint8_t> in = bar(6, 22, 12, 16);
  const std::vector<uint8_t> out = transformed(in, {});
  double diff = 0;
  for (size_t k = 0; k < in.size(); ++k) diff += std::abs(in[k] - out[k]);
  EXPECT_LT(diff / (255.0 * 64), 0.1);  // 64 pixels on; the re-drawn soft edge moves under 10% of their mass
}

TEST(MnistAffine, TranslationMovesTheCentroid) {
  const std::vector<uint8_t> in = bar(8, 20, 11, 16);
  const Moments a = moments(transformed(in, {}));
  AffineFactors f;
  f.tx = 3.0;
  f.ty = -2.0;
  const Moments b = moments(transformed(in, f));
  EXPECT_NEAR(b.x - a.x, 3.0, 0.1);
  EXPECT_NEAR(b.y - a.y, -2.0, 0.1);  // ty < 0 moves up
}

TEST(MnistAffine, RotationTurnsCounterClockwise) {
  const std::vector<uint8_t> in = bar(13, 15, 6, 22);  // a horizontal bar
  EXPECT_NEAR(moments(transformed(in, {})).angle, 0.0, 0.02);
  AffineFactors f;
  f.rotation = 30.0;
  EXPECT_NEAR(moments(transformed(in, f)).angle, 30.0 * M_PI / 180.0, 0.03);
  f.rotation = -20.0;
  EXPECT_NEAR(moments(transformed(in, f)).angle, -20.0 * M_PI / 180.0, 0.03);
}

TEST(MnistAffine, ScaleGrowsTheArea) {
  const std::vector<uint8_t> in = bar(7, 21, 10, 18);
  AffineFactors f;
  f.scale = 1.15;
  const double big = moments(transformed(in, f)).mass;
  f.scale = 0.8;
  const double small = moments(transformed(in, f)).mass;
  EXPECT_NEAR(big / small, (1.15 * 1.15) / (0.8 * 0.8), 0.12);
}

TEST(MnistAffine, ShearGivesTheMeasuredSlant) {
  const std::vector<uint8_t> in = bar(5, 23, 12, 16);  // upright
  AffineFactors f;
  f.shear = 0.3;
  std::vector<uint8_t> out = transformed(in, f);
  EXPECT_NEAR(measure_image(out.data(), kAffineSize, kAffineSize).slant, std::atan(0.3), 0.03);
  f.shear = -0.2;
  out = transformed(in, f);
  EXPECT_NEAR(measure_image(out.data(), kAffineSize, kAffineSize).slant, std::atan(-0.2), 0.03);
}

TEST(MnistAffine, ThicknessMovesTheStrokeEdge) {
  const std::vector<uint8_t> in = bar(5, 23, 12, 15);  // 3 px wide
  const double base = measure_image(transformed(in, {}).data(), kAffineSize, kAffineSize).thickness;
  AffineFactors f;
  f.thickness = 1.0;
  const double thick = measure_image(transformed(in, f).data(), kAffineSize, kAffineSize).thickness;
  f.thickness = -0.4;
  const double thin = measure_image(transformed(in, f).data(), kAffineSize, kAffineSize).thickness;
  EXPECT_NEAR(thick - base, 2.0, 0.4);  // the edge moves 1 px on both sides
  // Nominally 0.8 thinner; measured 0.33: the measurement's blur widens thin strokes.
  EXPECT_GT(base - thin, 0.2);
  EXPECT_LT(base - thin, 1.0);
  // Continuous: a small change of the factor changes the image a little.
  f.thickness = 0.50;
  const std::vector<uint8_t> a = transformed(in, f);
  f.thickness = 0.52;
  const std::vector<uint8_t> b = transformed(in, f);
  double diff = 0;
  for (size_t k = 0; k < a.size(); ++k) diff += std::abs(a[k] - b[k]);
  EXPECT_GT(diff, 0.0);
  EXPECT_LT(diff / 255.0, 2.0);
}

ImageSet bars(int n) {
  ImageSet set;
  set.images = torch::zeros({n, kAffineSize, kAffineSize}, torch::kUInt8);
  set.labels = torch::arange(n, torch::kInt64).remainder(10);
  for (int i = 0; i < n; ++i) {
    const std::vector<uint8_t> img = bar(6, 22, 10 + i % 5, 14 + i % 5);
    std::memcpy(set.images[i].data_ptr<uint8_t>(), img.data(), img.size());
  }
  set.source = "bars";
  return set;
}

TEST(MnistAffine, SetIsSeededDeterministicAndCarriesFactors) {
  const ImageSet base = bars(20);
  const ImageSet a = make_affine_set(base, 7, 0);
  const ImageSet b = make_affine_set(base, 7, 0);
  const ImageSet c = make_affine_set(base, 8, 0);
  const ImageSet d = make_affine_set(base, 7, 1);
  EXPECT_TRUE(torch::equal(a.images, b.images));
  EXPECT_TRUE(torch::equal(a.factors, b.factors));
  EXPECT_FALSE(torch::equal(a.factors, c.factors));
  EXPECT_FALSE(torch::equal(a.factors, d.factors));  // the test split's stream differs
  EXPECT_TRUE(torch::equal(a.labels, base.labels));
  ASSERT_EQ(a.factors.sizes(), (std::vector<int64_t>{20, 6}));
  EXPECT_EQ(a.factor_names, (std::vector<std::string>{"rotation", "scale", "shear", "tx", "ty", "thickening"}));
  const std::vector<FactorRange>& r = mnist_affine_ranges();
  for (int64_t k = 0; k < 6; ++k) {
    const torch::Tensor col = a.factors.select(1, k);
    EXPECT_GE(col.min().item<double>(), r[static_cast<size_t>(k)].lo);
    EXPECT_LE(col.max().item<double>(), r[static_cast<size_t>(k)].hi);
    EXPECT_GT(col.std().item<double>(), 0.1 * (r[static_cast<size_t>(k)].hi - r[static_cast<size_t>(k)].lo));
  }
  // Image i is the rendering of its own factor row.
  std::vector<uint8_t> one(kAffineSize * kAffineSize);
  const torch::Tensor row = a.factors[5].contiguous();
  transform_digit(base.images[5].contiguous().data_ptr<uint8_t>(), one.data(), kAffineSize,
                  affine_factors_from(row.data_ptr<double>()));
  EXPECT_EQ(std::memcmp(one.data(), a.images[5].contiguous().data_ptr<uint8_t>(), one.size()), 0);
  // A subset keeps the matching factor rows.
  const ImageSet s = a.subset(torch::tensor({3, 1}, torch::kInt64));
  EXPECT_TRUE(torch::equal(s.factors[0], a.factors[3]));
  EXPECT_TRUE(torch::equal(s.factors[1], a.factors[1]));
}

TEST(MnistAffine, RegisteredDataSetIsCachedAndTheCacheIsChecked) {
  test::TempDir dir;
  test::write_synthetic_mnist(dir.file("mnist"), 30, 10);
  const Dataset a = load_dataset("mnist-affine", dir.path());
  EXPECT_EQ(a.name, "mnist-affine");
  EXPECT_EQ(a.train.size(), 30);
  EXPECT_EQ(a.test.size(), 10);
  EXPECT_EQ(a.train.factor_names.size(), 6u);
  const std::string cache = mnist_affine_cache_file(dir.path(), dataset_fingerprint(load_dataset("mnist", dir.path())));
  ASSERT_TRUE(std::filesystem::exists(cache));
  const Dataset b = load_dataset("mnist-affine", dir.path());  // from the cache
  EXPECT_TRUE(torch::equal(a.train.images, b.train.images));
  EXPECT_TRUE(torch::equal(a.test.images, b.test.images));
  EXPECT_TRUE(torch::equal(a.train.factors, b.train.factors));
  // The train split is MNIST's train split transformed with stream 0.
  const Dataset mnist = load_dataset("mnist", dir.path());
  EXPECT_TRUE(torch::equal(a.train.images, make_affine_set(mnist.train, kMnistAffineSeed, 0).images));
  // A damaged cache file is ignored and rewritten.
  write_file_atomic(cache, "dvae mnist-affine garbage");
  const Dataset c = load_dataset("mnist-affine", dir.path());
  EXPECT_TRUE(torch::equal(a.test.images, c.test.images));
  EXPECT_GT(std::filesystem::file_size(cache), 40u * 28 * 28);
}

}  // namespace
}  // namespace dvae
