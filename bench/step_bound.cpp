// The speed bound of a training step: the matrix products (MLP) and the
// convolutions and matrix products (CNN) of one step of the paper's VAEs at
// batch 100, timed alone through LibTorch at the same shapes, layouts and
// thread count, with nothing else (no activations, loss, batch norm, pooling or
// optimiser); "supervised" is the supervised baseline's step on the MLP
// (evaluation/supervised_step.cpp: the encoder 784-500-500-10 and the linear
// head 10-10). No implementation of the step can run faster than this on the
// same BLAS; bench/run_benchmarks.py sets dvae's images/s beside it, and bounds
// the MLP paper preset's wall time with the mlp and supervised figures.
//
//   build/bench/dvae_step_bound --arch mlp|cnn|supervised --threads N [--steps S] [--gemm blas|onednn]
//
// The MLP's products go through core/gemm.h's gemm_out, as the step issues them,
// on the backend --gemm names (default: dvae's rule for this CPU). Prints one JSON
// line: {"arch", "threads", "gemm", "steps", "seconds_per_step", "images_per_sec",
// "mflop_per_image"}. OpenBLAS's kernel and OpenMP's wait
// policy come from the environment (the driver sets them as dvae chooses).
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "core/gemm.h"
#include "models/conv_transpose.h"

namespace {

constexpr int64_t kBatch = 100;

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "dvae_step_bound: %s (usage: --arch mlp|cnn|supervised --threads N [--steps S] [--gemm blas|onednn])\n",
               why.c_str());
  std::exit(2);
}

torch::Tensor rnd(std::vector<int64_t> shape) { return torch::randn(shape) * 0.05; }

// The MLP step's matrix products exactly as training/mlp_step.cpp issues them
// (B = 100, P = 784, K = 500, D = 10; nn::Linear weights [out, in]).
std::function<void()> mlp_products(double& flop) {
  const int64_t B = kBatch, P = 784, K = 500, D = 10;
  struct State {
    torch::Tensor x, w1, w2, wmu, wlv, wd1, wd2, wout;
    torch::Tensor a1, a2, mu, lv, c1, c2, logits, dlogits, dk1, dk2, dz, dmu, dlv;
    torch::Tensor gw1, gw2, gwmu, gwlv, gwd1, gwd2, gwout;
  };
  auto s = std::make_shared<State>();
  s->x = torch::rand({B, P});
  s->w1 = rnd({K, P}), s->w2 = rnd({K, K}), s->wmu = rnd({D, K}), s->wlv = rnd({D, K});
  s->wd1 = rnd({K, D}), s->wd2 = rnd({K, K}), s->wout = rnd({P, K});
  s->a1 = rnd({B, K}), s->a2 = rnd({B, K}), s->mu = rnd({B, D}), s->lv = rnd({B, D});
  s->c1 = rnd({B, K}), s->c2 = rnd({B, K}), s->logits = rnd({B, P}), s->dlogits = rnd({B, P});
  s->dk1 = rnd({B, K}), s->dk2 = rnd({B, K}), s->dz = rnd({B, D}), s->dmu = rnd({B, D}), s->dlv = rnd({B, D});
  s->gw1 = rnd({K, P}), s->gw2 = rnd({K, K}), s->gwmu = rnd({D, K}), s->gwlv = rnd({D, K});
  s->gwd1 = rnd({K, D}), s->gwd2 = rnd({K, K}), s->gwout = rnd({P, K});
  // Forward 7 products, backward 13 (dX of the first layer is not needed).
  const double macs_forward = P * K + K * K + 2 * K * D + D * K + K * K + K * P;
  const double macs_backward = 2 * P * K + 2 * K * K + 2 * K * D + 4 * D * K + 2 * K * K + K * P;
  flop = 2.0 * B * (macs_forward + macs_backward);
  return [s] {
    auto& t = *s;
    dvae::gemm_out(t.a1, t.x, t.w1.t());
    dvae::gemm_out(t.a2, t.a1, t.w2.t());
    dvae::gemm_out(t.mu, t.a2, t.wmu.t());
    dvae::gemm_out(t.lv, t.a2, t.wlv.t());
    dvae::gemm_out(t.c1, t.mu, t.wd1.t());
    dvae::gemm_out(t.c2, t.c1, t.wd2.t());
    dvae::gemm_out(t.logits, t.c2, t.wout.t());
    dvae::gemm_out(t.gwout, t.dlogits.t(), t.c2);
    dvae::gemm_out(t.dk2, t.dlogits, t.wout);
    dvae::gemm_out(t.gwd2, t.dk2.t(), t.c1);
    dvae::gemm_out(t.dk1, t.dk2, t.wd2);
    dvae::gemm_out(t.gwd1, t.dk1.t(), t.mu);
    dvae::gemm_out(t.dz, t.dk1, t.wd1);
    dvae::gemm_out(t.gwmu, t.dmu.t(), t.a2);
    dvae::gemm_out(t.gwlv, t.dlv.t(), t.a2);
    dvae::gemm_out(t.dk2, t.dmu, t.wmu);
    dvae::gemm_out(t.dk2, t.dlv, t.wlv, /*accumulate=*/true);
    dvae::gemm_out(t.gw2, t.dk2.t(), t.a1);
    dvae::gemm_out(t.dk1, t.dk2, t.w2);
    dvae::gemm_out(t.gw1, t.dk1.t(), t.x);
  };
}

