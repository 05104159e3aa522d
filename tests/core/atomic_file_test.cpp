// Tests for core/atomic_file: what a killed writer leaves is removed, and only that.
#include "core/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "core/check.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

namespace fs = std::filesystem;

// The pid of a process that has exited (and been reaped).
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

TEST(AtomicFile, StaleTemporariesOfDeadWritersAreRemovedAndNothingElse) {
  test::TempDir dir;
  const std::string dead = std::to_string(dead_pid()), alive = std::to_string(::getpid());
  const std::vector<std::string> stale = {"checkpoint.pt.tmp." + dead + ".9f3a", "sub/log.jsonl.tmp." + dead + ".0"};
  const std::vector<std::string> kept = {"checkpoint.pt",
                                         "results.jsonl.tmp." + alive + ".ab12",  // a live writer's
                                         "notes.tmp.txt", "x.tmp." + dead + ".xyz", "plot.png.tmp", "y.tmp." + dead};
  fs::create_directories(dir.file("sub"));
  for (const auto& name : stale) test::write_bytes(dir.file(name), "half");
  for (const auto& name : kept) test::write_bytes(dir.file(name), "keep");
  for (const auto& name : stale) ASSERT_TRUE(fs::exists(dir.file(name))) << name;
  EXPECT_EQ(remove_stale_temporaries(dir.path()), 2);
  for (const auto& name : stale) EXPECT_FALSE(fs::exists(dir.file(name))) << name;
  for (const auto& name : kept) EXPECT_TRUE(fs::exists(dir.file(name))) << name;
  EXPECT_EQ(remove_stale_temporaries(dir.file("no-such-folder")), 0);
}

}  // namespace
}  // namespace dvae
