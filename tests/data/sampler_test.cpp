// Tests for the few-label sampler: exact counts per class, determinism across
// calls, trial independence, validation disjointness, and the error for a
// class that is too small.
#include <gtest/gtest.h>

#include <set>

#include "core/check.h"
#include "data/sampler.h"

namespace dvae {
namespace {

// 1000 labels: class c appears 100 times at scattered positions.
torch::Tensor scattered_labels() {
  std::vector<int64_t> v(1000);
  for (int64_t i = 0; i < 1000; ++i) v[i] = (i * 7 + i / 10) % 10;
  return torch::tensor(v, torch::kInt64);
}

std::vector<int64_t> to_vector(const torch::Tensor& t) {
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}

TEST(Sampler, ExactlyNPerClassSortedAndUnique) {
  const torch::Tensor labels = scattered_labels();
  const std::vector<int64_t> counts = class_counts(labels, 10);
  for (int64_t c : counts) ASSERT_EQ(c, 100);
  SamplerOptions o;
  o.n = 7;
  const LabelSplit split = sample_labelled(labels, 10, o, 0);
  ASSERT_EQ(split.labelled.numel(), 70);
  EXPECT_EQ(split.validation.numel(), 0);
  const auto idx = to_vector(split.labelled);
  EXPECT_TRUE(std::is_sorted(idx.begin(), idx.end()));
  EXPECT_EQ(std::set<int64_t>(idx.begin(), idx.end()).size(), idx.size());
  const std::vector<int64_t> per_class = class_counts(labels.index_select(0, split.labelled), 10);
  for (int64_t c : per_class) EXPECT_EQ(c, 7);
}

TEST(Sampler, SameSeedAndTrialGiveTheSameSubset) {
  const torch::Tensor labels = scattered_labels();
  SamplerOptions o;
  o.n = 10;
  o.seed = 42;
  EXPECT_TRUE(torch::equal(sample_labelled(labels, 10, o, 3).labelled, sample_labelled(labels, 10, o, 3).labelled));
}

TEST(Sampler, PinnedSubsetIsStableAcrossPlatforms) {
  // The draw depends only on dvae::Rng, so these indices are the same on every
  // machine and standard library; a change here changes published results.
  std::vector<int64_t> v(40);
  for (int64_t i = 0; i < 40; ++i) v[i] = i % 4;
  SamplerOptions o;
  o.n = 2;
  o.seed = 1;
  const auto first = to_vector(sample_labelled(torch::tensor(v, torch::kInt64), 4, o, 0).labelled);
  ASSERT_EQ(first.size(), 8u);
  EXPECT_EQ(first, (std::vector<int64_t>{1, 5, 6, 7, 19, 20, 26, 32}));
  const auto again = to_vector(sample_labelled(torch::tensor(v, torch::kInt64), 4, o, 0).labelled);
  EXPECT_EQ(first, again);
}

TEST(Sampler, DifferentTrialsAndSeedsGiveDifferentSubsets) {
  const torch::Tensor labels = scattered_labels();
  SamplerOptions o;
  o.n = 10;
  std::set<std::vector<int64_t>> seen;
  for (uint64_t trial = 0; trial < 10; ++trial) seen.insert(to_vector(sample_labelled(labels, 10, o, trial).labelled));
  EXPECT_EQ(seen.size(), 10u);
  SamplerOptions other = o;
  other.seed = 2;
  EXPECT_FALSE(torch::equal(sample_labelled(labels, 10, o, 0).labelled, sample_labelled(labels, 10, other, 0).labelled));
}

TEST(Sampler, ValidationIsDisjointFromEveryTrialAndFixedBySeed) {
  const torch::Tensor labels = scattered_labels();
  SamplerOptions o;
  o.n = 30;
  o.val_per_class = 20;
  o.seed = 9;
  const torch::Tensor val = validation_indices(labels, 10, o);
  ASSERT_EQ(val.numel(), 200);
  for (int64_t c : class_counts(labels.index_select(0, val), 10)) EXPECT_EQ(c, 20);
  const auto v = to_vector(val);
  const std::set<int64_t> val_set(v.begin(), v.end());
  for (uint64_t trial = 0; trial < 5; ++trial) {
    const LabelSplit split = sample_labelled(labels, 10, o, trial);
    EXPECT_TRUE(torch::equal(split.validation, val));
    for (int64_t i : to_vector(split.labelled)) EXPECT_EQ(val_set.count(i), 0u) << "trial " << trial << " index " << i;
  }
}

TEST(Sampler, ValidationFractionRoundsPerClass) {
  const torch::Tensor labels = scattered_labels();
  SamplerOptions o;
  o.val_fraction = 0.125;  // 12.5 -> 13 of each class of 100
  EXPECT_EQ(validation_indices(labels, 10, o).numel(), 130);
}

TEST(Sampler, MinusOneTakesTheWholeNonValidationSet) {
  const torch::Tensor labels = scattered_labels();
  SamplerOptions o;
  o.n = -1;
  EXPECT_EQ(sample_labelled(labels, 10, o, 0).labelled.numel(), 1000);
  o.val_per_class = 10;
  const LabelSplit split = sample_labelled(labels, 10, o, 0);
  EXPECT_EQ(split.labelled.numel(), 900);
  const auto all = to_vector(torch::cat({split.labelled, split.validation}));
  EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()).size(), 1000u);
}

TEST(Sampler, TooSmallClassIsAnError) {
  std::vector<int64_t> v = {0, 0, 0, 1, 1, 2, 2, 2};
  SamplerOptions o;
  o.n = 3;
  try {
    sample_labelled(torch::tensor(v, torch::kInt64), 3, o, 0);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("class 1 has 2 training examples"), std::string::npos) << e.what();
  }
  o.n = 2;
  o.val_per_class = 1;  // leaves class 1 with 1 example
  EXPECT_THROW(sample_labelled(torch::tensor(v, torch::kInt64), 3, o, 0), Error);
}

TEST(Sampler, BadOptionsAreRejected) {
  const torch::Tensor labels = scattered_labels();
  SamplerOptions o;
  o.n = 0;
  EXPECT_THROW(sample_labelled(labels, 10, o, 0), Error);
  o.n = 1;
  o.val_fraction = 1.0;
  EXPECT_THROW(sample_labelled(labels, 10, o, 0), Error);
  o.val_fraction = 0.1;
  o.val_per_class = 5;
  EXPECT_THROW(sample_labelled(labels, 10, o, 0), Error);
  o.val_fraction = 0.0;
  o.val_per_class = 0;
  EXPECT_THROW(sample_labelled(labels, 5, o, 0), Error);  // label 9 >= 5 classes
}

}  // namespace
}  // namespace dvae
