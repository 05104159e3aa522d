// Tests of train_vae: determinism, bit-identical resume after an interruption,
// the run folder's files, non-finite loss handling, and (on real MNIST when
// installed) that the loss falls.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "core/atomic_file.h"
#include "core/check.h"
#include "data/datasets.h"
#include "training/checkpoint.h"
#include "training_fixtures.h"

namespace dvae {
namespace {

std::vector<nlohmann::json> read_log(const std::string& run_dir) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(read_file(run_dir + "/log.jsonl"));
  std::string line;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

// Log lines without the wall-clock fields.
std::vector<nlohmann::json> losses(const std::string& run_dir) {
  auto lines = read_log(run_dir);
  for (auto& l : lines) {
    l.erase("seconds");
    l.erase("images_per_sec");
  }
  return lines;
}

void expect_same_weights(const std::string& a, const std::string& b) {
  const LoadedVae va = load_vae(a);
  const LoadedVae vb = load_vae(b);
  const auto pb = vb.vae->named_parameters();
  for (const auto& p : va.vae->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  const auto bb = vb.vae->named_buffers();
  for (const auto& p : va.vae->named_buffers()) EXPECT_TRUE(torch::equal(p.value(), bb[p.key()])) << p.key();
}

struct Interrupt {};

TEST(VaeTrainer, WritesConfigLogAndCheckpoint) {
  test::TempDir dir;
  const Dataset data = test::tiny_dataset();
  const EpochStats last = train_vae(data, test::tiny_model(), test::tiny_train(2), dir.path(), false, torch::kCPU);
  EXPECT_EQ(last.epoch, 2);
  const auto log = read_log(dir.path());
  ASSERT_EQ(log.size(), 2u);
  for (const char* key : {"epoch", "train_recon", "train_kl", "test_recon", "test_kl", "kl_per_latent",
                          "active_latents", "test_elbo", "seconds", "images_per_sec", "beta"}) {
    EXPECT_TRUE(log[1].contains(key)) << key;
  }
  EXPECT_EQ(log[1]["kl_per_latent"].size(), 3u);
  EXPECT_DOUBLE_EQ(log[1]["test_elbo"].get<double>(),
                   -(log[1]["test_recon"].get<double>() + log[1]["test_kl"].get<double>()));
  EXPECT_LT(last.test_elbo, 0.0);
  EXPECT_GT(last.images_per_sec, 0.0);
  const auto config = nlohmann::json::parse(read_file(dir.file("config.json")));
  EXPECT_EQ(config["model"]["arch"], "mlp");
  EXPECT_EQ(config["train"]["batch_size"], 10);
  EXPECT_EQ(config["dataset"], "synthetic");
  const CheckpointMeta meta = read_checkpoint_meta(dir.file("checkpoint.pt"));
  EXPECT_EQ(meta.epoch, 2);
  EXPECT_EQ(meta.epochs, 2);
  EXPECT_EQ(epoch_stats_from_json(meta.last_stats).test_elbo, last.test_elbo);
}

TEST(VaeTrainer, SameSeedGivesTheSameLossesAndWeights) {
  test::TempDir a;
  test::TempDir b;
  test::TempDir c;
  const Dataset data = test::tiny_dataset();
  train_vae(data, test::tiny_model(), test::tiny_train(2), a.path(), false, torch::kCPU);
  train_vae(data, test::tiny_model(), test::tiny_train(2), b.path(), false, torch::kCPU);
  EXPECT_EQ(losses(a.path()), losses(b.path()));
  expect_same_weights(a.file("checkpoint.pt"), b.file("checkpoint.pt"));
  TrainOptions other = test::tiny_train(2);
  other.seed = 8;
  train_vae(data, test::tiny_model(), other, c.path(), false, torch::kCPU);
  EXPECT_NE(losses(a.path()), losses(c.path()));
}

// Interrupted in the middle of epoch 3 (as a kill would), resumed to the end:
// the same final weights, bit for bit, and the same log as an uninterrupted run.
void check_resume_equivalence(const ModelOptions& model, TrainOptions train, int64_t size) {
  test::TempDir full;
  test::TempDir cut;
  const Dataset data = test::tiny_dataset(48, 24, static_cast<uint32_t>(size));
  train.epochs = 4;
  train_vae(data, model, train, full.path(), false, torch::kCPU);
  TrainCallbacks kill;
  kill.on_batch = [](int64_t epoch, int64_t batch, int64_t) {
    if (epoch == 3 && batch == 2) throw Interrupt{};
  };
  EXPECT_THROW(train_vae(data, model, train, cut.path(), false, torch::kCPU, kill), Interrupt);
  EXPECT_EQ(read_checkpoint_meta(cut.file("checkpoint.pt")).epoch, 2);
  torch::manual_seed(12345);  // whatever the generator did since, the checkpoint restores it
  train_vae(data, model, train, cut.path(), true, torch::kCPU);
  expect_same_weights(full.file("checkpoint.pt"), cut.file("checkpoint.pt"));
  EXPECT_EQ(losses(full.path()), losses(cut.path()));
}

TEST(VaeTrainer, ResumedMlpRunEqualsUninterruptedRun) {
  check_resume_equivalence(test::tiny_model("mlp"), test::tiny_train(), 12);
}

// SGD at 1e-4: the tiny CNN (BCE summed over 256 pixels, momentum 0.9) trains
// stably whichever BLAS kernel runs; at 1e-2 it diverged to NaN at epoch 4 with
// OpenBLAS's Zen and Haswell kernels. Divergence has its own test below.
TEST(VaeTrainer, ResumedCnnRunWithSgdAndBinarisationEqualsUninterruptedRun) {
  TrainOptions train = test::tiny_train();
  train.optimizer = "sgd";
  train.lr = 1e-4;
  train.binarize = true;
  check_resume_equivalence(test::tiny_model("cnn", 16), train, 16);
}

TEST(VaeTrainer, DivergingSgdRunStopsWithANonFiniteLossErrorNamingEpochAndBatch) {
  test::TempDir dir;
  const Dataset data = test::tiny_dataset();
  TrainOptions train = test::tiny_train(3);
  train.optimizer = "sgd";
  train.lr = 1e8;  // overflows to inf / NaN within a few steps on any kernel
  try {
    train_vae(data, test::tiny_model(), train, dir.path(), false, torch::kCPU);
    FAIL() << "expected dvae::Error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("expected a finite number"), std::string::npos) << what;
    EXPECT_EQ(what.rfind("epoch ", 0), 0u) << what;
    EXPECT_NE(what.find(", batch "), std::string::npos) << what;
  }
}

TEST(VaeTrainer, ResumeExtendsAFinishedRunAndReturnsAtOnceWhenDone) {
  test::TempDir dir;
  const Dataset data = test::tiny_dataset();
  const EpochStats first = train_vae(data, test::tiny_model(), test::tiny_train(1), dir.path(), false, torch::kCPU);
  const std::string sha = sha256_file(dir.file("checkpoint.pt"));
  const EpochStats again = train_vae(data, test::tiny_model(), test::tiny_train(1), dir.path(), true, torch::kCPU);
  EXPECT_EQ(again.epoch, 1);
  EXPECT_EQ(again.test_elbo, first.test_elbo);
  EXPECT_EQ(sha256_file(dir.file("checkpoint.pt")), sha);  // untouched
  const EpochStats more = train_vae(data, test::tiny_model(), test::tiny_train(2), dir.path(), true, torch::kCPU);
  EXPECT_EQ(more.epoch, 2);
  EXPECT_EQ(read_log(dir.path()).size(), 2u);
}

TEST(VaeTrainer, ExistingRunWithoutResumeIsAnError) {
  test::TempDir dir;
  const Dataset data = test::tiny_dataset();
  train_vae(data, test::tiny_model(), test::tiny_train(1), dir.path(), false, torch::kCPU);
  EXPECT_THROW(train_vae(data, test::tiny_model(), test::tiny_train(1), dir.path(), false, torch::kCPU), Error);
}

TEST(VaeTrainer, ResumingWithAnotherArchitectureOrLatentSizeIsAnError) {
  test::TempDir dir;
  const Dataset data = test::tiny_dataset(48, 24, 16);
  train_vae(data, test::tiny_model("mlp", 16), test::tiny_train(1), dir.path(), false, torch::kCPU);
  ModelOptions wider = test::tiny_model("mlp", 16);
  wider.latent_dim = 4;
  for (const ModelOptions& other : {test::tiny_model("cnn", 16), wider}) {
    try {
      train_vae(data, other, test::tiny_train(2), dir.path(), true, torch::kCPU);
      FAIL() << "expected dvae::Error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(dir.file("checkpoint.pt")), std::string::npos) << e.what();
    }
  }
  TrainOptions other_beta = test::tiny_train(2);
  other_beta.beta = 1.0;
  EXPECT_THROW(train_vae(data, test::tiny_model("mlp", 16), other_beta, dir.path(), true, torch::kCPU), Error);
}

TEST(VaeTrainer, NonFiniteLossStopsNamingEpochAndBatchAndKeepsTheCheckpoint) {
  test::TempDir dir;
  const Dataset data = test::tiny_dataset();
  const ModelOptions model = test::tiny_model();
  const TrainOptions train = test::tiny_train(1);
  train_vae(data, model, train, dir.path(), false, torch::kCPU);
  // Poison one weight of the epoch-1 checkpoint, keeping its optimiser state.
  const std::string path = dir.file("checkpoint.pt");
  Vae vae(model);
  FlatOptimizerOptions adam;
  adam.lr = train.lr;
  FlatOptimizer optimizer(vae->parameters(), adam);
  CheckpointMeta meta = restore_checkpoint(path, *vae, &optimizer, true);
  {
    torch::NoGradGuard no_grad;
    vae->named_parameters()["encoder.fc1.weight"][0][0] = std::nanf("");
  }
  save_checkpoint(path, *vae, meta, &optimizer);
  const std::string sha = sha256_file(path);
  try {
    train_vae(data, model, test::tiny_train(2), dir.path(), true, torch::kCPU);
    FAIL() << "expected dvae::Error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("epoch 2, batch 1/5"), std::string::npos) << what;
  }
  EXPECT_EQ(sha256_file(path), sha);
  EXPECT_EQ(read_log(dir.path()).size(), 1u);
}

TEST(VaeTrainer, RejectsBadOptions) {
  test::TempDir dir;
  const Dataset data = test::tiny_dataset();
  TrainOptions bad = test::tiny_train(1);
  bad.optimizer = "rmsprop";
  EXPECT_THROW(train_vae(data, test::tiny_model(), bad, dir.path(), false, torch::kCPU), Error);
  EXPECT_THROW(train_vae(data, test::tiny_model("mlp", 28), test::tiny_train(1), dir.path(), false, torch::kCPU),
               Error);  // 12x12 images, 28x28 model
}

TEST(VaeTrainer, DefaultsAreThePapers) {
  EXPECT_EQ(default_train_options("mlp").beta, 4.0);
  EXPECT_EQ(default_train_options("mlp").epochs, 50);
  EXPECT_EQ(default_train_options("cnn").beta, 6.0);
  EXPECT_EQ(default_train_options("cnn").epochs, 75);
  EXPECT_EQ(default_train_options("cnn").lr, 1e-3);
  EXPECT_EQ(default_train_options("cnn").batch_size, 100);
  const TrainOptions back = train_options_from_json(train_options_to_json(test::tiny_train(9)));
  EXPECT_EQ(train_options_to_json(back), train_options_to_json(test::tiny_train(9)));
}

TEST(VaeTrainer, LossFallsOnARealMnistSubset) {
  const std::string dir = test::real_mnist_dir();
  if (dir.empty()) GTEST_SKIP() << "real MNIST not installed";
  Dataset full = load_dataset_dir(dir, "mnist");
  Dataset data = full;
  data.train = full.train.subset(torch::arange(2000));
  data.test = full.test.subset(torch::arange(500));
  test::TempDir run;
  TrainOptions train = default_train_options("mlp");
  train.epochs = 3;
  ModelOptions model;
  model.mlp_hidden = 200;
  train_vae(data, model, train, run.path(), false, torch::kCPU);
  const auto log = read_log(run.path());
  EXPECT_LT(log[2]["train_recon"].get<double>(), log[0]["train_recon"].get<double>());
  EXPECT_GT(log[2]["test_elbo"].get<double>(), log[0]["test_elbo"].get<double>());
  EXPECT_LT(log[2]["test_recon"].get<double>(), 250.0);  // a blank-image model costs ~ 540 nats
}

}  // namespace
}  // namespace dvae
