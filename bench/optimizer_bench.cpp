// The fused Adam step (training/flat_optimizer.h) on the MLP VAE's parameter
// count, at 1 and 2 threads interleaved (1 2 1 2 ...) in one process, every
// kernel path this CPU runs. Not a test: it tells whether the optimiser's pass
// over parameters, gradients and both moments (28 bytes a parameter) is
// limited by arithmetic or by memory on this CPU.
//
//   build/bench/dvae_optimizer_bench [--params N] [--steps S] [--reps R]
//
// Prints one JSON line per kernel path, thread count and repetition:
// {"path", "threads", "params", "ms_per_step", "gb_per_s"}.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/cpu_dispatch.h"
#include "training/flat_optimizer.h"

namespace {

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "dvae_optimizer_bench: %s (usage: [--params N] [--steps S] [--reps R])\n", why.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t params = 1301804;  // the paper's MLP VAE (784-500-500-2x10, 10-500-500-784)
  int64_t steps = 200;
  int reps = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage(a + ": missing value");
    const std::string v = argv[++i];
    if (a == "--params") {
      params = std::atoll(v.c_str());
    } else if (a == "--steps") {
      steps = std::atoll(v.c_str());
    } else if (a == "--reps") {
      reps = std::atoi(v.c_str());
    } else {
      usage("unknown option " + a);
    }
  }
  if (params < 1) usage("--params " + std::to_string(params) + ", expected >= 1");
  if (steps < 1) usage("--steps " + std::to_string(steps) + ", expected >= 1");
  if (reps < 1) usage("--reps " + std::to_string(reps) + ", expected >= 1");
  torch::manual_seed(1);
  auto p = torch::randn({params});
  dvae::FlatOptimizer adam({p}, {});
  p.mutable_grad().copy_(torch::randn({params}).mul_(1e-3));
  for (const auto path : dvae::runnable_kernel_paths()) {
    dvae::KernelPathScope scope(path);
    for (int r = 0; r < reps; ++r) {
      for (int threads = 1; threads <= 2; ++threads) {
        at::set_num_threads(threads);
        for (int i = 0; i < 10; ++i) adam.step();
        const auto t0 = std::chrono::steady_clock::now();
        for (int64_t i = 0; i < steps; ++i) adam.step();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double ms = 1e3 * s / static_cast<double>(steps);
        std::printf("{\"path\":\"%s\",\"threads\":%d,\"params\":%lld,\"ms_per_step\":%.3f,\"gb_per_s\":%.1f}\n",
                    dvae::kernel_path_name(path), threads, static_cast<long long>(params), ms,
                    28.0 * static_cast<double>(params) / (ms * 1e6));
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
