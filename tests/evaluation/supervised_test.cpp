// Tests for evaluation/supervised: the baseline learns synthetic squares and a
// small real MNIST subset, and is deterministic for a seed.
#include "evaluation/supervised.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "core/random.h"
#include "data/datasets.h"
#include "evaluation/metrics.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

ModelOptions small_mlp(int64_t size) {
  ModelOptions m;
  m.arch = "mlp";
  m.image_size = size;
  m.mlp_hidden = 32;
  m.latent_dim = 4;
  return m;
}

TEST(supervised, LearnsSyntheticSquares) {
  test::TempDir dir;
  test::write_synthetic_mnist(dir.path(), 300, 200, 12, false, 5);
  const Dataset data = load_dataset_dir(dir.path(), "synthetic");
  SupervisedOptions opt;
  opt.epochs = 15;
  opt.batch_size = 10;
  const auto fit = train_supervised(small_mlp(12), data.train, torch::arange(300, torch::kLong), data.test, opt, 3,
                                    torch::kCPU);
  EXPECT_GE(accuracy(fit.test_predictions, data.test.labels), 0.9);
  EXPECT_LT(fit.final_loss, 0.5 * fit.epoch_loss.front());
  ASSERT_EQ(fit.epoch_loss.size(), 15u);
  // Same seed, same result.
  const auto again = train_supervised(small_mlp(12), data.train, torch::arange(300, torch::kLong), data.test, opt, 3,
                                      torch::kCPU);
  EXPECT_DOUBLE_EQ(again.final_loss, fit.final_loss);
  EXPECT_TRUE(torch::equal(again.test_predictions, fit.test_predictions));
}

// A study trains supervised cells beside VAEs in other threads, each initialising
// from LibTorch's default generator: the baseline holds default_generator_mutex()
// while it seeds and initialises, so another thread that reseeds under that mutex
// cannot change its initial weights.
TEST(supervised, InitialisationIsHeldAgainstOtherThreadsReseeding) {
  test::TempDir dir;
  test::write_synthetic_mnist(dir.path(), 100, 50, 12, false, 5);
  const Dataset data = load_dataset_dir(dir.path(), "synthetic");
  SupervisedOptions opt;
  opt.epochs = 1;
  opt.batch_size = 10;
  const auto subset = torch::arange(100, torch::kLong);
  const auto alone = train_supervised(small_mlp(12), data.train, subset, data.test, opt, 3, torch::kCPU);
  std::atomic<bool> stop{false};
  std::thread other([&] {
    while (!stop) {
      std::lock_guard<std::mutex> lock(default_generator_mutex());
      seed_torch(999);
      (void)torch::randn({64});
    }
  });
  std::vector<double> losses;
  for (int i = 0; i < 20; ++i)
    losses.push_back(train_supervised(small_mlp(12), data.train, subset, data.test, opt, 3, torch::kCPU).final_loss);
  stop = true;
  other.join();
  for (double l : losses) EXPECT_DOUBLE_EQ(l, alone.final_loss);
}

TEST(supervised, HiddenHeadHasTheExtraLayer) {
  SupervisedClassifier net(small_mlp(12), 7, 10);
  const auto logits = net->forward(torch::rand({3, 1, 12, 12}));
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{3, 10}));
  bool found = false;
  for (const auto& p : net->named_parameters()) found = found || (p.key() == "hidden.weight" && p.value().size(0) == 7);
  EXPECT_TRUE(found);
}

TEST(supervised, LearnsSmallRealMnistSubsetSlow) {
  const std::string dir = test::real_mnist_dir();
  if (dir.empty()) GTEST_SKIP() << "real MNIST not installed";
  const Dataset data = load_dataset_dir(dir, "mnist");
  const auto subset = torch::arange(0, 60000, 60, torch::kLong);  // 1000 images
  ModelOptions m;  // paper MLP: 784-500-500-10
  SupervisedOptions opt;
  opt.epochs = 3;
  opt.batch_size = 10;  // 300 Adam steps
  const ImageSet test = data.test.subset(torch::arange(0, 2000, torch::kLong));
  const auto fit = train_supervised(m, data.train, subset, test, opt, 1, torch::kCPU);
  EXPECT_GE(accuracy(fit.test_predictions, test.labels), 0.8);
}

}  // namespace
}  // namespace dvae
