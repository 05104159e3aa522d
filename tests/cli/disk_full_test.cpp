// Writes that fail, through the binary: under a file-size limit (RLIMIT_FSIZE
// via prlimit, with SIGXFSZ ignored, so that write() fails with EFBIG the way it
// fails with ENOSPC on a full disk) and into read-only folders or files. What
// cannot be written: a `dvae train` checkpoint, a `dvae classify` results row,
// a study's results database, a figure and the report. Each gives a one-line
// error naming the path it could not write, leaves the previous checkpoint and
// the store intact (every record still points to a whole file) and no
// temporary file behind, and a rerun with space resumes to the same results.
// dvae keeps no feature cache (probe features are computed in memory), so there
// is none to fill.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

namespace fs = std::filesystem;

struct TrainRun {
  test::TempDir dir;
  std::string common;
  TrainRun() {
    test::write_synthetic_mnist(dir.file("data"), 40, 20, 8);
    common = std::string(DVAE_BINARY) + " train --threads 1 --quiet --data-dir " + dir.file("data") +
             " --arch mlp --latent 2 --hidden 16 --batch-size 20 --out " + dir.file("run");
  }
  std::string checkpoint() const { return dir.file("run/checkpoint.pt"); }
};

// Files under folder whose name contains ".tmp" (what an interrupted atomic write would leave).
std::vector<std::string> temporaries(const std::string& folder) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(folder)) {
    if (e.path().filename().string().find(".tmp") != std::string::npos) out.push_back(e.path().string());
  }
  return out;
}

// Runs command with every file it writes limited to bytes (SIGXFSZ ignored: writes fail with EFBIG).
test::RunResult run_with_file_limit(const std::string& command, int64_t bytes) {
  return test::run_shell("trap '' XFSZ; DVAE_BLAS_KERNEL=keep prlimit --fsize=" + std::to_string(bytes) + " " +
                         command);
}

// Runs command with path (a folder or a file) read-only for it alone: a read-only bind
// mount in a private mount namespace as root (root ignores permission bits), chmod otherwise.
// Returns an exit code of -1 when neither is possible.
test::RunResult run_with_read_only(const std::string& command, const std::string& path) {
  const std::string cmd = "DVAE_BLAS_KERNEL=keep " + command;
  if (::geteuid() == 0) {
    if (test::run_shell("unshare -rm true").exit_code != 0) return {};
    return test::run_shell("unshare -rm sh -c 'mount --bind -o ro " + path + " " + path + " && " + cmd + "'");
  }
  const auto perms = fs::status(path).permissions();
  fs::permissions(path, fs::is_directory(path) ? fs::perms::owner_read | fs::perms::owner_exec
                                               : fs::perms::owner_read);
  auto r = test::run_shell(cmd);
  fs::permissions(path, perms);
  return r;
}

void expect_one_line_error_naming(const test::RunResult& r, const std::string& folder) {
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "expected one line:\n" << r.err;
  EXPECT_NE(r.err.find(folder), std::string::npos) << "the error does not name the path:\n" << r.err;
}

void expect_resumes_to_epoch_2(const TrainRun& run, const std::string& before) {
  const auto r = test::run_shell("DVAE_BLAS_KERNEL=keep " + run.common + " --epochs 2 --resume");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(read_file(run.checkpoint()), before) << "the rerun did not write a new checkpoint";
  const auto log = read_file(run.dir.file("run/log.jsonl"));
  EXPECT_NE(log.find("\"epoch\":2"), std::string::npos) << log;
  size_t lines = 0;
  for (char c : log) lines += c == '\n';
  EXPECT_EQ(lines, 2u) << "expected one log line per epoch:\n" << log;
}

