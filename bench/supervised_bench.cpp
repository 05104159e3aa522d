// The supervised baseline's training step on the paper's MLP (784-500-500-10
// trunk, linear head, batch 100, fused Adam), hand-written
// (evaluation/supervised_step.h) against LibTorch autograd, interleaved
// (A B A B ...) in one process at the same thread count. Not a test.
//
//   build/bench/dvae_supervised_bench [--threads N] [--steps S] [--reps R] [--gemm blas|onednn] [--inference]
//
// --inference times the validation and test passes instead (train_supervised's
// evaluation batch of 1000 images, S passes): the hand-written step's logits()
// against net->forward under NoGradGuard, as the CNN and --autograd run them.
//
// --gemm sets the hand-written step's matrix-product backend (core/gemm.h;
// default: dvae's rule for this CPU); the autograd variant always runs LibTorch's.
//
// Prints one JSON line per variant and repetition: {"variant", "threads",
// "steps", "images_per_sec", "images_per_cpu_sec"}, then one with the median
// ratios hand / autograd. images_per_cpu_sec divides by the process's CPU time
// (user + system), which on a shared, overloaded machine measures the work
// better than wall time at 1 thread (at 2 threads it counts OpenMP's spinning
// too). OpenBLAS's kernel and OpenMP's wait policy come from the environment.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/gemm.h"
#include "evaluation/supervised.h"
#include "evaluation/supervised_step.h"
#include "training/flat_optimizer.h"

namespace {

constexpr int64_t kBatch = 100;

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "dvae_supervised_bench: %s (usage: [--threads N] [--steps S] [--reps R] [--gemm blas|onednn] [--inference])\n",
               why.c_str());
  std::exit(2);
}

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct Rate {
  double wall = 0;  // images per wall-clock second
  double cpu = 0;   // images per CPU second
};

// Images/s of `steps` training steps (after 20 warm-up steps) on batches drawn
// from a fixed pool of MNIST-like images (about 80% zero pixels, as MNIST).
Rate time_variant(bool hand, int64_t steps) {
  torch::manual_seed(1);
  const dvae::ModelOptions model;  // the paper's MLP
  dvae::SupervisedClassifier net(model, 0, 10);
  dvae::FlatOptimizer adam(net->parameters(), {});
  const auto pool = torch::rand({10 * kBatch, 1, 28, 28}).sub_(0.8).clamp_min_(0).mul_(5).clamp_max_(1);
  const auto labels = torch::randint(0, 10, {10 * kBatch}, torch::kLong);
  dvae::SupervisedMlpStep step(*net, model, kBatch);
  const auto one = [&](int64_t i) {
    const int64_t start = (i % 10) * kBatch;
    const auto x = pool.narrow(0, start, kBatch);
    const auto y = labels.narrow(0, start, kBatch);
    if (hand) {
      step.run(x, y);
    } else {
      adam.zero_grad();
      const auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
      loss.backward();
      (void)loss.item<double>();
    }
    adam.step();
  };
  for (int64_t i = 0; i < 20; ++i) one(i);
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  for (int64_t i = 0; i < steps; ++i) one(i);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double images = static_cast<double>(steps * kBatch);
  return {images / s, images / (cpu_seconds() - c0)};
}

// Images/s of `passes` forward passes over 1000 MNIST-like images (after 2
// warm-up passes), hand-written (SupervisedMlpStep::logits) or net->forward.
Rate time_inference(bool hand, int64_t passes) {
  constexpr int64_t kEval = 1000;
  torch::manual_seed(1);
  const dvae::ModelOptions model;
  dvae::SupervisedClassifier net(model, 0, 10);
  dvae::FlatOptimizer adam(net->parameters(), {});
  net->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::rand({kEval, 1, 28, 28}).sub_(0.8).clamp_min_(0).mul_(5).clamp_max_(1);
  dvae::SupervisedMlpStep step(*net, model, kEval);
  auto out = torch::empty({kEval, 10});
  double sink = 0;
  const auto one = [&] {
    if (hand) {
      step.logits(x, out);
      sink += out[0][0].item<double>();
    } else {
      sink += net->forward(x)[0][0].item<double>();
    }
  };
  for (int i = 0; i < 2; ++i) one();
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  for (int64_t i = 0; i < passes; ++i) one();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double images = static_cast<double>(passes * kEval);
  if (sink == 12345.678) std::printf("#\n");  // keeps the passes observable
  return {images / s, images / (cpu_seconds() - c0)};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  int64_t steps = 300;
  int reps = 3;
  bool inference = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--inference") {
      inference = true;
      continue;
    }
    if (i + 1 >= argc) usage(a + ": missing value");
    const std::string v = argv[++i];
    if (a == "--threads") {
      threads = std::atoi(v.c_str());
    } else if (a == "--steps") {
      steps = std::atoll(v.c_str());
    } else if (a == "--reps") {
      reps = std::atoi(v.c_str());
    } else if (a == "--gemm") {
      try {
        dvae::set_gemm_backend(dvae::parse_gemm_backend(v, "--gemm"));
      } catch (const std::exception& e) {
        usage(e.what());
      }
    } else {
      usage("unknown option " + a);
    }
  }
  if (threads < 1 || threads > 1024) usage("--threads " + std::to_string(threads) + ", expected 1..1024");
  if (steps < 1) usage("--steps " + std::to_string(steps) + ", expected >= 1");
  if (reps < 1) usage("--reps " + std::to_string(reps) + ", expected >= 1");
  at::set_num_threads(threads);
  std::vector<double> ratios, cpu_ratios;
  for (int r = 0; r < reps; ++r) {
    Rate ips[2];
    for (int hand = 0; hand < 2; ++hand) {
      ips[hand] = inference ? time_inference(hand == 1, steps) : time_variant(hand == 1, steps);
      std::printf("{\"variant\":\"%s%s\",\"threads\":%d,\"gemm\":\"%s\",\"steps\":%lld,"
                  "\"images_per_sec\":%.1f,\"images_per_cpu_sec\":%.1f}\n",
                  hand ? "hand-written" : (inference ? "net->forward" : "autograd"), inference ? " inference" : "", threads,
                  hand ? dvae::gemm_backend_name(dvae::gemm_backend()) : "blas", static_cast<long long>(steps),
                  ips[hand].wall, ips[hand].cpu);
      std::fflush(stdout);
    }
    ratios.push_back(ips[1].wall / ips[0].wall);
    cpu_ratios.push_back(ips[1].cpu / ips[0].cpu);
  }
  std::printf("{\"threads\":%d,\"median_ratio_hand_over_autograd\":%.3f,\"min\":%.3f,\"max\":%.3f,"
              "\"median_cpu_time_ratio\":%.3f,\"cpu_min\":%.3f,\"cpu_max\":%.3f}\n",
              threads, median(ratios), *std::min_element(ratios.begin(), ratios.end()),
              *std::max_element(ratios.begin(), ratios.end()), median(cpu_ratios),
              *std::min_element(cpu_ratios.begin(), cpu_ratios.end()),
              *std::max_element(cpu_ratios.begin(), cpu_ratios.end()));
  return 0;
}
