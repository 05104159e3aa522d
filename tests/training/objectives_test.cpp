// Contract tests of every registered objective (a TEST_P over the registry:
// a new objective is tested the moment it is registered): the shared loss
// reduction, finite gradients reaching every parameter, settings that survive
// JSON, a trained run that resumes exactly, and (on real MNIST when installed)
// a loss that falls. Then each objective's reduction to the beta-VAE.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/check.h"
#include "data/datasets.h"
#include "training/checkpoint.h"
#include "training/loss.h"
#include "training/objectives.h"
#include "training_fixtures.h"

namespace dvae {
namespace {

// Small settings for tests: factor-vae's discriminator 2 x 16 instead of 6 x 1000.
ObjectiveSettings test_settings(const std::string& name) {
  ObjectiveSettings s = default_objective_settings(name);
  s.disc_hidden = 16;
  s.disc_layers = 2;
  return s;
}

ObjectiveContext context_for(const ObjectiveSettings& s, int64_t latent_dim, double beta = 2.0,
                             int64_t dataset_size = 48) {
  ObjectiveContext c;
  c.settings = s;
  c.beta = beta;
  c.latent_dim = latent_dim;
  c.dataset_size = dataset_size;
  return c;
}

// One forward pass of vae on x with a seeded eps.
ObjectiveBatch forward(VaeImpl& vae, const torch::Tensor& x, uint64_t seed, int64_t step = 0) {
  auto gen = at::detail::createCPUGenerator(seed);
  const Posterior q = vae.encoder()->encode(x);
  const auto eps = torch::randn(q.mu.sizes(), gen, torch::kFloat32);
  ObjectiveBatch b;
  b.x = x;
  b.mu = q.mu;
  b.logvar = q.logvar;
  b.z = q.mu + torch::exp(0.5 * q.logvar) * eps;
  b.x_logits = vae.decoder()->decode(b.z);
  b.step = step;
  return b;
}

torch::Tensor tiny_images(int64_t n = 8, uint64_t seed = 3) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::rand({n, 1, 12, 12}, gen, torch::kFloat32);
}

Vae tiny_vae(uint64_t seed = 5) {
  torch::manual_seed(seed);
  return Vae(test::tiny_model());
}

class EveryObjective : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryObjective, ReportsReconAndKlWithTheSharedReduction) {
  Vae vae = tiny_vae();
  const auto x = tiny_images();
  const ObjectiveBatch b = forward(*vae, x, 1);
  auto loss = find_objective(GetParam()).make(context_for(test_settings(GetParam()), 3));
  const ObjectiveTerms t = loss->loss(b);
  // Sum over pixels and latents, mean over the batch (training/loss.h), for every objective.
  const double recon = bernoulli_nll(b.x_logits, b.x).mean().item<double>();
  const double kl = kl_to_standard_normal(b.mu, b.logvar).sum(1).mean().item<double>();
  EXPECT_NEAR(t.recon.item<double>(), recon, 1e-4 * recon);
  EXPECT_NEAR(t.kl.item<double>(), kl, 1e-5 + 1e-4 * kl);
  EXPECT_EQ(t.loss.dim(), 0);
  EXPECT_TRUE(std::isfinite(t.loss.item<double>()));
  for (const auto& [name, v] : t.extra) EXPECT_TRUE(std::isfinite(v.item<double>())) << name;
}

