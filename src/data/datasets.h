// Data sets by name: the MNIST family's registry (mnist, fashion-mnist,
// kmnist), loading any folder that holds the four standard IDX files, summary
// statistics, and a content fingerprint for the results store. Downloading
// lives in fetch.h; reading single files in idx.h.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/factor_source.h"
#include "data/image_set.h"

namespace dvae {

/// A named data set and where dvae looks for it.
struct DatasetInfo {
  std::string name;                    ///< registry name, e.g. "mnist"
  std::string description;             ///< one line for --help and `dvae data info`
  std::vector<std::string> folders;    ///< candidate folders, first existing wins; "{root}" = data root
  std::vector<std::string> class_names;  ///< one name per class
  /// For a generated data set (no folder of its own): builds both splits from the
  /// data sets under data_root. Empty for data sets read from IDX folders.
  std::function<Dataset(const std::string& data_root)> generate;
  /// For a data set with known factors: its interventional generator over a split
  /// ("train" or "test"). Empty when it has none.
  std::function<std::unique_ptr<FactorSource>(const std::string& data_root, const std::string& split)> factor_source;
};

/// Every registered data set, in a fixed order.
const std::vector<DatasetInfo>& registered_datasets();

/// The registered data set called name, or nullptr.
const DatasetInfo* find_dataset(const std::string& name);

/// The folder a registered data set is read from under data_root (the first
/// candidate that holds the four files, else the first candidate; "" for a
/// generated data set).
std::string dataset_folder(const DatasetInfo& info, const std::string& data_root);

/// The four standard file paths found in dir (raw or .gz), in the order
/// train images, train labels, test images, test labels. Throws dvae::Error
/// naming the first one missing.
std::vector<std::string> find_idx_files(const std::string& dir);

/// True when dir holds the four standard files (raw or .gz).
bool has_idx_files(const std::string& dir);

/// Loads a data set from a folder with the four standard files; name labels it.
Dataset load_dataset_dir(const std::string& dir, const std::string& name = "");

/// Loads a registered data set by name (looked up under data_root, or generated
/// from the data sets there), or a folder when name_or_dir is not a registered name but is a path. An unknown
/// name throws dvae::UsageError; a missing data set throws dvae::Error with a hint.
Dataset load_dataset(const std::string& name_or_dir, const std::string& data_root);

/// Summary statistics of one split.
struct DatasetStats {
  int64_t count = 0;                ///< number of images
  int64_t rows = 0;                 ///< image height
  int64_t cols = 0;                 ///< image width
  std::vector<int64_t> histogram;   ///< images per class, num_classes entries
  double pixel_mean = 0.0;          ///< mean grey level in [0,1] over all pixels
  double pixel_std = 0.0;           ///< population standard deviation in [0,1] over all pixels
};

/// Counts, class histogram and exact pixel mean/std (MNIST train: 0.1307, 0.3081).
DatasetStats dataset_stats(const ImageSet& set);

/// SHA-256 (64 hex digits) of the decoded contents (shapes, pixels, labels of
/// both splits): the same for raw and gzip copies of the same data.
std::string dataset_fingerprint(const Dataset& data);

}  // namespace dvae
