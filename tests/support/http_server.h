// A tiny HTTP/1.1 server on 127.0.0.1 (ephemeral port, one thread) for the
// download tests: it serves fixed bodies, error statuses, bodies cut short of
// their Content-Length, and stalled transfers. Never listens beyond loopback.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace dvae::test {

/// What the server answers for one path.
struct HttpRoute {
  int status = 200;             ///< HTTP status code
  std::string body;             ///< bytes sent after the headers
  int64_t declared_length = -1;  ///< Content-Length to announce; -1 = body.size()
  bool stall = false;           ///< send headers and the body, then hold the connection open
};

/// Serves routes on 127.0.0.1 from a background thread until destroyed.
class LocalHttpServer {
 public:
  LocalHttpServer();
  ~LocalHttpServer();
  LocalHttpServer(const LocalHttpServer&) = delete;
  LocalHttpServer& operator=(const LocalHttpServer&) = delete;

  /// Sets what path (e.g. "/ok/file.gz") answers; unknown paths give 404.
  void route(const std::string& path, const HttpRoute& response);
  /// "http://127.0.0.1:PORT".
  std::string base_url() const;
  /// Number of requests served so far.
  int requests() const { return requests_.load(); }

 private:
  void serve();
  void handle(int fd);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  std::map<std::string, HttpRoute> routes_;
  std::thread thread_;
};

}  // namespace dvae::test