TEST_P(EveryObjective, GradientsAreFiniteAndReachEveryParameter) {
  Vae vae = tiny_vae();
  const ObjectiveBatch b = forward(*vae, tiny_images(), 2);
  auto loss = find_objective(GetParam()).make(context_for(test_settings(GetParam()), 3));
  loss->loss(b).loss.backward();
  for (const auto& p : vae->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
  // An objective with parts of its own trains them after the step: every one moves.
  if (torch::nn::Module* own = loss->state_module()) {
    std::vector<torch::Tensor> before;
    for (const auto& p : own->parameters()) before.push_back(p.detach().clone());
    auto gen = at::detail::createCPUGenerator(9);
    at::Generator g = gen;
    loss->after_step(b, g);
    size_t i = 0;
    for (const auto& p : own->parameters()) {
      EXPECT_TRUE(torch::isfinite(p).all().item<bool>());
      EXPECT_FALSE(torch::equal(p, before[i++])) << "a parameter of the objective's own model did not move";
    }
  }
}

TEST_P(EveryObjective, SettingsSurviveTheTrainOptionsJson) {
  TrainOptions t = test::tiny_train(2);
  t.objective = test_settings(GetParam());
  const nlohmann::json j = train_options_to_json(t);
  EXPECT_EQ(train_options_to_json(train_options_from_json(j)), j);
  EXPECT_EQ(j.contains("objective"), GetParam() != "beta-vae");
  for (const auto& p : objective_parameter_names())
    EXPECT_EQ(j.contains(p), find_objective(GetParam()).uses(p)) << p;
}

// Interrupted in epoch 2 and resumed: the same weights and log as one run
// (factor-vae: its discriminator and Adam state come back from the checkpoint).
TEST_P(EveryObjective, ResumedRunEqualsUninterruptedRun) {
  struct Interrupt {};
  test::TempDir full;
  test::TempDir cut;
  const Dataset data = test::tiny_dataset();
  TrainOptions train = test::tiny_train(3);
  train.objective = test_settings(GetParam());
  train.objective.capacity_iterations = 7;  // annealed-vae: C rises within the run
  train.objective.c_max = 3;
  if (!find_objective(GetParam()).uses("beta")) train.beta = 1;
  train_vae(data, test::tiny_model(), train, full.path(), false, torch::kCPU);
  TrainCallbacks kill;
  kill.on_batch = [](int64_t epoch, int64_t batch, int64_t) {
    if (epoch == 2 && batch == 2) throw Interrupt{};
  };
  EXPECT_THROW(train_vae(data, test::tiny_model(), train, cut.path(), false, torch::kCPU, kill), Interrupt);
  torch::manual_seed(999);
  train_vae(data, test::tiny_model(), train, cut.path(), true, torch::kCPU);
  const auto log = [](const std::string& dir) {
    std::vector<nlohmann::json> lines;
    std::istringstream in(read_file(dir + "/log.jsonl"));
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      j.erase("seconds");
      j.erase("images_per_sec");
      lines.push_back(j);
    }
    return lines;
  };
  EXPECT_EQ(log(full.path()), log(cut.path()));
  // The weights of both, and the objective's own state, bit for bit.
  ObjectiveContext c = context_for(train.objective, 3, train.beta);
  auto restore = [&](const std::string& path, Vae& vae, std::unique_ptr<ObjectiveLoss>& own) {
    vae = Vae(test::tiny_model());
    own = find_objective(GetParam()).make(c);
    restore_checkpoint(path, *vae, nullptr, false, nullptr, own->state_module(), own->state_optimizer());
  };
  Vae va = nullptr, vb = nullptr;
  std::unique_ptr<ObjectiveLoss> oa, ob;
  restore(full.file("checkpoint.pt"), va, oa);
  restore(cut.file("checkpoint.pt"), vb, ob);
  const auto pb = vb->named_parameters();
  for (const auto& p : va->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  if (oa->state_module() != nullptr) {
    const auto qa = oa->state_module()->parameters();
    const auto qb = ob->state_module()->parameters();
    for (size_t i = 0; i < qa.size(); ++i) EXPECT_TRUE(torch::equal(qa[i], qb[i])) << "discriminator " << i;
    const auto sa = oa->state_optimizer()->state();
    const auto sb = ob->state_optimizer()->state();
    for (size_t i = 0; i < sa.size(); ++i) EXPECT_TRUE(torch::equal(sa[i], sb[i])) << "discriminator Adam " << i;
    EXPECT_EQ(oa->state_optimizer()->steps(), ob->state_optimizer()->steps());
    EXPECT_GT(oa->state_optimizer()->steps(), 0);
  }
  const auto config = nlohmann::json::parse(read_file(full.file("config.json")));
  EXPECT_EQ(config["objective"], GetParam());
}

// A few hundred steps on real MNIST: the reconstruction falls and the test ELBO rises.
TEST_P(EveryObjective, LossFallsOnARealMnistSubset) {
  const std::string dir = test::real_mnist_dir();
  if (dir.empty()) GTEST_SKIP() << "real MNIST not installed";
  Dataset full = load_dataset_dir(dir, "mnist");
  Dataset data = full;
  data.train = full.train.subset(torch::arange(2000));
  data.test = full.test.subset(torch::arange(500));
  test::TempDir run;
  TrainOptions train = default_train_options("mlp");
  train.epochs = 3;
  train.batch_size = 20;  // 300 steps
  train.objective = default_objective_settings(GetParam());
  train.objective.disc_hidden = 100;  // factor-vae: a smaller discriminator keeps the test short
  train.objective.disc_layers = 2;
  // annealed-vae: C reaches c_max (25 nats) at step 100 and holds, so that the ELBO of epochs 1 and 3 compare.
  train.objective.capacity_iterations = 100;
  if (!find_objective(GetParam()).uses("beta")) train.beta = 1;
  ModelOptions model;
  model.mlp_hidden = 200;
  train_vae(data, model, train, run.path(), false, torch::kCPU);
  std::vector<nlohmann::json> log;
  std::istringstream in(read_file(run.file("log.jsonl")));
  for (std::string line; std::getline(in, line);) log.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(log.size(), 3u);
  std::cout << GetParam() << ": test ELBO by epoch " << log[0]["test_elbo"] << " " << log[1]["test_elbo"] << " "
            << log[2]["test_elbo"] << ", test KL " << log[2]["test_kl"] << ", "
            << log[2]["images_per_sec"] << " images/s\n";
  EXPECT_LT(log[2]["train_recon"].get<double>(), log[0]["train_recon"].get<double>());
  EXPECT_GT(log[2]["test_elbo"].get<double>(), log[0]["test_elbo"].get<double>());
  EXPECT_LT(log[2]["test_recon"].get<double>(), 250.0);  // a blank-image model costs ~ 540 nats
  if (GetParam() == "annealed-vae") {
    // gamma = 1000 holds the KL near the capacity of 25 nats.
    EXPECT_NEAR(log[2]["test_kl"].get<double>(), 25.0, 5.0);
  }
}

std::string objective_test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string out;
  for (char ch : info.param) out += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return out;
}

