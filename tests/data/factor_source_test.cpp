// The interventional generator: draws stay in range, a batch with factor k
// fixed really shares it (its images vary less along that factor than a free
// batch), the same seed renders the same images, and unknown data sets or
// splits are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "core/check.h"
#include "data/datasets.h"
#include "data/factor_source.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

constexpr int kSourceSize = 28;

// A data root whose "mnist" holds upright bars (3 px wide, 16 tall, centred), labels i % 10.
std::string write_bar_mnist(const test::TempDir& dir) {
  const std::string mnist = dir.file("mnist");
  std::filesystem::create_directories(mnist);
  for (const auto& [images, labels, n] : {std::tuple<const char*, const char*, uint32_t>{"train-images-idx3-ubyte",
                                                                                        "train-labels-idx1-ubyte", 40},
                                          {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 20}}) {
    std::vector<uint8_t> pixels(static_cast<size_t>(n) * kSourceSize * kSourceSize, 0), lab(n);
    for (uint32_t i = 0; i < n; ++i) {
      lab[i] = static_cast<uint8_t>(i % 10);
      for (int r = 6; r < 22; ++r) {
        for (int c = 12; c < 15 + static_cast<int>(i % 2); ++c) pixels[(i * kSourceSize + r) * kSourceSize + c] = 255;
      }
    }
    test::write_bytes(mnist + "/" + images, test::idx_bytes(3, {n, kSourceSize, kSourceSize}, pixels));
    test::write_bytes(mnist + "/" + labels, test::idx_bytes(1, {n}, lab));
  }
  return dir.path();
}

// Tilt of the major axis from the vertical and centroid column of each image of x [n,1,S,S].
void orientation_and_x(const torch::Tensor& x, std::vector<double>& angle, std::vector<double>& cx) {
  const auto a = x.accessor<float, 4>();
  for (int64_t i = 0; i < a.size(0); ++i) {
    double m = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
    for (int r = 0; r < kSourceSize; ++r) {
      for (int c = 0; c < kSourceSize; ++c) {
        const double v = a[i][0][r][c];
        m += v, sx += c * v, sy += r * v, sxx += c * c * v, sxy += c * r * v, syy += r * r * v;
      }
    }
    const double mx = sx / m, my = sy / m;
    // from the vertical: the bars stand upright, so no wrap-around at +-pi/2
    angle.push_back(0.5 * std::atan2(2 * (sxy / m - mx * my), syy / m - my * my - (sxx / m - mx * mx)));
    cx.push_back(mx);
  }
}

double stddev(const std::vector<double>& v) {
  double mean = 0, ss = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  for (double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(v.size()));
}

class FactorSourceTest : public ::testing::Test {
 protected:
  void SetUp() override { source_ = make_factor_source("mnist-affine", write_bar_mnist(dir_), "train"); }
  test::TempDir dir_;
  std::unique_ptr<FactorSource> source_;
};

TEST_F(FactorSourceTest, FactorsAreTheSixTransformsAndTheDigit) {
  EXPECT_EQ(source_->factor_names(),
            (std::vector<std::string>{"rotation", "scale", "shear", "tx", "ty", "thickening", "digit"}));
  EXPECT_EQ(source_->num_factors(), 7);
  EXPECT_EQ(source_->image_size(), kSourceSize);
  const std::vector<FactorRange> r = source_->factor_ranges();
  EXPECT_TRUE(r[6].discrete);
  EXPECT_FALSE(r[0].discrete);
}

TEST_F(FactorSourceTest, DrawsStayInRangeAndDigitsAreIntegers) {
  Rng rng(3);
  const torch::Tensor f = source_->sample_factors(500, rng);  // [500,7]
  ASSERT_EQ(f.sizes(), (std::vector<int64_t>{500, 7}));
  const std::vector<FactorRange> r = source_->factor_ranges();
  for (int64_t k = 0; k < 7; ++k) {
    EXPECT_GE(f.select(1, k).min().item<double>(), r[static_cast<size_t>(k)].lo);
    EXPECT_LE(f.select(1, k).max().item<double>(), r[static_cast<size_t>(k)].hi);
  }
  const torch::Tensor digit = f.select(1, 6);
  EXPECT_TRUE(torch::equal(digit, digit.round()));
  const auto d = digit.accessor<double, 1>();
  std::set<double> seen;
  for (int64_t i = 0; i < d.size(0); ++i) seen.insert(d[i]);
  EXPECT_EQ(seen.size(), 10u);  // every digit drawn
}

