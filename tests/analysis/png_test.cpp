// Tests for analysis/png: exact round trips, shapes, errors naming the file.
#include "analysis/png.h"

#include <gtest/gtest.h>

#include "core/check.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

TEST(Png, GreyRoundTripKeepsEveryPixel) {
  test::TempDir dir;
  torch::manual_seed(3);
  const auto image = torch::randint(0, 256, {17, 23}, torch::kUInt8);  // odd sizes catch stride bugs
  write_png(dir.file("g.png"), image);
  const auto back = read_png(dir.file("g.png"));
  ASSERT_EQ(back.sizes(), image.sizes());
  EXPECT_TRUE(torch::equal(back, image));
}

TEST(Png, RgbRoundTripKeepsEveryPixel) {
  test::TempDir dir;
  torch::manual_seed(4);
  const auto image = torch::randint(0, 256, {9, 31, 3}, torch::kUInt8);
  write_png(dir.file("c.png"), image);
  const auto back = read_png(dir.file("c.png"));
  ASSERT_EQ(back.sizes(), image.sizes());
  EXPECT_TRUE(torch::equal(back, image));
}

TEST(Png, SingleChannelLastDimIsGrey) {
  test::TempDir dir;
  const auto image = torch::arange(0, 12, torch::kUInt8).view({3, 4, 1});
  write_png(dir.file("g1.png"), image);
  EXPECT_TRUE(torch::equal(read_png(dir.file("g1.png")), image.squeeze(2)));
}

TEST(Png, RejectsFloatAndBadShapes) {
  test::TempDir dir;
  EXPECT_THROW(write_png(dir.file("f.png"), torch::zeros({4, 4})), Error);
  EXPECT_THROW(write_png(dir.file("s.png"), torch::zeros({4, 4, 2}, torch::kUInt8)), Error);
  EXPECT_THROW(write_png(dir.file("e.png"), torch::zeros({0, 4}, torch::kUInt8)), Error);
}

TEST(Png, ReadErrorsNameTheFile) {
  test::TempDir dir;
  test::write_bytes(dir.file("bad.png"), "not a png at all");
  try {
    read_png(dir.file("bad.png"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.png"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_png(dir.file("missing.png")), Error);
}

TEST(Png, ToUint8RoundsAndClamps) {
  const auto x = torch::tensor({-0.5f, 0.0f, 0.5f, 1.0f, 2.0f, 0.2f});
  const auto b = to_uint8_image(x);
  const std::vector<int64_t> expected{0, 0, 128, 255, 255, 51};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(b[static_cast<int64_t>(i)].item<int64_t>(), expected[i]);
}

TEST(Png, InMemoryRoundTripEqualsTheFile) {
  test::TempDir dir;
  torch::manual_seed(4);
  const auto grey = torch::randint(0, 256, {9, 13}, torch::kUInt8);
  const auto rgb = torch::randint(0, 256, {5, 7, 3}, torch::kUInt8);
  EXPECT_TRUE(torch::equal(decode_png(encode_png(grey), 64), grey));
  EXPECT_TRUE(torch::equal(decode_png(encode_png(rgb), 64), rgb));
  write_png(dir.file("g.png"), grey);
  EXPECT_TRUE(torch::equal(read_png(dir.file("g.png")), decode_png(encode_png(grey), 64)));
}

TEST(Png, DecodeRefusesGarbageTruncationAndOversizeNamingWhat) {
  const std::string png = encode_png(torch::zeros({20, 30}, torch::kUInt8));
  for (const std::string& bad : {std::string(), std::string("not a png"), png.substr(0, png.size() / 2)}) {
    try {
      decode_png(bad, 64, "upload");
      FAIL() << "expected an error for " << bad.size() << " bytes";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("upload"), std::string::npos) << e.what();
    }
  }
  try {
    decode_png(png, 25, "upload");  // 30 wide
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a 30x20 PNG, expected at most 25x25"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dvae
