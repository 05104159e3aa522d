// The paper's MLP encoder and decoder (section 3.2): two hidden layers of 500
// units each way, after Jan Metzen's VAE. Not for the CNN variant (cnn.h).
//
// Tensor legend: B batch, P = H*W pixels, K hidden width, D latent dimensions.
#pragma once

#include <torch/torch.h>

#include <string>

#include "models/vae.h"

namespace dvae {

/// Options of the MLP encoder and decoder (defaults: the paper's).
struct MlpOptions {
  int64_t image_size = 28;             ///< H = W; P = H*W inputs (default 28)
  int64_t hidden = 500;                ///< K, width of both hidden layers (default 500)
  int64_t latent_dim = 10;             ///< D (default 10)
  std::string activation = "softplus"; ///< hidden activation: softplus (default) | relu | tanh
};

/// MLP options taken from the architecture-independent ModelOptions.
MlpOptions mlp_options(const ModelOptions& options);

/// Encoder P-K-K -> (mu, logvar) with two linear heads.
class MlpEncoderImpl : public EncoderImpl {
 public:
  /// Builds the layers; throws dvae::Error for a non-positive size or unknown activation.
  explicit MlpEncoderImpl(const MlpOptions& options);
  /// [B,1,H,W] -> mu, logvar [B,D].
  Posterior encode(const torch::Tensor& x) override;

 private:
  MlpOptions options_;
  torch::nn::Linear fc1_ = nullptr;
  torch::nn::Linear fc2_ = nullptr;
  torch::nn::Linear mu_head_ = nullptr;
  torch::nn::Linear logvar_head_ = nullptr;
};

/// Decoder D-K-K-P to Bernoulli logits.
class MlpDecoderImpl : public DecoderImpl {
 public:
  /// Builds the layers; throws dvae::Error for a non-positive size or unknown activation.
  explicit MlpDecoderImpl(const MlpOptions& options);
  /// [B,D] -> [B,1,H,W] logits.
  torch::Tensor decode(const torch::Tensor& z) override;

 private:
  MlpOptions options_;
  torch::nn::Linear fc1_ = nullptr;
  torch::nn::Linear fc2_ = nullptr;
  torch::nn::Linear out_ = nullptr;
};

/// Registry factory: the MLP encoder for options.
std::shared_ptr<EncoderImpl> make_mlp_encoder(const ModelOptions& options);
/// Registry factory: the MLP decoder for options.
std::shared_ptr<DecoderImpl> make_mlp_decoder(const ModelOptions& options);

/// Applies the named hidden activation (softplus | relu | tanh); throws dvae::Error otherwise.
torch::Tensor apply_activation(const std::string& name, const torch::Tensor& x);

}  // namespace dvae
