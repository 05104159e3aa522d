// factor-vae (Kim and Mnih 2018, "Disentangling by factorising", eq. 2 and
// algorithm 2): reconstruction + KL + gamma * TC, with the total correlation
// KL(q(z) || prod_d q(z_d)) estimated by a discriminator d(z), a logit of
// "z drawn from q(z)" against "z drawn from prod_d q(z_d)":
//   TC ~ E_q(z)[log D(z) / (1 - D(z))] = mean_i d(z_i).
// The discriminator (disc_layers hidden layers of disc_hidden units with
// leaky-ReLU 0.2, as the paper's 6 x 1000, then one logit) trains after each
// VAE step with its own Adam (disc_lr 1e-4, betas 0.5, 0.9) on
//   0.5 * [BCE(d(z_a), 1) + BCE(d(perm(z_b)), 0)],
// z_a the first half of the step's batch of codes and perm(z_b) the second
// half with every latent shuffled across samples independently (the paper
// draws a second batch; halves of one batch keep the two sets apart at no
// extra encoder pass). With gamma = 0 the VAE's loss is the standard VAE's.
//
// Tensor legend: B batch, D latent dimensions, K disc_hidden.
#include "core/check.h"
#include "training/loss.h"
#include "training/objectives.h"

namespace dvae {
namespace {

class Discriminator : public torch::nn::Module {
 public:
  Discriminator(int64_t latent_dim, int64_t hidden, int64_t layers) {
    int64_t in = latent_dim;
    for (int64_t l = 0; l < layers; ++l) {
      net_->push_back(torch::nn::Linear(in, hidden));  // [B,in] -> [B,K]
      net_->push_back(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)));
      in = hidden;
    }
    net_->push_back(torch::nn::Linear(in, 1));  // [B,K] -> [B,1]
    register_module("net", net_);
  }
  torch::Tensor forward(const torch::Tensor& z) { return net_->forward(z).squeeze(1); }  // [B,D] -> [B]

 private:
  torch::nn::Sequential net_;
};

// Each column of z shuffled across rows independently: [B,D] -> [B,D].
torch::Tensor permute_dims(const torch::Tensor& z, at::Generator& generator) {
  std::vector<torch::Tensor> columns;
  for (int64_t d = 0; d < z.size(1); ++d) {
    const auto order = torch::randperm(z.size(0), generator, torch::kLong).to(z.device());  // [B]
    columns.push_back(z.select(1, d).index_select(0, order));                                // [B]
  }
  return torch::stack(columns, 1);  // D x [B] -> [B,D]
}

// The module's parameters once it is on device (the optimiser flattens them there).
std::vector<torch::Tensor> on_device(torch::nn::Module& m, torch::Device device) {
  m.to(device);
  return m.parameters();
}

FlatOptimizerOptions disc_optimizer_options(double lr) {
  FlatOptimizerOptions o;
  o.kind = "adam";
  o.lr = lr;
  o.beta1 = 0.5;
  o.beta2 = 0.9;
  return o;
}

class FactorVaeLoss : public ObjectiveLoss {
 public:
  explicit FactorVaeLoss(const ObjectiveContext& c)
      : gamma_(c.settings.gamma),
        disc_(std::make_shared<Discriminator>(c.latent_dim, c.settings.disc_hidden, c.settings.disc_layers)),
        optimizer_(on_device(*disc_, c.device), disc_optimizer_options(c.settings.disc_lr)) {}

  ObjectiveTerms loss(const ObjectiveBatch& b) override {
    const ElboTerms e = beta_elbo_loss(b.x_logits, b.x, b.mu, b.logvar, 1.0);
    const auto tc = disc_->forward(b.z).mean();  // [B] -> []
    ObjectiveTerms t{e.recon + e.kl + gamma_ * tc, e.recon, e.kl, {}};
    t.extra["tc"] = tc;
    return t;
  }

  void after_step(const ObjectiveBatch& b, at::Generator& generator) override {
    const int64_t half = b.z.size(0) / 2;
    if (half < 1) return;  // a batch of one: nothing to compare
    const auto z = b.z.detach();
    const auto joint = disc_->forward(z.narrow(0, 0, half));                                   // [h]
    const auto product = disc_->forward(permute_dims(z.narrow(0, half, half), generator));     // [h]
    namespace F = torch::nn::functional;
    const auto loss = 0.5 * (F::binary_cross_entropy_with_logits(joint, torch::ones_like(joint)) +
                             F::binary_cross_entropy_with_logits(product, torch::zeros_like(product)));
    optimizer_.zero_grad();  // also drops what the VAE's backward left in the discriminator
    loss.backward();
    optimizer_.step();
  }

  torch::nn::Module* state_module() override { return disc_.get(); }
  FlatOptimizer* state_optimizer() override { return &optimizer_; }

 private:
  double gamma_;
  std::shared_ptr<Discriminator> disc_;
  FlatOptimizer optimizer_;
};

}  // namespace

Objective factor_vae_objective() {
  return {"factor-vae",
          "reconstruction + KL + gamma * TC, TC estimated by a discriminator of z against dimension-permuted z",
          "Kim and Mnih 2018, Disentangling by factorising (ICML)",
          {"gamma", "disc_hidden", "disc_layers", "disc_lr"},
          /*hand_written_mlp_step=*/false,
          /*data_parallel=*/false,
          [](ObjectiveSettings& s) {
            s.gamma = 6.4;  // within the range the paper sweeps; tune per data set
            s.disc_hidden = 1000;
            s.disc_layers = 6;
            s.disc_lr = 1e-4;
          },
          [](const ObjectiveContext& c) -> std::unique_ptr<ObjectiveLoss> {
            return std::make_unique<FactorVaeLoss>(c);
          }};
}

}  // namespace dvae
