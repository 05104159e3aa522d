// Accuracy, confusion matrix, per-class accuracy and disagreement sets.
#include "evaluation/metrics.h"

#include "core/check.h"

namespace dvae {

namespace {

// Checks that a and b are 1-D integer tensors of the same, nonzero length.
void check_pair(const torch::Tensor& a, const torch::Tensor& b, const char* what) {
  DVAE_CHECK(a.defined() && b.defined() && a.dim() == 1 && b.dim() == 1, what,
             ": predictions and labels must be 1-D tensors");
  DVAE_CHECK(a.size(0) == b.size(0), what, ": ", a.size(0), " predictions for ", b.size(0),
             " labels, expected equal counts");
  DVAE_CHECK(a.size(0) > 0, what, ": no examples, expected at least one");
}

}  // namespace

double accuracy(const torch::Tensor& predicted, const torch::Tensor& truth) {
  check_pair(predicted, truth, "accuracy");
  const auto correct = predicted.to(torch::kLong).eq(truth.to(torch::kLong)).sum().item<int64_t>();
  return static_cast<double>(correct) / static_cast<double>(truth.size(0));
}

torch::Tensor confusion_matrix(const torch::Tensor& predicted, const torch::Tensor& truth, int64_t num_classes) {
  check_pair(predicted, truth, "confusion_matrix");
  DVAE_CHECK(num_classes > 0, "confusion_matrix: num_classes ", num_classes, ", expected > 0");
  const auto p = predicted.to(torch::kLong).contiguous();
  const auto t = truth.to(torch::kLong).contiguous();
  const auto pmin = p.min().item<int64_t>(), pmax = p.max().item<int64_t>();
  const auto tmin = t.min().item<int64_t>(), tmax = t.max().item<int64_t>();
  DVAE_CHECK(pmin >= 0 && pmax < num_classes && tmin >= 0 && tmax < num_classes,
             "confusion_matrix: labels in [", std::min(pmin, tmin), ", ", std::max(pmax, tmax),
             "], expected [0, ", num_classes, ")");
  const auto flat = t * num_classes + p;                           // [N] cell index row-major
  return torch::bincount(flat, {}, num_classes * num_classes)     // [C*C]
      .view({num_classes, num_classes});                           // -> [C,C]
}

torch::Tensor per_class_accuracy(const torch::Tensor& confusion) {
  DVAE_CHECK(confusion.dim() == 2 && confusion.size(0) == confusion.size(1),
             "per_class_accuracy: confusion matrix of shape ", confusion.sizes(), ", expected [C,C]");
  const auto c = confusion.to(torch::kDouble);
  const auto rows = c.sum(1);                                       // [C] examples per true class
  const auto diag = c.diagonal();                                   // [C] correct per class
  return torch::where(rows > 0, diag / rows.clamp_min(1.0), torch::zeros_like(rows));
}

Disagreement compare_predictions(const torch::Tensor& predicted_a, const torch::Tensor& predicted_b,
                                 const torch::Tensor& truth) {
  check_pair(predicted_a, truth, "compare_predictions");
  check_pair(predicted_b, truth, "compare_predictions");
  const auto ra = predicted_a.to(torch::kLong).eq(truth.to(torch::kLong));  // [N] bool
  const auto rb = predicted_b.to(torch::kLong).eq(truth.to(torch::kLong));  // [N] bool
  Disagreement d;
  d.a_wrong_b_right = to_int_vector(torch::nonzero(ra.logical_not() & rb).view(-1));
  d.a_right_b_wrong = to_int_vector(torch::nonzero(ra & rb.logical_not()).view(-1));
  d.both_wrong = (ra.logical_not() & rb.logical_not()).sum().item<int64_t>();
  d.both_right = (ra & rb).sum().item<int64_t>();
  return d;
}

std::vector<int64_t> to_int_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kLong).contiguous().view(-1);
  const int64_t* p = c.data_ptr<int64_t>();
  return std::vector<int64_t>(p, p + c.numel());
}

}  // namespace dvae
