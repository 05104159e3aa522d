// mnist-affine: MNIST digits continuously transformed by known factors
// (rotation, scale, shear, translation, stroke thickness), the data set with
// known factors that the paper names as future work. Every MNIST image (train
// and test) gets one transformed copy with its own factor vector, drawn
// uniformly from the ranges below by a seeded generator; the factor values
// travel with the images (ImageSet::factors). The same generator, as a
// FactorSource, renders interventional batches for the BetaVAE and FactorVAE
// scores. Not a data augmentation: the images are fixed for a given seed.
//
// Rendering one image (28x28 -> 28x28): upscale x4 (bicubic), change the stroke
// thickness by moving the edge of the binarised stroke along its signed
// distance transform (a soft one-pixel edge, so the result is continuous in the
// factor), then one affine warp about the image centre,
//   A = T(tx,ty) R(rotation) Sh(shear) S(scale),   x' = A x,
// and an area-average downscale x4 back to 28x28.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/factor_source.h"
#include "data/image_set.h"

namespace dvae {

/// The seed of the registered mnist-affine data set (the train split's images
/// use derive_seed(seed, {0, i}), the test split's derive_seed(seed, {1, i})).
inline constexpr uint64_t kMnistAffineSeed = 20240514;

/// Version of the rendering code: part of every cache key.
inline constexpr int kMnistAffineVersion = 1;

/// The transformation factors of one image.
struct AffineFactors {
  double rotation = 0.0;   ///< degrees, counter-clockwise on screen, in [-40, 40]
  double scale = 1.0;      ///< isotropic scale, in [0.8, 1.15]
  double shear = 0.0;      ///< horizontal shear x += shear * (centre_y - y), > 0 leans right, in [-0.3, 0.3]
  double tx = 0.0;         ///< horizontal shift in pixels, > 0 to the right, in [-3, 3]
  double ty = 0.0;         ///< vertical shift in pixels, > 0 downwards, in [-3, 3]
  double thickness = 0.0;  ///< factor "thickening": stroke edge moved outwards by this many pixels (< 0 thins), in [-0.4, 1.0]
};

/// The six continuous factors in column order (rotation, scale, shear, tx, ty, thickening) and their
/// ranges. "thickening" is not called "thickness" so as not to clash with the morphometric of that name.
const std::vector<FactorRange>& mnist_affine_ranges();

/// AffineFactors from one row of six values in mnist_affine_ranges() order.
AffineFactors affine_factors_from(const double* row);

/// Transforms one 28x28 uint8 image (any size S works) into out (S x S uint8).
void transform_digit(const uint8_t* in, uint8_t* out, int size, const AffineFactors& f);

/// One transformed copy of every image of base (uint8 [N,S,S]), image i with
/// factors drawn from Rng(derive_seed(seed, {stream, i})); parallel over images.
/// The result carries the factor table (mnist_affine_ranges() names, double [N,6]).
ImageSet make_affine_set(const ImageSet& base, uint64_t seed, uint64_t stream);

/// The factor table make_affine_set draws for base (images left undefined).
ImageSet make_affine_factors(const ImageSet& base, uint64_t seed, uint64_t stream);

/// The registered data set: MNIST from data_root, both splits transformed with
/// kMnistAffineSeed. The rendered images are cached in mnist_affine_cache_file
/// (written atomically; a read-only data root only costs the regeneration).
Dataset load_mnist_affine(const std::string& data_root);

/// Where load_mnist_affine caches the images: DATA_ROOT/.cache/mnist-affine-<first 16
/// hex digits of MNIST's fingerprint>-seed<seed>-v<version>.bin.
std::string mnist_affine_cache_file(const std::string& data_root, const std::string& mnist_fingerprint);

/// The interventional generator over split ("train" or "test") of MNIST under
/// data_root: the six factors above plus "digit" (discrete, 0..9); render draws
/// the source image uniformly among the split's images of that digit.
std::unique_ptr<FactorSource> make_mnist_affine_source(const std::string& data_root, const std::string& split);

}  // namespace dvae
