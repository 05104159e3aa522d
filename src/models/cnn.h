// The paper's CNN encoder (the CS231n DCGAN discriminator with ReLUs) and the
// InfoGAN decoder (section 3.2). The decoder ends in logits: the sigmoid lives
// in the loss (binary cross-entropy with logits) or in whoever renders images.
//
// Tensor legend: B batch, H=W=S pixels (S divisible by 4, >= 16; 28 for MNIST),
// F fully connected width, D latent dimensions.
#pragma once

#include <torch/torch.h>

#include "models/conv_transpose.h"
#include "models/vae.h"

namespace dvae {

/// Options of the CNN encoder and decoder (defaults: the paper's).
struct CnnOptions {
  int64_t image_size = 28;  ///< S = H = W; divisible by 4 and >= 16 (default 28)
  int64_t fc = 1024;        ///< F, width of the fully connected layers (default 1024 = 4x4x64)
  int64_t latent_dim = 10;  ///< D (default 10)
};

/// CNN options taken from the architecture-independent ModelOptions.
CnnOptions cnn_options(const ModelOptions& options);

/// conv5x5(32) ReLU pool2 conv5x5(64) ReLU pool2 flatten fc(F) ReLU -> (mu, logvar).
class CnnEncoderImpl : public EncoderImpl {
 public:
  /// Builds the layers; throws dvae::Error for an unsupported size.
  explicit CnnEncoderImpl(const CnnOptions& options);
  /// [B,1,S,S] -> mu, logvar [B,D].
  Posterior encode(const torch::Tensor& x) override;

 private:
  CnnOptions options_;
  int64_t flat_ = 0;  ///< 64 * ((S/2-2)/2-2)^2 = 1024 for S = 28
  torch::nn::Conv2d conv1_ = nullptr;
  torch::nn::Conv2d conv2_ = nullptr;
  torch::nn::Linear fc_ = nullptr;
  torch::nn::Linear mu_head_ = nullptr;
  torch::nn::Linear logvar_head_ = nullptr;
};

/// InfoGAN decoder: fc(F) ReLU BN, fc(128*S/4*S/4) ReLU BN, deconv4x4/2(64) ReLU BN, deconv4x4/2(1) -> logits.
class CnnDecoderImpl : public DecoderImpl {
 public:
  /// Builds the layers; throws dvae::Error for an unsupported size.
  explicit CnnDecoderImpl(const CnnOptions& options);
  /// [B,D] -> [B,1,S,S] logits.
  torch::Tensor decode(const torch::Tensor& z) override;

 private:
  CnnOptions options_;
  int64_t side_ = 0;  ///< S/4 = 7 for S = 28
  torch::nn::Linear fc1_ = nullptr;
  torch::nn::BatchNorm1d bn1_ = nullptr;
  torch::nn::Linear fc2_ = nullptr;
  torch::nn::BatchNorm1d bn2_ = nullptr;
  TransposedConv2d deconv1_ = nullptr;  ///< fast CPU path, same parameters as torch::nn::ConvTranspose2d
  torch::nn::BatchNorm2d bn3_ = nullptr;
  TransposedConv2d deconv2_ = nullptr;
};

/// Registry factory: the CNN encoder for options.
std::shared_ptr<EncoderImpl> make_cnn_encoder(const ModelOptions& options);
/// Registry factory: the CNN decoder for options.
std::shared_ptr<DecoderImpl> make_cnn_decoder(const ModelOptions& options);

}  // namespace dvae
