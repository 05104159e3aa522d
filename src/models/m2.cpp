// M2's networks (see m2.h).
#include "models/m2.h"

#include "core/check.h"

namespace dvae {

namespace {

torch::nn::ModuleList hidden_stack(int64_t width, int64_t layers) {
  torch::nn::ModuleList list;
  for (int64_t i = 1; i < layers; ++i) list->push_back(torch::nn::Linear(width, width));
  return list;
}

}  // namespace

nlohmann::json m2_options_to_json(const M2Options& o) {
  return {{"x_dim", o.x_dim},
          {"image_size", o.image_size},
          {"likelihood", o.likelihood},
          {"trunk", o.trunk},
          {"hidden", o.hidden},
          {"hidden_layers", o.hidden_layers},
          {"z_dim", o.z_dim},
          {"num_classes", o.num_classes}};
}

M2Impl::M2Impl(const M2Options& o) : options_(o) {
  DVAE_CHECK(o.x_dim > 0 && o.hidden > 0 && o.z_dim > 0 && o.num_classes > 1 && o.hidden_layers >= 1,
             "M2: sizes x_dim ", o.x_dim, ", hidden ", o.hidden, ", hidden_layers ", o.hidden_layers, ", z_dim ",
             o.z_dim, ", classes ", o.num_classes, ", expected positive sizes, >= 1 layer and >= 2 classes");
  DVAE_CHECK(o.likelihood == "bernoulli" || o.likelihood == "gaussian", "M2: likelihood '", o.likelihood,
             "', expected bernoulli or gaussian");
  const int64_t K = o.hidden, C = o.num_classes;
  if (o.trunk == "mlp") {
    y_in_ = register_module("y_in", torch::nn::Linear(o.x_dim, K));
    z_in_x_ = register_module("z_in_x", torch::nn::Linear(o.x_dim, K));
  } else {
    DVAE_CHECK(o.image_size > 0 && o.image_size * o.image_size == o.x_dim, "M2: trunk '", o.trunk,
               "' needs image inputs (image_size^2 == x_dim), got image_size ", o.image_size, " and x_dim ", o.x_dim);
    ModelOptions trunk;
    trunk.arch = o.trunk;
    trunk.latent_dim = K;
    trunk.image_size = o.image_size;
    y_trunk_ = register_module("y_trunk", make_encoder(trunk));  // throws for an unknown arch
    z_trunk_ = register_module("z_trunk", make_encoder(trunk));
  }
  y_hidden_ = register_module("y_hidden", hidden_stack(K, o.hidden_layers));
  y_out_ = register_module("y_out", torch::nn::Linear(K, C));
  z_in_y_ = register_module("z_in_y", torch::nn::Linear(torch::nn::LinearOptions(C, K).bias(false)));
  z_hidden_ = register_module("z_hidden", hidden_stack(K, o.hidden_layers));
  z_mu_ = register_module("z_mu", torch::nn::Linear(K, o.z_dim));
  z_logvar_ = register_module("z_logvar", torch::nn::Linear(K, o.z_dim));
  x_in_z_ = register_module("x_in_z", torch::nn::Linear(o.z_dim, K));
  x_in_y_ = register_module("x_in_y", torch::nn::Linear(torch::nn::LinearOptions(C, K).bias(false)));
  x_hidden_ = register_module("x_hidden", hidden_stack(K, o.hidden_layers));
  x_mean_ = register_module("x_mean", torch::nn::Linear(K, o.x_dim));
  if (o.likelihood == "gaussian") x_logvar_ = register_module("x_logvar", torch::nn::Linear(K, o.x_dim));
}

torch::Tensor M2Impl::act(const torch::Tensor& h) const { return torch::nn::functional::softplus(h); }

torch::Tensor M2Impl::trunk_x(const std::shared_ptr<EncoderImpl>& cnn, torch::nn::Linear fc,
                              const torch::Tensor& x) const {
  if (cnn) {
    const auto img = x.reshape({x.size(0), 1, options_.image_size, options_.image_size});  // [B,1,H,W]
    return cnn->encode(img).mu;                                                             // -> [B,K]
  }
  return fc->forward(x.reshape({x.size(0), options_.x_dim}));  // [B,P] -> [B,K]
}

torch::Tensor M2Impl::classify(const torch::Tensor& x) {
  auto h = act(trunk_x(y_trunk_, y_in_, x));                                          // [B,K]
  for (const auto& m : *y_hidden_) h = act(m->as<torch::nn::Linear>()->forward(h));  // [B,K]
  return y_out_(h);                                                                   // -> [B,C]
}

Posterior M2Impl::encode_hidden(torch::Tensor h) {
  h = act(h);
  for (const auto& m : *z_hidden_) h = act(m->as<torch::nn::Linear>()->forward(h));
  return {z_mu_(h), z_logvar_(h)};  // [...,K] -> [...,Z] each
}

Posterior M2Impl::encode(const torch::Tensor& x, const torch::Tensor& y_onehot) {
  return encode_hidden(trunk_x(z_trunk_, z_in_x_, x) + z_in_y_(y_onehot));  // [B,K] + [B,K]
}

Posterior M2Impl::encode_all(const torch::Tensor& x) {
  const auto hx = trunk_x(z_trunk_, z_in_x_, x);                                     // [B,K]
  const auto eye = torch::eye(options_.num_classes, hx.options());                   // [C,C]
  return encode_hidden(hx.unsqueeze(0) + z_in_y_(eye).unsqueeze(1));                 // [1,B,K] + [C,1,K] -> [C,B,K]
}

M2Likelihood M2Impl::decode(const torch::Tensor& z, const torch::Tensor& y_onehot) {
  auto h = act(x_in_z_(z) + x_in_y_(y_onehot));  // [...,K]
  for (const auto& m : *x_hidden_) h = act(m->as<torch::nn::Linear>()->forward(h));
  M2Likelihood out;
  out.mean = x_mean_(h);                            // [...,P]
  if (x_logvar_) out.logvar = x_logvar_(h);         // [...,P]
  return out;
}

}  // namespace dvae