// The supervised baseline's step on the MLP exactly as evaluation/supervised_step.cpp
// issues its products (B = 100, P = 784, K = 500, D = 10 encoder outputs, C = 10
// classes, the paper's head without a hidden layer).
std::function<void()> supervised_products(double& flop) {
  const int64_t B = kBatch, P = 784, K = 500, D = 10, C = 10;
  struct State {
    torch::Tensor x, w1, w2, wmu, wout, a1, a2, mu, logits, dlogits, dmu, dk2, dk1, gw1, gw2, gwmu, gwout;
  };
  auto s = std::make_shared<State>();
  s->x = torch::rand({B, P});
  s->w1 = rnd({K, P}), s->w2 = rnd({K, K}), s->wmu = rnd({D, K}), s->wout = rnd({C, D});
  s->a1 = rnd({B, K}), s->a2 = rnd({B, K}), s->mu = rnd({B, D}), s->logits = rnd({B, C});
  s->dlogits = rnd({B, C}), s->dmu = rnd({B, D}), s->dk2 = rnd({B, K}), s->dk1 = rnd({B, K});
  s->gw1 = rnd({K, P}), s->gw2 = rnd({K, K}), s->gwmu = rnd({D, K}), s->gwout = rnd({C, D});
  // Forward 4 products, backward 7 (dX of the first layer is not needed).
  const double macs_forward = P * K + K * K + K * D + D * C;
  const double macs_backward = 2 * C * D + 2 * D * K + 2 * K * K + K * P;
  flop = 2.0 * B * (macs_forward + macs_backward);
  return [s] {
    auto& t = *s;
    dvae::gemm_out(t.a1, t.x, t.w1.t());
    dvae::gemm_out(t.a2, t.a1, t.w2.t());
    dvae::gemm_out(t.mu, t.a2, t.wmu.t());
    dvae::gemm_out(t.logits, t.mu, t.wout.t());
    dvae::gemm_out(t.gwout, t.dlogits.t(), t.mu);
    dvae::gemm_out(t.dmu, t.dlogits, t.wout);
    dvae::gemm_out(t.gwmu, t.dmu.t(), t.a2);
    dvae::gemm_out(t.dk2, t.dmu, t.wmu);
    dvae::gemm_out(t.gw2, t.dk2.t(), t.a1);
    dvae::gemm_out(t.dk1, t.dk2, t.w2);
    dvae::gemm_out(t.gw1, t.dk1.t(), t.x);
  };
}

