// MlpTrainingStep: the MLP VAE's forward, beta-ELBO and backward by hand.
#include "training/mlp_step.h"

#include "core/check.h"
#include "core/gemm.h"
#include "training/mlp_kernels.h"

namespace dvae {

MlpTrainingStep::MlpTrainingStep(VaeImpl& vae, int64_t max_batch)
    : activation_(vae.options().mlp_activation), max_batch_(max_batch) {
  const ModelOptions& o = vae.options();
  DVAE_CHECK(o.arch == "mlp", "the hand-written MLP training step got a ", o.arch, " VAE, expected mlp");
  DVAE_CHECK(max_batch > 0, "MLP training step: batch capacity ", max_batch, ", expected > 0");
  for (const auto& item : vae.named_parameters()) params_[item.key()] = item.value();
  const char* names[] = {"encoder.fc1.weight",    "encoder.fc1.bias", "encoder.fc2.weight", "encoder.fc2.bias",
                         "encoder.mu.weight",     "encoder.mu.bias",  "encoder.logvar.weight",
                         "encoder.logvar.bias",   "decoder.fc1.weight", "decoder.fc1.bias", "decoder.fc2.weight",
                         "decoder.fc2.bias",      "decoder.out.weight", "decoder.out.bias"};
  for (const char* name : names) {
    DVAE_CHECK(params_.count(name) == 1, "MLP training step: the VAE has no parameter ", name,
               ", expected the MLP of models/mlp.h");
  }
  DVAE_CHECK(params_.size() == sizeof(names) / sizeof(names[0]), "MLP training step: the VAE has ", params_.size(),
             " parameters, expected 14");
  const int64_t k = o.mlp_hidden;
  const int64_t d = o.latent_dim;
  const int64_t p = o.image_size * o.image_size;
  const auto opts = param("encoder.fc1.weight").options().requires_grad(false);
  for (auto* t : {&a1_, &h1_, &a2_, &h2_, &c1_, &g1_, &c2_, &g2_, &dk1_, &dk2_}) *t = torch::empty({max_batch, k}, opts);
  for (auto* t : {&mu_, &logvar_, &eps_, &std_, &z_, &dz_, &dmu_, &dlogvar_}) *t = torch::empty({max_batch, d}, opts);
  logits_ = torch::empty({max_batch, p}, opts);
  dlogits_ = torch::empty({max_batch, p}, opts);
}

torch::Tensor MlpTrainingStep::param(const std::string& name) const { return params_.at(name); }

void MlpTrainingStep::activation(torch::Tensor& out, torch::Tensor& pre, const torch::Tensor& bias) const {
  bias_activation(activation_, out, pre, bias);
}

// grad <- grad * act'(pre), in place; post = act(pre).
void MlpTrainingStep::activation_backward(torch::Tensor& grad, const torch::Tensor& pre,
                                          const torch::Tensor& post) const {
  dvae::activation_backward(activation_, grad, pre, post);
}

StepTerms MlpTrainingStep::run(const torch::Tensor& x_in, double beta, at::Generator generator) {
  return run(x_in, beta, std::move(generator), RowSlice{0, x_in.size(0)});
}

StepTerms MlpTrainingStep::run(const torch::Tensor& x_in, double beta, at::Generator generator, RowSlice slice,
                               const GradReady& ready) {
  torch::NoGradGuard no_grad;
  const int64_t b = x_in.size(0);
  if (slice.total == 0) slice.total = b;
  DVAE_CHECK(b >= 1 && b <= max_batch_, "MLP training step: batch of ", b, ", expected 1..", max_batch_);
  DVAE_CHECK(slice.offset >= 0 && slice.offset + b <= slice.total && slice.total <= max_batch_,
             "MLP training step: rows ", slice.offset, "..", slice.offset + b, " of a batch of ", slice.total,
             ", expected a slice of at most ", max_batch_, " rows");
  for (const auto& [name, p] : params_) {
    DVAE_CHECK(p.grad().defined(), "MLP training step: ", name, " has no gradient tensor, expected one bound by the optimiser");
  }
  const auto rows = [b](const torch::Tensor& t) { return t.narrow(0, 0, b); };
  const torch::Tensor x = x_in.reshape({b, -1});  // [B,1,H,W] -> [B,P]
  auto a1 = rows(a1_), h1 = rows(h1_), a2 = rows(a2_), h2 = rows(h2_);
  auto mu = rows(mu_), logvar = rows(logvar_), sd = rows(std_), z = rows(z_);
  auto eps = eps_.narrow(0, slice.offset, b);  // this slice's rows of the global batch's draws
  auto c1 = rows(c1_), g1 = rows(g1_), c2 = rows(c2_), g2 = rows(g2_);
  auto logits = rows(logits_), dlogits = rows(dlogits_);
  auto dk1 = rows(dk1_), dk2 = rows(dk2_), dz = rows(dz_), dmu = rows(dmu_), dlogvar = rows(dlogvar_);
  const auto W = [this](const char* name) { return param(name); };
  const auto G = [this](const char* name) { return param(name).grad(); };
  const auto done = [&](std::initializer_list<const char*> names) {  // these gradients are final
    if (ready) for (const char* name : names) ready(G(name));
  };

  // Forward. Encoder.
  gemm_out(a1, x, W("encoder.fc1.weight").t());  // [B,P] -> [B,K]
  activation(h1, a1, W("encoder.fc1.bias"));
  gemm_out(a2, h1, W("encoder.fc2.weight").t());  // [B,K] -> [B,K]
  activation(h2, a2, W("encoder.fc2.bias"));
  gemm_out(mu, h2, W("encoder.mu.weight").t());
  mu.add_(W("encoder.mu.bias"));  // [B,K] -> [B,D]
  gemm_out(logvar, h2, W("encoder.logvar.weight").t());
  logvar.add_(W("encoder.logvar.bias"));  // [B,K] -> [B,D]
  // Reparameterisation z = mu + exp(logvar / 2) * eps.
  sd.copy_(logvar).mul_(0.5).exp_();                // [B,D]
  eps_.narrow(0, 0, slice.total).normal_(0.0, 1.0, generator);  // [total,D], as torch::randn
  at::addcmul_out(z, mu, sd, eps);                  // [B,D]
  // Decoder.
  gemm_out(c1, z, W("decoder.fc1.weight").t());  // [B,D] -> [B,K]
  activation(g1, c1, W("decoder.fc1.bias"));
  gemm_out(c2, g1, W("decoder.fc2.weight").t());  // [B,K] -> [B,K]
  activation(g2, c2, W("decoder.fc2.bias"));
  gemm_out(logits, g2, W("decoder.out.weight").t());  // [B,K] -> [B,P], bias added by bce_logits

  // Loss: BCE with logits summed over pixels, KL summed over latents; both
  // means over the global batch (this slice's rows summed, / slice.total).
  const double inv_b = 1.0 / static_cast<double>(slice.total);
  StepTerms terms;
  // BCE with logits l and target x: softplus(l) - x l, summed; and, for the
  // backward pass, d recon / d logits = (sigmoid(l) - x) / B, in the same pass.
  const torch::Tensor x_c = x.contiguous();
  terms.recon = bce_logits(logits, W("decoder.out.bias"), x_c, dlogits, inv_b) * inv_b;
  const auto var = sd * sd;                                                         // exp(logvar) [B,D]
  terms.kl = 0.5 * (mu * mu + var - 1.0 - logvar).sum().item<double>() * inv_b;   // [B,D] -> []
  terms.loss = terms.recon + beta * terms.kl;

  // Backward from dlogits [B,P] (above).
  gemm_out(G("decoder.out.weight"), dlogits.t(), g2);                       // [P,B] x [B,K] -> [P,K]
  column_sum_into(G("decoder.out.bias"), dlogits);                             // [B,P] -> [P]
  done({"decoder.out.weight", "decoder.out.bias"});
  gemm_out(dk2, dlogits, W("decoder.out.weight"));                          // [B,P] -> [B,K]
  activation_backward(dk2, c2, g2);
  gemm_out(G("decoder.fc2.weight"), dk2.t(), g1);                           // -> [K,K]
  column_sum_into(G("decoder.fc2.bias"), dk2);                                 // -> [K]
  done({"decoder.fc2.weight", "decoder.fc2.bias"});
  gemm_out(dk1, dk2, W("decoder.fc2.weight"));                              // [B,K] -> [B,K]
  activation_backward(dk1, c1, g1);
  gemm_out(G("decoder.fc1.weight"), dk1.t(), z);                            // -> [K,D]
  column_sum_into(G("decoder.fc1.bias"), dk1);                                 // -> [K]
  done({"decoder.fc1.weight", "decoder.fc1.bias"});
  gemm_out(dz, dk1, W("decoder.fc1.weight"));                               // [B,K] -> [B,D]
  // Through z = mu + sd * eps, plus beta * KL: dKL/dmu = mu / B, dKL/dlogvar = (exp(logvar) - 1) / 2B.
  at::add_out(dmu, dz, mu, beta * inv_b);                                     // [B,D]
  at::mul_out(dlogvar, dz, eps).mul_(sd).mul_(0.5).add_(var - 1.0, 0.5 * beta * inv_b);  // [B,D]
  gemm_out(G("encoder.mu.weight"), dmu.t(), h2);                            // -> [D,K]
  column_sum_into(G("encoder.mu.bias"), dmu);                                  // -> [D]
  gemm_out(G("encoder.logvar.weight"), dlogvar.t(), h2);                    // -> [D,K]
  column_sum_into(G("encoder.logvar.bias"), dlogvar);                          // -> [D]
  done({"encoder.logvar.weight", "encoder.logvar.bias", "encoder.mu.weight", "encoder.mu.bias"});
  gemm_out(dk2, dmu, W("encoder.mu.weight"));
  gemm_out(dk2, dlogvar, W("encoder.logvar.weight"), /*accumulate=*/true);  // [B,D] -> [B,K]
  activation_backward(dk2, a2, h2);
  gemm_out(G("encoder.fc2.weight"), dk2.t(), h1);                           // -> [K,K]
  column_sum_into(G("encoder.fc2.bias"), dk2);                                 // -> [K]
  done({"encoder.fc2.weight", "encoder.fc2.bias"});
  gemm_out(dk1, dk2, W("encoder.fc2.weight"));                              // [B,K] -> [B,K]
  activation_backward(dk1, a1, h1);
  gemm_out(G("encoder.fc1.weight"), dk1.t(), x);                            // -> [K,P]
  column_sum_into(G("encoder.fc1.bias"), dk1);                                 // -> [K]
  done({"encoder.fc1.weight", "encoder.fc1.bias"});
  return terms;
}

}  // namespace dvae
