// Grey levels, resizing and MNIST-style centring of user images.
#include "serve/image_input.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace dvae {

namespace {

namespace F = torch::nn::functional;

constexpr double kInk = 0.05;  // grey level above which a pixel counts as ink

// grey [H,W] -> [h,w]; area averaging when both sides shrink, else bilinear.
torch::Tensor resize(const torch::Tensor& grey, int64_t h, int64_t w) {
  if (h == grey.size(0) && w == grey.size(1)) return grey.to(torch::kFloat32).clone();
  const torch::Tensor x = grey.to(torch::kFloat32).unsqueeze(0).unsqueeze(0);  // [H,W] -> [1,1,H,W]
  auto options = F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w});
  if (h <= grey.size(0) && w <= grey.size(1)) {
    options.mode(torch::kArea);
  } else {
    options.mode(torch::kBilinear).align_corners(false);
  }
  return F::interpolate(x, options).squeeze(0).squeeze(0).clamp(0.0, 1.0);  // [1,1,h,w] -> [h,w]
}

}  // namespace

torch::Tensor grey_levels(const torch::Tensor& png_pixels) {
  DVAE_CHECK(png_pixels.scalar_type() == torch::kUInt8 &&
                 (png_pixels.dim() == 2 || (png_pixels.dim() == 3 && png_pixels.size(2) == 3)),
             "grey_levels: pixels of shape ", png_pixels.sizes(), ", expected uint8 [H,W] or [H,W,3]");
  torch::Tensor x = png_pixels.to(torch::kFloat32).div(255.0);
  if (x.dim() == 3) x = x.mean(2);  // [H,W,3] -> [H,W]
  return x;
}

torch::Tensor resize_square(const torch::Tensor& grey, int64_t side) {
  DVAE_CHECK(grey.dim() == 2 && grey.numel() > 0 && side > 0, "resize_square: image of shape ", grey.sizes(),
             " to side ", side, ", expected a non-empty [H,W] and a positive side");
  return resize(grey, side, side);
}

torch::Tensor fit_like_mnist(const torch::Tensor& grey, int64_t side) {
  DVAE_CHECK(grey.dim() == 2 && grey.numel() > 0 && side > 0, "fit_like_mnist: image of shape ", grey.sizes(),
             " to side ", side, ", expected a non-empty [H,W] and a positive side");
  const torch::Tensor g = grey.to(torch::kFloat32).clamp(0.0, 1.0);
  const torch::Tensor ink = g.gt(kInk);
  if (!ink.any().item<bool>()) return torch::zeros({side, side}, torch::kFloat32);
  const torch::Tensor rows = ink.any(1).nonzero().flatten();  // [H] -> rows with ink
  const torch::Tensor cols = ink.any(0).nonzero().flatten();  // [W] -> columns with ink
  const int64_t r0 = rows.min().item<int64_t>(), r1 = rows.max().item<int64_t>();
  const int64_t c0 = cols.min().item<int64_t>(), c1 = cols.max().item<int64_t>();
  const torch::Tensor crop = g.slice(0, r0, r1 + 1).slice(1, c0, c1 + 1);  // [H,W] -> [h,w]
  const int64_t box = std::max<int64_t>(1, std::llround(20.0 * static_cast<double>(side) / 28.0));
  const double scale = static_cast<double>(box) / static_cast<double>(std::max(crop.size(0), crop.size(1)));
  const int64_t h = std::clamp<int64_t>(std::llround(static_cast<double>(crop.size(0)) * scale), 1, side);
  const int64_t w = std::clamp<int64_t>(std::llround(static_cast<double>(crop.size(1)) * scale), 1, side);
  const torch::Tensor digit = resize(crop, h, w);  // [h,w] -> [h',w']
  // Centre of mass, in pixel-centre coordinates (pixel i covers [i, i+1)).
  const double mass = digit.sum().item<double>();
  const torch::Tensor ys = torch::arange(h, torch::kFloat32).add(0.5).unsqueeze(1);  // [h',1]
  const torch::Tensor xs = torch::arange(w, torch::kFloat32).add(0.5).unsqueeze(0);  // [1,w']
  const double cy = mass > 0 ? digit.mul(ys).sum().item<double>() / mass : h / 2.0;
  const double cx = mass > 0 ? digit.mul(xs).sum().item<double>() / mass : w / 2.0;
  const int64_t top = std::clamp<int64_t>(std::llround(side / 2.0 - cy), 0, side - h);
  const int64_t left = std::clamp<int64_t>(std::llround(side / 2.0 - cx), 0, side - w);
  torch::Tensor out = torch::zeros({side, side}, torch::kFloat32);
  out.slice(0, top, top + h).slice(1, left, left + w).copy_(digit);  // [h',w'] into [S,S]
  return out;
}

}  // namespace dvae
