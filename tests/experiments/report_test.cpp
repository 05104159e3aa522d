// Tests for the report files: every section, names from the study, images copied.
#include "experiments/report.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "experiments/study_spec.h"
#include "support/fixtures.h"

namespace dvae {

namespace {

ResultRow row(const std::string& model, int64_t n, int64_t trial, double accuracy, int64_t seed) {
  ResultRow r;
  r.dataset = "mnist";
  r.arch = "mlp";
  r.model = model;
  r.classifier = model == "supervised" ? "supervised" : "probe";
  r.vae_seed = seed;
  r.n = n;
  r.trial = trial;
  r.accuracy = accuracy;
  return r;
}

}  // namespace

TEST(WriteReport, WritesHtmlMarkdownClaimsAndCopiesImages) {
  test::TempDir dir;
  ReportData d;
  d.title = "beta sweep";
  for (int64_t k = 0; k < 3; ++k) {
    for (int64_t t = 0; t < 2; ++t) {
      d.rows.push_back(row("beta=1", 1, t, 0.50 + 0.01 * t + 0.005 * k, k));
      d.rows.push_back(row("beta=4", 1, t, 0.60 + 0.01 * t + 0.003 * k, k));
    }
  }
  d.rows.push_back(row("supervised", 1, 0, 0.40, 0));
  d.rows.push_back(row("supervised", 1, 1, 0.41, 0));
  d.summary = summarise(d.rows);
  ClaimSpec spec;
  spec.kind = "beats";
  spec.a = {"beta=4"};
  spec.b = {"beta=1"};
  const std::vector<VaeOutcome> vaes;
  const ClaimInputs in{d.rows, vaes, {"mnist"}, {"mlp"}, {1}, false};
  d.claims.push_back(evaluate_claim(spec, in));
  const std::string img = dir.file("fig.png");
  test::write_bytes(img, "not really a png");
  d.forest_plots.push_back(img);
  d.figure4.push_back({"mnist", img, "", ""});
  d.config = {{"title", "beta sweep"}, {"models", {{{"name", "beta=1"}}}}};
  const std::string html_path = write_report(d, dir.file("report"));
  const std::string html = read_file(html_path);
  EXPECT_NE(html.find("id=\"accuracy-mnist-mlp\""), std::string::npos);
  EXPECT_NE(html.find("beta sweep"), std::string::npos);
  EXPECT_NE(html.find("src=\"files/"), std::string::npos);
  EXPECT_NE(html.find("class=\"supported\""), std::string::npos) << html;
  EXPECT_NE(html.find("Holm-corrected"), std::string::npos);
  EXPECT_NE(html.find("3 VAE seeds"), std::string::npos);
  EXPECT_EQ(html.find("disentangled"), std::string::npos);  // no built-in model names
  EXPECT_TRUE(std::filesystem::exists(dir.file("report/results.csv")));
  const std::string md = read_file(dir.file("report/report.md"));
  EXPECT_NE(md.find("| beta=4 |"), std::string::npos) << md;
  const auto summary = nlohmann::json::parse(read_file(dir.file("report/summary.json")));
  EXPECT_EQ(summary["claims"][0]["verdict"], "supported");
}

TEST(WriteReport, ExploreSectionGivesTheServeCommandForEachDataSetAndArchitecture) {
  test::TempDir dir;
  ReportData d;
  for (const auto& [arch, model] : {std::pair<std::string, std::string>{"mlp", "standard"}, {"mlp", "beta 4"},
                                    {"cnn", "standard"}}) {
    VaeReport v;
    v.dataset = "mnist";
    v.arch = arch;
    v.model = model;
    v.checkpoint = "/runs/vae/" + arch + "-" + model + "/checkpoint.pt";
    v.stats = nlohmann::json::object();
    v.weights = arch == "cnn" ? "gamma 40" : "beta 1";  // an objective without a beta shows its own weight
    d.vaes.push_back(v);
  }
  write_report(d, dir.file("report"));
  const std::string md = read_file(dir.file("report/report.md"));
  EXPECT_NE(md.find("### mnist cnn standard (gamma 40)"), std::string::npos) << md;
  EXPECT_NE(md.find("### mnist mlp standard (beta 1)"), std::string::npos) << md;
  EXPECT_NE(md.find("## Explore these models"), std::string::npos) << md;
  EXPECT_NE(md.find("dvae serve \\\n    --checkpoint standard=/runs/vae/mlp-standard/checkpoint.pt \\\n    "
                    "--checkpoint 'beta 4=/runs/vae/mlp-beta 4/checkpoint.pt'\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("--checkpoint standard=/runs/vae/cnn-standard/checkpoint.pt"), std::string::npos);
  EXPECT_NE(read_file(dir.file("report/index.html")).find("<h2 id=\"explore\">Explore these models</h2>"),
            std::string::npos);
}

}  // namespace dvae

namespace dvae {

TEST(WriteReport, SectionsOfOtherStagesAppearInBothFormats) {
  test::TempDir dir;
  ReportData d;
  const std::string img = dir.file("scatter.png");
  test::write_bytes(img, "not really a png");
  ReportSection s;
  s.title = "Disentanglement and few-label accuracy";
  s.id = "disentanglement";
  s.blocks.push_back({"p", "A paragraph.", "", {}, {}});
  s.blocks.push_back({"table", "", "", {"metric", "rho"}, {{"mig", "0.42"}}});
  s.blocks.push_back({"figure", "mig against accuracy", img, {}, {}});
  d.sections.push_back(s);
  const std::string html = read_file(write_report(d, dir.file("report")));
  const std::string md = read_file(dir.file("report") + "/report.md");
  EXPECT_NE(html.find("<h2 id=\"disentanglement\">Disentanglement and few-label accuracy</h2>"), std::string::npos);
  EXPECT_NE(html.find("<td>0.42</td>"), std::string::npos);
  EXPECT_NE(md.find("## Disentanglement and few-label accuracy"), std::string::npos);
  EXPECT_NE(md.find("| mig | 0.42 |"), std::string::npos);
  EXPECT_NE(md.find("A paragraph."), std::string::npos);
  EXPECT_NE(md.find("![mig against accuracy](files/"), std::string::npos);
}

}  // namespace dvae