std::vector<std::string> registered_names() {
  std::vector<std::string> names;
  for (const auto& o : objectives()) names.push_back(o.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryObjective, ::testing::ValuesIn(registered_names()), objective_test_name);

// ---- reductions to the beta-VAE ----

double beta_vae_loss(const ObjectiveBatch& b, double beta) {
  return beta_elbo_loss(b.x_logits, b.x, b.mu, b.logvar, beta).loss.item<double>();
}

// Tables name each objective's own weights: a FactorVAE or a capacity-annealed
// VAE has no beta to show.
TEST(Objectives, WeightsTextNamesTheWeightsEachObjectiveUses) {
  ObjectiveSettings s = default_objective_settings("beta-vae");
  EXPECT_EQ(objective_weights_text(s, 4.0), "beta 4");
  s = default_objective_settings("beta-tcvae");
  EXPECT_EQ(objective_weights_text(s, 6.0), "beta 6");
  s = default_objective_settings("factor-vae");
  s.gamma = 40;
  EXPECT_EQ(objective_weights_text(s, 1.0), "gamma 40");
  s = default_objective_settings("annealed-vae");
  s.c_max = 25;
  EXPECT_EQ(objective_weights_text(s, 1.0), "gamma 1000, c_max 25");
  s.name = "gan";
  EXPECT_THROW(objective_weights_text(s, 1.0), Error);
}

TEST(Objectives, AnnealedWithZeroCapacityAndGammaBetaIsTheBetaVae) {
  Vae vae = tiny_vae();
  const ObjectiveBatch b = forward(*vae, tiny_images(), 4, /*step=*/123);
  ObjectiveSettings s = default_objective_settings("annealed-vae");
  s.c_min = s.c_max = 0;
  s.gamma = 3.5;
  const double annealed = find_objective("annealed-vae").make(context_for(s, 3))->loss(b).loss.item<double>();
  EXPECT_NEAR(annealed, beta_vae_loss(b, 3.5), 1e-4);
}

TEST(Objectives, AnnealedCapacityRisesLinearlyThenHolds) {
  Vae vae = tiny_vae();
  ObjectiveSettings s = default_objective_settings("annealed-vae");
  s.c_min = 2;
  s.c_max = 12;
  s.capacity_iterations = 100;
  auto loss = find_objective("annealed-vae").make(context_for(s, 3));
  const auto x = tiny_images();
  const std::vector<std::pair<int64_t, double>> expected = {{0, 2}, {25, 4.5}, {50, 7}, {100, 12}, {5000, 12}};
  for (const auto& [step, c] : expected) {
    const ObjectiveTerms t = loss->loss(forward(*vae, x, 4, step));
    EXPECT_DOUBLE_EQ(t.extra.at("capacity").item<double>(), c) << step;
    EXPECT_NEAR(t.loss.item<double>(), t.recon.item<double>() + s.gamma * std::abs(t.kl.item<double>() - c), 1e-2);
  }
}

TEST(Objectives, FactorVaeWithZeroGammaIsTheVae) {
  Vae vae = tiny_vae();
  const ObjectiveBatch b = forward(*vae, tiny_images(), 5);
  ObjectiveSettings s = test_settings("factor-vae");
  s.gamma = 0;
  const auto t = find_objective("factor-vae").make(context_for(s, 3))->loss(b);
  EXPECT_NEAR(t.loss.item<double>(), beta_vae_loss(b, 1.0), 1e-4);
  EXPECT_NE(t.extra.at("tc").item<double>(), 0.0);  // the estimate is there, weighted 0
}

// The three parts add up to E[log q(z|x) - log p(z)] on every batch; with beta = 1 the loss is
// recon + that, whose mean over eps is the analytic KL (the ELBO in expectation).
TEST(Objectives, TcVaeWithBetaOneIsTheElboByTheDecompositionIdentity) {
  Vae vae = tiny_vae();
  const auto x = tiny_images();
  auto loss = find_objective("beta-tcvae").make(context_for(default_objective_settings("beta-tcvae"), 3, 1.0));
  torch::NoGradGuard no_grad;
  const ObjectiveBatch b = forward(*vae, x, 6);
  const ObjectiveTerms t = loss->loss(b);
  const auto log_n = [](const torch::Tensor& z, const torch::Tensor& mu, const torch::Tensor& lv) {
    return (-0.5 * (std::log(2 * M_PI) + lv + (z - mu).pow(2) * torch::exp(-lv))).sum(1);
  };
  const double one_sample_kl =
      (log_n(b.z, b.mu, b.logvar) - log_n(b.z, torch::zeros_like(b.z), torch::zeros_like(b.z))).mean().item<double>();
  const double parts = (t.extra.at("mi") + t.extra.at("tc") + t.extra.at("dwkl")).item<double>();
  EXPECT_NEAR(parts, one_sample_kl, 1e-4);
  EXPECT_NEAR(t.loss.item<double>(), t.recon.item<double>() + one_sample_kl, 1e-3);
  // In expectation over eps: the analytic KL, within 4 standard errors of the Monte Carlo mean.
  double sum = 0, sum_sq = 0;
  const int draws = 1000;
  for (int k = 0; k < draws; ++k) {
    const ObjectiveTerms tk = loss->loss(forward(*vae, x, 100 + k));
    const double v = (tk.loss - tk.recon).item<double>();
    sum += v;
    sum_sq += v * v;
  }
  const double mean = sum / draws;
  const double se = std::sqrt((sum_sq / draws - mean * mean) / (draws - 1));
  EXPECT_GT(se, 0.0);
  EXPECT_NEAR(mean, t.kl.item<double>(), 4 * se);
}

// Minibatch-weighted sampling by hand: B = 2, N = 2, D = 2, unit variances,
// z = mu = (0,0) and (2,2). With c = -log(2 pi) / 2 per latent,
// log q(z_i|x_j) = 2c (i = j) or 2c - 4; log q(z_id|x_j) = c or c - 2; log(N B) = log 4:
//   log q(z_i)        = 2c + log(1 + e^-4) - log 4
//   sum_d log q(z_id) = 2c + 2 log(1 + e^-2) - 2 log 4
//   log q(z_i|x_i)    = 2c;  log p(z) = 2c, 2c - 4
// so MI = log 4 - log(1 + e^-4), TC = log(1 + e^-4) - 2 log(1 + e^-2) + log 4,
// DWKL = 2 log(1 + e^-2) - 2 log 4 + 2 (and MI + TC + DWKL = 2).
TEST(Objectives, TcEstimatorMatchesAHandComputedTwoSampleBatch) {
  ObjectiveBatch b;
  b.mu = torch::tensor({{0.0f, 0.0f}, {2.0f, 2.0f}});
  b.logvar = torch::zeros({2, 2});
  b.z = b.mu.clone();
  b.x = torch::full({2, 1, 2, 2}, 0.5f);
  b.x_logits = torch::zeros({2, 1, 2, 2});
  auto loss = find_objective("beta-tcvae").make(context_for(default_objective_settings("beta-tcvae"), 2, 1.0, 2));
  const ObjectiveTerms t = loss->loss(b);
  const double l4 = std::log(4.0), a = std::log1p(std::exp(-4.0)), c = std::log1p(std::exp(-2.0));
  EXPECT_NEAR(t.extra.at("mi").item<double>(), l4 - a, 1e-5);
  EXPECT_NEAR(t.extra.at("tc").item<double>(), a - 2 * c + l4, 1e-5);
  EXPECT_NEAR(t.extra.at("dwkl").item<double>(), 2 * c - 2 * l4 + 2, 1e-5);
  // recon: 8 pixels of BCE(logit 0, 0.5) = log 2 each, 4 per image; KL: (0 + 4) / 2 per image.
  EXPECT_NEAR(t.recon.item<double>(), 4 * std::log(2.0), 1e-5);
  EXPECT_NEAR(t.kl.item<double>(), 2.0, 1e-5);
  // beta weighs only the TC.
  auto beta3 = find_objective("beta-tcvae").make(context_for(default_objective_settings("beta-tcvae"), 2, 3.0, 2));
  EXPECT_NEAR(beta3->loss(b).loss.item<double>() - t.loss.item<double>(), 2 * (a - 2 * c + l4), 1e-5);
}

// Three samples with unequal variances against the estimator written as loops over scalars.
TEST(Objectives, TcEstimatorMatchesScalarLoopsOnAThreeSampleBatch) {
  const double mu[3][2] = {{0.5, -1.0}, {-0.3, 0.2}, {1.2, 0.7}};
  const double lv[3][2] = {{0.0, -0.5}, {0.3, 0.1}, {-0.2, 0.4}};
  const double z[3][2] = {{0.4, -0.8}, {0.1, 0.5}, {1.0, 0.2}};
  const double n = 10, bsz = 3, log_nb = std::log(n * bsz);
  auto log_q = [&](int i, int j, int d) {
    return -0.5 * (std::log(2 * M_PI) + lv[j][d] + (z[i][d] - mu[j][d]) * (z[i][d] - mu[j][d]) / std::exp(lv[j][d]));
  };
  double tc = 0;
  for (int i = 0; i < 3; ++i) {
    double joint = 0, product = 0;
    for (int j = 0; j < 3; ++j) joint += std::exp(log_q(i, j, 0) + log_q(i, j, 1));
    for (int d = 0; d < 2; ++d) {
      double s = 0;
      for (int j = 0; j < 3; ++j) s += std::exp(log_q(i, j, d));
      product += std::log(s) - log_nb;
    }
    tc += (std::log(joint) - log_nb - product) / 3;
  }
  ObjectiveBatch b;
  b.mu = torch::tensor({0.5f, -1.0f, -0.3f, 0.2f, 1.2f, 0.7f}).view({3, 2});
  b.logvar = torch::tensor({0.0f, -0.5f, 0.3f, 0.1f, -0.2f, 0.4f}).view({3, 2});
  b.z = torch::tensor({0.4f, -0.8f, 0.1f, 0.5f, 1.0f, 0.2f}).view({3, 2});
  b.x = torch::zeros({3, 1, 2, 2});
  b.x_logits = torch::zeros({3, 1, 2, 2});
  auto loss = find_objective("beta-tcvae").make(context_for(default_objective_settings("beta-tcvae"), 2, 1.0, 10));
  EXPECT_NEAR(loss->loss(b).extra.at("tc").item<double>(), tc, 1e-5);
  EXPECT_GT(tc, 0.0);  // the three codes are correlated across dimensions
}

// ---- settings ----

TEST(Objectives, BetaVaeOptionsJsonIsUnchanged) {
  const nlohmann::json j = train_options_to_json(test::tiny_train(2));
  EXPECT_EQ(j.size(), 8u);
  EXPECT_FALSE(j.contains("objective"));
  EXPECT_EQ(train_options_from_json(j).objective.name, "beta-vae");
}

TEST(Objectives, UnknownObjectiveOrForeignParameterIsAOneLineError) {
  for (const nlohmann::json& bad : {nlohmann::json{{"objective", "info-vae"}},
                                    nlohmann::json{{"objective", 3}},
                                    nlohmann::json{{"gamma", 2.0}},  // beta-vae has no gamma
                                    nlohmann::json{{"objective", "annealed-vae"}, {"disc_lr", 0.1}},
                                    nlohmann::json{{"objective", "factor-vae"}, {"disc_layers", 1.5}},
                                    nlohmann::json{{"objective", "factor-vae"}, {"gamma", -1}}}) {
    try {
      (void)train_options_from_json(bad);
      ADD_FAILURE() << bad.dump() << ": accepted";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
      EXPECT_NE(what.find("expected"), std::string::npos) << what;
    }
  }
  try {
    find_objective("info-vae");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("factor-vae"), std::string::npos) << e.what();
  }
}

