// Feature extraction through a frozen encoder.
#include "evaluation/features.h"

#include "core/check.h"

namespace dvae {

torch::Tensor extract_features(EncoderImpl& encoder, const ImageSet& set, bool with_logvar, int64_t batch) {
  DVAE_CHECK(batch > 0, "extract_features: batch ", batch, ", expected > 0");
  DVAE_CHECK(set.size() > 0, "extract_features: ", set.source, " holds no images, expected at least one");
  torch::NoGradGuard no_grad;
  const bool was_training = encoder.is_training();
  encoder.eval();
  const auto params = encoder.parameters();
  const torch::Device device = params.empty() ? torch::Device(torch::kCPU) : params.front().device();
  std::vector<torch::Tensor> parts;
  for (int64_t start = 0; start < set.size(); start += batch) {
    const int64_t end = std::min(set.size(), start + batch);
    const auto idx = torch::arange(start, end, torch::kLong);
    const auto x = set.batch(idx).to(device);                          // [B,1,H,W]
    const Posterior q = encoder.encode(x);                              // mu, logvar [B,D]
    auto f = with_logvar ? torch::cat({q.mu, q.logvar}, 1) : q.mu;      // [B,D] or [B,2D]
    parts.push_back(f.to(torch::kCPU, torch::kFloat).contiguous());
  }
  encoder.train(was_training);
  return torch::cat(parts, 0).contiguous();                             // [N,D] or [N,2D]
}

}  // namespace dvae
