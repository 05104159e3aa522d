// Latent traversals and per-latent KL.
#include "analysis/traversal.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "core/check.h"

namespace dvae {

torch::Device module_device(const torch::nn::Module& module) {
  const auto params = module.parameters();
  return params.empty() ? torch::Device(torch::kCPU) : params.front().device();
}

Posterior encode_set(EncoderImpl& encoder, const ImageSet& set, int64_t batch) {
  DVAE_CHECK(set.size() > 0, "encode_set: ", set.source, ": no images, expected at least 1");
  DVAE_CHECK(batch >= 1, "encode_set: batch ", batch, ", expected >= 1");
  torch::NoGradGuard no_grad;
  const bool was_training = encoder.is_training();
  encoder.eval();
  const torch::Device device = module_device(encoder);
  std::vector<torch::Tensor> mus;
  std::vector<torch::Tensor> logvars;
  for (int64_t start = 0; start < set.size(); start += batch) {
    const int64_t end = std::min(set.size(), start + batch);
    const auto idx = torch::arange(start, end, torch::kInt64);
    const Posterior q = encoder.encode(set.batch(idx).to(device));  // [B,1,H,W] -> [B,D]
    mus.push_back(q.mu.to(torch::kCPU, torch::kFloat32));
    logvars.push_back(q.logvar.to(torch::kCPU, torch::kFloat32));
  }
  encoder.train(was_training);
  return {torch::cat(mus), torch::cat(logvars)};  // [N,D], [N,D]
}

torch::Tensor latent_kl(EncoderImpl& encoder, const ImageSet& set, int64_t batch) {
  const Posterior q = encode_set(encoder, set, batch);
  const auto mu = q.mu.to(torch::kFloat64);
  const auto logvar = q.logvar.to(torch::kFloat64);
  const auto kl_per_dim = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0);  // [N,D]
  return kl_per_dim.mean(0);  // [N,D] -> [D]
}

torch::Tensor decode_images(DecoderImpl& decoder, const torch::Tensor& z) {
  DVAE_CHECK(z.dim() == 2, "decode_images: z of shape ", z.sizes(), ", expected [B,D]");
  torch::NoGradGuard no_grad;
  const bool was_training = decoder.is_training();
  decoder.eval();
  const auto x_logits = decoder.decode(z.to(module_device(decoder), torch::kFloat32));  // [B,D] -> [B,1,H,W]
  decoder.train(was_training);
  return torch::sigmoid(x_logits).to(torch::kCPU);
}

std::vector<int64_t> latents_by_kl(const torch::Tensor& kl) {
  DVAE_CHECK(kl.dim() == 1, "latents_by_kl: kl of shape ", kl.sizes(), ", expected [D]");
  const auto values = kl.to(torch::kCPU, torch::kFloat64).contiguous();
  const double* v = values.data_ptr<double>();
  std::vector<int64_t> order(static_cast<size_t>(kl.size(0)));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [v](int64_t a, int64_t b) { return v[a] > v[b]; });
  return order;
}

Traversal traverse_latents(DecoderImpl& decoder, const torch::Tensor& base, const torch::Tensor& kl,
                           const TraversalOptions& options) {
  DVAE_CHECK(options.steps >= 2, "traverse: --steps ", options.steps, ", expected >= 2");
  DVAE_CHECK(options.range > 0.0, "traverse: --range ", options.range, ", expected > 0");
  DVAE_CHECK(base.dim() == 1, "traverse: base code of shape ", base.sizes(), ", expected [D]");
  DVAE_CHECK(kl.dim() == 1 && kl.size(0) == base.size(0), "traverse: KL of shape ", kl.sizes(),
             ", expected [", base.size(0), "] (one value per latent)");
  const int64_t d = base.size(0);
  const int64_t s = options.steps;
  Traversal out;
  out.base = base.to(torch::kCPU, torch::kFloat32);
  out.values = torch::empty({s}, torch::kFloat64);  // [S], exact at the ends and at the centre for odd S
  for (int64_t i = 0; i < s; ++i) {
    out.values[i] = -options.range + 2.0 * options.range * static_cast<double>(i) / static_cast<double>(s - 1);
  }
  const auto kl64 = kl.to(torch::kCPU, torch::kFloat64).contiguous();
  const auto order = latents_by_kl(kl64);
  auto z = out.base.unsqueeze(0).repeat({d * s, 1});  // [D] -> [D*S,D]
  const auto values32 = out.values.to(torch::kFloat32);
  for (int64_t r = 0; r < d; ++r) {
    const int64_t latent = order[static_cast<size_t>(r)];
    z.slice(0, r * s, (r + 1) * s).select(1, latent).copy_(values32);  // row r sweeps latent
    const double v = kl64[latent].item<double>();
    out.rows.push_back({latent, v, v < options.collapsed_kl});
  }
  out.images = decode_images(decoder, z);  // [D*S,D] -> [D*S,1,H,W]
  return out;
}

std::vector<std::string> traversal_row_labels(const Traversal& traversal) {
  std::vector<std::string> labels;
  for (const auto& row : traversal.rows) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "z%lld  KL %.3f%s", static_cast<long long>(row.latent), row.kl,
                  row.collapsed ? " (collapsed)" : "");
    labels.emplace_back(buf);
  }
  return labels;
}

}  // namespace dvae