// The CNN VAE's convolutions, transposed convolutions and linear layers
// (models/cnn.cpp), each forward and backward (input and weight gradients)
// through LibTorch (the transposed convolutions through dvae's module, on the
// path the model uses), on inputs of the shapes the step feeds them.
std::function<void()> cnn_products(double& flop) {
  const int64_t B = kBatch, F = 1024, D = 10;
  struct Layer {
    std::function<torch::Tensor(const torch::Tensor&)> forward;
    torch::Tensor input, grad_out;
    bool input_grad;
  };
  auto layers = std::make_shared<std::vector<Layer>>();
  auto conv1 = torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 32, 5));
  auto conv2 = torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 5));
  auto fc = torch::nn::Linear(1024, F), mu = torch::nn::Linear(F, D), lv = torch::nn::Linear(F, D);
  auto fc1 = torch::nn::Linear(D, F), fc2 = torch::nn::Linear(F, 128 * 7 * 7);
  // The decoder's transposed convolutions on the paths models/cnn.cpp gives them.
  auto de1 = dvae::TransposedConv2d(
      dvae::TransposedConv2dOptions(128, 64, 4).stride(2).padding(1).path(dvae::TransposedConvPath::kAuto));
  auto de2 = dvae::TransposedConv2d(
      dvae::TransposedConv2dOptions(64, 1, 4).stride(2).padding(1).path(dvae::TransposedConvPath::kLibTorch));
  auto add = [&](auto module, std::vector<int64_t> in, std::vector<int64_t> out, bool input_grad) {
    layers->push_back({[module](const torch::Tensor& x) mutable { return module->forward(x); },
                       torch::rand(in).requires_grad_(input_grad), torch::randn(out), input_grad});
  };
  add(conv1, {B, 1, 28, 28}, {B, 32, 24, 24}, false);
  add(conv2, {B, 32, 12, 12}, {B, 64, 8, 8}, true);
  add(fc, {B, 1024}, {B, F}, true);
  add(mu, {B, F}, {B, D}, true);
  add(lv, {B, F}, {B, D}, true);
  add(fc1, {B, D}, {B, F}, true);
  add(fc2, {B, F}, {B, 128 * 7 * 7}, true);
  add(de1, {B, 128, 7, 7}, {B, 64, 14, 14}, true);
  add(de2, {B, 64, 14, 14}, {B, 1, 28, 28}, true);
  // Multiply-adds per image of each layer's forward; backward is twice that (once without dX for conv1).
  const double macs_conv1 = 24.0 * 24 * 32 * 25, macs_conv2 = 8.0 * 8 * 64 * 32 * 25;
  const double macs_lin = 1024.0 * F + 2.0 * F * D + D * F + F * 128.0 * 49;
  const double macs_de = 7.0 * 7 * 128 * 64 * 16 + 14.0 * 14 * 64 * 16;
  flop = 2.0 * B * (macs_conv1 * 2 + (macs_conv2 + macs_lin + macs_de) * 3);
  return [layers] {
    for (auto& l : *layers) {
      auto y = l.forward(l.input);
      y.backward(l.grad_out);
    }
  };
}

}  // namespace

int main(int argc, char** argv) {
  std::string arch;
  int threads = 0;
  int64_t steps = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage(a + ": missing value");
    const std::string v = argv[++i];
    if (a == "--arch") {
      arch = v;
    } else if (a == "--threads") {
      threads = std::atoi(v.c_str());
    } else if (a == "--steps") {
      steps = std::atoll(v.c_str());
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
  if (arch != "mlp" && arch != "cnn" && arch != "supervised")
    usage("--arch '" + arch + "', expected mlp, cnn or supervised");
  if (threads < 1 || threads > 1024) usage("--threads, expected 1..1024");
  const bool cnn = arch == "cnn";
  if (steps == 0) steps = cnn ? 40 : arch == "mlp" ? 600 : 1200;
  if (steps < 1) usage("--steps, expected >= 1");
  at::set_num_threads(threads);
  torch::manual_seed(1);
  double flop = 0;
  const auto step = cnn ? cnn_products(flop) : arch == "mlp" ? mlp_products(flop) : supervised_products(flop);
  for (int i = 0; i < (cnn ? 5 : 50); ++i) step();  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i) step();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / steps;
  std::printf("{\"arch\":\"%s\",\"threads\":%d,\"gemm\":\"%s\",\"steps\":%lld,\"seconds_per_step\":%.6g,"
              "\"images_per_sec\":%.1f,"
              "\"mflop_per_image\":%.2f}\n",
              arch.c_str(), threads, dvae::gemm_backend_name(dvae::gemm_backend()), static_cast<long long>(steps), s,
              kBatch / s, flop / kBatch / 1e6);
  return 0;
}
