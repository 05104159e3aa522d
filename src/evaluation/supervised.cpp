// The supervised baseline: encoder trunk + head trained end to end with Adam.
#include "evaluation/supervised.h"

#include <chrono>
#include <cmath>
#include <mutex>
#include <numeric>

#include "core/check.h"
#include "core/random.h"
#include "evaluation/probe.h"
#include "evaluation/supervised_step.h"
#include "training/flat_optimizer.h"

namespace dvae {

SupervisedClassifierImpl::SupervisedClassifierImpl(const ModelOptions& model, int64_t hidden, int64_t num_classes) {
  DVAE_CHECK(hidden >= 0, "supervised baseline: hidden width ", hidden, ", expected >= 0");
  DVAE_CHECK(num_classes > 0, "supervised baseline: ", num_classes, " classes, expected > 0");
  encoder_ = make_encoder(model);
  register_module("encoder", encoder_);
  int64_t width = model.latent_dim;
  if (hidden > 0) {
    hidden_ = register_module("hidden", torch::nn::Linear(model.latent_dim, hidden));
    width = hidden;
  }
  out_ = register_module("out", torch::nn::Linear(width, num_classes));
}

torch::Tensor SupervisedClassifierImpl::forward(const torch::Tensor& x) {
  auto h = encoder_->encode(x).mu;           // [B,1,H,W] -> [B,D]
  if (hidden_) h = torch::relu(hidden_(h));  // [B,D] -> [B,K]
  return out_(h);                            // -> [B,C]
}

SupervisedFit train_supervised(const ModelOptions& model, const ImageSet& train, const torch::Tensor& subset,
                               const ImageSet& test, const SupervisedOptions& options, uint64_t seed,
                               torch::Device device, const SupervisedProgress& progress,
                               const torch::Tensor& validation) {
  DVAE_CHECK(options.epochs > 0, "supervised baseline: epochs ", options.epochs, ", expected > 0");
  DVAE_CHECK(options.batch_size > 0, "supervised baseline: batch size ", options.batch_size, ", expected > 0");
  DVAE_CHECK(options.eval_batch > 0, "supervised baseline: evaluation batch ", options.eval_batch, ", expected > 0");
  DVAE_CHECK(subset.defined() && subset.dim() == 1 && subset.numel() > 0,
             "supervised baseline: empty labelled subset, expected at least one index");
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t M = subset.numel();
  const int64_t B = std::min(options.batch_size, M);

  SupervisedClassifier net = nullptr;
  {
    // Initialised from the seeded default generator, held against trainings in other
    // threads (a study's scheduler runs VAEs and supervised cells side by side).
    std::lock_guard<std::mutex> lock(default_generator_mutex());
    seed_torch(seed);
    net = SupervisedClassifier(model, options.hidden, train.num_classes);
  }
  net->to(device);
  net->train();
  FlatOptimizerOptions adam_options;
  adam_options.lr = options.lr;
  FlatOptimizer adam(net->parameters(), adam_options);  // fused Adam, same update as torch::optim::Adam

  const auto idx = subset.to(torch::kLong);
  const auto x_all = train.batch(idx).to(device);          // [M,1,H,W] float, converted once
  const auto y_all = train.batch_labels(idx).to(device);   // [M]
  torch::Tensor x_val, y_val;
  if (validation.defined() && validation.numel() > 0) {
    const auto vidx = validation.to(torch::kLong);
    x_val = train.batch(vidx).to(device);         // [V,1,H,W]
    y_val = train.batch_labels(vidx).to(device);  // [V]
  }
  Rng rng(derive_seed(seed, {1}));
  std::vector<int64_t> order(M);
  std::iota(order.begin(), order.end(), 0);
  auto order_t = torch::empty({M}, torch::kLong);
  // The MLP on CPU trains with the hand-written step, which overwrites every
  // gradient it uses (the logvar head's stay zero), so it needs no zero_grad.
  // Its forward pass also serves the validation and test passes (eval_batch rows
  // at a time); the CNN and the autograd reference use net->forward.
  std::unique_ptr<SupervisedMlpStep> hand_step;
  if (model.arch == "mlp" && device.is_cpu() && !options.autograd) {
    const int64_t eval_rows = std::max<int64_t>(x_val.defined() ? x_val.size(0) : 0, test.size());
    hand_step = std::make_unique<SupervisedMlpStep>(*net, model, std::max(B, std::min(options.eval_batch, eval_rows)));
  }
  const auto classify = [&](const torch::Tensor& images) {  // [N,1,H,W] -> logits [N,C]
    if (!hand_step) return net->forward(images);
    auto out = torch::empty({images.size(0), train.num_classes}, images.options());
    hand_step->logits(images, out);
    return out;
  };
  std::vector<int64_t> batch_shape = x_all.sizes().vec();
  batch_shape[0] = B;
  auto x = torch::empty(batch_shape, x_all.options());  // [B,1,H,W] batch buffer
  auto y = torch::empty({B}, y_all.options());          // [B]

  SupervisedFit fit;
  fit.epoch_loss.assign(options.epochs, 0.0);
  for (int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    rng.shuffle(order);
    std::copy(order.begin(), order.end(), order_t.data_ptr<int64_t>());
    const auto perm = order_t.to(device);
    double epoch_sum = 0.0;
    for (int64_t start = 0, batch_no = 0; start < M; start += B, ++batch_no) {
      const int64_t nb = std::min(B, M - start);
      const auto rows = perm.narrow(0, start, nb);
      auto xb = x.narrow(0, 0, nb), yb = y.narrow(0, 0, nb);
      at::index_select_out(xb, x_all, 0, rows);  // [B,1,H,W]
      at::index_select_out(yb, y_all, 0, rows);  // [B]
      double l = 0.0;
      if (hand_step) {
        l = hand_step->run(xb, yb);
      } else {
        adam.zero_grad();
        const auto loss = torch::nn::functional::cross_entropy(net->forward(xb), yb);
        loss.backward();
        l = loss.item<double>();
      }
      adam.step();
      DVAE_CHECK(std::isfinite(l), "supervised baseline: non-finite loss at epoch ", epoch + 1, " batch ",
                 batch_no + 1, ", expected finite (lower --supervised-lr?)");
      epoch_sum += l * static_cast<double>(nb);
    }
    fit.epoch_loss[epoch] = epoch_sum / static_cast<double>(M);
    if (validation.defined() && validation.numel() > 0) {
      net->eval();
      torch::NoGradGuard no_grad;
      double val_sum = 0.0;
      for (int64_t start = 0; start < x_val.size(0); start += options.eval_batch) {
        const int64_t nb = std::min<int64_t>(options.eval_batch, x_val.size(0) - start);
        const auto logits = classify(x_val.narrow(0, start, nb));  // [B,C]
        val_sum += torch::nn::functional::cross_entropy(
                       logits, y_val.narrow(0, start, nb),
                       torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                       .item<double>();
      }
      fit.validation_loss.push_back(val_sum / static_cast<double>(x_val.size(0)));
      net->train();
    }
    if (progress) progress(epoch + 1, options.epochs, fit.epoch_loss[epoch]);
  }
  fit.final_loss = fit.epoch_loss.back();
  fit.epochs_to_convergence = fit.validation_loss.empty()
                                  ? epochs_to_convergence(fit.epoch_loss, options.convergence_tolerance)
                                  : best_epoch(fit.validation_loss);

  net->eval();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> preds;
  for (int64_t start = 0; start < test.size(); start += options.eval_batch) {
    const int64_t end = std::min(test.size(), start + options.eval_batch);
    const auto x = test.batch(torch::arange(start, end, torch::kLong)).to(device);  // [B,1,H,W]
    preds.push_back(classify(x).argmax(1).to(torch::kCPU));                         // [B,C] -> [B]
  }
  fit.test_predictions = torch::cat(preds, 0);
  fit.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return fit;
}

}  // namespace dvae
