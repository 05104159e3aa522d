// The VAE interface of dvae: an encoder to the latent mean and log-variance,
// the reparameterisation, and a decoder to Bernoulli logits. Architectures
// (MLP, CNN, later variants) provide an Encoder and a Decoder and register
// them in models/registry.cpp with one line.
//
// Tensor legend: B batch, C=1 channels, H=W=28 pixels, D latent dimensions.
#pragma once

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "models/batch_norm.h"

namespace dvae {

/// Architecture options; the defaults are the paper's (section 3.2).
struct ModelOptions {
  std::string arch = "mlp";            ///< registry name: "mlp" or "cnn"
  int64_t latent_dim = 10;             ///< D, number of latent units (paper: 10)
  int64_t image_size = 28;             ///< H = W, square single-channel images
  int64_t mlp_hidden = 500;            ///< MLP hidden width, both layers (paper: 500)
  std::string mlp_activation = "softplus";  ///< MLP hidden activation: softplus (Metzen's VAE) | relu | tanh
  int64_t cnn_fc = 1024;               ///< CNN fully connected width (paper: 4x4x64 = 1024)
};

/// Mean and log-variance of q(z|x).
struct Posterior {
  torch::Tensor mu;      ///< [B,D]
  torch::Tensor logvar;  ///< [B,D]
};

/// Everything a forward pass of a VAE produces.
struct VaeOutput {
  torch::Tensor x_logits;  ///< [B,1,H,W] Bernoulli logits (sigmoid gives the image)
  torch::Tensor mu;        ///< [B,D]
  torch::Tensor logvar;    ///< [B,D]
  torch::Tensor z;         ///< [B,D] sampled code in training, mu in eval mode
};

/// Maps images to the parameters of q(z|x). Also the supervised baseline's trunk.
class EncoderImpl : public torch::nn::Module {
 public:
  /// [B,1,H,W] -> mu, logvar [B,D].
  virtual Posterior encode(const torch::Tensor& x) = 0;
};

/// Maps latent codes to Bernoulli logits over pixels.
class DecoderImpl : public torch::nn::Module {
 public:
  /// [B,D] -> [B,1,H,W] logits.
  virtual torch::Tensor decode(const torch::Tensor& z) = 0;
  /// Data-parallel training: batch statistics (batch normalisation) in
  /// training mode are summed over processes by fn (models/batch_norm.h);
  /// an empty fn (the default) keeps them per process.
  void set_batch_sum(BatchSum fn) { batch_sum_ = std::move(fn); }

 protected:
  BatchSum batch_sum_;  ///< empty: one process
};

/// A VAE made of a registered encoder and decoder.
class VaeImpl : public torch::nn::Module {
 public:
  /// Builds the encoder and decoder of options.arch through the registry.
  explicit VaeImpl(const ModelOptions& options);
  /// x [B,1,H,W] in [0,1] -> logits, mu, logvar, z. z = mu when !is_training().
  VaeOutput forward(const torch::Tensor& x);
  /// z = mu + exp(logvar / 2) * eps, eps ~ N(0, I) (Kingma and Welling 2013).
  static torch::Tensor reparameterise(const torch::Tensor& mu, const torch::Tensor& logvar);
  /// The encoder (shared with feature extraction).
  std::shared_ptr<EncoderImpl> encoder() const { return encoder_; }
  /// The decoder.
  std::shared_ptr<DecoderImpl> decoder() const { return decoder_; }
  /// The options this VAE was built from.
  const ModelOptions& options() const { return options_; }

 private:
  ModelOptions options_;
  std::shared_ptr<EncoderImpl> encoder_ = nullptr;
  std::shared_ptr<DecoderImpl> decoder_ = nullptr;
};
TORCH_MODULE(Vae);

/// Creates the encoder of options.arch; throws dvae::Error for an unknown name.
std::shared_ptr<EncoderImpl> make_encoder(const ModelOptions& options);
/// Creates the decoder of options.arch; throws dvae::Error for an unknown name.
std::shared_ptr<DecoderImpl> make_decoder(const ModelOptions& options);
/// Names of the registered architectures, sorted.
std::vector<std::string> registered_archs();

/// ModelOptions as a JSON object with one key per field.
nlohmann::json model_options_to_json(const ModelOptions& options);
/// ModelOptions from a JSON object; missing keys keep their defaults; throws
/// dvae::Error for a non-object, a wrong type or an unknown key.
ModelOptions model_options_from_json(const nlohmann::json& json);

}  // namespace dvae