TEST(DiskFull, CheckpointWriteFailsCleanlyAndARerunResumes) {
  ASSERT_EQ(test::run_shell("command -v prlimit").exit_code, 0) << "prlimit (util-linux) is needed";
  TrainRun run;
  auto r = test::run_shell("DVAE_BLAS_KERNEL=keep " + run.common + " --epochs 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string before = read_file(run.checkpoint());
  ASSERT_GT(before.size(), 8192u) << "the checkpoint must be larger than the limit below";
  // 4 KiB: config.json and log lines fit, the checkpoint does not.
  r = test::run_shell("trap '' XFSZ; DVAE_BLAS_KERNEL=keep prlimit --fsize=4096 " + run.common +
                      " --epochs 2 --resume");
  expect_one_line_error_naming(r, run.dir.file("run/checkpoint.pt"));
  EXPECT_EQ(read_file(run.checkpoint()), before) << "the previous checkpoint changed";
  EXPECT_EQ(temporaries(run.dir.file("run")), std::vector<std::string>{});
  expect_resumes_to_epoch_2(run, before);
}

TEST(DiskFull, ReadOnlyRunFolderFailsCleanlyAndARerunResumes) {
  TrainRun run;
  auto r = test::run_shell("DVAE_BLAS_KERNEL=keep " + run.common + " --epochs 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string before = read_file(run.checkpoint());
  const std::string folder = run.dir.file("run");
  // Root ignores permission bits: there, a read-only bind mount in a private
  // mount namespace (unshare) makes the folder read-only for dvae alone.
  const std::string cmd = "DVAE_BLAS_KERNEL=keep " + run.common + " --epochs 2 --resume";
  if (::geteuid() == 0) {
    if (test::run_shell("unshare -rm true").exit_code != 0) GTEST_SKIP() << "root without user namespaces";
    r = test::run_shell("unshare -rm sh -c 'mount --bind -o ro " + folder + " " + folder + " && " + cmd + "'");
  } else {
    fs::permissions(folder, fs::perms::owner_read | fs::perms::owner_exec);
    r = test::run_shell(cmd);
    fs::permissions(folder, fs::perms::owner_all);
  }
  expect_one_line_error_naming(r, folder);
  EXPECT_EQ(read_file(run.checkpoint()), before) << "the previous checkpoint changed";
  EXPECT_EQ(temporaries(folder), std::vector<std::string>{});
  expect_resumes_to_epoch_2(run, before);
}

// --- A classify results row ---------------------------------------------------------

// The rows of a results.jsonl without their timings, one JSON text each.
std::vector<std::string> rows_without_seconds(const std::string& path) {
  std::vector<std::string> rows;
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    j.erase("seconds");
    rows.push_back(j.dump());
  }
  return rows;
}

TEST(DiskFull, ClassifyResultsRowWriteFailsCleanlyAndARerunResumes) {
  ASSERT_EQ(test::run_shell("command -v prlimit").exit_code, 0) << "prlimit (util-linux) is needed";
  TrainRun run;
  ASSERT_EQ(test::run_shell("DVAE_BLAS_KERNEL=keep " + run.common + " --epochs 1").exit_code, 0);
  auto classify = [&](const std::string& out) {
    return std::string(DVAE_BINARY) + " --threads 1 --quiet classify --encoder a=" + run.checkpoint() +
           " --data-dir " + run.dir.file("data") + " --sizes 1,2 --trials 3 --epochs 2 --supervised-epochs 1"
           " --validation-per-class 1 --out " + out;
  };
  const std::string ref = run.dir.file("ref"), out = run.dir.file("out");
  auto r = test::run_shell("DVAE_BLAS_KERNEL=keep " + classify(ref));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = read_file(ref + "/results.jsonl");
  const auto want = rows_without_seconds(ref + "/results.jsonl");
  ASSERT_EQ(want.size(), 12u);  // 2 sizes x 3 trials x (probe + supervised)
  // The limit: the middle of the row after the first row that ends past every file
  // written before the rows. Not the row's exact end: a row's "seconds" differs in
  // length from run to run, so the rerun's first row may be a few bytes longer.
  const auto before_rows = static_cast<size_t>(fs::file_size(ref + "/config.json"));
  size_t limit = 0;
  for (size_t end = text.find('\n'); end != std::string::npos; end = text.find('\n', end + 1)) {
    if (end + 1 > before_rows) {
      const size_t next = text.find('\n', end + 1);
      ASSERT_NE(next, std::string::npos) << "the reference has no second row";
      limit = end + 1 + (next - end) / 2;
      break;
    }
  }
  ASSERT_GT(limit, 0u);
  ASSERT_LT(limit + 1, text.size()) << "the limit leaves no row to fail";
  r = run_with_file_limit(classify(out), static_cast<int64_t>(limit));
  expect_one_line_error_naming(r, out + "/results.jsonl");
  const auto kept = rows_without_seconds(out + "/results.jsonl");  // throws on a torn row
  ASSERT_GE(kept.size(), 1u);
  ASSERT_LT(kept.size(), want.size());
  EXPECT_EQ(read_file(out + "/results.jsonl").back(), '\n');
  EXPECT_EQ(temporaries(out), std::vector<std::string>{});
  r = test::run_shell("DVAE_BLAS_KERNEL=keep " + classify(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(rows_without_seconds(out + "/results.jsonl"), want);
}

// --- A study: its results database, a figure, the report ------------------------------

// One record of a study's results database.
struct Record {
  std::string artefact, sha256;
  bool operator==(const Record& o) const { return artefact == o.artefact && sha256 == o.sha256; }
};

// PRAGMA integrity_check ("ok" when intact) and every record, by key.
std::pair<std::string, std::map<std::string, Record>> read_store(const std::string& path) {
  std::pair<std::string, std::map<std::string, Record>> out{"cannot open " + path, {}};
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    auto query = [&](const char* sql, const std::function<void(sqlite3_stmt*)>& row) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK) {
        while (sqlite3_step(stmt) == SQLITE_ROW) row(stmt);
      }
      sqlite3_finalize(stmt);
    };
    auto text = [](sqlite3_stmt* s, int i) { return std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, i))); };
    query("PRAGMA integrity_check", [&](sqlite3_stmt* s) { out.first = text(s, 0); });
    query("SELECT key, artefact, sha256 FROM units", [&](sqlite3_stmt* s) { out.second[text(s, 0)] = {text(s, 1), text(s, 2)}; });
  }
  sqlite3_close(db);
  return out;
}

