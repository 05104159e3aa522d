// End-to-end tests of `dvae reproduce` on a tiny synthetic data set: the
// report is complete and renders in headless Chromium with every image
// loaded; a rerun skips finished units; a run killed with SIGKILL part-way
// resumes to the same results; a second run on the same folder is refused.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "core/atomic_file.h"
#include "support/fixtures.h"

namespace dvae {
namespace fs = std::filesystem;

namespace {

// A study file over the quick preset (its claims name these models).
constexpr const char* kTinyConfig =
    "archs = [\"mlp\"]\n"
    "vae_seeds = 2\n"
    "sizes = [1, 5, \"all\"]\n"
    "trials_small = 2\n"
    "trials_large = 1\n"
    "validation_per_class = 2\n"
    "models = [{name = \"standard\", beta = 1, epochs = 2}, {name = \"disentangled\", beta = 4, epochs = 2}]\n"
    "classifiers = [{name = \"probe\", kind = \"probe\", epochs = 10},\n"
    "               {name = \"supervised\", kind = \"supervised\", epochs = 2}]\n";

struct TinySetup {
  test::TempDir dir;
  std::string data, config;
  TinySetup() {
    data = dir.file("synth");
    test::write_synthetic_mnist(data, 600, 200, 28, false, 3);
    config = dir.file("tiny.toml");
    test::write_bytes(config, kTinyConfig);
  }
  std::string args(const std::string& out, int threads = 1) const {
    return "--quiet --threads " + std::to_string(threads) + " reproduce --preset quick --config " + config +
           " --dataset " + data + " --out " + out;
  }
};

// results.csv without the timing column, which legitimately differs between runs.
std::string results_without_seconds(const std::string& path) {
  std::ifstream in(path);
  std::string line, out;
  while (std::getline(in, line)) out += line.substr(0, line.rfind(',')) + "\n";
  return out;
}

}  // namespace

TEST(ReproduceSlow, WritesACompleteReportAndSkipsFinishedUnitsOnRerun) {
  TinySetup s;
  const std::string out = s.dir.file("out");
  const auto first = test::run_dvae(s.args(out));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string html = read_file(out + "/report/index.html");
  EXPECT_NE(html.find("id=\"accuracy-"), std::string::npos);
  EXPECT_NE(html.find("quick"), std::string::npos);
  for (const char* part : {"Figure 4", "Latent traversals", "Per-latent KL", "Training curves", "Confusion matrix",
                           "worst reconstructions", "Claims", "Paired comparisons", "2 VAE seeds",
                           "paired differences with 95% intervals", "Holm-corrected", "indicative"}) {
    EXPECT_NE(html.find(part), std::string::npos) << part;
  }
  EXPECT_TRUE(fs::exists(out + "/results.sqlite"));
  EXPECT_TRUE(fs::exists(out + "/report/report.md"));
  EXPECT_TRUE(fs::exists(out + "/config.json"));
  // Every image the page references exists in the report folder.
  const std::regex src("src=\"([^\"]+)\"");
  int images = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), src); it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(fs::exists(out + "/report/" + (*it)[1].str())) << (*it)[1].str();
    ++images;
  }
  EXPECT_GE(images, 10);

  const std::string before = results_without_seconds(out + "/report/results.csv");
  const auto second = test::run_dvae(s.args(out));
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("units computed: 0"), std::string::npos) << second.out;
  EXPECT_EQ(results_without_seconds(out + "/report/results.csv"), before);

  // The report renders in headless Chromium with every image loaded.
  if (!fs::exists("/usr/bin/chromium")) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  const auto dom = test::run_shell(
      "timeout 60 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync --user-data-dir=" +
      s.dir.file("chrome") + " --virtual-time-budget=10000 --dump-dom file://" + out + "/report/index.html");
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dom.out, m, std::regex("data-images=\"(\\d+)/(\\d+)\""))) << dom.out.substr(0, 500);
  EXPECT_EQ(m[1].str(), m[2].str()) << "images that failed to load";
  EXPECT_EQ(std::stoi(m[2].str()), images);
  EXPECT_NE(dom.out.find("<table id=\"accuracy-"), std::string::npos);
}

