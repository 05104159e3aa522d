// The explorer page in a real browser: two paper-size MLP VAEs (784-500-500-10,
// trained briefly on synthetic 28x28 digits) behind `dvae serve` on 127.0.0.1,
// driven by tests/browser/explorer_check.mjs (puppeteer-core + Debian's
// /usr/bin/chromium, headless). Prints the input-to-image latency measured in
// the page and leaves a screenshot in the build folder (serve-explorer.png).
// Skips only when Chromium is not installed.
#include <gtest/gtest.h>

#include <filesystem>

#include "serve/serve_process.h"

namespace dvae {
namespace {

namespace fs = std::filesystem;

constexpr double kLatencyTargetMs = 50.0;

TEST(ServeBrowser, ExplorerPageWorksInHeadlessChromium) {
  if (!fs::exists("/usr/bin/chromium")) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  const std::string browser_dir = std::string(DVAE_SOURCE_DIR) + "/tests/browser";
  ASSERT_TRUE(fs::exists(browser_dir + "/node_modules/puppeteer-core/package.json"))
      << "puppeteer-core is missing: run scripts/setup.sh (it runs npm ci in tests/browser)";
  ASSERT_EQ(test::run_shell("node --version").exit_code, 0) << "node is missing: scripts/setup.sh installs it";

  test::ServeModels models(28, 500, 10, 300, 100, true);
  test::ServeProcess server("--checkpoint " + models.a + " --checkpoint " + models.b + " --data-dir " + models.data +
                                " --classifier probe:10",
                            /*fast_start=*/false);
  ASSERT_GT(server.port(), 0) << server.err();
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  const std::string screenshot = std::string(DVAE_BUILD_DIR) + "/serve-explorer.png";
  test::TempDir downloads;
  const auto r = test::run_shell("timeout 180 node " + browser_dir + "/explorer_check.mjs --url " + url +
                                 " --screenshot " + screenshot + " --downloads " + downloads.path());
  const std::string line = r.out.substr(r.out.rfind('{') == std::string::npos ? 0 : r.out.find('{'));
  const auto j = nlohmann::json::parse(line, nullptr, false);
  ASSERT_TRUE(j.is_object()) << "exit " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err;
  EXPECT_EQ(r.exit_code, 0) << j.dump(1);
  EXPECT_TRUE(j.value("ok", false)) << j.dump(1);
  for (const auto& [name, value] : j["checks"].items()) {
    const bool pass = value.is_boolean() ? value.get<bool>() : value.value("pass", false);
    EXPECT_TRUE(pass) << name << ": " << value.dump();
  }
  EXPECT_EQ(j["panels"], 2);
  EXPECT_TRUE(j["console_errors"].empty()) << j["console_errors"].dump();
  const auto& latency = j["latency_ms"];
  ASSERT_TRUE(latency.is_object() && latency["median"].is_number()) << j.dump(1);
  std::cout << "[ latency ] slider input -> new image drawn (MLP 784-500-500-10, in Chromium): median "
            << latency["median"].get<double>() << " ms, p90 " << latency["p90"].get<double>() << " ms, max "
            << latency["max"].get<double>() << " ms over " << latency["n"] << " moves; prediction '"
            << j.value("prediction", "") << "'; screenshot " << screenshot << std::endl;
  RecordProperty("latency_median_ms", std::to_string(latency["median"].get<double>()));
  EXPECT_LT(latency["median"].get<double>(), kLatencyTargetMs);
  EXPECT_TRUE(fs::exists(screenshot));
  EXPECT_EQ(server.stop(SIGTERM, std::chrono::seconds(15)), 0) << server.err();
}

}  // namespace
}  // namespace dvae
