// Tests for evaluation/metrics: hand-computed accuracy, confusion and disagreement.
#include "evaluation/metrics.h"

#include <gtest/gtest.h>

#include "core/check.h"

namespace dvae {
namespace {

torch::Tensor longs(std::vector<int64_t> v) { return torch::tensor(v, torch::kLong); }

TEST(metrics, AccuracyMatchesHandCount) {
  const auto pred = longs({0, 1, 2, 2, 1, 0});
  const auto truth = longs({0, 1, 1, 2, 2, 0});
  EXPECT_DOUBLE_EQ(accuracy(pred, truth), 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(accuracy(truth, truth), 1.0);
}

TEST(metrics, ConfusionRowsAreTrueColumnsArePredicted) {
  const auto pred = longs({0, 1, 2, 2, 1, 0, 0});
  const auto truth = longs({0, 1, 1, 2, 2, 0, 2});
  const auto cm = confusion_matrix(pred, truth, 3);
  const std::vector<std::vector<int64_t>> expected = {{2, 0, 0}, {0, 1, 1}, {1, 1, 1}};
  ASSERT_EQ(cm.sizes(), (std::vector<int64_t>{3, 3}));
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) EXPECT_EQ(cm[i][j].item<int64_t>(), expected[i][j]) << i << "," << j;
  }
  EXPECT_EQ(cm.sum().item<int64_t>(), 7);
}

TEST(metrics, PerClassAccuracyIsRecallAndZeroForAbsentClass) {
  const auto cm = torch::tensor({2, 0, 0, 0, 1, 1, 1, 1, 2}, torch::kLong).view({3, 3});
  const auto pca = per_class_accuracy(cm);  // 2/2, 1/2, 2/4
  EXPECT_DOUBLE_EQ(pca[0].item<double>(), 1.0);
  EXPECT_DOUBLE_EQ(pca[1].item<double>(), 0.5);
  EXPECT_DOUBLE_EQ(pca[2].item<double>(), 0.5);
  const auto empty_row = torch::tensor({1, 0, 0, 0}, torch::kLong).view({2, 2});
  const auto pca2 = per_class_accuracy(empty_row);
  EXPECT_DOUBLE_EQ(pca2[0].item<double>(), 1.0);
  EXPECT_DOUBLE_EQ(pca2[1].item<double>(), 0.0);
}

TEST(metrics, CompareListsSetDifferencesInOrder) {
  const auto truth = longs({0, 1, 2, 3, 4, 5});
  const auto a = longs({0, 9, 2, 9, 4, 9});  // wrong at 1, 3, 5
  const auto b = longs({9, 1, 2, 3, 9, 9});  // wrong at 0, 4, 5
  const Disagreement d = compare_predictions(a, b, truth);
  EXPECT_EQ(d.a_wrong_b_right, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(d.a_right_b_wrong, (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(d.both_wrong, 1);
  EXPECT_EQ(d.both_right, 1);
}

TEST(metrics, RejectsMismatchedLengthsAndOutOfRangeLabels) {
  EXPECT_THROW(accuracy(longs({0, 1}), longs({0})), Error);
  EXPECT_THROW(confusion_matrix(longs({0, 3}), longs({0, 1}), 3), Error);
}

}  // namespace
}  // namespace dvae
