// Few-label sampling by class: a seeded Fisher-Yates shuffle (dvae::Rng) of
// each class's indices, one independent stream per (purpose, trial, class).
#include "data/sampler.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"
#include "core/random.h"

namespace dvae {

namespace {

// Stream ids passed to derive_seed, so validation and labelled draws never share a stream.
constexpr uint64_t kValidationStream = 0x76616c;  // "val"
constexpr uint64_t kLabelledStream = 0x6c6162;    // "lab"

std::vector<std::vector<int64_t>> indices_by_class(const torch::Tensor& labels, int64_t num_classes) {
  DVAE_CHECK(labels.dim() == 1, "sampler: labels have ", labels.dim(), " dimensions, expected 1");
  DVAE_CHECK(num_classes > 0, "sampler: num_classes = ", num_classes, ", expected > 0");
  const torch::Tensor l = labels.to(torch::kInt64).contiguous();
  const int64_t* p = l.data_ptr<int64_t>();
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(num_classes));
  for (int64_t i = 0; i < l.numel(); ++i) {
    DVAE_CHECK(p[i] >= 0 && p[i] < num_classes, "sampler: label ", p[i], " at index ", i, ", expected < ",
               num_classes);
    by_class[static_cast<size_t>(p[i])].push_back(i);  // ascending by construction
  }
  return by_class;
}

void check_options(const SamplerOptions& o) {
  DVAE_CHECK(o.n == -1 || o.n >= 1, "sampler: n = ", o.n, ", expected >= 1 or -1 (the whole training set)");
  DVAE_CHECK(o.val_per_class >= 0, "sampler: val_per_class = ", o.val_per_class, ", expected >= 0");
  DVAE_CHECK(o.val_fraction >= 0.0 && o.val_fraction < 1.0, "sampler: val_fraction = ", o.val_fraction,
             ", expected in [0, 1)");
  DVAE_CHECK(o.val_per_class == 0 || o.val_fraction == 0.0,
             "sampler: both val_per_class and val_fraction given, expected at most one");
}

torch::Tensor sorted_tensor(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  torch::Tensor out = torch::empty({static_cast<int64_t>(v.size())}, torch::kInt64);
  std::copy(v.begin(), v.end(), out.data_ptr<int64_t>());
  return out;
}

// Splits each class into validation (appended to validation) and the rest (returned, ascending).
std::vector<std::vector<int64_t>> split_validation(const std::vector<std::vector<int64_t>>& by_class,
                                                   const SamplerOptions& o, std::vector<int64_t>* validation) {
  std::vector<std::vector<int64_t>> pool(by_class.size());
  for (size_t c = 0; c < by_class.size(); ++c) {
    const int64_t count = static_cast<int64_t>(by_class[c].size());
    const int64_t k = o.val_per_class > 0 ? o.val_per_class
                                          : static_cast<int64_t>(std::llround(o.val_fraction * static_cast<double>(count)));
    DVAE_CHECK(k <= count, "sampler: class ", c, " has ", count, " examples, expected at least ", k,
               " for the validation split");
    std::vector<int64_t> shuffled = by_class[c];
    if (k > 0) {
      Rng rng(derive_seed(o.seed, {kValidationStream, c}));
      rng.shuffle(shuffled);
    }
    validation->insert(validation->end(), shuffled.begin(), shuffled.begin() + k);
    pool[c].assign(shuffled.begin() + k, shuffled.end());
    std::sort(pool[c].begin(), pool[c].end());
  }
  return pool;
}

}  // namespace

std::vector<int64_t> class_counts(const torch::Tensor& labels, int64_t num_classes) {
  std::vector<int64_t> counts;
  for (const auto& idx : indices_by_class(labels, num_classes)) counts.push_back(static_cast<int64_t>(idx.size()));
  return counts;
}

torch::Tensor validation_indices(const torch::Tensor& labels, int64_t num_classes, const SamplerOptions& options) {
  check_options(options);
  std::vector<int64_t> validation;
  split_validation(indices_by_class(labels, num_classes), options, &validation);
  return sorted_tensor(std::move(validation));
}

LabelSplit sample_labelled(const torch::Tensor& labels, int64_t num_classes, const SamplerOptions& options,
                           uint64_t trial) {
  check_options(options);
  std::vector<int64_t> validation;
  const auto pool = split_validation(indices_by_class(labels, num_classes), options, &validation);
  std::vector<int64_t> labelled;
  for (size_t c = 0; c < pool.size(); ++c) {
    const int64_t available = static_cast<int64_t>(pool[c].size());
    if (options.n == -1) {
      labelled.insert(labelled.end(), pool[c].begin(), pool[c].end());
      continue;
    }
    DVAE_CHECK(available >= options.n, "sampler: class ", c, " has ", available, " training examples",
               validation.empty() ? "" : " outside the validation split", ", expected at least n = ", options.n);
    std::vector<int64_t> shuffled = pool[c];
    Rng rng(derive_seed(options.seed, {kLabelledStream, trial, c}));
    rng.shuffle(shuffled);
    labelled.insert(labelled.end(), shuffled.begin(), shuffled.begin() + options.n);
  }
  LabelSplit split;
  split.labelled = sorted_tensor(std::move(labelled));
  split.validation = sorted_tensor(std::move(validation));
  return split;
}

}  // namespace dvae
