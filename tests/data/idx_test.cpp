// Tests for the strict IDX reader: round trips (raw and gzip) and one clear
// error naming the file for every malformed case in tests/support.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/check.h"
#include "data/idx.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

using test::TempDir;

TEST(Idx, ReadsRawImagesExactly) {
  TempDir dir;
  const std::vector<uint8_t> pixels = {0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255};
  test::write_bytes(dir.file("img"), test::idx_bytes(3, {2, 2, 3}, pixels));
  const torch::Tensor images = read_idx_images(dir.file("img"));
  ASSERT_EQ(images.scalar_type(), torch::kUInt8);
  ASSERT_EQ(images.sizes(), (std::vector<int64_t>{2, 2, 3}));
  EXPECT_EQ(images[0][0][0].item<int>(), 0);
  EXPECT_EQ(images[0][1][2].item<int>(), 5);
  EXPECT_EQ(images[1][0][0].item<int>(), 250);
  EXPECT_EQ(images[1][1][2].item<int>(), 255);
}

TEST(Idx, GzipAndRawGiveTheSameTensor) {
  TempDir dir;
  const auto s = test::make_synthetic(30, 5, 7, 10, 3);
  const std::string bytes = test::idx_bytes(3, {30, 5, 7}, s.pixels);
  test::write_bytes(dir.file("raw"), bytes);
  test::write_bytes(dir.file("any-name"), bytes, /*gzip=*/true);  // detected by magic, not by name
  const torch::Tensor raw = read_idx_images(dir.file("raw"));
  const torch::Tensor gz = read_idx_images(dir.file("any-name"));
  EXPECT_TRUE(torch::equal(raw, gz));
  EXPECT_EQ(raw.sizes(), (std::vector<int64_t>{30, 5, 7}));
}

TEST(Idx, ReadsConcatenatedGzipMembers) {
  TempDir dir;
  const auto s = test::make_synthetic(4, 2, 2, 10, 1);
  const std::string bytes = test::idx_bytes(3, {4, 2, 2}, s.pixels);
  const std::string half1 = bytes.substr(0, 9), half2 = bytes.substr(9);
  test::write_bytes(dir.file("multi.gz"), test::gzip_bytes(half1) + test::gzip_bytes(half2));
  const torch::Tensor images = read_idx_images(dir.file("multi.gz"));
  EXPECT_EQ(images.sizes(), (std::vector<int64_t>{4, 2, 2}));
  EXPECT_EQ(images.flatten()[15].item<int>(), s.pixels[15]);
}

TEST(Idx, LabelsBecomeInt64) {
  TempDir dir;
  test::write_bytes(dir.file("lbl"), test::idx_bytes(1, {5}, {3, 1, 4, 1, 5}));
  const torch::Tensor labels = read_idx_labels(dir.file("lbl"), 10);
  ASSERT_EQ(labels.scalar_type(), torch::kInt64);
  EXPECT_TRUE(torch::equal(labels, torch::tensor({3, 1, 4, 1, 5}, torch::kInt64)));
}

TEST(Idx, LabelAtTheClassBoundIsRejected) {
  TempDir dir;
  test::write_bytes(dir.file("lbl"), test::idx_bytes(1, {3}, {0, 4, 5}));
  EXPECT_NO_THROW(read_idx_labels(dir.file("lbl"), 6));
  try {
    read_idx_labels(dir.file("lbl"), 5);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("label 5 at index 2, expected < 5"), std::string::npos) << e.what();
  }
}

TEST(Idx, PairSetsSourceAndClasses) {
  TempDir dir;
  test::write_synthetic_mnist(dir.path(), 12, 5, 6);
  const ImageSet set = read_idx_pair(dir.file("train-images-idx3-ubyte"), dir.file("train-labels-idx1-ubyte"), 10);
  EXPECT_EQ(set.size(), 12);
  EXPECT_EQ(set.rows(), 6);
  EXPECT_EQ(set.cols(), 6);
  EXPECT_EQ(set.num_classes, 10);
  EXPECT_EQ(set.labels[11].item<int64_t>(), 1);  // label i % 10
}

class IdxMalformed : public ::testing::TestWithParam<test::MalformedIdxCase> {};

TEST_P(IdxMalformed, GivesOneErrorNamingTheFile) {
  const test::MalformedIdxCase& c = GetParam();
  TempDir dir;
  const std::string path = test::write_malformed_mnist(dir.path(), c);
  const std::string images = dir.file(c.file.rfind("train-images", 0) == 0 ? c.file : "train-images-idx3-ubyte");
  const std::string labels = dir.file(c.file.rfind("train-labels", 0) == 0 ? c.file : "train-labels-idx1-ubyte");
  try {
    read_idx_pair(images, labels, 10);
    FAIL() << c.name << ": no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << c.name << ": " << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.name << ": " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << c.name << ": " << msg;
  }
}

INSTANTIATE_TEST_SUITE_P(AllCases, IdxMalformed, ::testing::ValuesIn(test::malformed_idx_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(Idx, NonRegularFileIsRejected) {
  try {
    read_idx_images("/dev/null");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/dev/null: is not a regular file"), std::string::npos) << e.what();
  }
}

TEST(Idx, GzipBombIsRefusedBeforeInflating) {
  // A 1x2x2 header followed by 8 MB of zeros that compress to a few KB: the
  // reader must stop just past the header's size (trailing bytes) instead of
  // inflating everything.
  TempDir dir;
  std::string bytes = test::idx_bytes(3, {1, 2, 2}, {1, 2, 3, 4});
  bytes += std::string(8u << 20, '\0');  // 8 MB of zeros after a 4-byte payload
  test::write_bytes(dir.file("bomb.gz"), test::gzip_bytes(bytes));
  try {
    read_idx_images(dir.file("bomb.gz"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("trailing bytes after decompression"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dvae
