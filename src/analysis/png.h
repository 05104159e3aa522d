// PNG files through libpng's simplified API: 8-bit grey or RGB images held as
// uint8 tensors. Writes are atomic (temporary file + rename). Not for plots:
// those are rendered by gnuplot (plots.h); this is for exact pixel grids.
//
// Tensor legend: H rows (top to bottom), W columns, C = 1 (grey) or 3 (RGB).
#pragma once

#include <torch/torch.h>

#include <string>

namespace dvae {

/// Writes image (uint8 [H,W] grey, or [H,W,C] with C = 1 or 3) to path as an
/// 8-bit PNG, atomically; throws dvae::Error naming path on failure.
void write_png(const std::string& path, const torch::Tensor& image);

/// Reads an 8-bit or 16-bit PNG: grey files give uint8 [H,W], colour files uint8
/// [H,W,3] (alpha is composited over white); throws dvae::Error naming path.
torch::Tensor read_png(const std::string& path);

/// Converts float images in [0,1] (any shape) to uint8 by rounding, clamping first.
torch::Tensor to_uint8_image(const torch::Tensor& x);

}  // namespace dvae