// The store passes its integrity check and every record points to a whole file:
// present, with the recorded SHA-256 where the record holds one.
void expect_store_intact(const std::string& out) {
  const auto [integrity, records] = read_store(out + "/results.sqlite");
  EXPECT_EQ(integrity, "ok");
  EXPECT_GE(records.size(), 5u);
  for (const auto& [key, rec] : records) {
    if (rec.artefact.empty()) continue;
    const std::string path = out + "/" + rec.artefact;
    if (!fs::exists(path)) {
      // A figure whose redraw failed is gone (drawn again by the rerun); nothing else may be.
      EXPECT_EQ(rec.artefact.rfind("figures/", 0), 0u) << rec.artefact << " is missing";
      continue;
    }
    if (!rec.sha256.empty()) EXPECT_EQ(sha256_file(path), rec.sha256) << rec.artefact << " is not the recorded file";
  }
}

// report/results.csv without the timing column.
std::string results_csv(const std::string& out) {
  std::istringstream in(read_file(out + "/report/results.csv"));
  std::string line, rows;
  while (std::getline(in, line)) rows += line.substr(0, line.rfind(',')) + "\n";
  return rows;
}

// A tiny study (one MLP VAE, a probe, the supervised baseline, a claim with a
// forest plot) run once to the end; each test works on a copy of its folder.
class DiskFullStudy : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    base_ = new test::TempDir;
    test::write_synthetic_mnist(base_->file("data"), 300, 100, 28, false, 5);
    const std::string common = "datasets = [\"" + base_->file("data") +
                               "\"]\narchs = [\"mlp\"]\ntrials_small = 2\nvalidation_per_class = 1\n"
                               "models = [{name = \"m\", beta = 1, epochs = 2}]\n"
                               "classifiers = [{name = \"probe\", kind = \"probe\", epochs = 5},\n"
                               "  {name = \"supervised\", kind = \"supervised\", epochs = 1}]\n"
                               "[[claims]]\nkind = \"beats\"\na = \"m\"\nb = \"supervised\"\n";
    test::write_bytes(base_->file("study.toml"), "sizes = [1]\n" + common);
    test::write_bytes(base_->file("more.toml"), "sizes = [1, 2, 3, 4]\n" + common);  // new classifier units
    const auto r = test::run_shell("DVAE_BLAS_KERNEL=keep " + study("study.toml", base_->file("out")));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete base_;
    base_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(base_, nullptr);
    ASSERT_TRUE(fs::exists(base_->file("out/report/results.csv"))) << "the base study did not finish";
    out_ = dir_.file("out");
    fs::copy(base_->file("out"), out_, fs::copy_options::recursive);
    checkpoint_ = only_checkpoint();
    checkpoint_sha_ = sha256_file(checkpoint_);
    records_ = read_store(out_ + "/results.sqlite").second;
  }
  static std::string study(const std::string& spec, const std::string& out) {
    return std::string(DVAE_BINARY) + " --threads 1 --quiet study run " + base_->file(spec) + " --out " + out;
  }
  std::string only_checkpoint() const {
    for (const auto& e : fs::recursive_directory_iterator(out_ + "/vae")) {
      if (e.path().filename() == "checkpoint.pt") return e.path().string();
    }
    return "";
  }
  // After a failed run: the checkpoint byte for byte, the store intact, no temporaries.
  void expect_nothing_harmed() const {
    EXPECT_EQ(sha256_file(checkpoint_), checkpoint_sha_) << "the VAE checkpoint changed";
    expect_store_intact(out_);
    EXPECT_EQ(temporaries(out_), std::vector<std::string>{});
  }
  // A rerun with space finishes, trains nothing again, and gives the base run's results.
  void expect_rerun_resumes(const std::string& spec = "study.toml") const {
    const auto r = test::run_shell("DVAE_BLAS_KERNEL=keep " + study(spec, out_));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(sha256_file(checkpoint_), checkpoint_sha_) << "the rerun trained the VAE again";
    expect_store_intact(out_);
    const std::string base = results_csv(base_->file("out")), now = results_csv(out_);
    if (spec == "study.toml") {
      EXPECT_EQ(now, base);
    } else {  // the n=1 rows of the larger study are the base study's
      std::istringstream lines(now);
      std::string line, n1;
      while (std::getline(lines, line)) {
        const auto fields = test::parse_csv(line).at(0);  // dataset,arch,model,classifier,vae_seed,beta,n,...
        if (n1.empty() || fields.at(6) == "1") n1 += line + "\n";
      }
      EXPECT_NE(now, base);
      EXPECT_EQ(n1, base);
    }
  }

  static test::TempDir* base_;
  test::TempDir dir_;
  std::string out_, checkpoint_, checkpoint_sha_;
  std::map<std::string, Record> records_;
};
test::TempDir* DiskFullStudy::base_ = nullptr;