TEST(ReproduceSlow, KilledRunResumesToTheSameResults) {
  TinySetup s;
  const std::string reference = s.dir.file("reference"), killed = s.dir.file("killed");
  ASSERT_EQ(test::run_dvae(s.args(reference)).exit_code, 0);

  // Start a run and SIGKILL it as soon as the classifier grid has begun.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string cmd = std::string(DVAE_BINARY) + " " + s.args(killed) + " >/dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  bool killed_midway = false;
  while (std::chrono::steady_clock::now() < deadline) {
    bool started = false;
    if (fs::exists(killed + "/classify")) {
      for (const auto& e : fs::directory_iterator(killed + "/classify")) {
        const auto results = e.path() / "results.jsonl";
        started |= fs::exists(results) && fs::file_size(results) > 0;
      }
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) break;  // finished before we could kill it
    if (started) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      killed_midway = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(killed_midway) << "the run finished before it could be killed";
  const auto rerun = test::run_dvae(s.args(killed));
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(results_without_seconds(killed + "/report/results.csv"),
            results_without_seconds(reference + "/report/results.csv"));
}

// Every VAE's log lines without their timings, keyed by run folder name.
std::map<std::string, std::string> vae_logs_without_timings(const std::string& out) {
  std::map<std::string, std::string> logs;
  for (const auto& e : fs::directory_iterator(out + "/vae")) {
    std::ifstream in(e.path() / "log.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      j.erase("seconds");
      j.erase("images_per_sec");
      logs[e.path().filename().string()] += j.dump() + "\n";
    }
  }
  return logs;
}

TEST(ReproduceSlow, VaesTrainedSideBySideMatchTrainingThemOneAfterTheOther) {
  TinySetup s;
  const std::string apart = s.dir.file("apart"), together = s.dir.file("together");
  const auto one = test::run_dvae(s.args(apart, 1));  // one thread: one VAE after the other
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const auto two = test::run_dvae("--threads 2 reproduce --preset quick --config " + s.config + " --dataset " +
                                  s.data + " --out " + together);  // two threads: both VAEs at once, one thread each
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_NE((two.out + two.err).find("training (1 thread)"), std::string::npos) << two.out << two.err;
  const auto a = vae_logs_without_timings(apart);
  ASSERT_EQ(a.size(), 4u);  // 2 models x 2 VAE seeds
  EXPECT_EQ(a, vae_logs_without_timings(together));
}

TEST(ReproduceCli, SecondRunOnTheSameFolderIsRefused) {
  TinySetup s;
  const std::string out = s.dir.file("out");
  fs::create_directories(out);
  // Hold the lock from a shell with flock, as a running reproduce would.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl("/usr/bin/flock", "flock", (out + "/.dvae.lock").c_str(), "sleep", "30", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until flock holds the lock (a fixed sleep is too short on a loaded machine).
  const std::string lock = out + "/.dvae.lock";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool held = false;
  while (!held && std::chrono::steady_clock::now() < deadline) {
    const int fd = open(lock.c_str(), O_RDONLY);
    if (fd >= 0) {
      held = flock(fd, LOCK_EX | LOCK_NB) != 0;
      close(fd);  // also releases the lock if we got it
    }
    if (!held) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(held) << "flock did not take " << lock;
  const auto r = test::run_dvae(s.args(out));
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("another dvae run"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u);
}

// A spec that shares one VAE (same data, model settings and seed) with the tiny reproduce run.
constexpr const char* kSharingStudy =
    "archs = [\"mlp\"]\n"
    "vae_seeds = 1\n"
    "sizes = [1]\n"
    "trials_small = 2\n"
    "validation_per_class = 2\n"
    "models = [{name = \"beta one\", beta = 1, epochs = 2}, {name = \"beta eight\", beta = 8, epochs = 2}]\n"
    "classifiers = [{name = \"probe\", kind = \"probe\", epochs = 10}]\n"
    "[[claims]]\nkind = \"beats\"\na = \"beta eight\"\nb = \"beta one\"\n";

TEST(StudySlow, TwoStudiesInOneFolderShareTheirCommonVae) {
  TinySetup s;
  const std::string out = s.dir.file("out");
  ASSERT_EQ(test::run_dvae(s.args(out)).exit_code, 0);
  const std::string spec2 = s.dir.file("sharing2.toml");
  test::write_bytes(spec2, std::string("datasets = [\"") + s.data + "\"]\n" + kSharingStudy);
  const auto run = test::run_dvae("--threads 1 study run " + spec2 + " --out " + out);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  // "beta one" is the reproduce run's seed-0 standard VAE: skipped; "beta eight" is new.
  EXPECT_NE(run.err.find("beta one (beta 1, seed 0, 2 epochs): done earlier, skipped"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("beta eight (beta 8, seed 0, 2 epochs): training"), std::string::npos) << run.err;
  int vaes = 0;
  for (const auto& e : fs::directory_iterator(out + "/vae")) vaes += e.is_directory() ? 1 : 0;
  EXPECT_EQ(vaes, 5);  // 4 from reproduce + 1 new
  const std::string html = read_file(out + "/report/index.html");
  EXPECT_NE(html.find("beta eight"), std::string::npos);
}

TEST(StudySlow, SemiSupervisedKindsAppearInEveryPartOfTheReport) {
  test::TempDir dir;
  const std::string data = dir.file("synth");
  test::write_synthetic_mnist(data, 400, 100, 28, false, 5);
  const std::string spec = dir.file("semi.toml");
  test::write_bytes(spec,
                    "archs = [\"mlp\"]\nsizes = [1, 3]\ntrials_small = 2\nvalidation_per_class = 2\n"
                    "datasets = [\"" + data + "\"]\n"
                    "models = [{name = \"standard\", beta = 1, epochs = 1}, {name = \"m1\", latent_dim = 50, epochs = 1}]\n"
                    "classifiers = [{name = \"probe\", kind = \"probe\", epochs = 5, encoders = [\"standard\"]},\n"
                    "  {name = \"supervised\", kind = \"supervised\", epochs = 2},\n"
                    "  {name = \"m2\", kind = \"m2\", epochs = 1, hidden = 32, z_dim = 4},\n"
                    "  {name = \"m1m2\", kind = \"m1m2\", epochs = 1, hidden = 32, z_dim = 4, encoders = \"m1\"}]\n");
  const std::string out = dir.file("out");
  const auto run = test::run_dvae("--quiet --threads 1 study run " + spec + " --out " + out);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string html = read_file(out + "/report/index.html");
  for (const char* name : {"m2", "m1 / m1m2", "standard / probe", "supervised"}) {
    EXPECT_NE(html.find(name), std::string::npos) << name;
  }
  EXPECT_EQ(html.find("m1 / probe"), std::string::npos);  // the probe runs on "standard" only
  int confusions = 0;
  for (const auto& e : fs::recursive_directory_iterator(out + "/figures")) {
    const std::string f = e.path().filename().string();
    confusions += f.find("_confusion.png") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(confusions, 4);  // one per series at the smallest n
  int curves = 0;
  for (const auto& e : fs::recursive_directory_iterator(out + "/classify"))
    curves += e.path().string().find(".curve.jsonl") != std::string::npos ? 1 : 0;
  EXPECT_EQ(curves, 2 * 2 * 2);  // (m2, m1m2) x 2 sizes x 2 trials
}

TEST(StudyCli, KeysAreDocumentedAndBadValuesExitTwoBeforeAnyWork) {
  const auto keys = test::run_dvae("study keys");
  ASSERT_EQ(keys.exit_code, 0);
  for (const char* k : {"vae_seeds", "validation_per_class", "[[models]]", "[[classifiers]]", "[[claims]]",
                        "objective", "with_logvar", "margin", "Holm", "alpha", "hidden_layers", "encoders",
                        "m1m2"}) {
    EXPECT_NE(keys.out.find(k), std::string::npos) << k;
  }
  test::TempDir dir;
  const std::string spec = dir.file("bad.toml");
  test::write_bytes(spec, "vae_seeds = -3\n");
  const auto bad = test::run_dvae("study run " + spec + " --out " + dir.file("out"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("key 'vae_seeds': -3, expected an integer in [1, 1000]"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(dir.file("out")));
  const auto seeds = test::run_dvae("reproduce --vae-seeds 0 --out " + dir.file("out"));
  EXPECT_EQ(seeds.exit_code, 2);
  EXPECT_NE(seeds.err.find("--vae-seeds"), std::string::npos) << seeds.err;
  const auto check = test::run_dvae("study run " + spec + " --check");
  EXPECT_EQ(check.exit_code, 2);
}

TEST(ReproduceCli, BadPresetIsAUsageError) {
  const auto r = test::run_dvae("reproduce --preset fast --out /tmp/never");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--preset"), std::string::npos);
}

}  // namespace dvae