TEST_F(FactorSourceTest, FixedFactorIsSharedByTheBatch) {
  Rng rng(5);
  for (int64_t k = 0; k < 7; ++k) {
    const torch::Tensor f = source_->sample_factors_fixed(64, k, rng);
    EXPECT_EQ(f.select(1, k).min().item<double>(), f.select(1, k).max().item<double>()) << "factor " << k;
    const int64_t other = (k + 1) % 7;
    EXPECT_GT(f.select(1, other).std().item<double>(), 0.0) << "factor " << other << " with " << k << " fixed";
  }
}

TEST_F(FactorSourceTest, GivenValueIsSharedAndInvalidFactorsAreRefused) {
  Rng rng(6);
  const torch::Tensor f = source_->sample_factors_with(8, 1, 0.9, rng);  // scale 0.9 for all
  EXPECT_EQ(f.select(1, 1).min().item<double>(), 0.9);
  EXPECT_EQ(f.select(1, 1).max().item<double>(), 0.9);
  EXPECT_THROW(source_->sample_factors_with(8, 7, 0.0, rng), Error);
  EXPECT_THROW(source_->sample_value(-1, rng), Error);
}

TEST_F(FactorSourceTest, FixingRotationOrShiftNarrowsWhatTheImagesShow) {
  Rng rng(11);
  std::vector<double> free_angle, free_x, rot_angle, rot_x, tx_angle, tx_x;
  orientation_and_x(source_->render(source_->sample_factors(200, rng), rng), free_angle, free_x);
  orientation_and_x(source_->render(source_->sample_factors_fixed(200, 0, rng), rng), rot_angle, rot_x);
  orientation_and_x(source_->render(source_->sample_factors_fixed(200, 3, rng), rng), tx_angle, tx_x);
  EXPECT_LT(stddev(rot_angle), 0.6 * stddev(free_angle));  // rotation fixed: the orientation varies less
  EXPECT_LT(stddev(tx_x), 0.5 * stddev(free_x));           // tx fixed: the centroid column varies less
  EXPECT_GT(stddev(tx_angle), 0.6 * stddev(free_angle));   // ... while the orientation still varies
}

TEST_F(FactorSourceTest, SameSeedSameImages) {
  Rng a(21), b(21), c(22);
  const torch::Tensor fa = source_->sample_factors(16, a), fb = source_->sample_factors(16, b);
  const torch::Tensor xa = source_->render(fa, a), xb = source_->render(fb, b);
  ASSERT_EQ(xa.sizes(), (std::vector<int64_t>{16, 1, kSourceSize, kSourceSize}));
  EXPECT_TRUE(torch::equal(xa, xb));
  EXPECT_GE(xa.min().item<float>(), 0.0f);
  EXPECT_LE(xa.max().item<float>(), 1.0f);
  const torch::Tensor fc = source_->sample_factors(16, c);
  EXPECT_FALSE(torch::equal(source_->render(fc, c), xa));
}

TEST_F(FactorSourceTest, RenderRejectsBadFactors) {
  Rng rng(1);
  EXPECT_THROW(source_->render(torch::zeros({4, 6}, torch::kFloat64), rng), Error);
  torch::Tensor f = source_->sample_factors(2, rng);
  f[0][6] = 10.0;
  EXPECT_THROW(source_->render(f, rng), Error);
}

TEST(FactorSource, UnknownDatasetOrSplitIsAUsageError) {
  test::TempDir dir;
  try {
    make_factor_source("mnist", dir.path());
    FAIL() << "mnist has no factor generator";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("mnist-affine"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_factor_source("mnist-affine", dir.path(), "valid"), UsageError);
  EXPECT_EQ(factor_source_datasets(), (std::vector<std::string>{"mnist-affine"}));
}

}  // namespace
}  // namespace dvae
