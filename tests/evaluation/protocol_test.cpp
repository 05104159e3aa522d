// Tests for evaluation/protocol: paired subsets, resume after a kill, settings
// checks, hand-computed summaries and error analysis.
#include "evaluation/protocol.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <cmath>

#include "core/atomic_file.h"
#include "core/check.h"
#include "data/datasets.h"
#include "support/fixtures.h"
#include "toy_encoder.h"

namespace dvae {
namespace {

struct Fixture {
  test::TempDir dir;
  Dataset data;
  ModelOptions model;
  std::vector<FrozenEncoder> encoders;
  ProtocolOptions options;
  Fixture() {
    test::write_synthetic_mnist(dir.path(), 200, 100, 8, false, 2);
    data = load_dataset_dir(dir.path(), "synthetic");
    model.arch = "mlp";
    model.image_size = 8;
    model.mlp_hidden = 16;
    model.latent_dim = 4;
    encoders = {{"disentangled", 4.0, std::make_shared<test::ToyEncoderImpl>(64, 4, 1)},
                {"standard", 1.0, std::make_shared<test::ToyEncoderImpl>(64, 4, 2)}};
    options.sizes = {1, 3, -1};
    options.trials_small = 2;
    options.trials_large = 1;
    options.classifiers[0].probe.epochs = 5;
    options.classifiers[1].supervised.epochs = 2;
    options.validation_per_class = 5;
  }
  std::string results() const { return dir.file("out/results.jsonl"); }
};

int64_t count_lines(const std::string& path) {
  const std::string text = read_file(path);
  return static_cast<int64_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST(protocol, EveryModelSeesTheSameSubsetInATrial) {
  Fixture f;
  const auto rows = run_protocol(f.data, f.model, f.encoders, f.options, f.results(), torch::kCPU);
  ASSERT_EQ(rows.size(), 3u * (2 + 2 + 1));
  std::map<std::pair<int64_t, int64_t>, std::set<std::string>> hashes;
  std::set<std::string> all;
  for (const auto& r : rows) {
    hashes[{r.n, r.trial}].insert(r.subset_sha256);
    all.insert(r.subset_sha256);
    EXPECT_EQ(r.subset_size, r.n < 0 ? 150 : 10 * r.n);  // "all" = every non-validation image
    EXPECT_EQ(r.predictions.size(), 100u);
    EXPECT_EQ(r.confusion.size(), 10u);
    int64_t total = 0;
    for (const auto& row : r.confusion) total += std::accumulate(row.begin(), row.end(), int64_t{0});
    EXPECT_EQ(total, 100);
    EXPECT_EQ(r.beta, r.model == "disentangled" ? 4.0 : r.model == "standard" ? 1.0 : 0.0);
  }
  for (const auto& [cell, h] : hashes) EXPECT_EQ(h.size(), 1u) << "n=" << cell.first << " trial " << cell.second;
  EXPECT_EQ(all.size(), 5u);  // different trials and sizes draw different subsets
  // The subset a row names is the sampler's, disjoint from the validation rows.
  const auto subset = protocol_subset(f.data.train, 3, 1, f.options.seed, 5);
  EXPECT_EQ(subset.numel(), 30);
  const auto val = protocol_validation(f.data.train, 5, f.options.seed);
  ASSERT_EQ(val.numel(), 50);
  std::set<int64_t> v(val.data_ptr<int64_t>(), val.data_ptr<int64_t>() + val.numel());
  for (int64_t i = 0; i < subset.numel(); ++i) EXPECT_FALSE(v.count(subset[i].item<int64_t>()));
  // Epochs to convergence is the best validation epoch of each row's curve.
  for (const auto& r : rows) {
    ASSERT_EQ(r.validation_loss.size(), static_cast<size_t>(r.epochs)) << r.model;
    const auto best = std::min_element(r.validation_loss.begin(), r.validation_loss.end()) - r.validation_loss.begin();
    EXPECT_EQ(r.epochs_to_convergence, best + 1) << r.model;
  }
}

TEST(protocol, AnyNumberOfEncodersAndSeedsWithTheirNames) {
  Fixture f;
  f.options.sizes = {1};
  f.options.classifiers.pop_back();  // probes only
  f.encoders.push_back({"beta=8", 8.0, std::make_shared<test::ToyEncoderImpl>(64, 4, 3), 0});
  f.encoders.push_back({"beta=8", 8.0, std::make_shared<test::ToyEncoderImpl>(64, 4, 4), 1});
  const auto rows = run_protocol(f.data, f.model, f.encoders, f.options, f.results(), torch::kCPU);
  ASSERT_EQ(rows.size(), 2u * 4);
  std::set<std::pair<std::string, int64_t>> seen;
  for (const auto& r : rows) {
    seen.insert({r.model, r.vae_seed});
    EXPECT_EQ(r.classifier, "probe");
  }
  EXPECT_EQ(seen.size(), 4u);
  EXPECT_TRUE(seen.count({"beta=8", 1}));
  // Two probe classifiers name their rows "model / classifier".
  ClassifierSpec hidden = f.options.classifiers[0];
  hidden.name = "hidden";
  hidden.probe.hidden = 8;
  f.options.classifiers.push_back(hidden);
  const auto both = run_protocol(f.data, f.model, f.encoders, f.options, f.dir.file("two/results.jsonl"), torch::kCPU);
  std::set<std::string> names;
  for (const auto& r : both) names.insert(r.model);
  EXPECT_TRUE(names.count("beta=8 / hidden"));
  EXPECT_TRUE(names.count("standard / probe"));
  // Duplicate (name, seed) pairs are refused.
  f.encoders.push_back(f.encoders.back());
  EXPECT_THROW(run_protocol(f.data, f.model, f.encoders, f.options, f.dir.file("x/results.jsonl"), torch::kCPU),
               Error);
}

TEST(protocol, ResumeSkipsFinishedCellsAndRecomputesTornOnes) {
  Fixture f;
  const auto first = run_protocol(f.data, f.model, f.encoders, f.options, f.results(), torch::kCPU);
  ASSERT_EQ(count_lines(f.results()), 15);
  // A rerun trains nothing: same file, same rows.
  const auto second = run_protocol(f.data, f.model, f.encoders, f.options, f.results(), torch::kCPU);
  EXPECT_EQ(count_lines(f.results()), 15);
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(second[i].seconds, first[i].seconds);
  // Simulate a kill: drop the last two rows and leave half a line.
  std::string text = read_file(f.results());
  std::vector<std::string> lines;
  for (size_t s = 0, e; (e = text.find('\n', s)) != std::string::npos; s = e + 1) lines.push_back(text.substr(s, e - s));
  std::string cut;
  for (size_t i = 0; i + 2 < lines.size(); ++i) cut += lines[i] + "\n";
  cut += lines[lines.size() - 2].substr(0, 40);
  write_file_atomic(f.results(), cut);
  const auto third = run_protocol(f.data, f.model, f.encoders, f.options, f.results(), torch::kCPU);
  EXPECT_EQ(count_lines(f.results()), 15);
  ASSERT_EQ(third.size(), first.size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(third[i].model, first[i].model);
    EXPECT_EQ(third[i].predictions, first[i].predictions) << i;  // recomputed rows are identical
    EXPECT_DOUBLE_EQ(third[i].train_loss, first[i].train_loss) << i;
  }
}

TEST(protocol, RefusesRowsMadeWithOtherSettings) {
  Fixture f;
  f.options.classifiers.pop_back();
  f.options.sizes = {1};
  run_protocol(f.data, f.model, f.encoders, f.options, f.results(), torch::kCPU);
  f.options.classifiers[0].probe.epochs = 6;
  EXPECT_THROW(run_protocol(f.data, f.model, f.encoders, f.options, f.results(), torch::kCPU), Error);
  f.options.classifiers[0].probe.epochs = 5;
  f.options.sizes = {1, 1};
  EXPECT_THROW(run_protocol(f.data, f.model, f.encoders, f.options, f.results(), torch::kCPU), Error);
}

TEST(protocol, ReadResultsRejectsGarbageInTheMiddle) {
  test::TempDir dir;
  const std::string path = dir.file("r.jsonl");
  write_file_atomic(path, "not json\n{}\n");
  EXPECT_THROW(read_results(path), Error);
  EXPECT_TRUE(read_results(dir.file("absent.jsonl")).empty());
}

ResultRow hand_row(const std::string& model, int64_t n, int64_t trial, double acc, double loss, int64_t epochs,
                   int64_t vae_seed = 0);

TEST(protocol, ReadResultsRepairsOrSkipsATornTail) {
  test::TempDir dir;
  const std::string path = dir.file("r.jsonl");
  const std::string whole = row_to_json(hand_row("a", 1, 0, 0.5, 0.1, 3)).dump() + "\n" +
                            row_to_json(hand_row("a", 1, 1, 0.6, 0.1, 3)).dump() + "\n";
  const std::string torn = whole + row_to_json(hand_row("a", 1, 2, 0.7, 0.1, 3)).dump().substr(0, 30);
  write_file_atomic(path, torn);
  EXPECT_EQ(read_results(path, TornTail::kSkip).size(), 2u);
  EXPECT_EQ(read_file(path), torn);  // a reader leaves the writer's file alone
  EXPECT_EQ(read_results(path).size(), 2u);
  EXPECT_EQ(read_file(path), whole);  // the writer drops the torn line before appending
}

TEST(protocol, ReadResultsRejectsValuesOutOfRange) {
  test::TempDir dir;
  for (const auto& [key, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"accuracy", 1.5}, {"accuracy", -0.1}, {"n", 0}, {"n", -2}, {"trial", -1}, {"vae_seed", -3}}) {
    auto j = row_to_json(hand_row("a", 1, 0, 0.5, 0.1, 3));
    j[key] = value;
    write_file_atomic(dir.file("r.jsonl"), j.dump() + "\n");
    try {
      (void)read_results(dir.file("r.jsonl"));
      ADD_FAILURE() << key << " = " << value.dump() << ": accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("r.jsonl:1"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
}

ResultRow hand_row(const std::string& model, int64_t n, int64_t trial, double acc, double loss, int64_t epochs,
                   int64_t vae_seed) {
  ResultRow r;
  r.dataset = "mnist";
  r.arch = "mlp";
  r.model = model;
  r.classifier = model == "supervised" ? "supervised" : "probe";
  r.vae_seed = vae_seed;
  r.n = n;
  r.trial = trial;
  r.accuracy = acc;
  r.train_loss = loss;
  r.epochs_to_convergence = epochs;
  return r;
}

TEST(protocol, SummaryMatchesHandComputedValues) {
  // One VAE seed: the label trials are the units.
  const std::vector<ResultRow> rows = {
      hand_row("standard", 1, 0, 0.5, 1.0, 10),     hand_row("disentangled", 1, 0, 0.6, 2.0, 20),
      hand_row("standard", 1, 1, 0.7, 3.0, 30),     hand_row("disentangled", 1, 1, 0.6, 4.0, 40),
      hand_row("disentangled", -1, 0, 0.9, 0.1, 5), hand_row("standard", -1, 0, 0.95, 0.2, 7)};
  const Summary s = summarise(rows);
  ASSERT_EQ(s.cells.size(), 4u);
  // Order: n=1 then all; models in order of first appearance.
  EXPECT_EQ(s.models, (std::vector<std::string>{"standard", "disentangled"}));
  EXPECT_EQ(s.cells[0].model, "standard");
  EXPECT_EQ(s.cells[0].n, 1);
  EXPECT_EQ(s.cells[0].unit, "label trials");
  EXPECT_NEAR(s.cells[0].accuracy_mean, 0.6, 1e-12);
  EXPECT_NEAR(s.cells[0].accuracy_std, std::sqrt(0.02), 1e-12);  // {0.5, 0.7}: sample std
  // 95% interval with df 1: 0.6 +- 12.7062 * 0.1 .
  EXPECT_NEAR(s.cells[0].accuracy_ci_high, 0.6 + 12.7062 * 0.1, 1e-3);
  EXPECT_NEAR(s.cells[0].train_loss_mean, 2.0, 1e-12);
  EXPECT_NEAR(s.cells[0].epochs_mean, 20.0, 1e-12);
  EXPECT_NEAR(s.cells[1].accuracy_std, 0.0, 1e-12);
  EXPECT_EQ(s.cells[2].n, -1);
  ASSERT_EQ(s.paired.size(), 2u);
  EXPECT_EQ(s.paired[0].model_a, "disentangled");
  EXPECT_EQ(s.paired[0].model_b, "standard");
  EXPECT_NEAR(s.paired[0].difference_mean, 0.0, 1e-12);  // {+0.1, -0.1}
  EXPECT_NEAR(s.paired[0].difference_std, std::sqrt(0.02), 1e-12);
  EXPECT_NEAR(s.paired[0].p_value, 1.0, 1e-9);
  EXPECT_NEAR(s.paired[1].difference_mean, -0.05, 1e-12);
  EXPECT_EQ(s.paired[1].pairs, 1);
  const std::string table = format_summary(s);
  EXPECT_NE(table.find("0.6000 ["), std::string::npos) << table;
  EXPECT_NE(table.find("all"), std::string::npos);
  EXPECT_NE(summary_csv(s).find("mnist,mlp,\"standard\",1,1,2,label trials,0.6,"), std::string::npos)
      << summary_csv(s);
}

TEST(protocol, SeedsAreTheUnitsAndTheSupervisedRowsPairWithEverySeed) {
  // Two models x 3 VAE seeds x 2 trials, and a supervised baseline (no seed).
  std::vector<ResultRow> rows;
  const double a[3][2] = {{0.60, 0.62}, {0.70, 0.72}, {0.65, 0.67}};
  const double b[3][2] = {{0.50, 0.50}, {0.55, 0.57}, {0.60, 0.58}};
  for (int k = 0; k < 3; ++k) {
    for (int t = 0; t < 2; ++t) {
      rows.push_back(hand_row("A", 1, t, a[k][t], 0, 0, k));
      rows.push_back(hand_row("B", 1, t, b[k][t], 0, 0, k));
    }
  }
  rows.push_back(hand_row("supervised", 1, 0, 0.40, 0, 0));
  rows.push_back(hand_row("supervised", 1, 1, 0.44, 0, 0));
  // Seed means of A - B: 0.11, 0.15, 0.07 -> mean 0.11, sd 0.04, se 0.04/sqrt(3), t = 4.763, df 2.
  const auto p = compare_models(rows, "mnist", "mlp", 1, "A", "B");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->unit, "VAE seeds");
  EXPECT_EQ(p->pairs, 3);
  EXPECT_EQ(p->trials, 2);
  EXPECT_NEAR(p->difference_mean, 0.11, 1e-12);
  EXPECT_NEAR(p->difference_std, 0.04, 1e-12);
  EXPECT_NEAR(p->ci_low, 0.11 - 4.302653 * 0.04 / std::sqrt(3.0), 1e-5);
  EXPECT_NEAR(p->p_value, 0.04137, 1e-4);
  // A - supervised: per seed the trial-mean difference, the baseline shared by every seed.
  const auto q = compare_models(rows, "mnist", "mlp", 1, "A", "supervised");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->pairs, 3);
  EXPECT_NEAR(q->difference_mean, (0.19 + 0.29 + 0.24) / 3, 1e-12);
  const Summary s = summarise(rows);
  EXPECT_EQ(s.cells[0].vae_seeds, 3);
  EXPECT_EQ(s.cells[0].unit, "VAE seeds");
  EXPECT_NEAR(s.cells[0].accuracy_mean, 0.66, 1e-12);
  EXPECT_EQ(metric_from_name("train_loss"), Metric::kTrainLoss);
  EXPECT_THROW(metric_from_name("speed"), Error);
}

TEST(protocol, ErrorAnalysisCountsDisagreements) {
  auto a = hand_row("beta=4", 1, 0, 0, 0, 0);
  auto b = hand_row("beta=1", 1, 0, 0, 0, 0);
  a.predictions = {0, 9, 2, 9};
  b.predictions = {9, 1, 2, 9};
  const auto j = error_analysis({a, b}, torch::tensor({0, 1, 2, 3}, torch::kLong), 1);
  ASSERT_EQ(j["comparisons"].size(), 1u);
  const auto& c = j["comparisons"][0];
  EXPECT_EQ(c["model_a"], "beta=4");
  EXPECT_EQ(c["a_wrong_b_right"], 1);
  EXPECT_EQ(c["a_right_b_wrong"], 1);
  EXPECT_EQ(c["both_wrong"], 1);
  EXPECT_EQ(c["both_right"], 1);
  EXPECT_EQ(c["a_wrong_b_right_first"], nlohmann::json::array({1}));
  EXPECT_EQ(c["a_right_b_wrong_first"], nlohmann::json::array({0}));
}

TEST(protocol, RowJsonRoundTrips) {
  auto r = hand_row("supervised", 10, 3, 0.25, 0.5, 9);
  r.seed = 77;
  r.predictions = {1, 2};
  r.confusion = {{1, 0}, {0, 1}};
  r.per_class_accuracy = {1.0, 0.5};
  r.epoch_loss = {2.0, 1.0};
  r.validation_loss = {2.5, 1.5};
  r.vae_seed = 2;
  const auto back = row_from_json(row_to_json(r), "test");
  EXPECT_EQ(row_to_json(back), row_to_json(r));
  auto j = row_to_json(r);
  j.erase("accuracy");
  EXPECT_THROW(row_from_json(j, "test"), Error);
}

// Found by fuzz_results: nlohmann casts a float to an integer (undefined out of
// range), so a float where an integer belongs must be an error naming the key.
TEST(protocol, FloatsWhereIntegersBelongAreErrorsNamingTheKey) {
  auto r = hand_row("supervised", 10, 3, 0.25, 0.5, 9);
  r.confusion = {{1, 0}, {0, 1}};
  r.predictions = {1, 0};
  for (const auto& [key, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"confusion", nlohmann::json::parse("[[1, 0], [0, 6.6e49]]")},
           {"predictions", nlohmann::json::parse("[1, 2.5]")},
           {"n", 1e300},
           {"trial", 18446744073709551615ull},
           {"seed", -1.5}}) {
    auto j = row_to_json(r);
    j[key] = value;
    try {
      (void)row_from_json(j, "r.jsonl:1");
      ADD_FAILURE() << key << " = " << value.dump() << ": accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("\"" + key + "\""), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace dvae
