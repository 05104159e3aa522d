// Data-parallel train_vae (training/distributed.h): ranks as threads of this
// process on a real Gloo group over 127.0.0.1. N epochs on 2 (or 3) ranks with
// global batch B give the parameters of one process with batch B to float
// tolerance, for the MLP (hand-written step and autograd) and the CNN, with
// even and uneven shards and a rank without rows; rank 0 alone writes.
// (Separate processes, a killed rank and resume: tests/cli/train_dist_test.cpp.)
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <sstream>

#include "core/atomic_file.h"
#include "training/checkpoint.h"
#include "training/distributed.h"
#include "training_fixtures.h"

namespace dvae {
namespace {

using test::TempDir;

DistOptions test_options(bool overlap = true, int64_t bucket_values = int64_t{1} << 18) {
  DistOptions o;
  o.timeout_s = 30;
  o.overlap = overlap;
  o.overlap_bucket_values = bucket_values;
  return o;
}

// Trains on world ranks (threads) into run_dir; returns each rank's last stats
// (and, in calls, the all-reduces rank 0 issued).
std::vector<EpochStats> train_on_ranks(int world, const Dataset& data, const ModelOptions& model,
                                       const TrainOptions& train, const std::string& run_dir,
                                       const DistOptions& options = test_options(), int64_t* calls = nullptr) {
  const int port = free_local_port();
  std::vector<std::future<EpochStats>> ranks;
  for (int r = 0; r < world; ++r) {
    ranks.push_back(std::async(std::launch::async, [=, &data] {
      DistConfig c;
      c.rank = r;
      c.world_size = world;
      c.master_port = port;
      DataParallel group(c, options);
      EpochStats last = train_vae(data, model, train, run_dir, false, torch::kCPU, {}, &group);
      if (calls && r == 0) *calls = group.all_reduce_calls();
      return last;
    }));
  }
  std::vector<EpochStats> out;
  for (auto& f : ranks) out.push_back(f.get());
  return out;
}

void expect_close_weights(const std::string& a, const std::string& b, double atol) {
  const LoadedVae va = load_vae(a);
  const LoadedVae vb = load_vae(b);
  const auto pb = vb.vae->named_parameters();
  for (const auto& p : va.vae->named_parameters()) {
    EXPECT_TRUE(torch::allclose(p.value(), pb[p.key()], 1e-4, atol))
        << p.key() << ": max difference " << (p.value() - pb[p.key()]).abs().max().item<double>();
  }
}

size_t log_lines(const std::string& run_dir) {
  std::istringstream in(read_file(run_dir + "/log.jsonl"));
  size_t n = 0;
  for (std::string line; std::getline(in, line);) n += !line.empty();
  return n;
}

void check_equivalence(const Dataset& data, const ModelOptions& model, const TrainOptions& train, int world,
                       double atol = 2e-5) {
  TempDir one, many;
  const EpochStats solo = train_vae(data, model, train, one.path(), false, torch::kCPU);
  const std::vector<EpochStats> ranks = train_on_ranks(world, data, model, train, many.path());
  expect_close_weights(one.file("checkpoint.pt"), many.file("checkpoint.pt"), atol);
  for (const auto& s : ranks) {  // every rank logs the global batch's terms
    EXPECT_NEAR(s.train_recon, solo.train_recon, 1e-3 * std::abs(solo.train_recon));
    EXPECT_NEAR(s.train_kl, solo.train_kl, 1e-3 * std::abs(solo.train_kl) + 1e-6);
  }
  EXPECT_NEAR(ranks[0].test_elbo, solo.test_elbo, 1e-3 * std::abs(solo.test_elbo));
  EXPECT_EQ(log_lines(many.path()), static_cast<size_t>(train.epochs));  // rank 0 alone wrote the log
  const auto config = nlohmann::json::parse(read_file(many.file("config.json")));
  EXPECT_EQ(config.at("world_size"), world);
  EXPECT_EQ(config.at("dist_backend"), "gloo");
  EXPECT_EQ(nlohmann::json::parse(read_file(one.file("config.json"))).at("world_size"), 1);
}

TEST(VaeTrainerDist, TwoRanksEqualOneProcessForTheMlp) {
  // 48 images in batches of 10: shards 5/5 and a last batch of 8 (4/4).
  check_equivalence(test::tiny_dataset(), test::tiny_model("mlp"), test::tiny_train(3), 2);
}

// SGD: the biases in front of the decoder's batch norms have a zero gradient
// (the norm removes them), which Adam turns into lr-sized steps of either sign
// from rounding noise alone; SGD keeps equal gradients equal weights.
TEST(VaeTrainerDist, TwoRanksEqualOneProcessForTheCnnWithBinarisation) {
  TrainOptions train = test::tiny_train(2);
  train.optimizer = "sgd";
  train.lr = 1e-3;
  train.binarize = true;
  check_equivalence(test::tiny_dataset(40, 16, 16), test::tiny_model("cnn", 16), train, 2);
}

TEST(VaeTrainerDist, UnevenShardsAndARankWithoutRowsStayExact) {
  // 21 images in batches of 10 on 3 ranks: shards 4/3/3, and a last batch of
  // one image that ranks 1 and 2 have no rows of.
  check_equivalence(test::tiny_dataset(21, 12), test::tiny_model("mlp"), test::tiny_train(2), 3);
  TrainOptions autograd = test::tiny_train(2);
  autograd.autograd = true;
  autograd.batch_size = 7;  // 4/3 shards, last batch 6 (3/3)
  check_equivalence(test::tiny_dataset(20, 12), test::tiny_model("mlp"), autograd, 2);
}

// Overlapped (buckets summed during the backward pass) against after-backward
// all-reduce: on two ranks a + b is one rounding either way, so the weights
// must be bit-identical, whatever the bucket boundaries.
void check_overlap_is_exact(const Dataset& data, const ModelOptions& model, const TrainOptions& train,
                            int64_t expected_calls_per_step) {
  TempDir after, during;
  int64_t calls_after = 0, calls_during = 0;
  train_on_ranks(2, data, model, train, after.path(), test_options(false), &calls_after);
  train_on_ranks(2, data, model, train, during.path(), test_options(true, 300), &calls_during);
  const LoadedVae va = load_vae(after.file("checkpoint.pt"));
  const LoadedVae vb = load_vae(during.file("checkpoint.pt"));
  const auto pb = vb.vae->named_parameters();
  for (const auto& p : va.vae->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), pb[p.key()]))
        << p.key() << ": max difference " << (p.value() - pb[p.key()]).abs().max().item<double>();
  }
  const int64_t steps = train.epochs * ((data.train.size() + train.batch_size - 1) / train.batch_size);
  const int64_t others = calls_after - steps;  // epoch sums (and the CNN's batch norms), the same in both
  EXPECT_EQ(calls_during, steps * expected_calls_per_step + others) << calls_after << " calls after backward";
  EXPECT_EQ(nlohmann::json::parse(read_file(during.file("config.json"))).at("dist_overlap"), true);
  EXPECT_EQ(nlohmann::json::parse(read_file(after.file("config.json"))).at("dist_overlap"), false);
}

