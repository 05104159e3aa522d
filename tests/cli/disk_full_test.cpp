// Writes that fail, through the binary: `dvae train --resume` under a file-size
// limit (RLIMIT_FSIZE via prlimit, with SIGXFSZ ignored, so that write() fails
// with EFBIG the way it fails with ENOSPC on a full disk) and into a read-only
// folder. Each gives a one-line error naming the path it could not write,
// leaves the previous checkpoint byte for byte and no temporary file behind,
// and a rerun with space resumes from it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

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

// Files in folder whose name contains ".tmp." (what an interrupted atomic write would leave).
std::vector<std::string> temporaries(const std::string& folder) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(folder)) {
    if (e.path().filename().string().find(".tmp.") != std::string::npos) out.push_back(e.path().string());
  }
  return out;
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

}  // namespace
}  // namespace dvae
