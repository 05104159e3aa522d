// Tests for analysis/plots: gnuplot runs, the files exist, the SVG is well-formed
// XML with an <svg> root, the PNG decodes at the expected size, the CSV holds
// the plotted numbers. Skipped when gnuplot is not installed.
#include "analysis/plots.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "analysis/grid.h"
#include "analysis/png.h"
#include "core/atomic_file.h"
#include "core/check.h"
#include "gnuplot_check.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

namespace fs = std::filesystem;

using test::have_gnuplot;

#define REQUIRE_GNUPLOT() \
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot not installed"

/// Parses path with Python's xml.etree when available, else checks for an <svg root by hand.
void expect_svg(const std::string& path) {
  ASSERT_TRUE(fs::exists(path)) << path;
  const std::string text = read_file(path);
  EXPECT_NE(text.find("<svg"), std::string::npos);
  EXPECT_NE(text.find("</svg>"), std::string::npos);
  if (fs::exists("/usr/bin/python3")) {
    const auto r = test::run_shell("/usr/bin/python3 -c \"import sys, xml.etree.ElementTree as E; "
                                   "r = E.parse(sys.argv[1]).getroot(); "
                                   "sys.exit(0 if r.tag.endswith('svg') else 3)\" '" + path + "'");
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
}

std::vector<ResultRow> fake_records() {
  std::vector<ResultRow> rows;
  for (const std::string arch : {"mlp", "cnn"}) {
    for (const std::string model : {"disentangled", "standard", "supervised"}) {
      for (int64_t n : {1, 10, 100, -1}) {
        for (int64_t trial = 0; trial < 3; ++trial) {
          ResultRow r;
          r.dataset = "mnist";
          r.arch = arch;
          r.model = model;
          r.classifier = model == "supervised" ? "supervised" : "probe";
          r.beta = model == "disentangled" ? 4.0 : (model == "standard" ? 1.0 : 0.0);
          r.n = n;
          r.trial = trial;
          const double base = n == -1 ? 0.98 : 0.5 + 0.1 * std::log10(static_cast<double>(n));
          r.accuracy = base + 0.01 * static_cast<double>(trial);
          rows.push_back(r);
        }
      }
    }
  }
  return rows;
}

TEST(Plots, Figure4WritesPngSvgCsv) {
  REQUIRE_GNUPLOT();
  test::TempDir dir;
  const PlotFiles f = plot_accuracy_vs_labels(fake_records(), dir.path());
  const auto png = read_png(f.png);
  EXPECT_EQ(png.size(0), 520);
  EXPECT_EQ(png.size(1), 1280);  // two panels
  expect_svg(f.svg);
  const std::string csv = read_file(f.csv);
  EXPECT_NE(csv.find("dataset,arch,model,beta,n,x,mean_accuracy,ci_low,ci_high,std_accuracy,unit,replicates,rows"),
            std::string::npos);
  // Mean of {0.98, 0.99, 1.00} = 0.99, sd 0.01, 95% t interval 0.99 -+ 4.303 * 0.01 / sqrt(3).
  const double half = 4.302652729911275 * 0.01 / std::sqrt(3.0);
  char want[160];
  std::snprintf(want, sizeof(want), "mnist,mlp,supervised,0,-1,6000,0.99,%.6g,%.6g,0.01,label trials,3,3",
                0.99 - half, 0.99 + half);
  EXPECT_NE(csv.find(want), std::string::npos) << want << "\n" << csv;
  // mlp panel first, models in order of first appearance, n ascending with "all" last.
  EXPECT_LT(csv.find("mnist,mlp,disentangled,4,1,"), csv.find("mnist,mlp,disentangled,4,-1,"));
  EXPECT_LT(csv.find("mnist,mlp,disentangled,4,-1,"), csv.find("mnist,mlp,standard,1,1,"));
  EXPECT_LT(csv.find("mnist,mlp,"), csv.find("mnist,cnn,"));
  EXPECT_NE(read_file(f.script).find("95% interval over label trials"), std::string::npos);
  const std::string script = read_file(f.script);
  EXPECT_NE(script.find("\"all\" 6000"), std::string::npos);
  EXPECT_NE(script.find("set logscale x"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.file("figure4.png.tmp")));
}

TEST(Plots, LatentKlConfusionAndCurvesRender) {
  REQUIRE_GNUPLOT();
  test::TempDir dir;
  const PlotFiles kl = plot_latent_kl({3.2, 0.001, 1.1, 0.0}, "MLP VAE, beta = 4", dir.file("kl"));
  EXPECT_GT(read_png(kl.png).size(0), 0);
  expect_svg(kl.svg);
  EXPECT_NE(read_file(kl.csv).find("1,0.001,1"), std::string::npos);

  std::vector<std::vector<int64_t>> confusion(10, std::vector<int64_t>(10, 1));
  for (int i = 0; i < 10; ++i) confusion[i][i] = 90;
  const PlotFiles cm = plot_confusion(confusion, "confusion", dir.file("sub/cm"));
  EXPECT_EQ(read_png(cm.png).size(1), 640);
  expect_svg(cm.svg);
  EXPECT_THROW(plot_confusion({{1, 2}, {3}}, "bad", dir.file("bad")), Error);

  std::vector<EpochRecord> log;
  for (int64_t e = 1; e <= 4; ++e) {
    EpochRecord r;
    r.epoch = e;
    r.train_recon = 200.0 / static_cast<double>(e);
    r.test_recon = r.train_recon + 2;
    r.train_kl = 10 + static_cast<double>(e);
    r.test_kl = r.train_kl;
    r.test_elbo = -(r.test_recon + r.test_kl);
    log.push_back(r);
  }
  const PlotFiles curves = plot_training_curves(log, "training", dir.file("curves"));
  EXPECT_EQ(read_png(curves.png).size(1), 1500);
  expect_svg(curves.svg);
}

// A gnuplot that draws, then cuts its PNG or SVG short and exits 0: what gnuplot
// does when its writes fail on a full disk (cairo ignores write errors).
std::string truncating_gnuplot(const test::TempDir& dir, const std::string& which) {
  const std::string path = dir.file("gnuplot-" + which);
  test::write_bytes(path, "#!/bin/sh\n" + find_gnuplot() + " \"$@\" || exit $?\n"
                          "f=$(printf '%s' \"$2\" | sed -n \"s/.*" + which + "_out='\\([^']*\\)'.*/\\1/p\")\n"
                          "truncate -s 600 \"$f\"\n");
  fs::permissions(path, fs::perms::owner_all);
  return path;
}

TEST(Plots, TruncatedOutputOfGnuplotNeverBecomesTheFigure) {
  REQUIRE_GNUPLOT();
  for (const std::string which : {"png", "svg"}) {
    test::TempDir dir;
    PlotOptions options;
    options.gnuplot = truncating_gnuplot(dir, which);
    const std::string stem = dir.file("figs/kl");
    try {
      plot_latent_kl({3.2, 0.001, 1.1}, "kl", stem, options);
      FAIL() << which << ": expected an error";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind(stem + "." + which + ": gnuplot wrote an incomplete file (is the disk full?)", 0), 0u)
          << what;
    }
    EXPECT_FALSE(fs::exists(stem + "." + which)) << which;
    for (const auto& e : fs::directory_iterator(dir.file("figs"))) {
      EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
    }
    // The real gnuplot draws the same figure whole.
    const PlotFiles whole = plot_latent_kl({3.2, 0.001, 1.1}, "kl", stem);
    EXPECT_GT(read_png(whole.png).size(0), 0);
    expect_svg(whole.svg);
  }
}

