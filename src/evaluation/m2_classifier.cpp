// The "m2" classifier kind: Kingma et al. 2014's M2 trained on pixels, the
// labelled subset and every other training image unlabelled, one durable row per
// subset (evaluation/semi_supervised.h).
#include "evaluation/classifier_kind.h"
#include "evaluation/semi_supervised.h"

namespace dvae {

void run_m2_classifier(const ClassifierRun& run) { run_semi_supervised(run, /*codes=*/false); }

}  // namespace dvae
