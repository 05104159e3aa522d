// PNG reading and writing with libpng 1.6's simplified (png_image) API.
#include "analysis/png.h"

#include <png.h>

#include <cstring>

#include "core/atomic_file.h"
#include "core/check.h"

namespace dvae {

namespace {

// image as contiguous CPU bytes [H,W] or [H,W,3]; throws naming what.
torch::Tensor checked_pixels(const torch::Tensor& image, const std::string& what) {
  DVAE_CHECK(image.defined() && image.scalar_type() == torch::kUInt8, "write_png: ", what,
             ": image must be a uint8 tensor, expected [H,W] or [H,W,C] bytes");
  torch::Tensor pixels = image;
  if (pixels.dim() == 3 && pixels.size(2) == 1) pixels = pixels.squeeze(2);  // [H,W,1] -> [H,W]
  DVAE_CHECK(pixels.dim() == 2 || (pixels.dim() == 3 && pixels.size(2) == 3), "write_png: ", what,
             ": image of shape ", image.sizes(), ", expected [H,W] or [H,W,3]");
  DVAE_CHECK(pixels.size(0) > 0 && pixels.size(1) > 0, "write_png: ", what, ": empty image ", image.sizes());
  return pixels.contiguous().cpu();
}

png_image png_header_of(const torch::Tensor& pixels) {
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(pixels.size(1));
  png.height = static_cast<png_uint_32>(pixels.size(0));
  png.format = pixels.dim() == 2 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  return png;
}

// Finishes a read begun on png (grey or RGB over white); throws naming what.
torch::Tensor finish_read(png_image& png, const std::string& what) {
  const bool colour = (png.format & PNG_FORMAT_FLAG_COLOR) != 0;
  png.format = colour ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  const int64_t h = png.height;
  const int64_t w = png.width;
  torch::Tensor pixels = colour ? torch::empty({h, w, 3}, torch::kUInt8) : torch::empty({h, w}, torch::kUInt8);
  png_color white{255, 255, 255};
  const int ok = png_image_finish_read(&png, &white, pixels.data_ptr<uint8_t>(), 0, nullptr);
  const std::string message = png.message;
  png_image_free(&png);
  DVAE_CHECK(ok != 0, "error reading ", what, ": libpng: ", message, ", expected a complete PNG file");
  return pixels;
}

}  // namespace

void write_png(const std::string& path, const torch::Tensor& image) {
  const torch::Tensor pixels = checked_pixels(image, path);
  write_atomic_with(path, [&](const std::string& tmp) {
    png_image png = png_header_of(pixels);
    const int ok = png_image_write_to_file(&png, tmp.c_str(), 0, pixels.data_ptr<uint8_t>(), 0, nullptr);
    const std::string message = png.message;
    png_image_free(&png);
    DVAE_CHECK(ok != 0, "cannot write ", path, ": libpng: ", message, " (is the disk full or the folder read-only?)");
  });
}

std::string encode_png(const torch::Tensor& image, const std::string& what) {
  const torch::Tensor pixels = checked_pixels(image, what);
  png_image png = png_header_of(pixels);
  png_alloc_size_t size = 0;
  // First call: the size needed; second call: the bytes.
  int ok = png_image_write_to_memory(&png, nullptr, &size, 0, pixels.data_ptr<uint8_t>(), 0, nullptr);
  std::string bytes;
  if (ok != 0) {
    bytes.resize(size);
    ok = png_image_write_to_memory(&png, bytes.data(), &size, 0, pixels.data_ptr<uint8_t>(), 0, nullptr);
    bytes.resize(size);
  }
  const std::string message = png.message;
  png_image_free(&png);
  DVAE_CHECK(ok != 0, "cannot encode ", what, " as PNG: libpng: ", message);
  return bytes;
}

torch::Tensor read_png(const std::string& path) {
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_file(&png, path.c_str()) == 0) {
    const std::string message = png.message;
    png_image_free(&png);
    throw Error("error reading " + path + ": libpng: " + message + ", expected a PNG file");
  }
  return finish_read(png, path);
}

torch::Tensor decode_png(const std::string& bytes, int64_t max_side, const std::string& what) {
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  if (bytes.empty() || png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()) == 0) {
    const std::string message = bytes.empty() ? std::string("no bytes") : std::string(png.message);
    png_image_free(&png);
    throw Error("error reading " + what + ": libpng: " + message + ", expected a PNG file");
  }
  if (static_cast<int64_t>(png.width) > max_side || static_cast<int64_t>(png.height) > max_side) {
    const auto w = png.width, h = png.height;
    png_image_free(&png);
    throw Error(detail::concat(what, ": a ", w, "x", h, " PNG, expected at most ", max_side, "x", max_side, " pixels"));
  }
  return finish_read(png, what);
}

torch::Tensor to_uint8_image(const torch::Tensor& x) {
  return x.detach().to(torch::kCPU, torch::kFloat32).clamp(0.0, 1.0).mul(255.0).round().to(torch::kUInt8);
}

}  // namespace dvae