TEST_F(DiskFullStudy, ReadOnlyStoreFailsCleanlyAndARerunResumes) {
  const auto r = run_with_read_only(study("more.toml", out_), out_ + "/results.sqlite");
  if (r.exit_code == -1) GTEST_SKIP() << "root without user namespaces";
  expect_one_line_error_naming(r, out_ + "/results.sqlite");
  EXPECT_NE(r.err.find("read-only"), std::string::npos) << r.err;
  expect_nothing_harmed();
  EXPECT_EQ(read_store(out_ + "/results.sqlite").second, records_) << "the store changed";
  expect_rerun_resumes("more.toml");
}

TEST_F(DiskFullStudy, StoreThatCannotGrowFailsCleanlyAndARerunResumes) {
  ASSERT_EQ(test::run_shell("command -v prlimit").exit_code, 0) << "prlimit (util-linux) is needed";
  // SQLite's shared-memory index (32 KiB) just fits, and so do the write-ahead
  // log's header and seven 4 KiB pages: the records of the first new units
  // fit (two pages each), the fourth does not.
  const int64_t limit = 32768;
  const auto r = run_with_file_limit(study("more.toml", out_), limit);
  expect_one_line_error_naming(r, out_ + "/results.sqlite");
  EXPECT_NE(r.err.find("disk full"), std::string::npos) << r.err;
  expect_nothing_harmed();
  expect_rerun_resumes("more.toml");
}

