// SupervisedMlpStep: the supervised baseline's MLP forward, cross-entropy and backward by hand.
#include "evaluation/supervised_step.h"

#include <cmath>
#include <vector>

#include "core/check.h"
#include "core/gemm.h"
#include "training/mlp_kernels.h"

namespace dvae {
namespace {

// Mean softmax cross-entropy of logits [B,C] against labels [B], as
// torch::nn::functional::cross_entropy (log-sum-exp about the row maximum, in
// double); dlogits [B,C] = (softmax(logits) - onehot(y)) / B. Throws
// dvae::Error naming a label outside [0,C).
double softmax_cross_entropy_step(const torch::Tensor& logits, const torch::Tensor& y, torch::Tensor& dlogits) {
  const int64_t b = logits.size(0);
  const int64_t c = logits.size(1);
  const float* l = logits.data_ptr<float>();
  const int64_t* labels = y.data_ptr<int64_t>();
  float* d = dlogits.data_ptr<float>();
  const double inv_b = 1.0 / static_cast<double>(b);
  std::vector<double> e(static_cast<size_t>(c));
  double total = 0.0;
  for (int64_t i = 0; i < b; ++i) {
    const float* row = l + i * c;
    const int64_t label = labels[i];
    DVAE_CHECK(label >= 0 && label < c, "supervised step: label ", label, " in row ", i, ", expected 0..", c - 1);
    double m = row[0];
    for (int64_t j = 1; j < c; ++j) m = std::max(m, static_cast<double>(row[j]));
    double s = 0.0;
    for (int64_t j = 0; j < c; ++j) s += (e[j] = std::exp(static_cast<double>(row[j]) - m));
    total += m + std::log(s) - static_cast<double>(row[label]);
    for (int64_t j = 0; j < c; ++j) {
      d[i * c + j] = static_cast<float>((e[j] / s - (j == label ? 1.0 : 0.0)) * inv_b);
    }
  }
  return total * inv_b;
}

}  // namespace

SupervisedMlpStep::SupervisedMlpStep(SupervisedClassifierImpl& net, const ModelOptions& model, int64_t max_batch)
    : activation_(model.mlp_activation), max_batch_(max_batch) {
  DVAE_CHECK(model.arch == "mlp", "the hand-written supervised step got a ", model.arch, " encoder, expected mlp");
  DVAE_CHECK(max_batch > 0, "supervised step: batch capacity ", max_batch, ", expected > 0");
  for (const auto& item : net.named_parameters()) params_[item.key()] = item.value();
  head_hidden_ = params_.count("hidden.weight") == 1;
  std::vector<std::string> names = {"encoder.fc1.weight",    "encoder.fc1.bias",   "encoder.fc2.weight",
                                    "encoder.fc2.bias",      "encoder.mu.weight",  "encoder.mu.bias",
                                    "encoder.logvar.weight", "encoder.logvar.bias", "out.weight", "out.bias"};
  if (head_hidden_) names.insert(names.end(), {"hidden.weight", "hidden.bias"});
  for (const auto& name : names) {
    DVAE_CHECK(params_.count(name) == 1, "supervised step: the classifier has no parameter ", name,
               ", expected the MLP classifier of evaluation/supervised.h");
  }
  DVAE_CHECK(params_.size() == names.size(), "supervised step: the classifier has ", params_.size(),
             " parameters, expected ", names.size());
  const int64_t k = model.mlp_hidden;
  const int64_t d = model.latent_dim;
  const int64_t c = param("out.weight").size(0);
  const auto opts = param("out.weight").options().requires_grad(false);
  for (auto* t : {&a1_, &h1_, &a2_, &h2_, &dk2_, &dk1_}) *t = torch::empty({max_batch, k}, opts);
  mu_ = torch::empty({max_batch, d}, opts);
  dmu_ = torch::empty({max_batch, d}, opts);
  if (head_hidden_) {
    const int64_t j = param("hidden.weight").size(0);
    for (auto* t : {&c_, &g_, &dg_}) *t = torch::empty({max_batch, j}, opts);
  }
  logits_ = torch::empty({max_batch, c}, opts);
  dlogits_ = torch::empty({max_batch, c}, opts);
}

const torch::Tensor& SupervisedMlpStep::param(const std::string& name) const { return params_.at(name); }

torch::Tensor SupervisedMlpStep::forward(const torch::Tensor& x) {
  const int64_t b = x.size(0);
  const auto rows = [b](const torch::Tensor& t) { return t.narrow(0, 0, b); };
  auto a1 = rows(a1_), h1 = rows(h1_), a2 = rows(a2_), h2 = rows(h2_), mu = rows(mu_), logits = rows(logits_);
  const auto W = [this](const char* name) -> const torch::Tensor& { return param(name); };
  // The encoder's trunk up to mu, then the head.
  gemm_out(a1, x, W("encoder.fc1.weight").t());  // [B,P] -> [B,K]
  bias_activation(activation_, h1, a1, W("encoder.fc1.bias"));
  gemm_out(a2, h1, W("encoder.fc2.weight").t());  // [B,K] -> [B,K]
  bias_activation(activation_, h2, a2, W("encoder.fc2.bias"));
  gemm_out(mu, h2, W("encoder.mu.weight").t());
  mu.add_(W("encoder.mu.bias"));  // [B,K] -> [B,D]
  torch::Tensor head_in = mu;     // [B,D]
  if (head_hidden_) {
    auto c = rows(c_), g = rows(g_);
    gemm_out(c, mu, W("hidden.weight").t());  // [B,D] -> [B,J]
    bias_activation("relu", g, c, W("hidden.bias"));
    head_in = g;
  }
  gemm_out(logits, head_in, W("out.weight").t());
  logits.add_(W("out.bias"));  // -> [B,C]
  return logits;
}

void SupervisedMlpStep::logits(const torch::Tensor& x_in, const torch::Tensor& out) {
  torch::NoGradGuard no_grad;
  const int64_t n = x_in.size(0);
  const int64_t c = logits_.size(1);
  DVAE_CHECK(n >= 1, "supervised forward: no images, expected at least one");
  DVAE_CHECK(out.dim() == 2 && out.size(0) == n && out.size(1) == c && out.is_contiguous() &&
                 out.scalar_type() == torch::kFloat32,
             "supervised forward: output of shape ", out.sizes(), ", expected a contiguous float [", n, ",", c, "]");
  const torch::Tensor x = x_in.reshape({n, -1}).contiguous();  // [N,1,H,W] -> [N,P]
  for (int64_t start = 0; start < n; start += max_batch_) {
    const int64_t b = std::min(max_batch_, n - start);
    out.narrow(0, start, b).copy_(forward(x.narrow(0, start, b)));  // [b,P] -> [b,C]
  }
}

double SupervisedMlpStep::run(const torch::Tensor& x_in, const torch::Tensor& y_in) {
  torch::NoGradGuard no_grad;
  const int64_t b = x_in.size(0);
  DVAE_CHECK(b >= 1 && b <= max_batch_, "supervised step: batch of ", b, ", expected 1..", max_batch_);
  DVAE_CHECK(y_in.dim() == 1 && y_in.size(0) == b, "supervised step: ", y_in.numel(), " labels for ", b,
             " images, expected one each");
  for (const auto& [name, p] : params_) {
    DVAE_CHECK(p.grad().defined(), "supervised step: ", name,
               " has no gradient tensor, expected one bound by the optimiser");
  }
  const auto rows = [b](const torch::Tensor& t) { return t.narrow(0, 0, b); };
  const torch::Tensor x = x_in.reshape({b, -1}).contiguous();  // [B,1,H,W] -> [B,P]
  const torch::Tensor y = y_in.to(torch::kLong).contiguous();  // [B]
  const torch::Tensor logits = forward(x);                     // [B,C]
  auto a1 = rows(a1_), h1 = rows(h1_), a2 = rows(a2_), h2 = rows(h2_);
  auto mu = rows(mu_), dmu = rows(dmu_), dlogits = rows(dlogits_);
  auto dk2 = rows(dk2_), dk1 = rows(dk1_);
  torch::Tensor c, g, dg;
  if (head_hidden_) c = rows(c_), g = rows(g_), dg = rows(dg_);
  const torch::Tensor head_in = head_hidden_ ? g : mu;  // [B,D or J]
  const auto W = [this](const char* name) -> const torch::Tensor& { return param(name); };
  const auto G = [this](const char* name) { return param(name).grad(); };
  const double loss = softmax_cross_entropy_step(logits, y, dlogits);

  // Backward from dlogits [B,C].
  gemm_out(G("out.weight"), dlogits.t(), head_in);  // [C,B] x [B,D or J] -> [C,D or J]
  column_sum_into(G("out.bias"), dlogits);         // [B,C] -> [C]
  if (head_hidden_) {
    gemm_out(dg, dlogits, W("out.weight"));  // [B,C] -> [B,J]
    activation_backward("relu", dg, c, g);
    gemm_out(G("hidden.weight"), dg.t(), mu);  // -> [J,D]
    column_sum_into(G("hidden.bias"), dg);    // -> [J]
    gemm_out(dmu, dg, W("hidden.weight"));  // [B,J] -> [B,D]
  } else {
    gemm_out(dmu, dlogits, W("out.weight"));  // [B,C] -> [B,D]
  }
  gemm_out(G("encoder.mu.weight"), dmu.t(), h2);  // -> [D,K]
  column_sum_into(G("encoder.mu.bias"), dmu);    // -> [D]
  gemm_out(dk2, dmu, W("encoder.mu.weight"));  // [B,D] -> [B,K]
  activation_backward(activation_, dk2, a2, h2);
  gemm_out(G("encoder.fc2.weight"), dk2.t(), h1);  // -> [K,K]
  column_sum_into(G("encoder.fc2.bias"), dk2);    // -> [K]
  gemm_out(dk1, dk2, W("encoder.fc2.weight"));  // [B,K] -> [B,K]
  activation_backward(activation_, dk1, a1, h1);
  gemm_out(G("encoder.fc1.weight"), dk1.t(), x);  // -> [K,P]
  column_sum_into(G("encoder.fc1.bias"), dk1);   // -> [K]
  return loss;
}

}  // namespace dvae
