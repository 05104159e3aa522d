// Tests for training/m2_trainer: bit-identical resume on the CPU, corrupt and
// mismatched checkpoints are one-line errors, and the curve has what it says.
#include "training/m2_trainer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/check.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

struct Toy {
  M2Inputs train, test;
  torch::Tensor labelled, unlabelled, validation;
  M2Options model;
  M2TrainOptions options;
  Toy() {
    torch::manual_seed(11);
    // Two classes of 6-pixel images: class c lights pixels 3c..3c+2 with probability 0.9.
    auto labels = torch::randint(0, 2, {60}, torch::kLong);
    auto p = torch::full({60, 6}, 0.1);
    for (int64_t i = 0; i < 60; ++i) p[i].narrow(0, 3 * labels[i].item<int64_t>(), 3).fill_(0.9);
    train = {p.view({60, 1, 2, 3}), {}, labels};
    test = {p.narrow(0, 0, 20).view({20, 1, 2, 3}), {}, labels.narrow(0, 0, 20)};
    labelled = torch::arange(0, 4, torch::kLong);
    unlabelled = torch::arange(10, 60, torch::kLong);
    validation = torch::arange(4, 10, torch::kLong);
    model.x_dim = 6;
    model.image_size = 0;
    model.hidden = 8;
    model.hidden_layers = 1;
    model.z_dim = 2;
    model.num_classes = 2;
    options.epochs = 4;
    options.unlabelled_batch = 16;
    options.labelled_batch = 8;
    options.lr = 1e-2;
  }
  M2Fit fit(const std::string& checkpoint, int64_t epochs, const std::string& tag = "toy") const {
    M2TrainOptions o = options;
    o.epochs = epochs;
    M2Run run;
    run.seed = 5;
    run.checkpoint = checkpoint;
    run.tag = tag;
    return train_m2(model, train, labelled, unlabelled, validation, test, o, run);
  }
};

TEST(M2Trainer, ResumeIsBitIdenticalOnTheCpu) {
  Toy toy;
  test::TempDir dir;
  const M2Fit straight = toy.fit("", 4);
  const std::string ckpt = dir.file("m2.pt");
  toy.fit(ckpt, 2);
  ASSERT_TRUE(std::filesystem::exists(ckpt));
  const M2Fit resumed = toy.fit(ckpt, 4);
  ASSERT_EQ(resumed.curve.size(), 4u);
  for (size_t e = 0; e < 4; ++e) {
    EXPECT_EQ(resumed.curve[e].epoch, static_cast<int64_t>(e + 1));
    EXPECT_EQ(resumed.curve[e].loss, straight.curve[e].loss) << "epoch " << e + 1;
    EXPECT_EQ(resumed.curve[e].test_accuracy, straight.curve[e].test_accuracy) << "epoch " << e + 1;
  }
  EXPECT_TRUE(torch::equal(resumed.test_predictions, straight.test_predictions));
}

TEST(M2Trainer, CurveRecordsEveryEpochAndTheClassifierLearns) {
  Toy toy;
  toy.options.lr = 3e-2;
  const M2Fit fit = toy.fit("", 6);
  ASSERT_EQ(fit.curve.size(), 6u);
  for (const auto& e : fit.curve) {
    EXPECT_GE(e.test_accuracy, 0.0);
    EXPECT_GE(e.validation_accuracy, 0.0);
    EXPECT_TRUE(std::isfinite(e.loss));
  }
  EXPECT_LT(fit.curve.back().loss, fit.curve.front().loss);
  EXPECT_GE(fit.curve.back().test_accuracy, 0.9);  // two well-separated classes
  EXPECT_EQ(fit.test_predictions.numel(), 20);
}

void expect_one_line_error(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_NE(m.find(needle), std::string::npos) << m;
  }
}

