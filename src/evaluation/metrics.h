// Classification metrics on predicted and true labels: accuracy, the confusion
// matrix, per-class accuracy, and where two models disagree (error analysis).
// Not for training: these take finished predictions (int64 [N]) only.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace dvae {

/// Fraction of positions where predicted == truth (both int64 [N], N > 0), in [0,1].
double accuracy(const torch::Tensor& predicted, const torch::Tensor& truth);

/// Confusion counts int64 [C,C]: entry (i,j) counts examples of true class i
/// predicted as class j (row = true, column = predicted). Labels must be in [0,C).
torch::Tensor confusion_matrix(const torch::Tensor& predicted, const torch::Tensor& truth, int64_t num_classes);

/// Per-class accuracy (recall) from a confusion matrix [C,C]: diagonal / row sum,
/// as double [C]; a class with no examples gets 0.
torch::Tensor per_class_accuracy(const torch::Tensor& confusion);

/// Where two models' predictions on the same examples differ in correctness.
struct Disagreement {
  std::vector<int64_t> a_wrong_b_right;  ///< example indices model A gets wrong and B gets right (ascending)
  std::vector<int64_t> a_right_b_wrong;  ///< example indices A gets right and B gets wrong (ascending)
  int64_t both_wrong = 0;                ///< examples both get wrong
  int64_t both_right = 0;                ///< examples both get right
};

/// Compares predictions of models A and B against truth (all int64 [N]).
Disagreement compare_predictions(const torch::Tensor& predicted_a, const torch::Tensor& predicted_b,
                                 const torch::Tensor& truth);

/// Converts a 1-D integer tensor to a std::vector<int64_t>.
std::vector<int64_t> to_int_vector(const torch::Tensor& t);

}  // namespace dvae