TEST(Objectives, AnObjectiveWithoutBetaRefusesABetaOtherThanOne) {
  test::TempDir dir;
  TrainOptions train = test::tiny_train(1);  // beta 2
  train.objective = test_settings("factor-vae");
  try {
    train_vae(test::tiny_dataset(), test::tiny_model(), train, dir.path(), false, torch::kCPU);
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("factor-vae"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("checkpoint.pt")));
}

TEST(Objectives, CheckpointOfAnUnknownObjectiveIsAnErrorNamingIt) {
  test::TempDir dir;
  Vae vae = tiny_vae();
  CheckpointMeta meta;
  meta.arch = "mlp";
  meta.latent_dim = 3;
  meta.model_options = model_options_to_json(test::tiny_model());
  meta.train_options = train_options_to_json(test::tiny_train(1));
  meta.train_options["objective"] = "info-vae";
  save_checkpoint(dir.file("c.pt"), *vae, meta, nullptr);
  try {
    read_checkpoint_meta(dir.file("c.pt"));
    FAIL() << "accepted";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("info-vae"), std::string::npos) << what;
    EXPECT_NE(what.find(dir.file("c.pt")), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(Objectives, ResumingWithoutTheDiscriminatorStateIsAnError) {
  test::TempDir dir;
  const Dataset data = test::tiny_dataset();
  TrainOptions train = test::tiny_train(1);
  train_vae(data, test::tiny_model(), train, dir.path(), false, torch::kCPU);  // a beta-vae checkpoint
  Vae vae(test::tiny_model());
  auto own = find_objective("factor-vae").make(context_for(test_settings("factor-vae"), 3));
  EXPECT_THROW(restore_checkpoint(dir.file("checkpoint.pt"), *vae, nullptr, false, nullptr, own->state_module(),
                                  own->state_optimizer()),
               Error);
}

}  // namespace
}  // namespace dvae
