// VaeImpl (encode, reparameterise, decode) and ModelOptions <-> JSON.
#include "models/vae.h"

#include "core/check.h"

namespace dvae {

VaeImpl::VaeImpl(const ModelOptions& options) : options_(options) {
  encoder_ = register_module("encoder", make_encoder(options_));
  decoder_ = register_module("decoder", make_decoder(options_));
}

torch::Tensor VaeImpl::reparameterise(const torch::Tensor& mu, const torch::Tensor& logvar) {
  return mu + torch::exp(0.5 * logvar) * torch::randn_like(mu);  // [B,D]
}

VaeOutput VaeImpl::forward(const torch::Tensor& x) {
  Posterior q = encoder_->encode(x);                                   // [B,1,H,W] -> 2 x [B,D]
  torch::Tensor z = is_training() ? reparameterise(q.mu, q.logvar) : q.mu;  // [B,D]
  torch::Tensor x_logits = decoder_->decode(z);                        // [B,D] -> [B,1,H,W]
  return {x_logits, q.mu, q.logvar, z};
}

nlohmann::json model_options_to_json(const ModelOptions& options) {
  return {{"arch", options.arch},
          {"latent_dim", options.latent_dim},
          {"image_size", options.image_size},
          {"mlp_hidden", options.mlp_hidden},
          {"mlp_activation", options.mlp_activation},
          {"cnn_fc", options.cnn_fc}};
}

ModelOptions model_options_from_json(const nlohmann::json& json) {
  DVAE_CHECK(json.is_object(), "model options: ", json.dump(), ", expected a JSON object");
  ModelOptions o;
  for (const auto& [key, value] : json.items()) {
    try {
      if (key == "arch") {
        o.arch = value.get<std::string>();
      } else if (key == "latent_dim") {
        o.latent_dim = value.get<int64_t>();
      } else if (key == "image_size") {
        o.image_size = value.get<int64_t>();
      } else if (key == "mlp_hidden") {
        o.mlp_hidden = value.get<int64_t>();
      } else if (key == "mlp_activation") {
        o.mlp_activation = value.get<std::string>();
      } else if (key == "cnn_fc") {
        o.cnn_fc = value.get<int64_t>();
      } else {
        throw Error("model options: unknown key '" + key +
                    "', expected arch, latent_dim, image_size, mlp_hidden, mlp_activation or cnn_fc");
      }
    } catch (const nlohmann::json::exception&) {
      throw Error("model options: " + key + " = " + value.dump() + ", expected a " +
                  (key == "arch" || key == "mlp_activation" ? "string" : "integer"));
    }
  }
  return o;
}

}  // namespace dvae
