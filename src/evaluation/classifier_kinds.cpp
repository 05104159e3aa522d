// The classifier-kind registry (see classifier_kind.h): one line per kind.
#include "evaluation/classifier_kind.h"

#include "core/check.h"

namespace dvae {

const std::vector<ClassifierKind>& classifier_kinds() {
  static const std::vector<ClassifierKind> kinds = {
      {"probe", "softmax head (linear or one hidden layer) on a frozen encoder's latent means", true,
       run_probe_classifier},
      {"supervised", "the encoder's architecture plus the same head, trained end to end on the labels only", false,
       run_supervised_classifier},
      {"m2", "Kingma et al. 2014's semi-supervised M2 on pixels (beta on the z-KL), labelled and unlabelled images",
       false, run_m2_classifier, true},
      {"m1m2", "M2 on a frozen encoder's codes (M1+M2, Gaussian likelihood), labelled and unlabelled images", true,
       run_m1m2_classifier, true},
  };
  return kinds;
}

const ClassifierKind& find_classifier_kind(const std::string& name) {
  std::string known;
  for (const auto& k : classifier_kinds()) {
    if (k.name == name) return k;
    known += (known.empty() ? "" : ", ") + k.name;
  }
  throw Error(detail::concat("classifier kind '", name, "', expected one of ", known));
}

}  // namespace dvae
