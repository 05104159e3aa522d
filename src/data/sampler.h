// The few-label sampler: which training images carry a label in one trial of
// the protocol (exactly n per class), and an optional validation split held
// out of the training set for every trial. Choices depend only on (seed,
// trial) through dvae::Rng, so they are identical on every machine and
// standard library. Indices only: ImageSet::subset turns them into data.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace dvae {

/// How to split a training set into a validation part and labelled subsets.
struct SamplerOptions {
  int64_t n = 100;              ///< labelled examples per class; -1 = the whole (non-validation) training set
  int64_t val_per_class = 0;    ///< validation examples held out per class (0 = none); excludes val_fraction
  double val_fraction = 0.0;    ///< or: this fraction of each class held out, rounded to nearest (0 = none)
  uint64_t seed = 1;            ///< base seed; the validation split depends on it alone
};

/// The indices of one trial, each sorted ascending (int64).
struct LabelSplit {
  torch::Tensor labelled;    ///< int64 [n * num_classes] (or the whole pool when n = -1)
  torch::Tensor validation;  ///< int64 [V], the same for every trial of a seed; empty when none
};

/// Number of examples of each class in labels (int64 [N], values < num_classes).
std::vector<int64_t> class_counts(const torch::Tensor& labels, int64_t num_classes);

/// The validation indices for options (sorted; empty when none requested).
torch::Tensor validation_indices(const torch::Tensor& labels, int64_t num_classes, const SamplerOptions& options);

/// The labelled subset and validation split of trial `trial`. Different trials
/// give different subsets; every subset is disjoint from the validation split.
/// Throws dvae::Error when a class has fewer than n examples left.
LabelSplit sample_labelled(const torch::Tensor& labels, int64_t num_classes, const SamplerOptions& options,
                           uint64_t trial);

}  // namespace dvae
