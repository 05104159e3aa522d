// XGBoost through its C API: one booster per target, importance by total gain.
#include "evaluation/gbt_importance.h"

#include <xgboost/c_api.h>

#include <limits>
#include <string>

#include "core/check.h"

namespace dvae {
namespace {

void xgb_check(int rc, const char* what) {
  DVAE_CHECK(rc == 0, "XGBoost ", what, ": ", XGBGetLastError());
}

// Owns a DMatrix of float rows [N,D] with labels [N].
class XgbMatrix {
 public:
  XgbMatrix(const torch::Tensor& x, const torch::Tensor& y) {
    const torch::Tensor xf = x.to(torch::kFloat).contiguous();
    const torch::Tensor yf = y.to(torch::kFloat).contiguous();
    xgb_check(XGDMatrixCreateFromMat(xf.data_ptr<float>(), static_cast<bst_ulong>(xf.size(0)),
                                     static_cast<bst_ulong>(xf.size(1)), std::numeric_limits<float>::quiet_NaN(),
                                     &handle_),
              "DMatrix");
    xgb_check(XGDMatrixSetFloatInfo(handle_, "label", yf.data_ptr<float>(), static_cast<bst_ulong>(yf.size(0))),
              "labels");
  }
  ~XgbMatrix() { XGDMatrixFree(handle_); }
  XgbMatrix(const XgbMatrix&) = delete;
  XgbMatrix& operator=(const XgbMatrix&) = delete;
  DMatrixHandle get() const { return handle_; }

 private:
  DMatrixHandle handle_ = nullptr;
};

class XgbBooster {
 public:
  explicit XgbBooster(const XgbMatrix& train) {
    DMatrixHandle m[1] = {train.get()};
    xgb_check(XGBoosterCreate(m, 1, &handle_), "booster");
  }
  ~XgbBooster() { XGBoosterFree(handle_); }
  XgbBooster(const XgbBooster&) = delete;
  XgbBooster& operator=(const XgbBooster&) = delete;
  void set(const std::string& name, const std::string& value) {
    xgb_check(XGBoosterSetParam(handle_, name.c_str(), value.c_str()), name.c_str());
  }
  BoosterHandle get() const { return handle_; }

 private:
  BoosterHandle handle_ = nullptr;
};

// Predictions [N] (regression) or class probabilities [N,classes].
torch::Tensor xgb_predict(const XgbBooster& b, const XgbMatrix& m, int64_t rows, int64_t classes) {
  bst_ulong len = 0;
  const float* out = nullptr;
  xgb_check(XGBoosterPredict(b.get(), m.get(), 0, 0, 0, &len, &out), "predict");
  const int64_t width = classes >= 2 ? classes : 1;
  DVAE_CHECK(static_cast<int64_t>(len) == rows * width, "XGBoost predict: ", len, " values, expected ", rows * width);
  return torch::from_blob(const_cast<float*>(out), {rows, width}, torch::kFloat).clone();
}

double xgb_score(const torch::Tensor& pred, const torch::Tensor& y, int64_t classes) {
  const torch::Tensor yd = y.to(torch::kDouble);
  if (classes >= 2) return pred.argmax(1).to(torch::kDouble).eq(yd).to(torch::kDouble).mean().item<double>();
  const double total = (yd - yd.mean()).pow(2).sum().item<double>();
  if (total <= 0) return 0.0;
  const double residual = (yd - pred.squeeze(1).to(torch::kDouble)).pow(2).sum().item<double>();
  return 1.0 - residual / total;
}

}  // namespace

GbtFit fit_gbt(const torch::Tensor& x_train, const torch::Tensor& y_train, const torch::Tensor& x_test,
               const torch::Tensor& y_test, int64_t classes, const GbtOptions& options) {
  DVAE_CHECK(x_train.dim() == 2 && x_test.dim() == 2 && x_train.size(1) == x_test.size(1),
             "fit_gbt: codes of shapes ", x_train.sizes(), " and ", x_test.sizes(), ", expected [N,D] each");
  DVAE_CHECK(classes == 0 || classes >= 2, "fit_gbt: ", classes, " classes, expected 0 (regression) or >= 2");
  const int64_t d = x_train.size(1);
  const XgbMatrix train(x_train, y_train), test(x_test, y_test);
  XgbBooster b(train);
  b.set("tree_method", "hist");
  b.set("nthread", std::to_string(options.threads));
  b.set("max_depth", std::to_string(options.max_depth));
  b.set("eta", std::to_string(options.eta));
  b.set("seed", std::to_string(options.seed));
  b.set("verbosity", "0");
  if (classes >= 2) {
    b.set("objective", "multi:softprob");
    b.set("num_class", std::to_string(classes));
  } else {
    b.set("objective", "reg:squarederror");
  }
  for (int64_t r = 0; r < options.rounds; ++r) xgb_check(XGBoosterUpdateOneIter(b.get(), static_cast<int>(r), train.get()), "update");

  GbtFit fit;
  fit.importance.assign(static_cast<size_t>(d), 0.0);
  bst_ulong n_features = 0, dim = 0;
  const char** names = nullptr;
  const bst_ulong* shape = nullptr;
  const float* scores = nullptr;
  xgb_check(XGBoosterFeatureScore(b.get(), R"({"importance_type": "total_gain"})", &n_features, &names, &dim, &shape,
                                  &scores),
            "feature importance");
  for (bst_ulong i = 0; i < n_features; ++i) {
    const std::string name = names[i];  // "f<column>" for unnamed features
    DVAE_CHECK(name.size() > 1 && name[0] == 'f', "XGBoost feature importance: feature '", name, "', expected f<k>");
    const int64_t k = std::stoll(name.substr(1));
    DVAE_CHECK(k >= 0 && k < d, "XGBoost feature importance: feature ", k, ", expected < ", d);
    fit.importance[static_cast<size_t>(k)] = static_cast<double>(scores[i]);
  }
  fit.train_score = xgb_score(xgb_predict(b, train, x_train.size(0), classes), y_train, classes);
  fit.test_score = xgb_score(xgb_predict(b, test, x_test.size(0), classes), y_test, classes);
  return fit;
}

}  // namespace dvae
