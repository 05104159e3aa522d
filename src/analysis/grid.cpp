// Tiling images into a grid picture with nearest-neighbour upscaling.
#include "analysis/grid.h"

#include "analysis/png.h"
#include "core/check.h"

namespace dvae {

namespace {

void check_options(const GridOptions& o) {
  DVAE_CHECK(o.scale >= 1, "grid: scale ", o.scale, ", expected >= 1");
  DVAE_CHECK(o.separator >= 0, "grid: separator ", o.separator, ", expected >= 0");
  DVAE_CHECK(o.margin >= 0, "grid: margin ", o.margin, ", expected >= 0");
  DVAE_CHECK(o.caption_height >= 0, "grid: caption height ", o.caption_height, ", expected >= 0");
}

}  // namespace

GridSize grid_size(int64_t rows, int64_t cols, int64_t h, int64_t w, const GridOptions& options) {
  check_options(options);
  DVAE_CHECK(rows >= 1 && cols >= 1, "grid: ", rows, " x ", cols, " cells, expected at least 1 x 1");
  GridSize size;
  size.height = rows * (h * options.scale + options.caption_height) + (rows - 1) * options.separator +
                2 * options.margin;
  size.width = cols * w * options.scale + (cols - 1) * options.separator + 2 * options.margin;
  return size;
}

std::pair<int64_t, int64_t> grid_cell_origin(int64_t row, int64_t col, int64_t h, int64_t w,
                                             const GridOptions& options) {
  return {options.margin + row * (h * options.scale + options.caption_height + options.separator),
          options.margin + col * (w * options.scale + options.separator)};
}

int64_t grid_rows_for(int64_t n, int64_t cols) {
  DVAE_CHECK(cols >= 1, "grid: ", cols, " columns, expected >= 1");
  return std::max<int64_t>(1, (n + cols - 1) / cols);
}

torch::Tensor make_grid(const torch::Tensor& images, int64_t rows, int64_t cols, const GridOptions& options) {
  DVAE_CHECK(images.defined() && (images.dim() == 3 || (images.dim() == 4 && images.size(1) == 1)),
             "grid: images of shape ", images.defined() ? images.sizes() : torch::IntArrayRef{},
             ", expected [N,1,H,W] or [N,H,W]");
  torch::Tensor x = images.dim() == 4 ? images.squeeze(1) : images;  // [N,1,H,W] -> [N,H,W]
  const int64_t n = x.size(0);
  const int64_t h = x.size(1);
  const int64_t w = x.size(2);
  DVAE_CHECK(n <= rows * cols, "grid: ", n, " images do not fit ", rows, " x ", cols, " cells");
  const GridSize size = grid_size(rows, cols, h, w, options);
  torch::Tensor bytes = x.scalar_type() == torch::kUInt8 ? x.cpu() : to_uint8_image(x);  // [N,H,W] uint8
  const int64_t s = options.scale;
  bytes = bytes.repeat_interleave(s, 1).repeat_interleave(s, 2);  // [N,H,W] -> [N,H*s,W*s]
  torch::Tensor grid = torch::full({size.height, size.width}, static_cast<int64_t>(options.separator_value),
                                   torch::kUInt8);  // [GH,GW]
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const auto [y, xo] = grid_cell_origin(r, c, h, w, options);
      auto cell = grid.slice(0, y, y + h * s).slice(1, xo, xo + w * s);  // [H*s,W*s] view
      if (options.caption_height > 0) {
        grid.slice(0, y + h * s, y + h * s + options.caption_height)
            .slice(1, xo, xo + w * s)
            .fill_(static_cast<int64_t>(options.empty_value));
      }
      const int64_t i = r * cols + c;
      if (i < n) {
        cell.copy_(bytes[i]);
      } else {
        cell.fill_(static_cast<int64_t>(options.empty_value));
      }
    }
  }
  return grid;
}

}  // namespace dvae
