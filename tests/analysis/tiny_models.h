// Hand-built encoders and decoders for the analysis tests: which latent matters
// and what the KL is are set by construction, so expected values are exact.
#pragma once

#include <torch/torch.h>

#include "data/image_set.h"
#include "models/vae.h"

namespace dvae::test {

/// Decoder with logits = z @ weight^T + bias, reshaped to [B,1,H,W].
class LinearDecoderImpl : public DecoderImpl {
 public:
  /// weight [H*W, D], bias [H*W].
  LinearDecoderImpl(const torch::Tensor& weight, const torch::Tensor& bias, int64_t h, int64_t w) : h_(h), w_(w) {
    weight_ = register_parameter("weight", weight.clone());
    bias_ = register_parameter("bias", bias.clone());
  }
  torch::Tensor decode(const torch::Tensor& z) override {
    return torch::addmm(bias_, z, weight_.t()).view({-1, 1, h_, w_});  // [B,D] -> [B,1,H,W]
  }

 private:
  int64_t h_;
  int64_t w_;
  torch::Tensor weight_;
  torch::Tensor bias_;
};

/// Encoder with mu = (mean pixel, 0, 0) and logvar = (0, 0, log 4): D = 3.
/// KL per latent: 0.5*mean(m^2), 0, 0.5*(4 - log 4 - 1).
class MeanPixelEncoderImpl : public EncoderImpl {
 public:
  MeanPixelEncoderImpl() { scale_ = register_parameter("scale", torch::ones({1}), false); }
  Posterior encode(const torch::Tensor& x) override {
    const auto m = x.flatten(1).mean(1, true) * scale_;  // [B,1,H,W] -> [B,1]
    const auto zeros = torch::zeros_like(m);
    return {torch::cat({m, zeros, zeros}, 1), torch::cat({zeros, zeros, zeros + std::log(4.0)}, 1)};
  }

 private:
  torch::Tensor scale_;
};

/// An image set of n constant images of h x w pixels, image i at grey level 10*i, label i % 10.
inline ImageSet constant_images(int64_t n, int64_t h, int64_t w) {
  ImageSet set;
  set.images = (torch::arange(n, torch::kInt64) * 10).to(torch::kUInt8).view({n, 1, 1}).expand({n, h, w}).contiguous();
  set.labels = torch::arange(n, torch::kInt64).remainder(10);
  set.source = "constant_images";
  return set;
}

}  // namespace dvae::test
