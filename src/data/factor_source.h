// Generators of images from known factors of variation, for the scores that
// need interventional batches (BetaVAE: Higgins et al. 2017; FactorVAE: Kim &
// Mnih 2018): draw factor vectors, fix one factor to a value shared by a batch
// while the others vary, and render the images. Not for fixed data sets with
// factor tables (ImageSet::factors holds those).
//
// How a metric uses it (FactorVAE score, one vote):
//   Rng rng(seed);
//   auto source = make_factor_source("mnist-affine", data_root, "train");
//   const int64_t k = rng.below(source->num_factors());
//   const torch::Tensor f = source->sample_factors_fixed(64, k, rng);  // [64,F], column k constant
//   const torch::Tensor x = source->render(f, rng);                     // [64,1,28,28] in [0,1]
// and for the BetaVAE score, pairs of batches drawn with the same k (each pair
// shares factor k; the difference of their codes is averaged).
//
// Legend: n = images in a batch, F = num_factors().
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/random.h"

namespace dvae {

/// The range of one factor: continuous values drawn uniformly from [lo, hi], or,
/// when discrete, the integers lo, lo+1, .., hi with equal probability.
struct FactorRange {
  std::string name;       ///< factor name, e.g. "rotation"
  double lo = 0.0;        ///< smallest value
  double hi = 0.0;        ///< largest value
  bool discrete = false;  ///< integer-valued (e.g. the digit class)
  std::string unit;       ///< unit of the values, e.g. "degrees", "px", "" (for the README and --help)
};

/// Renders images from factor vectors. Implementations are deterministic: the
/// same factors and the same Rng state give the same images on every machine.
/// Thread safety: const methods may be called from several threads, each with
/// its own Rng.
class FactorSource {
 public:
  virtual ~FactorSource();

  /// The factors, in column order of every [n,F] tensor.
  virtual std::vector<FactorRange> factor_ranges() const = 0;

  /// The factor names in column order.
  std::vector<std::string> factor_names() const;
  /// Number of factors F.
  int64_t num_factors() const;

  /// One value of factor k drawn from its range (uniform; integer for a discrete factor).
  double sample_value(int64_t k, Rng& rng) const;
  /// n factor vectors, every factor drawn independently from its range: double [n,F].
  torch::Tensor sample_factors(int64_t n, Rng& rng) const;
  /// n factor vectors sharing factor k (one value drawn from its range) while the
  /// other factors are drawn independently: double [n,F], column k constant.
  torch::Tensor sample_factors_fixed(int64_t n, int64_t k, Rng& rng) const;
  /// The same with factor k set to the given value (BetaVAE pairs: two draws with one value).
  torch::Tensor sample_factors_with(int64_t n, int64_t k, double value, Rng& rng) const;

  /// Images for the given factor vectors (double [n,F], values inside the ranges;
  /// anything the factors leave open, such as which source image of a digit, is
  /// drawn from rng): float [n,1,H,W] in [0,1].
  virtual torch::Tensor render(const torch::Tensor& factors, Rng& rng) const = 0;

  /// Image height and width of render's output.
  virtual int64_t image_size() const = 0;
};

/// The generator behind a registered data set with known factors ("mnist-affine"),
/// rendering from the source images of split ("train" or "test") found under
/// data_root. An unknown name or a data set without a generator throws
/// dvae::UsageError naming it and the data sets that have one.
std::unique_ptr<FactorSource> make_factor_source(const std::string& dataset, const std::string& data_root,
                                                 const std::string& split = "train");

/// Names of the registered data sets that have a factor source.
std::vector<std::string> factor_source_datasets();

}  // namespace dvae
