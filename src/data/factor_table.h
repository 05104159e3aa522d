// The known factors of every image of a split, as one table: the Morpho-MNIST
// morphometrics (morphometrics.h) followed by any generator factors the set
// carries (ImageSet::factors, e.g. mnist-affine's rotation..thickness). The
// morphometrics are cached on disk, keyed by the data set's content
// fingerprint, the split and kMorphometricsVersion. This is what `dvae factors`
// writes and what the disentanglement metrics read. Not for measuring single
// images (morphometrics.h).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data/image_set.h"

namespace dvae {

/// One row per image: index in the split, label, then the factor columns.
struct FactorTable {
  std::vector<std::string> names;  ///< factor columns: area, length, thickness, slant, width, height, then generator factors
  torch::Tensor index;             ///< int64 [N], image index within the split
  torch::Tensor labels;            ///< int64 [N], class labels
  torch::Tensor values;            ///< double [N,F], F = names.size()
};

/// Where and whether to cache the morphometrics.
struct FactorTableOptions {
  int64_t limit = 0;      ///< only the first limit images (0: all)
  std::string cache_dir;  ///< folder of the cache files ("" : no cache)
  std::string cache_key;  ///< identifies the split's contents (factor_cache_key); required with cache_dir
};

/// What factor_table did, for messages and tests.
struct FactorTableStats {
  bool cache_hit = false;    ///< the morphometrics came from the cache
  std::string cache_file;    ///< the cache file read or written ("" without a cache)
  double seconds = 0.0;      ///< time spent measuring (0 on a cache hit)
};

/// The cache key of one split of a data set: the first 16 hex digits of its
/// fingerprint (dataset_fingerprint), the split and the measure version,
/// e.g. "3f9a..-train-morpho1".
std::string factor_cache_key(const std::string& fingerprint, const std::string& split);

/// The factor table of the first options.limit images of set (all when 0):
/// morphometrics (from the cache when it holds at least that many rows, else
/// measured, then cached atomically) and the set's own factors.
FactorTable factor_table(const ImageSet& set, const FactorTableOptions& options, FactorTableStats* stats = nullptr);

/// CSV text "index,label,<names...>", values printed so that they read back exactly.
std::string factor_table_csv(const FactorTable& table);

/// Reads a CSV written by factor_table_csv (or any CSV whose first two columns are
/// index and label and whose other columns are numbers). Throws dvae::Error naming
/// the file, line and column of a bad value.
FactorTable read_factor_table_csv(const std::string& path);

}  // namespace dvae
