// The "supervised" classifier kind: the VAE encoder's architecture with the
// probe's head, trained end to end on each subset (evaluation/supervised.h),
// one durable row at a time (the expensive part of the grid).
#include "core/random.h"
#include "evaluation/classifier_kind.h"

namespace dvae {

namespace {
constexpr uint64_t kSupervisedStream = 0x7375706572;  // "super"
}  // namespace

void run_supervised_classifier(const ClassifierRun& run) {
  for (const auto& c : run.cells) {
    ResultRow r = run.blank(c, -1);
    if (!run.pending(r)) continue;
    const uint64_t s = derive_seed(run.options.seed, {kSupervisedStream, static_cast<uint64_t>(c.n),
                                                      static_cast<uint64_t>(c.trial)});
    const SupervisedFit fit = train_supervised(run.model, run.data.train, c.subset, run.data.test,
                                               run.spec.supervised, s, run.device, {}, run.validation);
    r.train_loss = fit.final_loss;
    r.epoch_loss = fit.epoch_loss;
    r.validation_loss = fit.validation_loss;
    r.epochs_to_convergence = fit.epochs_to_convergence;
    r.seconds = fit.seconds;
    run.finish(r, fit.test_predictions);
  }
}

}  // namespace dvae
