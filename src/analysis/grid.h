// Image grids: many small single-channel images tiled into one uint8 picture,
// upscaled by pixel repetition (no smoothing) with thin separators between
// cells, ready for write_png(). Labels are not drawn here: figures that need
// text go through gnuplot (plots.h, render_labelled_image).
//
// Tensor legend: N images, H x W pixels each, R rows and K columns of cells,
// s = scale, p = separator width, m = margin, c = caption strip height.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace dvae {

/// How a grid is drawn; every size follows from these fields.
struct GridOptions {
  int64_t scale = 3;               ///< each pixel becomes scale x scale pixels (default 3)
  int64_t separator = 2;           ///< separator width in output pixels between cells (default 2)
  int64_t margin = 0;              ///< background border around the whole grid, output pixels (default 0)
  uint8_t separator_value = 128;   ///< grey level of separators and margin (default mid grey)
  uint8_t empty_value = 255;       ///< grey level of cells with no image (default white)
  int64_t caption_height = 0;      ///< blank strip (empty_value) under each cell for captions, output pixels (default 0)
};

/// Height and width of a grid picture in pixels.
struct GridSize {
  int64_t height = 0;  ///< R*(H*s + c) + (R-1)*p + 2*m, c = caption_height
  int64_t width = 0;   ///< K*W*s + (K-1)*p + 2*m
};

/// The picture size for rows x cols cells of h x w images under options.
GridSize grid_size(int64_t rows, int64_t cols, int64_t h, int64_t w, const GridOptions& options = {});

/// Top-left pixel (y, x) of cell (row, col) in the picture.
std::pair<int64_t, int64_t> grid_cell_origin(int64_t row, int64_t col, int64_t h, int64_t w,
                                             const GridOptions& options = {});

/// Tiles images (float [N,1,H,W] or [N,H,W] in [0,1], row-major, N <= rows*cols)
/// into uint8 [R*H*s + ..., K*W*s + ...]; cells past N are empty_value.
torch::Tensor make_grid(const torch::Tensor& images, int64_t rows, int64_t cols, const GridOptions& options = {});

/// Rows needed to show n images in cols columns (at least 1).
int64_t grid_rows_for(int64_t n, int64_t cols);

}  // namespace dvae
