// launch_local: fork/exec N ranks on 127.0.0.1, wait, propagate the first failure.
#include "cli/dist_launch.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

#include "core/check.h"
#include "training/distributed.h"

namespace dvae::cli {
namespace {

// How long the other ranks get to leave after SIGTERM before SIGKILL.
constexpr auto kTermGrace = std::chrono::seconds(5);

std::string status_text(int status) {
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
                                  ::strsignal(WTERMSIG(status)) + ")";
  return "exit code " + std::to_string(WEXITSTATUS(status));
}

bool failed(int status) { return !WIFEXITED(status) || WEXITSTATUS(status) != 0; }

// Terminates the ranks still running, then reaps them.
void stop_all(std::map<pid_t, int>& running) {
  for (const auto& [pid, rank] : running) ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + kTermGrace;
  while (!running.empty() && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      running.erase(pid);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  for (const auto& [pid, rank] : running) ::kill(pid, SIGKILL);
  for (const auto& [pid, rank] : running) ::waitpid(pid, nullptr, 0);
  running.clear();
}

}  // namespace

std::map<std::string, std::string> dist_environment() {
  std::map<std::string, std::string> env;
  for (const char* name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "GLOO_SOCKET_IFNAME",
                           "TORCHELASTIC_USE_AGENT_STORE", "TORCHELASTIC_RESTART_COUNT"}) {
    if (const char* v = std::getenv(name)) env[name] = v;
  }
  return env;
}

std::vector<std::string> own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  std::string current;
  for (const char c : raw) {
    if (c == '\0') {
      args.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) args.push_back(current);
  DVAE_CHECK(!args.empty(), "/proc/self/cmdline: empty, expected this process's command line");
  return args;
}

std::vector<std::string> child_command_line(std::vector<std::string> args, int threads) {
  std::vector<std::string> out;
  bool has_threads = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--nproc") {
      ++i;  // and its value
      continue;
    }
    if (args[i].rfind("--nproc=", 0) == 0) continue;
    if (args[i] == "--threads" || args[i].rfind("--threads=", 0) == 0) has_threads = true;
    out.push_back(args[i]);
  }
  if (threads > 0 && !has_threads) {
    out.push_back("--threads");
    out.push_back(std::to_string(threads));
  }
  return out;
}

void launch_local(int nproc, const std::vector<std::string>& args) {
  DVAE_CHECK(nproc >= 1, "--nproc: ", nproc, ", expected >= 1");
  DVAE_CHECK(!args.empty(), "launch: no command line");
  const int port = free_local_port();
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::map<pid_t, int> running;  // pid -> rank
  for (int rank = 0; rank < nproc; ++rank) {
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      const int err = errno;
      stop_all(running);
      throw Error(std::string("--nproc: fork failed for rank ") + std::to_string(rank) + " (" + std::strerror(err) +
                  ")");
    }
    if (pid == 0) {
      // A launcher that dies (even by SIGKILL) takes its ranks with it.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(1);
      ::setenv("RANK", std::to_string(rank).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      ::execv("/proc/self/exe", argv.data());
      std::fprintf(stderr, "error: --nproc: cannot run /proc/self/exe (%s)\n", std::strerror(errno));
      ::_exit(127);
    }
    running[pid] = rank;
  }
  while (!running.empty()) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const int rank = it->second;
    running.erase(it);
    if (failed(status)) {
      stop_all(running);
      const std::string what = "rank " + std::to_string(rank) + " of " + std::to_string(nproc) + " (pid " +
                               std::to_string(pid) + ") failed with " + status_text(status) +
                               "; stopped the other ranks";
      if (WIFEXITED(status) && WEXITSTATUS(status) == 2) throw UsageError(what);
      throw Error(what);
    }
  }
}

}  // namespace dvae::cli
