// The "m1m2" classifier kind: M2 trained on the codes of each frozen encoder
// (Kingma et al. 2014's M1+M2 with a dvae VAE as M1), one durable row per subset
// and encoder (evaluation/semi_supervised.h).
#include "evaluation/classifier_kind.h"
#include "evaluation/semi_supervised.h"

namespace dvae {

void run_m1m2_classifier(const ClassifierRun& run) { run_semi_supervised(run, /*codes=*/true); }

}  // namespace dvae
