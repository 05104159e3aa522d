// Classifier heads on frozen features (the paper's section 3.3 "FC layer and
// softmax" on a frozen VAE encoder): a linear softmax layer, or one hidden ReLU
// layer of width H then softmax, trained with Adam on cross-entropy.
//
// Speed: features are precomputed (evaluation/features.h), so a head's training
// step is ~2*B*F*C multiply-adds. LibTorch's per-op dispatch would cost more
// than the arithmetic, so train_probes() trains a whole stack of heads (every
// trial of every subset size, of several encoders) in one call with a fused,
// allocation-free C++ kernel: the parameters and Adam moments of all T heads live
// in one stacked buffer [T,P], and the heads are spread over threads. Every head
// is computed by the same sequential code whatever the stack, so a head trained
// in a stack is bit-identical to the same head trained alone.
//
// Definitions used in results:
//  - epoch loss: mean per-example cross-entropy over one epoch's minibatches,
//    each computed with the parameters before that minibatch's update (the usual
//    running training loss); "final training loss" is the last epoch's.
//  - validation loss: with a validation set (ProbeTask::validation), the mean
//    cross-entropy on it after each epoch; epochs to convergence is then the
//    epoch (1-based) of the lowest validation loss (best_epoch), the epoch that
//    early stopping on validation loss would keep.
//  - without one, epochs to convergence (tolerance tau, default 0.01): the first epoch e
//    (1-based) such that every epoch e' >= e has |L(e') - L(final)| <= tau *
//    (max_e L(e) - L(final)), i.e. the epoch after which the training loss stays
//    within 1% of its total descent from its final value.
//
// Tensor legend: N feature rows, F features, M subset size, B minibatch, H hidden
// width, C classes, T heads.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace dvae {

/// How a probe head is trained; defaults are the paper's (section 4.2).
struct ProbeOptions {
  int64_t epochs = 100;                 ///< passes over the subset (paper: 100)
  double lr = 0.01;                     ///< Adam learning rate (paper: 0.01)
  int64_t batch_size = 100;             ///< minibatch; the effective batch is min(batch_size, M)
  int64_t hidden = 0;                   ///< H: 0 = linear softmax head; > 0 adds one FC ReLU layer of width H
  double convergence_tolerance = 0.01;  ///< tau in the epochs-to-convergence definition above
  double beta1 = 0.9;                   ///< Adam beta1 (PyTorch default)
  double beta2 = 0.999;                 ///< Adam beta2 (PyTorch default)
  double eps = 1e-8;                    ///< Adam epsilon (PyTorch default)
};

/// One head to train: which rows of which features, and its seed.
struct ProbeTask {
  torch::Tensor features;   ///< float [N,F] on the CPU (shared between tasks; not copied)
  torch::Tensor labels;     ///< int64 [N], in [0, num_classes)
  torch::Tensor subset;     ///< int64 [M] rows of features/labels to train on, M > 0
  int64_t num_classes = 10; ///< C
  uint64_t seed = 1;        ///< initialisation and per-epoch shuffles (dvae::Rng)
  torch::Tensor validation; ///< optional int64 [V] held-out rows scored after every epoch (undefined = none)
};

/// A trained head's parameters (float, CPU).
struct ProbeHead {
  torch::Tensor hidden_weight;  ///< [F,H]; undefined for a linear head
  torch::Tensor hidden_bias;    ///< [H]; undefined for a linear head
  torch::Tensor weight;         ///< [K,C] with K = H (hidden head) or F (linear head)
  torch::Tensor bias;           ///< [C]
};

/// A trained head and its training curve.
struct ProbeFit {
  ProbeHead head;                     ///< the parameters after the last epoch
  std::vector<double> epoch_loss;     ///< per-epoch training loss (see file header), size epochs
  std::vector<double> validation_loss;  ///< per-epoch validation loss; empty without a validation set
  double final_loss = 0.0;            ///< epoch_loss.back()
  int64_t epochs_to_convergence = 0;  ///< see file header
  double seconds = 0.0;               ///< wall time spent on this head (its own thread)
};

/// Trains every task's head (see file header); threads <= 0 uses torch::get_num_threads().
/// Result i belongs to tasks[i] and equals train_probes({tasks[i]}, options)[0] exactly.
std::vector<ProbeFit> train_probes(const std::vector<ProbeTask>& tasks, const ProbeOptions& options, int threads = 0);

/// Logits of a head on features: [N,F] -> [N,C].
torch::Tensor probe_logits(const ProbeHead& head, const torch::Tensor& features);

/// Predicted classes of a head on features: [N,F] -> int64 [N].
torch::Tensor probe_predict(const ProbeHead& head, const torch::Tensor& features);

/// The 1-based epoch of the lowest validation loss (the first one on ties); 0 for an empty curve.
int64_t best_epoch(const std::vector<double>& validation_loss);

/// Epochs to convergence of a loss curve (definition in the file header); 0 for an empty curve.
int64_t epochs_to_convergence(const std::vector<double>& epoch_loss, double tolerance);

}  // namespace dvae
