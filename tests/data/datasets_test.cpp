// Tests for the data set registry, folder loading, statistics and fingerprints,
// plus the real-MNIST check (skipped when set-up has not installed MNIST).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/check.h"
#include "data/datasets.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

using test::TempDir;

TEST(Datasets, RegistryHasTheMnistFamily) {
  ASSERT_NE(find_dataset("mnist"), nullptr);
  ASSERT_NE(find_dataset("fashion-mnist"), nullptr);
  ASSERT_NE(find_dataset("kmnist"), nullptr);
  EXPECT_EQ(find_dataset("cifar10"), nullptr);
  EXPECT_EQ(find_dataset("fashion-mnist")->class_names.at(9), "Ankle boot");
}

TEST(Datasets, FolderUnderDataRootIsUsed) {
  TempDir root;
  test::write_synthetic_mnist(root.file("mnist"), 30, 10, 8, /*gzip=*/true);
  const Dataset data = load_dataset("mnist", root.path());
  EXPECT_EQ(data.name, "mnist");
  EXPECT_EQ(data.dir, root.file("mnist"));
  EXPECT_EQ(data.train.size(), 30);
  EXPECT_EQ(data.test.size(), 10);
  EXPECT_EQ(data.train.rows(), 8);
  EXPECT_EQ(data.train.source, "mnist/train");
}

TEST(Datasets, MissingNamedDatasetGivesAHint) {
  TempDir root;
  try {
    load_dataset("kmnist", root.path());
    FAIL() << "expected an error";
  } catch (const UsageError&) {
    FAIL() << "a missing data set is a runtime error, not a usage error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(root.file("kmnist")), std::string::npos) << msg;
    EXPECT_NE(msg.find("dvae data fetch kmnist"), std::string::npos) << msg;
  }
}

TEST(Datasets, UnknownNameIsAUsageError) {
  TempDir root;
  EXPECT_THROW(load_dataset("cifar10", root.path()), UsageError);
}

TEST(Datasets, AnyFolderWithTheFourFilesLoads) {
  TempDir dir;
  test::write_synthetic_mnist(dir.path(), 25, 7, 6);
  const Dataset data = load_dataset(dir.path(), "/nonexistent-root");
  EXPECT_EQ(data.dir, dir.path());
  EXPECT_EQ(data.train.size(), 25);
  EXPECT_EQ(data.test.size(), 7);
}

TEST(Datasets, MissingFolderIsNamed) {
  TempDir dir;
  try {
    load_dataset_dir(dir.file("nope"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("nope") + ": folder not found"), std::string::npos) << e.what();
  }
}

TEST(Datasets, MixedRawAndGzipFilesLoad) {
  TempDir dir;
  test::write_synthetic_mnist(dir.path(), 10, 10, 5, /*gzip=*/true);
  const auto s = test::make_synthetic(10, 5, 5, 10, 2);
  std::filesystem::remove(dir.file("t10k-images-idx3-ubyte.gz"));
  test::write_bytes(dir.file("t10k-images-idx3-ubyte"), test::idx_bytes(3, {10, 5, 5}, s.pixels));
  EXPECT_EQ(load_dataset_dir(dir.path()).test.size(), 10);
}

TEST(Datasets, TestImagesOfAnotherSizeAreRejected) {
  TempDir dir;
  test::write_synthetic_mnist(dir.path(), 10, 10, 5);
  const auto s = test::make_synthetic(10, 6, 6, 10, 2);
  test::write_bytes(dir.file("t10k-images-idx3-ubyte"), test::idx_bytes(3, {10, 6, 6}, s.pixels));
  try {
    load_dataset_dir(dir.path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("images are 6x6, expected 5x5"), std::string::npos) << e.what();
  }
}

TEST(Datasets, StatsAreExactOnAHandComputedSet) {
  // Pixels {0, 255, 255, 0} and {255, 255, 255, 255}: mean 6/8 = 0.75,
  // population variance 0.75 - 0.5625 = 0.1875.
  ImageSet set;
  set.images = torch::tensor({0, 255, 255, 0, 255, 255, 255, 255}, torch::kUInt8).reshape({2, 2, 2});
  set.labels = torch::tensor({3, 3}, torch::kInt64);
  const DatasetStats s = dataset_stats(set);
  EXPECT_EQ(s.count, 2);
  EXPECT_EQ(s.rows, 2);
  EXPECT_EQ(s.cols, 2);
  EXPECT_DOUBLE_EQ(s.pixel_mean, 0.75);
  EXPECT_NEAR(s.pixel_std, std::sqrt(0.1875), 1e-12);
  ASSERT_EQ(s.histogram.size(), 10u);
  EXPECT_EQ(s.histogram[3], 2);
  EXPECT_EQ(s.histogram[0], 0);
}

TEST(Datasets, FingerprintIgnoresCompressionAndSeesOneChangedPixel) {
  TempDir raw, gz;
  test::write_synthetic_mnist(raw.path(), 20, 10, 6, false, 5);
  test::write_synthetic_mnist(gz.path(), 20, 10, 6, true, 5);
  Dataset a = load_dataset_dir(raw.path());
  const Dataset b = load_dataset_dir(gz.path());
  const std::string fa = dataset_fingerprint(a);
  EXPECT_EQ(fa.size(), 64u);
  EXPECT_EQ(fa, dataset_fingerprint(b));
  a.test.images[3][2][1] += 1;
  EXPECT_NE(fa, dataset_fingerprint(a));
}

TEST(DatasetsSlow, RealMnistCountsAndStatistics) {
  const std::string dir = test::real_mnist_dir();
  if (dir.empty()) GTEST_SKIP() << "real MNIST not installed (run scripts/setup.sh)";
  const Dataset data = load_dataset_dir(dir, "mnist");
  EXPECT_EQ(data.train.size(), 60000);
  EXPECT_EQ(data.test.size(), 10000);
  EXPECT_EQ(data.train.rows(), 28);
  EXPECT_EQ(data.train.cols(), 28);
  const DatasetStats s = dataset_stats(data.train);
  EXPECT_NEAR(s.pixel_mean, 0.1307, 5e-5);
  EXPECT_NEAR(s.pixel_std, 0.3081, 5e-5);
  EXPECT_EQ(s.histogram, (std::vector<int64_t>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}));
  const DatasetStats t = dataset_stats(data.test);
  EXPECT_EQ(t.histogram, (std::vector<int64_t>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}));
}

}  // namespace
}  // namespace dvae