TEST(VaeTrainerDist, OverlappedAllReduceGivesTheSameWeightsAsAfterBackward) {
  // Tiny MLP (144 pixels, 16 hidden, 3 latents) in buckets of >= 300 values,
  // from the last parameter back: decoder.out (2448), decoder.fc2 + fc1 (336),
  // encoder logvar + mu + fc2 (374), encoder.fc1 (2320): 4 all-reduces a step.
  check_overlap_is_exact(test::tiny_dataset(), test::tiny_model("mlp"), test::tiny_train(2), 4);
  TrainOptions autograd = test::tiny_train(2);
  autograd.autograd = true;  // the same buckets, marked by autograd's accumulator hooks
  check_overlap_is_exact(test::tiny_dataset(), test::tiny_model("mlp"), autograd, 4);
}

TEST(VaeTrainerDist, OverlappedAllReduceInterleavesWithTheCnnBatchNorms) {
  TrainOptions train = test::tiny_train(1);
  train.optimizer = "sgd";
  train.lr = 1e-3;
  const Dataset data = test::tiny_dataset(40, 16, 16);
  const ModelOptions model = test::tiny_model("cnn", 16);
  Vae vae(model);
  // Buckets of >= 300 values from the last parameter back, as GradientReducer cuts them.
  int64_t buckets = 0, filled = 300;
  const auto params = vae->parameters();
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    if (filled >= 300) {
      ++buckets;
      filled = 0;
    }
    filled += it->numel();
  }
  ASSERT_GT(buckets, 3);
  check_overlap_is_exact(data, model, train, buckets);
}

TEST(VaeTrainerDist, ARankWithoutRowsIsRefusedForBatchNormsBeforeTraining) {
  // 41 images in batches of 10: a last batch of 1 leaves rank 1 without rows.
  TempDir dir;
  const Dataset data = test::tiny_dataset(41, 16, 16);
  const int port = free_local_port();
  std::vector<std::future<std::string>> ranks;
  for (int r = 0; r < 2; ++r) {
    ranks.push_back(std::async(std::launch::async, [&, r] {
      DistConfig c;
      c.rank = r;
      c.world_size = 2;
      c.master_port = port;
      DataParallel group(c, test_options());
      try {
        train_vae(data, test::tiny_model("cnn", 16), test::tiny_train(1), dir.path(), false, torch::kCPU, {}, &group);
      } catch (const Error& e) {
        return std::string(e.what());
      }
      return std::string();
    }));
  }
  for (auto& f : ranks) {
    const std::string e = f.get();
    EXPECT_NE(e.find("--batch-size 10: the last batch of 1 of 41 training images leaves some of the 2 ranks"),
              std::string::npos)
        << e;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("checkpoint.pt")));
}

TEST(VaeTrainerDist, FinishedRunReturnsAtOnceOnEveryRankWhenResumed) {
  const Dataset data = test::tiny_dataset();
  TempDir dir;
  train_on_ranks(2, data, test::tiny_model("mlp"), test::tiny_train(1), dir.path());
  EXPECT_EQ(read_checkpoint_meta(dir.file("checkpoint.pt")).epoch, 1);
  // Extending the run by one epoch on both ranks: both resume from epoch 1.
  const int port = free_local_port();
  std::vector<std::future<EpochStats>> ranks;
  for (int r = 0; r < 2; ++r) {
    ranks.push_back(std::async(std::launch::async, [&, r] {
      DistConfig c;
      c.rank = r;
      c.world_size = 2;
      c.master_port = port;
      DataParallel group(c, {});
      return train_vae(data, test::tiny_model("mlp"), test::tiny_train(2), dir.path(), true, torch::kCPU, {}, &group);
    }));
  }
  for (auto& f : ranks) EXPECT_EQ(f.get().epoch, 2);
  EXPECT_EQ(log_lines(dir.path()), 2u);
}

}  // namespace
}  // namespace dvae
