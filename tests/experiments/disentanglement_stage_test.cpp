// Tests for experiments/disentanglement_stage: the report section's answer
// follows its rule (a metric rising with accuracy says yes, falling says no,
// both together not clearly), and a tiny study on mnist-affine generated from
// synthetic digits scores every VAE (table and generator metrics), records the
// values in the store, reports them and skips them on a rerun.
#include "experiments/disentanglement_stage.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "core/atomic_file.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

namespace fs = std::filesystem;

// k-th of 8 VAEs: accuracy rises with k at n = 1 and 10; "up" rises with k, "down" falls.
std::vector<DisentanglementScore> monotone_scores(const std::vector<std::string>& metrics) {
  std::vector<DisentanglementScore> out;
  for (int k = 0; k < 8; ++k) {
    DisentanglementScore s;
    s.unit.dataset = "d";
    s.unit.arch = "mlp";
    s.unit.model = "m" + std::to_string(k);
    s.unit.stats = {{"active_latents", 3}, {"test_elbo", -100.0 - k}};
    for (int64_t n : {1, 10}) {
      for (int t = 0; t < 2; ++t) {
        ResultRow r;
        r.n = n;
        r.trial = t;
        r.accuracy = 0.2 + 0.05 * k + 0.01 * t;
        s.unit.probe_rows.push_back(r);
      }
    }
    for (const auto& m : metrics) s.metrics.emplace_back(m, m == "up" ? 0.1 * k : 1.0 - 0.1 * k);
    out.push_back(s);
  }
  return out;
}

std::string answer_text(const ReportSection& s) {
  for (const auto& b : s.blocks) {
    if (b.kind == "p" && b.text.find("do more disentangled encoders") != std::string::npos) return b.text;
  }
  return "";
}

TEST(DisentanglementSection, AnswerFollowsTheRule) {
  test::TempDir dir;
  const ReportSection up = disentanglement_section(monotone_scores({"up"}), {1, 10, 1000}, dir.file("f"));
  EXPECT_NE(answer_text(up).find("measurements: yes (2 of 2 metric/size pairs say better, 0 worse"),
            std::string::npos)
      << answer_text(up);
  const ReportSection down = disentanglement_section(monotone_scores({"down"}), {1, 10}, dir.file("f"));
  EXPECT_NE(answer_text(down).find("measurements: no, the reverse (0 of 2"), std::string::npos) << answer_text(down);
  const ReportSection both = disentanglement_section(monotone_scores({"up", "down"}), {1, 10}, dir.file("f"));
  EXPECT_NE(answer_text(both).find("measurements: not clearly (2 of 4"), std::string::npos) << answer_text(both);
  // The per-model table: one row per VAE, the accuracy columns at n <= 100 only.
  const ReportBlock& table = up.blocks.at(1);
  ASSERT_EQ(table.kind, "table");
  EXPECT_EQ(table.rows.size(), 8u);
  EXPECT_EQ(table.head.back(), "acc n=10");
  EXPECT_EQ(table.rows[7].back(), "55.5");  // (0.55 + 0.56) / 2
}

TEST(DisentanglementSection, ProbeAccuracyIsTheMeanOverTrials) {
  const auto scores = monotone_scores({"up"});
  EXPECT_DOUBLE_EQ(probe_accuracy_at(scores[0].unit, 1), 0.205);
  EXPECT_TRUE(std::isnan(probe_accuracy_at(scores[0].unit, 100)));
}

TEST(DisentanglementSection, StudyOptionsScaleTheGeneratorScores) {
  const MetricOptions o = study_metric_options(300, 7);
  EXPECT_EQ(o.intervention_train, 300);
  EXPECT_EQ(o.intervention_eval, 150);
  EXPECT_EQ(o.variance_estimate, 3000);
  EXPECT_EQ(study_metric_options(5000, 7).variance_estimate, 10000);
  EXPECT_EQ(o.bins, 20);
  EXPECT_EQ(o.seed, 7u);
}

// mnist-affine from 600 + 200 synthetic digits; 2 models x 2 seeds x 1 epoch.
constexpr const char* kTinyStudy =
    "title = \"tiny disentanglement\"\n"
    "datasets = [\"mnist-affine\"]\n"
    "archs = [\"mlp\"]\n"
    "vae_seeds = 2\n"
    "sizes = [1, 10]\n"
    "trials_small = 2\n"
    "validation_per_class = 0\n"
    "disentanglement = \"all\"\n"
    "disentanglement_points = 10\n"
    "models = [{name = \"b1\", beta = 1, epochs = 1, latent_dim = 4}, {name = \"b4\", beta = 4, epochs = 1, "
    "latent_dim = 4}]\n"
    "classifiers = [{name = \"probe\", kind = \"probe\", epochs = 5}]\n";

TEST(DisentanglementStudySlow, ScoresEveryVaeRecordsReportsAndSkipsOnRerun) {
  test::TempDir dir;
  test::write_synthetic_mnist(dir.file("root/mnist"), 600, 200, 28, false, 3);
  const std::string spec = dir.file("tiny.toml"), out = dir.file("out");
  test::write_bytes(spec, kTinyStudy);
  const std::string args = "--threads 1 --data-root " + dir.file("root") + " study run " + spec + " --out " + out;
  const auto first = test::run_dvae(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ResultsDb db(out + "/results.sqlite");
  const auto vaes = db.all("vae");
  ASSERT_EQ(vaes.size(), 4u);
  for (const auto& v : vaes) {
    const auto values = db.disentanglement(v.key);
    std::set<std::string> names;
    for (const auto& [name, value] : values) {
      names.insert(name);
      EXPECT_TRUE(std::isfinite(value)) << name;
      EXPECT_GE(value, 0.0) << name;
      EXPECT_LE(value, 1.0) << name;
    }
    for (const char* k : {"mig", "sap", "dci_disentanglement", "dci_completeness", "dci_informativeness",
                          "modularity", "beta_vae", "factor_vae"}) {
      EXPECT_TRUE(names.count(k)) << k << " missing for " << v.label;
    }
  }
  const std::string md = read_file(out + "/report/report.md");
  EXPECT_NE(md.find("## Disentanglement and few-label accuracy"), std::string::npos);
  EXPECT_NE(md.find("mnist-affine: do more disentangled encoders classify better with few labels?"),
            std::string::npos);
  EXPECT_NE(md.find("| beta_vae |"), std::string::npos);  // a row of the correlation table
  const auto again = test::run_dvae(args);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("disentanglement scored earlier, skipped"), std::string::npos) << again.err;
  EXPECT_EQ(again.err.find("scoring disentanglement"), std::string::npos) << again.err;
}

}  // namespace
}  // namespace dvae
