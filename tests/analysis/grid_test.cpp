// Tests for analysis/grid: sizes follow from the parameters, pixels land where they should.
#include "analysis/grid.h"

#include <gtest/gtest.h>

#include "core/check.h"

namespace dvae {
namespace {

TEST(Grid, SizeFollowsFromParameters) {
  GridOptions o;
  o.scale = 3;
  o.separator = 2;
  o.margin = 4;
  const GridSize s = grid_size(10, 11, 28, 28, o);
  EXPECT_EQ(s.height, 10 * 28 * 3 + 9 * 2 + 8);
  EXPECT_EQ(s.width, 11 * 28 * 3 + 10 * 2 + 8);
  const auto grid = make_grid(torch::rand({110, 1, 28, 28}), 10, 11, o);
  EXPECT_EQ(grid.size(0), s.height);
  EXPECT_EQ(grid.size(1), s.width);
  EXPECT_EQ(grid.scalar_type(), torch::kUInt8);
  const GridSize one = grid_size(1, 1, 5, 7, GridOptions{1, 0, 0});
  EXPECT_EQ(one.height, 5);
  EXPECT_EQ(one.width, 7);
}

TEST(Grid, UpscalesByPixelRepetitionWithSeparators) {
  GridOptions o;
  o.scale = 2;
  o.separator = 1;
  o.separator_value = 100;
  o.empty_value = 200;
  // Two 2x2 images: a checkerboard and all-white; a 1x3 grid leaves one cell empty.
  auto images = torch::zeros({2, 1, 2, 2});
  images[0][0][0][1] = 1.0;
  images[0][0][1][0] = 1.0;
  images[1].fill_(1.0);
  const auto g = make_grid(images, 1, 3, o);  // [4, 3*4 + 2]
  ASSERT_EQ(g.size(0), 4);
  ASSERT_EQ(g.size(1), 14);
  auto at = [&](int64_t y, int64_t x) { return g[y][x].item<int64_t>(); };
  // Checkerboard cell: each source pixel is a 2x2 block.
  EXPECT_EQ(at(0, 0), 0);
  EXPECT_EQ(at(1, 1), 0);
  EXPECT_EQ(at(0, 2), 255);
  EXPECT_EQ(at(1, 3), 255);
  EXPECT_EQ(at(2, 0), 255);
  EXPECT_EQ(at(3, 3), 0);
  // Separator columns 4 and 9, then the white cell and the empty cell.
  for (int64_t y = 0; y < 4; ++y) {
    EXPECT_EQ(at(y, 4), 100);
    EXPECT_EQ(at(y, 9), 100);
    EXPECT_EQ(at(y, 5), 255);
    EXPECT_EQ(at(y, 13), 200);
  }
  const auto origin = grid_cell_origin(0, 2, 2, 2, o);
  EXPECT_EQ(origin.first, 0);
  EXPECT_EQ(origin.second, 10);
}

TEST(Grid, RejectsTooManyImagesAndBadOptions) {
  EXPECT_THROW(make_grid(torch::rand({5, 1, 4, 4}), 2, 2), Error);
  GridOptions bad;
  bad.scale = 0;
  EXPECT_THROW(make_grid(torch::rand({1, 1, 4, 4}), 1, 1, bad), Error);
  EXPECT_THROW(make_grid(torch::rand({1, 3, 4, 4}), 1, 1), Error);
}

TEST(Grid, CaptionStripsAddHeightAndStayBlank) {
  GridOptions o;
  o.scale = 1;
  o.separator = 1;
  o.caption_height = 5;
  o.empty_value = 250;
  const GridSize s = grid_size(2, 2, 4, 4, o);
  EXPECT_EQ(s.height, 2 * (4 + 5) + 1);
  EXPECT_EQ(s.width, 2 * 4 + 1);
  const auto g = make_grid(torch::zeros({4, 1, 4, 4}), 2, 2, o);
  ASSERT_EQ(g.size(0), s.height);
  EXPECT_EQ(g[3][0].item<int64_t>(), 0);     // last image row
  EXPECT_EQ(g[4][0].item<int64_t>(), 250);   // caption strip
  EXPECT_EQ(g[8][3].item<int64_t>(), 250);
  EXPECT_EQ(g[9][0].item<int64_t>(), 128);   // separator
  EXPECT_EQ(g[10][0].item<int64_t>(), 0);    // second row of cells
  EXPECT_EQ(grid_cell_origin(1, 1, 4, 4, o).first, 10);
}

TEST(Grid, RowsForCounts) {
  EXPECT_EQ(grid_rows_for(0, 8), 1);
  EXPECT_EQ(grid_rows_for(8, 8), 1);
  EXPECT_EQ(grid_rows_for(9, 8), 2);
  EXPECT_EQ(grid_rows_for(64, 8), 8);
}

}  // namespace
}  // namespace dvae
