// Kingma, Rezende, Mohamed and Welling 2014 ("Semi-supervised learning with
// deep generative models"), model M2: a classifier q(y|x), an encoder
// q(z|x,y) and a decoder p(x|y,z), each an MLP of softplus layers (or, for
// images, the registered CNN encoder as the trunk of q(y|x) and q(z|x,y)).
// The inputs are either pixels (Bernoulli likelihood, M2) or the latent codes
// of a frozen VAE encoder (Gaussian likelihood with a learned variance: M1+M2).
//
// The first layer of q(z|x,y) and of p(x|y,z) is split into an x (or z) part
// and a y part, W [x; y] = W_x x + W_y y, so that the 10-way enumeration over y
// of the unlabelled bound computes the x part once and broadcasts the class
// part: encode_all / decode over [C,B,...] is one batched computation.
//
// Not for: the bounds and their weights (training/m2_objective.h), training
// (training/m2_trainer.h).
//
// Tensor legend: B batch, C classes, P input units (pixels H*W or code units),
// K hidden width, Z latent units of M2.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <memory>
#include <string>
#include <vector>

#include "models/vae.h"

namespace dvae {

/// Architecture of M2; defaults are Kingma et al.'s MNIST model.
struct M2Options {
  int64_t x_dim = 784;                   ///< P, input units (784 pixels; the code size for M1+M2)
  int64_t image_size = 28;               ///< H = W of pixel inputs (for the CNN trunk); 0 for code inputs
  std::string likelihood = "bernoulli";  ///< p(x|y,z): "bernoulli" (pixels) | "gaussian" (codes, learned variance)
  std::string trunk = "mlp";             ///< first layer of q(y|x) and q(z|x,y): "mlp" | a registered encoder ("cnn")
  int64_t hidden = 500;                  ///< K, width of every hidden layer (default 500)
  int64_t hidden_layers = 2;             ///< hidden layers of each network, >= 1 (default 2)
  int64_t z_dim = 50;                    ///< Z (default 50)
  int64_t num_classes = 10;              ///< C (default 10)
};

/// M2Options as JSON (what checkpoints compare on resume).
nlohmann::json m2_options_to_json(const M2Options& options);

/// p(x|y,z) at one (x, y) pair or a [C,B] grid of them.
struct M2Likelihood {
  torch::Tensor mean;    ///< [...,P]: Bernoulli logits, or the Gaussian mean
  torch::Tensor logvar;  ///< [...,P] Gaussian log-variance; undefined for Bernoulli
};

/// The three networks of M2.
class M2Impl : public torch::nn::Module {
 public:
  /// Builds every layer (LibTorch's default init); throws dvae::Error for bad options.
  explicit M2Impl(const M2Options& options);
  /// q(y|x): x [B,P] (or [B,1,H,W] pixels) -> logits [B,C].
  torch::Tensor classify(const torch::Tensor& x);
  /// q(z|x,y) at the given classes: x [B,...], y_onehot [B,C] -> mu, logvar [B,Z].
  Posterior encode(const torch::Tensor& x, const torch::Tensor& y_onehot);
  /// q(z|x,y) at every class in one pass: x [B,...] -> mu, logvar [C,B,Z].
  Posterior encode_all(const torch::Tensor& x);
  /// p(x|y,z): z [...,Z], y_onehot [...,C] (broadcastable against z's leading dims) -> [...,P].
  M2Likelihood decode(const torch::Tensor& z, const torch::Tensor& y_onehot);
  /// The options it was built from.
  const M2Options& options() const { return options_; }

 private:
  torch::Tensor act(const torch::Tensor& h) const;
  torch::Tensor trunk_x(const std::shared_ptr<EncoderImpl>& cnn, torch::nn::Linear fc,
                        const torch::Tensor& x) const;  // [B,...] -> [B,K] pre-activation
  Posterior encode_hidden(torch::Tensor h);               // pre-activation [...,K] -> [...,Z] x 2

  M2Options options_;
  // q(y|x)
  std::shared_ptr<EncoderImpl> y_trunk_ = nullptr;  // CNN trunk (null for mlp)
  torch::nn::Linear y_in_ = nullptr;                // mlp first layer P -> K
  torch::nn::ModuleList y_hidden_ = nullptr;        // (hidden_layers - 1) x [K -> K]
  torch::nn::Linear y_out_ = nullptr;               // K -> C
  // q(z|x,y)
  std::shared_ptr<EncoderImpl> z_trunk_ = nullptr;
  torch::nn::Linear z_in_x_ = nullptr;  // P -> K
  torch::nn::Linear z_in_y_ = nullptr;  // C -> K, no bias
  torch::nn::ModuleList z_hidden_ = nullptr;
  torch::nn::Linear z_mu_ = nullptr;      // K -> Z
  torch::nn::Linear z_logvar_ = nullptr;  // K -> Z
  // p(x|y,z)
  torch::nn::Linear x_in_z_ = nullptr;  // Z -> K
  torch::nn::Linear x_in_y_ = nullptr;  // C -> K, no bias
  torch::nn::ModuleList x_hidden_ = nullptr;
  torch::nn::Linear x_mean_ = nullptr;    // K -> P
  torch::nn::Linear x_logvar_ = nullptr;  // K -> P (gaussian only)
};
TORCH_MODULE(M2);

}  // namespace dvae
