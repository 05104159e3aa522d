// A tiny deterministic encoder for evaluation tests: a fixed random linear map
// of the flattened image to mu, and logvar = -mu (so the two are told apart).
#pragma once

#include <torch/torch.h>

#include "models/vae.h"

namespace dvae::test {

class ToyEncoderImpl : public EncoderImpl {
 public:
  ToyEncoderImpl(int64_t pixels, int64_t latent, uint64_t seed) {
    torch::manual_seed(seed);
    proj_ = register_module("proj", torch::nn::Linear(pixels, latent));
  }
  Posterior encode(const torch::Tensor& x) override {
    auto mu = proj_(x.flatten(1));  // [B,1,H,W] -> [B,D]
    return {mu, -mu};
  }

 private:
  torch::nn::Linear proj_ = nullptr;
};

}  // namespace dvae::test
