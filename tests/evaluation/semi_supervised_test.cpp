// Tests for evaluation/semi_supervised and the m2 / m1m2 kinds in the protocol:
// inputs, unlabelled rows, active units, rows with their settings (refused when
// they change), the encoders restriction, and on real MNIST that M2 beats the
// supervised baseline of the same subset.
#include "evaluation/semi_supervised.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "core/check.h"
#include "data/datasets.h"
#include "evaluation/classifier_kind.h"
#include "evaluation/metrics.h"
#include "evaluation/protocol.h"
#include "evaluation/supervised.h"
#include "support/fixtures.h"
#include "toy_encoder.h"

namespace dvae {
namespace {

TEST(SemiSupervised, UnlabelledRowsLeaveOutLabelledAndValidation) {
  const auto rows = unlabelled_rows(8, torch::tensor({1, 5}, torch::kLong), torch::tensor({0, 7}, torch::kLong));
  EXPECT_TRUE(torch::equal(rows, torch::tensor({2, 3, 4, 6}, torch::kLong)));
  EXPECT_EQ(unlabelled_rows(3, torch::tensor({0}, torch::kLong), {}).numel(), 2);
}

TEST(SemiSupervised, ActiveUnitsAreThoseWithSpreadMeans) {
  // Unit 0 varies (std ~ 1), unit 1 is constant, unit 2 varies a little (std 0.05).
  auto mu = torch::zeros({4, 3});
  mu.select(1, 0).copy_(torch::tensor({-1.0, 1.0, -1.0, 1.0}));
  mu.select(1, 2).copy_(torch::tensor({-0.05, 0.05, -0.05, 0.05}));
  EXPECT_EQ(active_units(mu, 0.1), (std::vector<int64_t>{0}));
  EXPECT_EQ(active_units(mu, 0.01), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(active_units(torch::zeros({4, 2}), 0.1), (std::vector<int64_t>{0, 1}));  // none active: keep all
}

TEST(SemiSupervised, PixelAndCodeInputs) {
  ImageSet set;
  set.images = torch::tensor({0, 255, 51, 102}, torch::kUInt8).view({1, 2, 2});
  set.labels = torch::tensor({3}, torch::kLong);
  const M2Inputs px = pixel_inputs(set);
  EXPECT_EQ(px.x.sizes(), (std::vector<int64_t>{1, 1, 2, 2}));
  EXPECT_NEAR(px.x.flatten()[2].item<double>(), 0.2, 1e-6);
  EXPECT_FALSE(px.x_logvar.defined());
  test::ToyEncoderImpl enc(4, 3, 1);
  const M2Inputs codes = code_inputs(enc, set, {0, 2});
  EXPECT_EQ(codes.x.sizes(), (std::vector<int64_t>{1, 2}));
  const auto mu = enc.encode(px.x).mu;
  EXPECT_NEAR(codes.x[0][1].item<double>(), mu[0][2].item<double>(), 1e-6);
  EXPECT_NEAR(codes.x_logvar[0][1].item<double>(), -mu[0][2].item<double>(), 1e-6);  // toy logvar = -mu
}

struct Grid {
  test::TempDir dir;
  Dataset data;
  ModelOptions model;
  std::vector<FrozenEncoder> encoders;
  ProtocolOptions options;
  Grid() {
    test::write_synthetic_mnist(dir.path(), 120, 40, 8, false, 2);
    data = load_dataset_dir(dir.path(), "synthetic");
    model.image_size = 8;
    encoders = {{"a", 1.0, std::make_shared<test::ToyEncoderImpl>(64, 4, 1)},
                {"b", 4.0, std::make_shared<test::ToyEncoderImpl>(64, 4, 2)}};
    options.sizes = {1, 3};
    options.trials_small = 1;
    options.validation_per_class = 3;
    ClassifierSpec m2;
    m2.name = "m2";
    m2.kind = "m2";
    m2.semi.train.epochs = 2;
    m2.semi.hidden = 8;
    m2.semi.z_dim = 2;
    m2.semi.train.unlabelled_batch = 32;
    m2.semi.train.labelled_batch = 8;
    ClassifierSpec m1m2 = m2;
    m1m2.name = "m1m2";
    m1m2.kind = "m1m2";
    m1m2.encoders = {"b"};
    options.classifiers = {m2, m1m2};
  }
  std::string results() const { return dir.file("out/results.jsonl"); }
};

TEST(SemiSupervised, KindsWriteRowsWithTheirSettingsAndCurves) {
  Grid g;
  const auto rows = run_protocol(g.data, g.model, g.encoders, g.options, g.results(), torch::kCPU);
  ASSERT_EQ(rows.size(), 4u);  // (m2 + m1m2 on "b") x 2 sizes
  for (const auto& r : rows) {
    EXPECT_TRUE(r.model == "m2" || r.model == "b") << r.model;
    EXPECT_EQ(r.epochs, 2);
    EXPECT_EQ(r.epoch_loss.size(), 2u);
    EXPECT_EQ(r.validation_loss.size(), 2u);
    EXPECT_EQ(r.settings.at("beta").get<double>(), 1.0);
    EXPECT_EQ(r.predictions.size(), 40u);
    EXPECT_EQ(r.beta, r.model == "b" ? 4.0 : 0.0);
  }
  // Accuracy against epochs is logged beside the results; checkpoints are gone once the row is written.
  int curves = 0;
  for (const auto& e : std::filesystem::directory_iterator(g.dir.file("out/semi_supervised"))) {
    EXPECT_EQ(e.path().string().find(".checkpoint.pt"), std::string::npos) << e.path();
    curves += e.path().string().find(".curve.jsonl") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(curves, 4);
  // A rerun trains nothing; other settings are refused.
  const auto again = run_protocol(g.data, g.model, g.encoders, g.options, g.results(), torch::kCPU);
  EXPECT_EQ(again[0].seconds, rows[0].seconds);
  g.options.classifiers[0].semi.train.beta = 4.0;
  EXPECT_THROW(run_protocol(g.data, g.model, g.encoders, g.options, g.results(), torch::kCPU), Error);
}

TEST(SemiSupervised, EveryKindIsRegisteredWithItsFlags) {
  EXPECT_TRUE(find_classifier_kind("m2").semi_supervised);
  EXPECT_FALSE(find_classifier_kind("m2").uses_encoder);
  EXPECT_TRUE(find_classifier_kind("m1m2").semi_supervised);
  EXPECT_TRUE(find_classifier_kind("m1m2").uses_encoder);
}

TEST(SemiSupervised, M2BeatsTheSupervisedBaselineOnASmallRealSubsetSlow) {
  const std::string dir = test::real_mnist_dir();
  if (dir.empty()) GTEST_SKIP() << "real MNIST not installed";
  const Dataset data = load_dataset_dir(dir, "mnist");
  const auto validation = protocol_validation(data.train, 10, 1);
  const auto subset = protocol_subset(data.train, 10, 0, 1, 10);  // 100 labels
  const ImageSet test = data.test.subset(torch::arange(0, 2000, torch::kLong));
  SupervisedOptions sup;
  sup.epochs = 100;
  const auto base = train_supervised(ModelOptions{}, data.train, subset, test, sup, 1, torch::kCPU);
  const double base_acc = accuracy(base.test_predictions, test.labels);
  M2Options m;
  m.hidden_layers = 1;
  M2TrainOptions o;
  // One pass over the 59,800 unlabelled images (598 balanced batches of 100 + 100). The paper's alpha = 0.1 needs tens of
  // passes to overtake the baseline (README: 45% after one, 55% after seven); alpha = 5 gets there in one.
  o.epochs = 1;
  o.alpha = 5;
  o.eval_every = 0;
  M2Run run;
  run.seed = 1;
  const auto unl = unlabelled_rows(data.train.size(), subset, validation);
  const auto fit = train_m2(m, pixel_inputs(data.train), subset, unl, validation, pixel_inputs(test), o, run);
  const double m2_acc = accuracy(fit.test_predictions, test.labels);
  EXPECT_GT(m2_acc, base_acc) << "M2 " << m2_acc << " vs supervised " << base_acc;
  std::printf("M2 %.4f vs supervised %.4f\n", m2_acc, base_acc);
}

}  // namespace
}  // namespace dvae