TEST(Plots, ForestPlotHasOneLinePerIntervalAndItsMargin) {
  test::TempDir dir;
  const PlotFiles f = plot_forest({{"mlp n=1: a - b", 2.5, 0.5, 4.5}, {"mlp n=5: a - b", -1.0, -3.0, 1.0}},
                                  "Claim 1: supported", "difference (points)", dir.file("forest"), {}, 2.0);
  const auto png = read_png(f.png);
  EXPECT_EQ(png.size(1), 900);
  EXPECT_EQ(png.size(0), 120 + 2 * 28);
  const std::string csv = read_file(f.csv);
  EXPECT_NE(csv.find("\"mlp n=5: a - b\",-1,-3,1"), std::string::npos) << csv;
  EXPECT_NE(read_file(f.script).find("set arrow from 2, graph 0"), std::string::npos);
  EXPECT_THROW(plot_forest({}, "t", "x", dir.file("empty")), Error);
}

TEST(Plots, LabelledImageKeepsPixelsOneToOne) {
  REQUIRE_GNUPLOT();
  test::TempDir dir;
  const auto grid = make_grid(torch::rand({6, 1, 8, 8}), 2, 3);
  write_png(dir.file("grid.png"), grid);
  ImageLabels labels;
  labels.title = "a title";
  labels.row_labels = {{12, "row one"}, {38, "row two (collapsed)"}};
  labels.col_labels = {{12, "-3"}, {64, "3"}};
  labels.captions = {{12, 20, "7 (true 1)"}};
  labels.xlabel = "value";
  const PlotFiles f = render_labelled_image(dir.file("grid.png"), labels, dir.file("labelled.png"));
  const auto png = read_png(f.png);
  EXPECT_GT(png.size(0), grid.size(0));
  EXPECT_GT(png.size(1), grid.size(1));
  EXPECT_EQ(f.png, dir.file("labelled.png"));
  EXPECT_TRUE(fs::exists(dir.file("labelled.gp")));
}

TEST(Plots, LabelledImageKeepsGreyLevels) {
  REQUIRE_GNUPLOT();
  test::TempDir dir;
  // 4 blocks of 16x16 pixels at grey levels 0, 3, 128, 250; no labels, so the image sits
  // at a 16 px left margin and a 12 px top margin.
  auto grid = torch::zeros({16, 64}, torch::kUInt8);
  const std::vector<int64_t> levels{0, 3, 128, 250};
  for (int64_t i = 0; i < 4; ++i) grid.slice(1, 16 * i, 16 * (i + 1)).fill_(levels[static_cast<size_t>(i)]);
  write_png(dir.file("blocks.png"), grid);
  const PlotFiles f = render_labelled_image(dir.file("blocks.png"), ImageLabels{}, dir.file("out.png"));
  const auto png = read_png(f.png);  // [H,W,3]
  for (int64_t i = 0; i < 4; ++i) {
    const auto px = png[12 + 8][16 + 16 * i + 8];
    for (int64_t c = 0; c < 3; ++c) EXPECT_EQ(px[c].item<int64_t>(), levels[static_cast<size_t>(i)]) << i;
  }
}

TEST(Plots, MissingGnuplotIsAClearError) {
  PlotOptions o;
  o.gnuplot = "/nonexistent/gnuplot";
  try {
    find_gnuplot(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gnuplot-nox"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dvae