TEST_F(DiskFullStudy, StoreThatCannotOpenOnAFullDiskFailsCleanly) {
  ASSERT_EQ(test::run_shell("command -v prlimit").exit_code, 0) << "prlimit (util-linux) is needed";
  const auto r = run_with_file_limit(study("more.toml", out_), 8192);  // not even the 32 KiB index
  expect_one_line_error_naming(r, out_ + "/results.sqlite");
  EXPECT_NE(r.err.find("disk full"), std::string::npos) << r.err;
  expect_nothing_harmed();
  EXPECT_EQ(read_store(out_ + "/results.sqlite").second, records_) << "the store changed";
}

TEST_F(DiskFullStudy, FigureOnAFullDiskIsNeverRecordedTruncated) {
  ASSERT_EQ(test::run_shell("command -v prlimit").exit_code, 0) << "prlimit (util-linux) is needed";
  // A gnuplot figure larger than the limit, drawn again by the rerun: gnuplot
  // exits 0 with a truncated file when its writes fail.
  std::string figure;
  for (const auto& e : fs::recursive_directory_iterator(out_ + "/figures")) {
    if (e.path().string().find("_curves.png") != std::string::npos) figure = e.path().string();
  }
  ASSERT_FALSE(figure.empty());
  const auto size = static_cast<int64_t>(fs::file_size(figure));
  ASSERT_GT(size, 40000) << "the figure must be larger than the limit below";
  fs::remove(figure);
  const auto r = run_with_file_limit(study("study.toml", out_), 40000);
  expect_one_line_error_naming(r, figure);
  EXPECT_NE(r.err.find("incomplete"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(figure)) << "a truncated figure took the figure's place";
  expect_nothing_harmed();
  EXPECT_EQ(read_store(out_ + "/results.sqlite").second, records_) << "a truncated figure was recorded";
  expect_rerun_resumes();
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(figure)), size);
}

TEST_F(DiskFullStudy, ReportOnAFullDiskFailsCleanlyAndARerunWritesIt) {
  ASSERT_EQ(test::run_shell("command -v prlimit").exit_code, 0) << "prlimit (util-linux) is needed";
  // The store and the figures fit; the report's copies of the largest figures do not.
  const auto r = run_with_file_limit(study("study.toml", out_), 65536);
  expect_one_line_error_naming(r, out_ + "/report/");
  expect_nothing_harmed();
  expect_rerun_resumes();
}

TEST_F(DiskFullStudy, ReadOnlyReportFolderFailsCleanlyAndARerunWritesIt) {
  const auto r = run_with_read_only(study("study.toml", out_), out_ + "/report");
  if (r.exit_code == -1) GTEST_SKIP() << "root without user namespaces";
  expect_one_line_error_naming(r, out_ + "/report");
  expect_nothing_harmed();
  expect_rerun_resumes();
}

}  // namespace
}  // namespace dvae