TEST(M2Trainer, CorruptCheckpointIsAOneLineError) {
  Toy toy;
  test::TempDir dir;
  const std::string ckpt = dir.file("m2.pt");
  write_file_atomic(ckpt, "not a checkpoint at all");
  expect_one_line_error([&] { toy.fit(ckpt, 2); }, ckpt);
  toy.fit(dir.file("good.pt"), 1);
  std::string bytes = read_file(dir.file("good.pt"));
  bytes.resize(bytes.size() / 2);  // truncated
  write_file_atomic(ckpt, bytes);
  expect_one_line_error([&] { toy.fit(ckpt, 2); }, ckpt);
}

TEST(M2Trainer, MismatchedCheckpointIsAOneLineError) {
  Toy toy;
  test::TempDir dir;
  const std::string ckpt = dir.file("m2.pt");
  toy.fit(ckpt, 1);
  Toy other = toy;
  other.options.beta = 2.0;
  expect_one_line_error([&] { other.fit(ckpt, 2); }, "checkpoint trained with");
  Toy wider = toy;
  wider.model.hidden = 9;
  expect_one_line_error([&] { wider.fit(ckpt, 2); }, "expected an M2 with");
  expect_one_line_error([&] { toy.fit(ckpt, 2, "another subset"); }, "another subset");
}

TEST(M2Trainer, LearningRateDecaysGeometricallyPerEpoch) {
  M2TrainOptions o;
  o.lr = 1e-3;
  EXPECT_DOUBLE_EQ(m2_epoch_lr(o, 1), 1e-3);
  EXPECT_DOUBLE_EQ(m2_epoch_lr(o, 50), 1e-3);  // lr_decay 1: constant
  o.lr_decay = 0.5;
  EXPECT_DOUBLE_EQ(m2_epoch_lr(o, 1), 1e-3);
  EXPECT_DOUBLE_EQ(m2_epoch_lr(o, 2), 5e-4);
  EXPECT_DOUBLE_EQ(m2_epoch_lr(o, 4), 1.25e-4);
  // Absent from the options JSON at 1 (so earlier checkpoints still resume), present otherwise.
  EXPECT_FALSE(m2_train_options_to_json(M2TrainOptions{}).contains("lr_decay"));
  EXPECT_DOUBLE_EQ(m2_train_options_to_json(o).at("lr_decay").get<double>(), 0.5);
}

TEST(M2Trainer, DecayingRunChangesTrainingAndResumesBitIdentically) {
  Toy toy;
  Toy decaying = toy;
  decaying.options.lr_decay = 0.5;
  const M2Fit constant = toy.fit("", 3);
  const M2Fit straight = decaying.fit("", 3);
  EXPECT_EQ(straight.curve[0].loss, constant.curve[0].loss);  // epoch 1 runs at lr in both
  EXPECT_NE(straight.curve[2].loss, constant.curve[2].loss);
  test::TempDir dir;
  const std::string ckpt = dir.file("m2.pt");
  decaying.fit(ckpt, 1);
  expect_one_line_error([&] { toy.fit(ckpt, 3); }, "checkpoint trained with");  // another schedule
  const M2Fit resumed = decaying.fit(ckpt, 3);
  for (size_t e = 0; e < 3; ++e) EXPECT_EQ(resumed.curve[e].loss, straight.curve[e].loss) << "epoch " << e + 1;
  EXPECT_TRUE(torch::equal(resumed.test_predictions, straight.test_predictions));
}

TEST(M2Trainer, BadOptionsAreErrors) {
  Toy toy;
  toy.options.labelled_batch = 0;
  EXPECT_THROW(toy.fit("", 1), Error);
  for (double decay : {0.0, -0.5, 1.5}) {
    Toy bad;
    bad.options.lr_decay = decay;
    expect_one_line_error([&] { bad.fit("", 1); }, "lr_decay");
  }
  Toy empty;
  empty.labelled = torch::empty({0}, torch::kLong);
  EXPECT_THROW(empty.fit("", 1), Error);
}

}  // namespace
}  // namespace dvae
