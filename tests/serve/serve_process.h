// Helpers of the `dvae serve` tests: tiny models, a `dvae serve`
// child process (started with --port 0, its URL read from stdout, stopped by
// signal), exact HTTP requests over a raw loopback socket, and the server's
// memory from /proc. Header-only: only tests/serve uses it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "support/checkpoint_fixtures.h"
#include "support/fixtures.h"

namespace dvae::test {

/// A folder with synthetic MNIST-named data and two MLP VAEs, "standard" (beta 1) and
/// "disentangled" (beta 4): trained by `dvae train` when trained, else saved untrained in-process
/// (milliseconds; "disentangled" then carries a per-latent test KL in its metadata, "standard" none).
struct ServeModels {
  TempDir dir;
  std::string data = dir.file("data");
  std::string a = dir.file("standard/checkpoint.pt");
  std::string b = dir.file("disentangled/checkpoint.pt");

  /// side x side images; hidden units and latents of both models.
  ServeModels(uint32_t side, int hidden, int latent, uint32_t n_train, uint32_t n_test, bool trained) {
    write_synthetic_mnist(data, n_train, n_test, side);
    if (!trained) {
      ModelOptions m;
      m.image_size = side;
      m.mlp_hidden = hidden;
      m.latent_dim = latent;
      std::filesystem::create_directories(dir.file("standard"));
      std::filesystem::create_directories(dir.file("disentangled"));
      save_untrained_vae(a, m, 1.0, 1);
      torch::manual_seed(2);
      Vae vae(m);
      CheckpointMeta meta = checkpoint_meta(m, 4.0, 2);
      std::vector<double> kl(static_cast<size_t>(latent), 0.001);
      kl[0] = 1.5;
      meta.last_stats = {{"kl_per_latent", kl}, {"test_elbo", -120.0}};
      save_checkpoint(b, *vae, meta, nullptr);
      return;
    }
    const std::string common = "--quiet train --threads 1 --data-dir " + data + " --arch mlp --latent " +
                               std::to_string(latent) + " --hidden " + std::to_string(hidden) +
                               " --batch-size 50 --epochs 2";
    for (const auto& [beta, out] : {std::pair<const char*, std::string>{"1", dir.file("standard")},
                                    std::pair<const char*, std::string>{"4", dir.file("disentangled")}}) {
      const auto r = run_dvae(common + " --beta " + beta + " --out " + out);
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
  }
};

/// `dvae serve ARGS --port 0` in the background; the destructor kills it.
class ServeProcess {
 public:
  /// fast_start skips dvae's start-up BLAS checks (DVAE_BLAS_KERNEL=keep): for tests of behaviour, not speed.
  explicit ServeProcess(const std::string& args, bool fast_start = true) {
    stderr_path_ = err_dir_.file("stderr");
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      const std::string cmd = std::string(fast_start ? "DVAE_BLAS_KERNEL=keep " : "") + "exec " + DVAE_BINARY +
                              " serve --port 0 " + args + " 2>" + stderr_path_ + " </dev/null";
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    stdout_fd_ = out[0];
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    std::smatch m;
    while (std::chrono::steady_clock::now() < deadline && !exited()) {
      read_some(200);
      // The URL comes first, then one line per model, then "Ctrl-C stops".
      if (out_.find("Ctrl-C stops") != std::string::npos &&
          std::regex_search(out_, m, std::regex("http://[^/\\s]+:(\\d+)/"))) {
        port_ = std::stoi(m[1].str());
        break;
      }
    }
  }
  ~ServeProcess() {
    if (pid_ > 0 && !exited()) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  /// The port it listens on, or 0 when it did not start (see err()).
  int port() const { return port_; }
  /// Its process id.
  pid_t pid() const { return pid_; }
  /// Everything it printed on stdout so far.
  const std::string& out() {
    read_some(0);
    return out_;
  }
  /// Its stderr so far.
  std::string err() const {
    std::ifstream in(stderr_path_);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  /// Sends sig and waits up to timeout for the exit; returns the exit code (128+signal when killed), -1 on timeout.
  int stop(int sig, std::chrono::milliseconds timeout) {
    ::kill(pid_, sig);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      read_some(10);
      if (exited()) return exit_code_;
    }
    return -1;
  }

 private:
  bool exited() {
    if (exit_code_ != -1) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return true;
  }
  void read_some(int timeout_ms) {
    pollfd p{stdout_fd_, POLLIN, 0};
    while (::poll(&p, 1, timeout_ms) > 0 && (p.revents & POLLIN)) {
      char buf[4096];
      const ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
      if (n <= 0) break;
      out_.append(buf, static_cast<size_t>(n));
      timeout_ms = 0;
    }
  }

  TempDir err_dir_;
  std::string stderr_path_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
  int exit_code_ = -1;
  std::string out_;
};

/// A TCP connection to 127.0.0.1:port (-1 on failure).
inline int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Sends request (bytes exactly as given) and reads one response: until its Content-Length bytes of body
/// are in, the server closes, or timeout passes.
inline std::string raw_http(int port, const std::string& request, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const int fd = connect_loopback(port);
  if (fd < 0) return "";
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string response;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buf[8192];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    response.append(buf, static_cast<size_t>(n));
    // Done once the headers and Content-Length bytes of body are in (the server may keep the connection).
    const size_t head = response.find("\r\n\r\n");
    std::smatch m;
    const std::string headers = head == std::string::npos ? "" : response.substr(0, head);
    if (head != std::string::npos &&
        std::regex_search(headers, m, std::regex("\r\nContent-Length: (\\d+)", std::regex::icase)) &&
        response.size() >= head + 4 + std::stoul(m[1].str())) {
      break;
    }
  }
  ::close(fd);
  return response;
}

/// The status code of a raw HTTP response ("HTTP/1.1 404 Not Found" -> 404), 0 when there is none.
inline int status_of(const std::string& response) {
  std::smatch m;
  if (!std::regex_search(response, m, std::regex("^HTTP/1\\.[01] (\\d{3})"))) return 0;
  return std::stoi(m[1].str());
}

/// The body of a raw HTTP response (after the blank line).
inline std::string body_of(const std::string& response) {
  const size_t at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

/// A field of /proc/PID/status in KiB ("VmRSS", "VmHWM"), or -1.
inline long proc_status_kib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

}  // namespace dvae::test
