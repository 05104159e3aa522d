// Morpho-MNIST's morphometrics of digit images (Castro et al. 2019, "Morpho-MNIST:
// quantitative assessment and diagnostics for representation learning", JMLR 20;
// reference code: github.com/dccastro/Morpho-MNIST, morphomnist/morpho.py and
// measure.py). For each image: area, stroke length, stroke thickness, slant,
// width and height, measured on a x4 upscaled, binarised copy. Not for
// transforming images (mnist_affine.h does that).
//
// The procedure, per 28x28 image (the reference's, step by step):
//   1. upscale x4 with an order-3 spline (as skimage's resize(order=3)), clip to the
//      input's range, smooth with a Gaussian of sigma 4/3 (pyramid_expand), scale to
//      0..255 and truncate to bytes: the "hi-res image" [112,112];
//   2. binarise at half way between its minimum and maximum;
//   3. exact Euclidean distance transform of the binary image and a medial-axis
//      skeleton (skimage's medial_axis: pixels removed in order of increasing
//      distance and "cornerness" while connectivity and end points are kept);
//   4. area = foreground pixels / 16; length = skeleton length (1 per horizontal or
//      vertical step, sqrt 2 per diagonal step) / 4; thickness = 2 * mean distance on
//      the skeleton / 4; slant = atan(-u11/u02) of the hi-res image's central moments
//      (radians, positive = leaning right, like italics); width and height = sides
//      of the sheared bounding parallelogram holding 98% of the hi-res image's mass.
// Differences from the reference (measured in the README): the medial axis breaks
// ties in raster order instead of NumPy's random permutation (rng=42), and the
// image border counts as foreground-free padding in the distance transform.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dvae {

/// Version of the measuring code: part of every factor cache key, raised whenever a
/// change can alter any measured value.
inline constexpr int kMorphometricsVersion = 1;

/// The six measures of one image, in units of the original image's pixels (slant in radians).
struct Morphometrics {
  double area = 0.0;       ///< foreground area (binarised hi-res pixels / 16)
  double length = 0.0;     ///< skeleton length
  double thickness = 0.0;  ///< mean stroke thickness along the skeleton (2 x distance to the edge)
  double slant = 0.0;      ///< horizontal shear angle, radians; > 0 leans right (top to the right)
  double width = 0.0;      ///< width of the sheared bounding parallelogram
  double height = 0.0;     ///< height of the bounding parallelogram
};

/// The measure names in column order: area, length, thickness, slant, width, height.
const std::vector<std::string>& morphometric_names();

/// Options of the measurement (the reference's defaults).
struct MorphometricsOptions {
  int scale = 4;             ///< upscaling factor, >= 1 (default 4)
  double threshold = 0.5;    ///< binarisation point between the hi-res image's min and max (default 0.5)
  double bound_frac = 0.02;  ///< mass left outside the bounding parallelogram, both sides together (default 0.02)
};

/// Measures one grey-level image (uint8, row-major rows x cols). An empty image
/// (all one value) gives zeros for every measure.
Morphometrics measure_image(const uint8_t* pixels, int rows, int cols, const MorphometricsOptions& options = {});

/// Seconds spent per stage, summed over threads (for benchmarks and the README).
struct MorphometricsTimings {
  double upscale = 0.0;   ///< spline upscaling, clipping, smoothing
  double distance = 0.0;  ///< binarisation and distance transform
  double skeleton = 0.0;  ///< medial-axis thinning
  double measures = 0.0;  ///< area, length, thickness, moments, parallelogram
};

/// Measures every image of a uint8 [N,H,W] tensor, in parallel over images
/// (LibTorch's intra-op threads): double [N,6], columns as morphometric_names().
/// When timings is given, the per-stage seconds are added to it.
torch::Tensor measure_images(const torch::Tensor& images, const MorphometricsOptions& options = {},
                             MorphometricsTimings* timings = nullptr);

}  // namespace dvae
