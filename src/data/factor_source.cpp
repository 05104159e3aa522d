// FactorSource's shared draws and the lookup of a data set's generator.
#include "data/factor_source.h"

#include "core/check.h"
#include "data/datasets.h"

namespace dvae {

FactorSource::~FactorSource() = default;

std::vector<std::string> FactorSource::factor_names() const {
  std::vector<std::string> names;
  for (const FactorRange& r : factor_ranges()) names.push_back(r.name);
  return names;
}

int64_t FactorSource::num_factors() const { return static_cast<int64_t>(factor_ranges().size()); }

namespace {

double draw_in(const FactorRange& r, Rng& rng) {
  if (r.discrete) {
    const auto count = static_cast<uint64_t>(std::llround(r.hi - r.lo)) + 1;
    return r.lo + static_cast<double>(rng.below(count));
  }
  return r.lo + (r.hi - r.lo) * rng.uniform();
}

}  // namespace

double FactorSource::sample_value(int64_t k, Rng& rng) const {
  const std::vector<FactorRange> ranges = factor_ranges();
  DVAE_CHECK(k >= 0 && k < static_cast<int64_t>(ranges.size()), "sample_value: factor ", k, ", expected 0..",
             ranges.size() - 1);
  return draw_in(ranges[static_cast<size_t>(k)], rng);
}

torch::Tensor FactorSource::sample_factors(int64_t n, Rng& rng) const {
  DVAE_CHECK(n >= 0, "sample_factors: n = ", n, ", expected >= 0");
  const std::vector<FactorRange> ranges = factor_ranges();
  const auto f = static_cast<int64_t>(ranges.size());
  torch::Tensor out = torch::empty({n, f}, torch::kFloat64);  // [n,F]
  double* p = out.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < f; ++k) p[i * f + k] = draw_in(ranges[static_cast<size_t>(k)], rng);
  }
  return out;
}

torch::Tensor FactorSource::sample_factors_fixed(int64_t n, int64_t k, Rng& rng) const {
  const double value = sample_value(k, rng);
  return sample_factors_with(n, k, value, rng);
}

torch::Tensor FactorSource::sample_factors_with(int64_t n, int64_t k, double value, Rng& rng) const {
  DVAE_CHECK(k >= 0 && k < num_factors(), "sample_factors_with: factor ", k, ", expected 0..", num_factors() - 1);
  torch::Tensor out = sample_factors(n, rng);  // [n,F]
  out.select(1, k).fill_(value);
  return out;
}

std::vector<std::string> factor_source_datasets() {
  std::vector<std::string> names;
  for (const DatasetInfo& info : registered_datasets()) {
    if (info.factor_source) names.push_back(info.name);
  }
  return names;
}

std::unique_ptr<FactorSource> make_factor_source(const std::string& dataset, const std::string& data_root,
                                                 const std::string& split) {
  const DatasetInfo* info = find_dataset(dataset);
  if (!info || !info->factor_source) {
    std::string names;
    for (const std::string& n : factor_source_datasets()) names += (names.empty() ? "" : ", ") + n;
    throw UsageError("dataset '" + dataset + "' has no factor generator, expected one of: " + names);
  }
  DVAE_CHECK_USAGE(split == "train" || split == "test", "split '", split, "', expected train or test");
  return info->factor_source(data_root, split);
}

}  // namespace dvae
