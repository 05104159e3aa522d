// In-memory labelled image sets. Images stay uint8 ([N,H,W], 47 MB for MNIST's
// training set) and are converted to float in [0,1] one batch at a time.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace dvae {

/// A labelled set of single-channel images held as bytes, with an optional table
/// of the known factors that generated each image.
struct ImageSet {
  torch::Tensor images;  ///< uint8 [N,H,W], grey levels 0..255
  torch::Tensor labels;  ///< int64 [N], class ids in [0, num_classes)
  int64_t num_classes = 10;  ///< number of classes (labels are < this)
  std::string source;        ///< where it came from (file or dataset name), for messages
  /// Names of the known generative factors of each image (empty for data sets without
  /// them, such as MNIST itself; "rotation", "scale", .. for mnist-affine).
  std::vector<std::string> factor_names;
  /// The factor values of every image, double [N,F] with F = factor_names.size();
  /// undefined when factor_names is empty.
  torch::Tensor factors;

  /// Number of images.
  int64_t size() const { return images.defined() ? images.size(0) : 0; }
  /// Image height in pixels.
  int64_t rows() const { return images.size(1); }
  /// Image width in pixels.
  int64_t cols() const { return images.size(2); }
  /// The images at idx (int64 [B]) as float in [0,1]: [B] -> [B,1,H,W].
  torch::Tensor batch(const torch::Tensor& idx) const;
  /// The labels at idx: [B] -> int64 [B].
  torch::Tensor batch_labels(const torch::Tensor& idx) const;
  /// True when the set carries a factor table.
  bool has_factors() const { return !factor_names.empty(); }
  /// A new set holding only the rows at idx (int64 [M]), factor table included.
  ImageSet subset(const torch::Tensor& idx) const;
};

/// A data set: its training and test splits.
struct Dataset {
  std::string name;  ///< registry name ("mnist", "fashion-mnist") or the folder given
  std::string dir;   ///< folder the files were read from
  ImageSet train;    ///< training split (60,000 images for MNIST)
  ImageSet test;     ///< test split (10,000 images for MNIST)
};

}  // namespace dvae
