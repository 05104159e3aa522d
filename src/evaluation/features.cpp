// Feature extraction through a frozen encoder.
#include "evaluation/features.h"

#include "core/check.h"

namespace dvae {

torch::Tensor extract_features(EncoderImpl& encoder, const ImageSet& set, bool with_logvar, int64_t batch) {
  DVAE_CHECK(set.size() > 0, "extract_features: ", set.source, " holds no images, expected at least one");
  return extract_features(encoder, set.images, with_logvar, batch);
}

torch::Tensor extract_features(EncoderImpl& encoder, const torch::Tensor& images, bool with_logvar, int64_t batch) {
  DVAE_CHECK(batch > 0, "extract_features: batch ", batch, ", expected > 0");
  const bool bytes = images.defined() && images.scalar_type() == torch::kUInt8 && images.dim() == 3;
  const bool floats = images.defined() && images.scalar_type() == torch::kFloat && images.dim() == 4;
  DVAE_CHECK(bytes || floats, "extract_features: images of type ",
             images.defined() ? std::string(c10::toString(images.scalar_type())) : "undefined", " and shape ",
             images.defined() ? images.sizes() : at::IntArrayRef{}, ", expected uint8 [N,H,W] or float [N,1,H,W]");
  DVAE_CHECK(images.size(0) > 0, "extract_features: no images, expected at least one");
  torch::NoGradGuard no_grad;
  const bool was_training = encoder.is_training();
  encoder.eval();
  const auto params = encoder.parameters();
  const torch::Device device = params.empty() ? torch::Device(torch::kCPU) : params.front().device();
  std::vector<torch::Tensor> parts;
  const int64_t n = images.size(0);
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t len = std::min(n - start, batch);
    auto x = images.narrow(0, start, len);
    if (bytes) x = x.to(torch::kFloat32).div_(255.0f).unsqueeze(1);    // [B,H,W] -> [B,1,H,W], as ImageSet::batch
    const Posterior q = encoder.encode(x.to(device));                   // mu, logvar [B,D]
    auto f = with_logvar ? torch::cat({q.mu, q.logvar}, 1) : q.mu;      // [B,D] or [B,2D]
    parts.push_back(f.to(torch::kCPU, torch::kFloat).contiguous());
  }
  encoder.train(was_training);
  return torch::cat(parts, 0).contiguous();                             // [N,D] or [N,2D]
}

}  // namespace dvae
