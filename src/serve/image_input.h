// Turning an image a user sends (a drawing, a photo of a digit, any size) into
// what an encoder takes: grey levels in [0,1] at the model's S x S, optionally
// centred the way MNIST's digits were. Not for reading data sets (data/).
//
// Tensor legend: H x W input pixels, S x S model pixels.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace dvae {

/// Grey levels in [0,1] of a decoded PNG: uint8 [H,W] as is, [H,W,3] averaged over channels -> float [H,W].
torch::Tensor grey_levels(const torch::Tensor& png_pixels);

/// Resizes grey [H,W] to [S,S]: area averaging where it shrinks, bilinear where it enlarges.
torch::Tensor resize_square(const torch::Tensor& grey, int64_t side);

/// MNIST's normalisation (LeCun et al. 1998): the ink's bounding box (pixels
/// above 0.05) is scaled, keeping its aspect ratio, so that its longer side is
/// round(20 S / 28) pixels, and placed so that its centre of mass sits at the
/// centre of an S x S image. A blank image gives a blank [S,S]. grey [H,W] in [0,1].
torch::Tensor fit_like_mnist(const torch::Tensor& grey, int64_t side);

}  // namespace dvae
