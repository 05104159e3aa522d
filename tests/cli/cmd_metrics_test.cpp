// Tests of `dvae metrics` through the binary: codes equal to the factors (up to
// scale and order) score near the top, the JSON holds every value, and bad
// files, unmatched indices and bad flags are one-line errors with exit codes 1 and 2.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "core/atomic_file.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

// 600 rows: factors a, b (low-discrepancy sequences); codes (2b, -a) in reverse row order.
struct MetricsFixture {
  test::TempDir dir;
  std::string codes = dir.file("codes.csv"), factors = dir.file("factors.csv");
  MetricsFixture() {
    std::ostringstream f;
    f << "index,label,a,b\n";
    for (int i = 0; i < 600; ++i) {
      const double a = std::fmod(i * 0.618034, 1.0), b = std::fmod(i * 0.414214 + 0.1, 1.0);
      f << i << "," << i % 10 << "," << a << "," << b << "\n";
    }
    std::ostringstream codes_text;
    codes_text << "index,label,mu_0,mu_1\n";
    for (int i = 599; i >= 0; --i) {  // rows in another order than the factors
      const double a = std::fmod(i * 0.618034, 1.0), b = std::fmod(i * 0.414214 + 0.1, 1.0);
      codes_text << i << "," << i % 10 << "," << 2 * b << "," << -a << "\n";
    }
    test::write_bytes(codes, codes_text.str());
    test::write_bytes(factors, f.str());
  }
};

TEST(CmdMetrics, FactorsAsCodesScoreNearTheTopAndTheJsonHoldsEveryValue) {
  MetricsFixture f;
  const std::string out = f.dir.file("m.json");
  const auto r = test::run_dvae("metrics --threads 1 --codes " + f.codes + " --factors " + f.factors + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("600 rows, 2 codes, 2 factors (a, b)"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(read_file(out));
  for (const char* k : {"mig", "sap", "dci_disentanglement", "dci_completeness", "dci_informativeness", "modularity"}) {
    ASSERT_TRUE(j["metrics"].contains(k)) << k;
    EXPECT_GT(j["metrics"][k].get<double>(), 0.8) << k;
  }
  EXPECT_EQ(j["factor_names"], (std::vector<std::string>{"a", "b"}));
  const auto one = test::run_dvae("metrics --threads 1 --codes " + f.codes + " --factors " + f.factors +
                                  " --metric mig --with-label --out " + out);
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const auto k = nlohmann::json::parse(read_file(out));
  EXPECT_EQ(k["metrics"].size(), 1u);
  EXPECT_EQ(k["factor_names"], (std::vector<std::string>{"label", "a", "b"}));
}

// DVAE_BLAS_KERNEL=keep skips the start-up BLAS checks: these runs fail before any computing.
test::RunResult run_metrics_quick(const std::string& args) {
  return test::run_shell(std::string("DVAE_BLAS_KERNEL=keep ") + DVAE_BINARY + " " + args);
}

TEST(CmdMetrics, BadInputIsAOneLineErrorNamingTheFileAndPlace) {
  MetricsFixture f;
  const std::string bad = f.dir.file("bad.csv");
  test::write_bytes(bad, "index,label,a,b\n0,1,0.5,nan\n");
  auto r = run_metrics_quick("metrics --codes " + f.codes + " --factors " + bad);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(bad + ": line 2 column 4 (b): 'nan'"), std::string::npos) << r.err;
  test::write_bytes(bad, "index,label,a,b\n0,1,0.5,0.5\n");
  r = run_metrics_quick("metrics --codes " + f.codes + " --factors " + bad);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(f.codes + ": index 599 (line 2) has no row in " + bad), std::string::npos) << r.err;
  r = run_metrics_quick("metrics --codes " + f.codes + " --factors " + f.factors + " --metric mig,beta-vae");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--metric: 'beta-vae' needs a generator"), std::string::npos) << r.err;
  r = run_metrics_quick("metrics --codes " + f.codes + " --factors " + f.factors + " --metric migg");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("expected one of mig, sap, dci"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(f.dir.file("m.json")));
}

}  // namespace
}  // namespace dvae
