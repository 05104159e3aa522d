// Data-parallel `dvae train` as separate processes on 127.0.0.1 (Gloo):
// --nproc 2 equals one process with the same global batch (MLP and CNN); ranks
// started by hand with torchrun's variables, one of them SIGKILLed, make the
// other stop with an error within the timeout, and a resume from the last
// checkpoint matches the uninterrupted run; bad launcher variables and flags
// are one-line usage errors.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <sstream>

#include "core/atomic_file.h"
#include "support/fixtures.h"
#include "training/checkpoint.h"
#include "training/distributed.h"

namespace dvae {
namespace {

namespace fs = std::filesystem;

// Skips dvae's start-up BLAS checks (and their re-exec): faster, same training.
const std::string kQuick = "env DVAE_BLAS_KERNEL=keep ";

test::RunResult dvae(const std::string& args) { return test::run_shell(kQuick + DVAE_BINARY + " " + args); }

void expect_close_weights(const std::string& a, const std::string& b, double atol, bool exact = false) {
  const LoadedVae va = load_vae(a);
  const LoadedVae vb = load_vae(b);
  const auto pb = vb.vae->named_parameters();
  for (const auto& p : va.vae->named_parameters()) {
    if (exact) {
      EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
    } else {
      EXPECT_TRUE(torch::allclose(p.value(), pb[p.key()], 1e-4, atol))
          << p.key() << ": max difference " << (p.value() - pb[p.key()]).abs().max().item<double>();
    }
  }
}

size_t log_lines(const std::string& path) {
  if (!fs::exists(path)) return 0;
  std::istringstream in(read_file(path));
  size_t n = 0;
  for (std::string line; std::getline(in, line);) n += !line.empty();
  return n;
}

struct Fixture {
  test::TempDir dir;
  std::string data = dir.file("data");
  explicit Fixture(uint32_t n_train = 60, uint32_t size = 16) { test::write_synthetic_mnist(data, n_train, 20, size); }
};

void check_nproc_equals_one_process(const std::string& model_flags) {
  Fixture f;
  const std::string common = "train --data-dir " + f.data + " --batch-size 20 --epochs 2 --quiet " + model_flags;
  auto one = dvae(common + " --threads 1 --out " + f.dir.file("one"));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  auto two = dvae(common + " --nproc 2 --out " + f.dir.file("two"));
  ASSERT_EQ(two.exit_code, 0) << two.err;
  expect_close_weights(f.dir.file("one/checkpoint.pt"), f.dir.file("two/checkpoint.pt"), 2e-5);
  const auto config = nlohmann::json::parse(read_file(f.dir.file("two/config.json")));
  EXPECT_EQ(config.at("world_size"), 2);
  EXPECT_EQ(config.at("dist_backend"), "gloo");
  EXPECT_EQ(log_lines(f.dir.file("two/log.jsonl")), 2u);
}

TEST(TrainDist, TwoProcessesEqualOneForTheMlp) {
  check_nproc_equals_one_process("--arch mlp --latent 3 --hidden 16");
}

TEST(TrainDist, TwoProcessesEqualOneForTheCnn) {
  check_nproc_equals_one_process("--arch cnn --latent 3 --fc 16 --optimizer sgd --lr 1e-3");
}

// Two ranks started as torchrun would; rank 1 is SIGKILLed after epoch 2 is
// logged; rank 0 must fail with the all-reduce error within the timeout (and
// keep the last checkpoint); --nproc 2 --resume then completes the run exactly
// as an uninterrupted one.
TEST(TrainDist, KilledRankStopsTheOtherAndResumeMatchesAnUninterruptedRun) {
  Fixture f(120, 16);
  const std::string common = "train --threads 1 --data-dir " + f.data +
                             " --arch mlp --latent 3 --hidden 16 --batch-size 20 --epochs 24 --quiet --dist-timeout 5";
  auto full = dvae(common + " --nproc 2 --out " + f.dir.file("full"));
  ASSERT_EQ(full.exit_code, 0) << full.err;

  const int port = free_local_port();
  const auto rank_cmd = [&](int rank) {
    return kQuick + "RANK=" + std::to_string(rank) + " WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" +
           std::to_string(port) + " " + DVAE_BINARY + " " + common + " --out " + f.dir.file("cut");
  };
  test::Background rank0(rank_cmd(0), f.dir.file("rank0.txt"));
  test::Background rank1(rank_cmd(1), f.dir.file("rank1.txt"));
  ASSERT_TRUE(test::wait_until([&] { return log_lines(f.dir.file("cut/log.jsonl")) >= 2; }, 60));
  rank1.kill();
  const auto killed = std::chrono::steady_clock::now();
  const int status = rank0.wait();
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  const std::string err = read_file(f.dir.file("rank0.txt"));
  EXPECT_EQ(status, 1) << err;
  EXPECT_NE(err.find("error: data-parallel"), std::string::npos) << err;
  EXPECT_NE(err.find("on rank 0 of 2"), std::string::npos) << err;
  EXPECT_LT(took, 15.0);
  const int64_t kept = read_checkpoint_meta(f.dir.file("cut/checkpoint.pt")).epoch;
  EXPECT_GE(kept, 2);
  EXPECT_LT(kept, 24) << "the run finished before the kill: the test proves nothing";

  auto resumed = dvae(common + " --nproc 2 --resume --out " + f.dir.file("cut"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(read_checkpoint_meta(f.dir.file("cut/checkpoint.pt")).epoch, 24);
  expect_close_weights(f.dir.file("full/checkpoint.pt"), f.dir.file("cut/checkpoint.pt"), 0, /*exact=*/true);
  EXPECT_EQ(log_lines(f.dir.file("cut/log.jsonl")), 24u);
}

TEST(TrainDist, LauncherReportsTheFirstFailingRank) {
  Fixture f;
  // Rank 0 takes the folder's lock; a second job on the same folder fails on
  // its rank 0 and the launcher stops its other rank.
  const std::string common = "train --threads 1 --data-dir " + f.data +
                             " --arch mlp --latent 3 --hidden 16 --batch-size 20 --epochs 400 --quiet --out " +
                             f.dir.file("run");
  test::Background first(kQuick + DVAE_BINARY + " " + common + " --nproc 2");
  ASSERT_TRUE(test::wait_until_locked(f.dir.file("run/.dvae.lock"), 30));
  const auto second = dvae(common + " --nproc 2");
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_NE(second.err.find("another dvae run"), std::string::npos) << second.err;  // rank 0's own error
  EXPECT_NE(second.err.find("rank 0 of 2 (pid "), std::string::npos) << second.err;  // first, as it locks first
  EXPECT_NE(second.err.find("failed with exit code 1; stopped the other ranks"), std::string::npos) << second.err;
}

TEST(TrainDist, BadLauncherVariablesAndFlagsAreUsageErrors) {
  Fixture f;
  const std::string train = " train --data-dir " + f.data + " --epochs 1 --out " + f.dir.file("run");
  const auto run = [&](const std::string& env, const std::string& flags = "") {
    return test::run_shell(kQuick + env + " " + DVAE_BINARY + train + flags);
  };
  auto r = run("RANK=2 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29999");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("error: RANK: '2', expected an integer in [0, 1]"), std::string::npos) << r.err;
  r = run("RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("MASTER_PORT: not set"), std::string::npos) << r.err;
  r = run("RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29999", " --nproc 2");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--nproc 2: WORLD_SIZE=2 is already set"), std::string::npos) << r.err;
  r = run("", " --dist-backend mpi");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--dist-backend: 'mpi', expected gloo or nccl"), std::string::npos) << r.err;
  r = run("", " --dist-overlap yes");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--dist-overlap: 'yes', expected on or off"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(f.dir.file("run")));
  // Rank 1 waiting for a rank 0 that never comes: an error within the timeout.
  r = run("RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(free_local_port()),
          " --dist-timeout 1");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("rendezvous at 127.0.0.1:"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dvae
