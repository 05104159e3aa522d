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

/// The PNG file bytes of image (uint8 [H,W] grey, or [H,W,C] with C = 1 or 3), in memory;
/// throws dvae::Error naming what on failure.
std::string encode_png(const torch::Tensor& image, const std::string& what = "image");

/// Decodes PNG file bytes held in memory like read_png (grey: uint8 [H,W], colour: [H,W,3],
/// alpha composited over white). Refuses images wider or taller than max_side before
/// decoding them. Throws dvae::Error naming what for bytes that are not a complete PNG.
torch::Tensor decode_png(const std::string& bytes, int64_t max_side, const std::string& what = "PNG data");

/// Converts float images in [0,1] (any shape) to uint8 by rounding, clamping first.
torch::Tensor to_uint8_image(const torch::Tensor& x);

}  // namespace dvae
