// DataParallel: launcher variables, batch shards, and a real 2-rank Gloo group
// on 127.0.0.1 (one thread per rank): bucketed sums and means, broadcast,
// rendezvous timeout, and a peer that leaves.
#include "training/distributed.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <future>
#include <thread>

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "core/check.h"

namespace dvae {
namespace {

using Env = std::map<std::string, std::string>;

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Runs fn(group) on ranks 0..world-1, one thread each, on a fresh local port.
void on_ranks(int world, const std::function<void(DataParallel&)>& fn, double timeout_s = 20) {
  const int port = free_local_port();
  std::vector<std::future<void>> done;
  for (int r = 0; r < world; ++r) {
    done.push_back(std::async(std::launch::async, [=, &fn] {
      DistConfig c;
      c.rank = r;
      c.world_size = world;
      c.master_port = port;
      DistOptions o;
      o.timeout_s = timeout_s;
      DataParallel group(c, o);
      fn(group);
    }));
  }
  for (auto& f : done) f.get();  // rethrows a rank's failure
}

TEST(DistConfig, ReadsTorchrunVariables) {
  const DistConfig c = dist_config_from_env(
      {{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29501"}});
  EXPECT_EQ(c.rank, 3);
  EXPECT_EQ(c.world_size, 4);
  EXPECT_EQ(c.local_rank, 1);
  EXPECT_EQ(c.master_addr, "node7");
  EXPECT_EQ(c.master_port, 29501);
  EXPECT_TRUE(dist_env_present({{"WORLD_SIZE", "4"}}));
  EXPECT_FALSE(dist_env_present({{"RANK", "0"}}));
}

TEST(DistConfig, ReadsTorchrunsAgentStoreVariables) {
  const Env base = {{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29501"}};
  EXPECT_FALSE(dist_config_from_env(base).agent_store);
  Env env = base;
  env["TORCHELASTIC_USE_AGENT_STORE"] = "False";
  EXPECT_FALSE(dist_config_from_env(env).agent_store);
  env["TORCHELASTIC_USE_AGENT_STORE"] = "True";
  env["TORCHELASTIC_RESTART_COUNT"] = "2";
  const DistConfig c = dist_config_from_env(env);
  EXPECT_TRUE(c.agent_store);
  EXPECT_EQ(c.restart_count, 2);
  env["TORCHELASTIC_RESTART_COUNT"] = "x";
  EXPECT_THROW(dist_config_from_env(env), Error);
}

// torchrun's agent hosts the store; every rank, 0 included, connects to it.
TEST(DataParallel, RanksJoinAStoreTheLauncherHosts) {
  const int port = free_local_port();
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(port);
  so.isServer = true;
  so.waitWorkers = false;
  so.timeout = std::chrono::seconds(20);
  c10d::TCPStore agent("127.0.0.1", so);  // as torchrun's agent
  std::vector<std::future<torch::Tensor>> ranks;
  for (int r = 0; r < 2; ++r) {
    ranks.push_back(std::async(std::launch::async, [=] {
      DistConfig c;
      c.rank = r;
      c.world_size = 2;
      c.master_port = port;
      c.agent_store = true;
      c.restart_count = 1;
      DistOptions o;
      o.timeout_s = 20;
      DataParallel group(c, o);
      auto t = torch::full({3}, static_cast<float>(r + 1));
      group.all_reduce_sum_(t);
      return t;
    }));
  }
  for (auto& f : ranks) EXPECT_TRUE(torch::equal(f.get(), torch::full({3}, 3.0f)));
}

TEST(DistConfig, LocalRankDefaultsToRankAndOneProcessNeedsNoMaster) {
  const DistConfig c = dist_config_from_env({{"RANK", "0"}, {"WORLD_SIZE", "1"}});
  EXPECT_EQ(c.local_rank, 0);
  EXPECT_EQ(c.world_size, 1);
}

TEST(DistConfig, BadVariablesAreOneLineErrorsNamingThem) {
  const Env ok = {{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29500"}};
  const auto with = [&](const std::string& key, const std::string& value) {
    Env e = ok;
    if (value == "<unset>") {
      e.erase(key);
    } else {
      e[key] = value;
    }
    return error_of([&] { dist_config_from_env(e); });
  };
  EXPECT_EQ(error_of([&] { dist_config_from_env(ok); }), "");
  EXPECT_NE(with("RANK", "<unset>").find("RANK: not set"), std::string::npos);
  EXPECT_NE(with("RANK", "2").find("RANK: '2', expected an integer in [0, 1]"), std::string::npos);
  EXPECT_NE(with("RANK", "1x").find("RANK: '1x'"), std::string::npos);
  EXPECT_NE(with("WORLD_SIZE", "0").find("WORLD_SIZE: '0'"), std::string::npos);
  EXPECT_NE(with("MASTER_PORT", "70000").find("MASTER_PORT: '70000', expected an integer in [1, 65535]"),
            std::string::npos);
  EXPECT_NE(with("MASTER_PORT", "<unset>").find("MASTER_PORT: not set"), std::string::npos);
  EXPECT_NE(with("MASTER_ADDR", "<unset>").find("MASTER_ADDR: not set"), std::string::npos);
  EXPECT_NE(with("LOCAL_RANK", "-1").find("LOCAL_RANK: '-1'"), std::string::npos);
  for (const auto& [key, value] : {std::pair{"RANK", "x\ny"}, std::pair{"MASTER_PORT", ""}}) {
    EXPECT_EQ(with(key, value).find('\n'), std::string::npos) << key;
  }
}

TEST(DistOptions, BackendAndTimeoutAreChecked) {
  EXPECT_EQ(error_of([] { check_dist_options({"gloo", 30}); }), "");
  EXPECT_NE(error_of([] { check_dist_options({"mpi", 30}); }).find("--dist-backend: 'mpi', expected gloo or nccl"),
            std::string::npos);
  EXPECT_NE(error_of([] { check_dist_options({"gloo", 0}); }).find("--dist-timeout: 0"), std::string::npos);
  EXPECT_NE(error_of([] { check_dist_options({"gloo", std::nan("")}); }).find("--dist-timeout"), std::string::npos);
  EXPECT_TRUE(dist_backend_available("gloo"));
  if (!dist_backend_available("nccl")) {
    EXPECT_NE(error_of([] { check_dist_options({"nccl", 30}); }).find("not in this build"), std::string::npos);
  }
}

TEST(BatchShard, ContiguousInRankOrderWithTheRemainderOnTheFirstRanks) {
  auto s = batch_shard(10, 0, 2);
  EXPECT_EQ(s.offset, 0);
  EXPECT_EQ(s.count, 5);
  s = batch_shard(10, 1, 2);
  EXPECT_EQ(s.offset, 5);
  EXPECT_EQ(s.count, 5);
  s = batch_shard(5, 0, 2);
  EXPECT_EQ(s.offset, 0);
  EXPECT_EQ(s.count, 3);
  s = batch_shard(5, 1, 2);
  EXPECT_EQ(s.offset, 3);
  EXPECT_EQ(s.count, 2);
  s = batch_shard(1, 1, 2);  // fewer rows than ranks: rank 1 has none
  EXPECT_EQ(s.count, 0);
  // Shards tile the batch for any size.
  for (int world : {1, 2, 3, 7}) {
    for (int64_t len : {0, 1, 6, 100, 101}) {
      int64_t next = 0;
      for (int r = 0; r < world; ++r) {
        const BatchShard b = batch_shard(len, r, world);
        EXPECT_EQ(b.offset, next);
        next += b.count;
      }
      EXPECT_EQ(next, len);
    }
  }
  EXPECT_THROW(batch_shard(10, 2, 2), Error);
}

TEST(DataParallel, SumsAndAveragesAcrossTwoRanksInBuckets) {
  std::vector<torch::Tensor> sums(2), means(2);
  std::vector<int64_t> calls(2);
  on_ranks(2, [&](DataParallel& g) {
    g.set_bucket_values(3);
    auto t = torch::arange(10, torch::kFloat32) * (g.rank() + 1);  // rank 0: 0..9, rank 1: 0,2,..18
    g.all_reduce_sum_(t);
    sums[g.rank()] = t;
    calls[g.rank()] = g.all_reduce_calls();
    auto m = torch::full({4}, static_cast<float>(g.rank() * 4));  // 0 and 4
    g.all_reduce_mean_(m);
    means[g.rank()] = m;
  });
  const auto want = torch::arange(10, torch::kFloat32) * 3;
  for (int r = 0; r < 2; ++r) {
    EXPECT_TRUE(torch::equal(sums[r], want)) << sums[r];
    EXPECT_EQ(calls[r], 4);  // ceil(10 / 3) buckets, not one call per value
    EXPECT_TRUE(torch::equal(means[r], torch::full({4}, 2.0f))) << means[r];
  }
}

// Parameters of sizes {5, 3, 4, 2} whose gradients are views of one flat [14]
// buffer (as FlatOptimizer binds them), every gradient value = scale.
struct FlatParams {
  torch::Tensor flat_grad = torch::zeros({14});
  std::vector<torch::Tensor> params;
  explicit FlatParams(float scale) {
    int64_t offset = 0;
    for (int64_t n : {5, 3, 4, 2}) {
      auto p = torch::zeros({n}, torch::requires_grad());
      p.mutable_grad() = flat_grad.narrow(0, offset, n);
      params.push_back(p);
      offset += n;
    }
    flat_grad.fill_(scale);
  }
};

TEST(GradientReducer, BucketsFromTheLastParameterStartInOrderWhateverTheMarks) {
  std::vector<torch::Tensor> sums(2);
  std::vector<int64_t> buckets(2), calls(2), calls_before_finish(2);
  on_ranks(2, [&](DataParallel& g) {
    FlatParams f(static_cast<float>(g.rank() + 1));
    // Bucket >= 4 values from the back: {2, 4} (params 3, 2), then {3, 5} (params 1, 0).
    GradientReducer reducer(g, f.flat_grad, f.params, 4);
    buckets[g.rank()] = reducer.buckets();
    reducer.begin();
    if (g.rank() == 0) {
      // Param 3 alone leaves its bucket incomplete; param 2 completes it.
      reducer.mark_ready(f.params[3].grad());
      EXPECT_EQ(g.all_reduce_calls(), 0);
      reducer.mark_ready(f.params[2]);  // the parameter itself also names it
      EXPECT_EQ(g.all_reduce_calls(), 1);
      // Bucket 1 complete: started at once.
      reducer.mark_ready(f.params[0].grad());
      reducer.mark_ready(f.params[1].grad());
      EXPECT_EQ(g.all_reduce_calls(), 2);
      EXPECT_THROW(reducer.mark_ready(f.params[1].grad()), Error);  // twice in one step
      EXPECT_THROW(reducer.mark_ready(torch::zeros({3})), Error);   // not a parameter
    } else {
      // Bucket 1 complete first: it must wait for bucket 0 (never marked here: finish starts both).
      reducer.mark_ready(f.params[0].grad());
      reducer.mark_ready(f.params[1].grad());
      EXPECT_EQ(g.all_reduce_calls(), 0);
    }
    reducer.finish();
    sums[g.rank()] = f.flat_grad.clone();
    calls[g.rank()] = g.all_reduce_calls();
    // A second step with no marks at all: finish starts every bucket.
    reducer.begin();
    reducer.finish();
    EXPECT_EQ(g.all_reduce_calls(), 4);
    EXPECT_TRUE(torch::equal(f.flat_grad, torch::full({14}, 6.0f)));
  });
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(buckets[r], 2);
    EXPECT_EQ(calls[r], 2);
    EXPECT_TRUE(torch::equal(sums[r], torch::full({14}, 3.0f))) << sums[r];
  }
}

TEST(GradientReducer, AutogradHooksStartBucketsDuringBackward) {
  std::vector<torch::Tensor> sums(2);
  on_ranks(2, [&](DataParallel& g) {
    FlatParams f(0.0f);
    GradientReducer reducer(g, f.flat_grad, f.params, 4);
    reducer.attach_autograd_hooks();
    for (int step = 0; step < 2; ++step) {  // the hooks stay for every backward pass
      f.flat_grad.zero_();
      reducer.begin();
      torch::Tensor loss = torch::zeros({});
      for (auto& p : f.params) loss = loss + (p * static_cast<float>(g.rank() + 1)).sum();
      loss.backward();  // d/dp = rank + 1 everywhere, accumulated into the flat views
      EXPECT_EQ(g.all_reduce_calls(), 2 * step + 2);  // both buckets started by the hooks, before finish
      reducer.finish();
    }
    sums[g.rank()] = f.flat_grad.clone();
  });
  for (int r = 0; r < 2; ++r) EXPECT_TRUE(torch::equal(sums[r], torch::full({14}, 3.0f))) << sums[r];
}

TEST(GradientReducer, OneRankDoesNothingAndForeignGradientsAreRefused) {
  on_ranks(1, [](DataParallel& g) {
    FlatParams f(2.0f);
    GradientReducer reducer(g, f.flat_grad, f.params, 1);
    EXPECT_EQ(reducer.buckets(), 4);
    reducer.begin();
    reducer.mark_ready(f.params[3].grad());
    reducer.finish();
    EXPECT_EQ(g.all_reduce_calls(), 0);
    EXPECT_TRUE(torch::equal(f.flat_grad, torch::full({14}, 2.0f)));
    auto stray = torch::zeros({2}, torch::requires_grad());
    stray.mutable_grad() = torch::zeros({2});
    const std::string e = error_of([&] { GradientReducer bad(g, f.flat_grad, {stray}, 4); });
    EXPECT_NE(e.find("not the next view of the flat gradient"), std::string::npos) << e;
  });
}

TEST(DataParallel, BroadcastCopiesRootsTensorAndBarrierReturns) {
  std::vector<torch::Tensor> got(2);
  on_ranks(2, [&](DataParallel& g) {
    auto t = torch::full({3}, static_cast<float>(10 + g.rank()));
    g.broadcast_(t, 1);
    g.barrier();
    got[g.rank()] = t;
    EXPECT_EQ(g.backend(), "gloo");
    EXPECT_EQ(g.is_main(), g.rank() == 0);
  });
  for (int r = 0; r < 2; ++r) EXPECT_TRUE(torch::equal(got[r], torch::full({3}, 11.0f)));
}

TEST(DataParallel, NonContiguousBufferIsRefused) {
  on_ranks(1, [](DataParallel& g) {
    const auto t = torch::zeros({4, 4}).t();
    EXPECT_THROW(g.all_reduce_sum_(t), Error);
  });
}

TEST(DataParallel, MissingRankZeroTimesOutWithAnErrorNamingTheAddress) {
  DistConfig c;
  c.rank = 1;
  c.world_size = 2;
  c.master_port = free_local_port();  // nobody listens there
  DistOptions o;
  o.timeout_s = 1;
  const auto start = std::chrono::steady_clock::now();
  const std::string e = error_of([&] { DataParallel g(c, o); });
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(e.find("rendezvous at 127.0.0.1:" + std::to_string(c.master_port)), std::string::npos) << e;
  EXPECT_NE(e.find("rank 1 of 2"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  EXPECT_LT(took, 15.0);
}

TEST(DataParallel, PeerThatLeavesMakesTheOtherRankFailWithinTheTimeout) {
  const int port = free_local_port();
  std::string error;
  double took = 0;
  auto peer = std::async(std::launch::async, [&] {
    DistConfig c;
    c.rank = 1;
    c.world_size = 2;
    c.master_port = port;
    DistOptions o;
    o.timeout_s = 2;
    DataParallel g(c, o);
    auto t = torch::ones({8});
    g.all_reduce_sum_(t);  // one step together, then this rank is gone
  });
  DistConfig c;
  c.world_size = 2;
  c.master_port = port;
  DistOptions o;
  o.timeout_s = 2;
  DataParallel g(c, o);
  auto t = torch::ones({8});
  g.all_reduce_sum_(t);
  EXPECT_TRUE(torch::equal(t, torch::full({8}, 2.0f)));
  peer.get();
  const auto start = std::chrono::steady_clock::now();
  error = error_of([&] { g.all_reduce_sum_(t); });
  took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(error.find("all-reduce failed on rank 0 of 2"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  EXPECT_LT(took, 10.0);
}

}  // namespace
}  // namespace dvae
