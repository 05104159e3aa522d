// Strict reader for IDX files of unsigned bytes (the MNIST family's format),
// raw or gzip-compressed (detected by the 1f 8b magic, not the file name).
// Every malformed input (missing, directory, empty, bad magic, wrong type or
// rank, truncated or trailing bytes, absurd dimensions, corrupt gzip, labels
// out of range) throws one dvae::Error naming the file. Sizes are checked
// against the file before anything is allocated, and gzip streams are
// inflated with a hard cap derived from the header. Not for other IDX types.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data/image_set.h"

namespace dvae {

/// The contents of an IDX file of unsigned bytes.
struct IdxArray {
  std::vector<int64_t> dims;  ///< header dimensions, outermost first
  torch::Tensor data;         ///< uint8 tensor of shape dims
};

/// Largest payload dvae accepts from one IDX file (1 GiB; MNIST's training images are 47 MB).
constexpr uint64_t kMaxIdxPayloadBytes = uint64_t{1} << 30;

/// Reads an IDX file of unsigned bytes with exactly expected_ndims dimensions.
IdxArray read_idx(const std::string& path, int expected_ndims);

/// Reads an idx3 image file: uint8 [N,H,W].
torch::Tensor read_idx_images(const std::string& path);

/// Reads an idx1 label file: int64 [N], every label checked to be < num_classes.
torch::Tensor read_idx_labels(const std::string& path, int64_t num_classes);

/// Reads a matching image and label file into an ImageSet (counts must agree).
ImageSet read_idx_pair(const std::string& images_path, const std::string& labels_path, int64_t num_classes = 10);

}  // namespace dvae
