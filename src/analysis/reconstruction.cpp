// Reconstructions, prior samples and misclassification galleries.
#include "analysis/reconstruction.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/check.h"
#include "core/random.h"

namespace dvae {

torch::Tensor reconstruction_losses(const VaeParts& vae, const ImageSet& set, int64_t batch) {
  DVAE_CHECK(vae.encoder && vae.decoder, "reconstruction: VAE without encoder or decoder");
  DVAE_CHECK(batch >= 1, "reconstruction: batch ", batch, ", expected >= 1");
  torch::NoGradGuard no_grad;
  const bool enc_training = vae.encoder->is_training();
  const bool dec_training = vae.decoder->is_training();
  vae.encoder->eval();
  vae.decoder->eval();
  const torch::Device device = module_device(*vae.encoder);
  std::vector<torch::Tensor> parts;
  for (int64_t start = 0; start < set.size(); start += batch) {
    const int64_t end = std::min(set.size(), start + batch);
    const auto x = set.batch(torch::arange(start, end, torch::kInt64)).to(device);  // [B,1,H,W]
    const auto mu = vae.encoder->encode(x).mu;                                      // [B,1,H,W] -> [B,D]
    const auto x_logits = vae.decoder->decode(mu.to(module_device(*vae.decoder)));  // [B,D] -> [B,1,H,W]
    const auto bce = torch::binary_cross_entropy_with_logits(x_logits, x.to(x_logits.device()), {}, {},
                                                             at::Reduction::None);  // [B,1,H,W]
    parts.push_back(bce.flatten(1).sum(1).to(torch::kCPU, torch::kFloat64));      // [B,1,H,W] -> [B]
  }
  vae.encoder->train(enc_training);
  vae.decoder->train(dec_training);
  return torch::cat(parts);  // [N]
}

torch::Tensor pick_random(int64_t n, int64_t k, uint64_t seed) {
  DVAE_CHECK(k >= 1 && k <= n, "reconstruct: --k ", k, ", expected 1..", n, " (the test set size)");
  std::vector<int64_t> rows(static_cast<size_t>(n));
  std::iota(rows.begin(), rows.end(), 0);
  Rng rng(seed);
  rng.shuffle(rows);
  rows.resize(static_cast<size_t>(k));
  return torch::tensor(rows, torch::kInt64);
}

torch::Tensor pick_worst(const torch::Tensor& losses, int64_t k) {
  DVAE_CHECK(losses.dim() == 1 && k >= 1 && k <= losses.size(0), "reconstruct: --k ", k, ", expected 1..",
             losses.dim() == 1 ? losses.size(0) : 0);
  const auto v = losses.to(torch::kCPU, torch::kFloat64).contiguous();
  const double* p = v.data_ptr<double>();
  std::vector<int64_t> rows(static_cast<size_t>(v.size(0)));
  std::iota(rows.begin(), rows.end(), 0);
  std::stable_sort(rows.begin(), rows.end(), [p](int64_t a, int64_t b) { return p[a] > p[b]; });
  rows.resize(static_cast<size_t>(k));
  return torch::tensor(rows, torch::kInt64);
}

Reconstructions reconstruct(const std::vector<VaeParts>& vaes, const ImageSet& set, const torch::Tensor& index) {
  DVAE_CHECK(!vaes.empty(), "reconstruct: no models given");
  Reconstructions out;
  out.index = index.to(torch::kCPU, torch::kInt64);
  const ImageSet chosen = set.subset(out.index);
  out.originals = chosen.batch(torch::arange(chosen.size(), torch::kInt64));  // [K,1,H,W]
  for (const auto& vae : vaes) {
    const auto mu = encode_set(*vae.encoder, chosen).mu;  // [K,D]
    out.reconstructions.push_back(decode_images(*vae.decoder, mu));  // [K,D] -> [K,1,H,W]
    out.losses.push_back(reconstruction_losses(vae, chosen));        // [K]
  }
  return out;
}

std::pair<torch::Tensor, int64_t> reconstruction_layout(const Reconstructions& r, int64_t cols) {
  DVAE_CHECK(cols >= 1, "reconstruct: columns ", cols, ", expected >= 1");
  const int64_t k = r.originals.size(0);
  const int64_t m = static_cast<int64_t>(r.reconstructions.size());
  const int64_t blocks = std::max<int64_t>(1, (k + cols - 1) / cols);
  const int64_t h = r.originals.size(2);
  const int64_t w = r.originals.size(3);
  // Cells past the last image of a block stay white (1.0), like the grid's empty cells.
  auto cells = torch::ones({blocks * (1 + m) * cols, 1, h, w});  // [B*(1+M)*cols,1,H,W]
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t lo = b * cols;
    const int64_t hi = std::min(k, lo + cols);
    for (int64_t row = 0; row <= m; ++row) {
      const auto& src = row == 0 ? r.originals : r.reconstructions[static_cast<size_t>(row - 1)];
      const int64_t first = (b * (1 + m) + row) * cols;
      cells.slice(0, first, first + (hi - lo)).copy_(src.slice(0, lo, hi));
    }
  }
  return {cells, blocks * (1 + m)};
}

torch::Tensor sample_prior(DecoderImpl& decoder, int64_t n, int64_t latent_dim, uint64_t seed) {
  DVAE_CHECK(n >= 1, "sample: --n ", n, ", expected >= 1");
  DVAE_CHECK(latent_dim >= 1, "sample: latent_dim ", latent_dim, ", expected >= 1");
  Rng rng(seed);
  std::vector<float> z(static_cast<size_t>(n * latent_dim));
  for (size_t i = 0; i < z.size(); i += 2) {
    const double u1 = 1.0 - rng.uniform();  // (0, 1]
    const double u2 = rng.uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    z[i] = static_cast<float>(radius * std::cos(2.0 * M_PI * u2));
    if (i + 1 < z.size()) z[i + 1] = static_cast<float>(radius * std::sin(2.0 * M_PI * u2));
  }
  const auto codes = torch::tensor(z, torch::kFloat32).view({n, latent_dim});  // [n*D] -> [n,D]
  return decode_images(decoder, codes);                                       // [n,D] -> [n,1,H,W]
}

Gallery misclassified(const ImageSet& test, const std::vector<int64_t>& predictions, int64_t max_images) {
  DVAE_CHECK(static_cast<int64_t>(predictions.size()) == test.size(), "gallery: ", predictions.size(),
             " predictions, expected one per test image (", test.size(), ") of ", test.source);
  DVAE_CHECK(max_images >= 1, "gallery: max images ", max_images, ", expected >= 1");
  const auto labels = test.labels.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t* y = labels.data_ptr<int64_t>();
  Gallery g;
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < test.size(); ++i) {
    if (predictions[static_cast<size_t>(i)] == y[i]) continue;
    ++g.total_wrong;
    if (static_cast<int64_t>(rows.size()) >= max_images) continue;
    rows.push_back(i);
    g.predicted.push_back(predictions[static_cast<size_t>(i)]);
    g.truth.push_back(y[i]);
  }
  g.index = torch::tensor(rows, torch::kInt64);
  g.images = rows.empty() ? torch::zeros({0, 1, test.rows(), test.cols()}) : test.batch(g.index);  // [G,1,H,W]
  return g;
}

}  // namespace dvae
