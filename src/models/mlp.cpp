// The paper's MLP encoder and decoder (section 3.2).
#include "models/mlp.h"

#include "core/check.h"

namespace dvae {
namespace {

void check_mlp_options(const MlpOptions& o) {
  DVAE_CHECK(o.image_size > 0, "mlp: image size ", o.image_size, ", expected > 0");
  DVAE_CHECK(o.hidden > 0, "mlp: hidden width ", o.hidden, ", expected > 0");
  DVAE_CHECK(o.latent_dim > 0, "mlp: latent size ", o.latent_dim, ", expected > 0");
  DVAE_CHECK(o.activation == "softplus" || o.activation == "relu" || o.activation == "tanh",
             "mlp: activation '", o.activation, "', expected softplus, relu or tanh");
}

}  // namespace

MlpOptions mlp_options(const ModelOptions& options) {
  MlpOptions o;
  o.image_size = options.image_size;
  o.hidden = options.mlp_hidden;
  o.latent_dim = options.latent_dim;
  o.activation = options.mlp_activation;
  return o;
}

torch::Tensor apply_activation(const std::string& name, const torch::Tensor& x) {
  if (name == "softplus") return torch::softplus(x);
  if (name == "relu") return torch::relu(x);
  if (name == "tanh") return torch::tanh(x);
  throw Error("activation '" + name + "', expected softplus, relu or tanh");
}

MlpEncoderImpl::MlpEncoderImpl(const MlpOptions& options) : options_(options) {
  check_mlp_options(options_);
  const int64_t pixels = options_.image_size * options_.image_size;
  fc1_ = register_module("fc1", torch::nn::Linear(pixels, options_.hidden));
  fc2_ = register_module("fc2", torch::nn::Linear(options_.hidden, options_.hidden));
  mu_head_ = register_module("mu", torch::nn::Linear(options_.hidden, options_.latent_dim));
  logvar_head_ = register_module("logvar", torch::nn::Linear(options_.hidden, options_.latent_dim));
}

Posterior MlpEncoderImpl::encode(const torch::Tensor& x) {
  auto h = x.flatten(1);                                        // [B,1,H,W] -> [B,P]
  h = apply_activation(options_.activation, fc1_->forward(h));  // [B,P] -> [B,K]
  h = apply_activation(options_.activation, fc2_->forward(h));  // [B,K] -> [B,K]
  return {mu_head_->forward(h), logvar_head_->forward(h)};      // [B,K] -> 2 x [B,D]
}

MlpDecoderImpl::MlpDecoderImpl(const MlpOptions& options) : options_(options) {
  check_mlp_options(options_);
  const int64_t pixels = options_.image_size * options_.image_size;
  fc1_ = register_module("fc1", torch::nn::Linear(options_.latent_dim, options_.hidden));
  fc2_ = register_module("fc2", torch::nn::Linear(options_.hidden, options_.hidden));
  out_ = register_module("out", torch::nn::Linear(options_.hidden, pixels));
}

torch::Tensor MlpDecoderImpl::decode(const torch::Tensor& z) {
  auto h = apply_activation(options_.activation, fc1_->forward(z));  // [B,D] -> [B,K]
  h = apply_activation(options_.activation, fc2_->forward(h));       // [B,K] -> [B,K]
  auto x_logits = out_->forward(h);                                  // [B,K] -> [B,P]
  return x_logits.view({-1, 1, options_.image_size, options_.image_size});  // [B,P] -> [B,1,H,W]
}

std::shared_ptr<EncoderImpl> make_mlp_encoder(const ModelOptions& options) {
  return std::make_shared<MlpEncoderImpl>(mlp_options(options));
}

std::shared_ptr<DecoderImpl> make_mlp_decoder(const ModelOptions& options) {
  return std::make_shared<MlpDecoderImpl>(mlp_options(options));
}

}  // namespace dvae
