// Tests for the claim verdicts and the report files.
#include "experiments/report.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "support/fixtures.h"

namespace dvae {

namespace {

ResultRow row(const std::string& model, int64_t n, int64_t trial, double accuracy, double loss, int64_t epochs) {
  ResultRow r;
  r.arch = "mlp";
  r.model = model;
  r.n = n;
  r.trial = trial;
  r.accuracy = accuracy;
  r.train_loss = loss;
  r.epochs_to_convergence = epochs;
  return r;
}

ReportData sample_data() {
  ReportData d;
  // n = 1: disentangled wins by 10 points in both trials; n = 100: ties.
  for (int64_t t = 0; t < 2; ++t) {
    d.rows.push_back(row("disentangled", 1, t, 0.60 + 0.01 * t, 0.9, 40));
    d.rows.push_back(row("standard", 1, t, 0.50 + 0.01 * t, 0.5, 42));
    d.rows.push_back(row("supervised", 1, t, 0.40 + 0.01 * t, 0.1, 60));
  }
  d.rows.push_back(row("disentangled", 100, 0, 0.905, 0.9, 40));
  d.rows.push_back(row("standard", 100, 0, 0.91, 0.5, 41));
  d.rows.push_back(row("supervised", 100, 0, 0.92, 0.1, 50));
  d.summary = summarise(d.rows);
  VaeReport dis;
  dis.arch = "mlp";
  dis.model = "disentangled";
  dis.beta = 4;
  dis.stats = {{"kl_per_latent", {1.0, 2.0, 0.001, 0.002, 3.0, 0.0, 1.5, 0.003, 0.004, 2.5}}};
  VaeReport std_ = dis;
  std_.model = "standard";
  std_.beta = 1;
  std_.stats = {{"kl_per_latent", {1.0, 2.0, 1.0, 2.0, 3.0, 0.5, 1.5, 0.3, 0.4, 2.5}}};
  d.vaes = {std_, dis};
  d.config = {{"preset", "quick"}};
  return d;
}

const Claim& find(const std::vector<Claim>& claims, const std::string& start) {
  for (const auto& c : claims)
    if (c.statement.rfind(start, 0) == 0) return c;
  throw std::runtime_error("no claim starting with " + start);
}

}  // namespace

TEST(EvaluateClaims, VerdictsFollowTheNumbers) {
  const auto claims = evaluate_claims(sample_data());
  EXPECT_EQ(find(claims, "The disentangled VAE beats the standard VAE").verdict, "yes");
  EXPECT_NE(find(claims, "The disentangled VAE beats the standard VAE").evidence.find("+10.0"), std::string::npos);
  EXPECT_EQ(find(claims, "The disentangled VAE beats the supervised").verdict, "yes");
  EXPECT_EQ(find(claims, "With more labels").verdict, "yes");  // 1.5 points behind is within the 2-point tolerance
  EXPECT_EQ(find(claims, "At convergence").verdict, "yes");     // 0.1 < 0.5 < 0.9 everywhere
  EXPECT_EQ(find(claims, "About half").verdict, "yes");         // 5 of 10 collapsed vs none
  EXPECT_EQ(find(claims, "The scarce-label advantage").verdict, "not tested");  // one architecture only
}

TEST(EvaluateClaims, ReversedAccuracyGivesNo) {
  auto d = sample_data();
  for (auto& r : d.rows)
    if (r.n == 1 && r.model == "disentangled") r.accuracy = 0.30;
  d.summary = summarise(d.rows);
  const auto claims = evaluate_claims(d);
  EXPECT_EQ(find(claims, "The disentangled VAE beats the standard VAE").verdict, "no");
}

TEST(WriteReport, WritesHtmlMarkdownAndCopiesImages) {
  test::TempDir dir;
  auto d = sample_data();
  const std::string img = dir.file("fig.png");
  test::write_bytes(img, "not really a png");
  d.figure4_png = img;
  const std::string html_path = write_report(d, dir.file("report"));
  const std::string html = read_file(html_path);
  EXPECT_NE(html.find("id=\"accuracy-mlp\""), std::string::npos);
  EXPECT_NE(html.find("quick"), std::string::npos);
  EXPECT_NE(html.find("src=\"files/"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir.file("report/report.md")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("report/results.csv")));
  const std::string md = read_file(dir.file("report/report.md"));
  EXPECT_NE(md.find("| disentangled |"), std::string::npos);
}

}  // namespace dvae
