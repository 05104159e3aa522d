// The HTTP side of `dvae serve` (cpp-httplib): the page's embedded assets, the
// JSON API of serve/api.h under /api/, and the guards every request passes -
// methods, Host header (against DNS rebinding while on loopback), body size,
// chunked or compressed bodies, JSON content type - with a bounded worker pool
// (a fixed number of threads and a bounded queue of accepted connections:
// accepting pauses when it is full). Serves nothing from the file system.
// Not for argv, signals or printing (cli/cmd_serve.cpp).
#pragma once

#include <memory>
#include <string>

#include "serve/api.h"
#include "serve/explorer.h"

namespace dvae {

/// Where and how the server listens.
struct ServerOptions {
  std::string host = "127.0.0.1";  ///< address to listen on (default loopback only)
  int port = 8080;                 ///< TCP port; 0 = any free port (default 8080)
  int workers = 16;                ///< threads answering requests (default 16)
  int queue = 128;                 ///< accepted connections waiting for a worker (default 128)
  int read_timeout_s = 5;          ///< a client silent this long in the middle of a request is dropped (default 5)
  int keep_alive_s = 2;            ///< an idle kept-alive connection is closed after this (default 2)
  int keep_alive_requests = 100;   ///< requests on one connection before it is closed (default 100)
  ApiLimits limits;                ///< bounds on every request
};

/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

/// The page and the API over HTTP for one Explorer (which must outlive it).
class ExplorerServer {
 public:
  /// Prepares the routes; listens only in bind().
  ExplorerServer(const Explorer& explorer, const ServerOptions& options);
  ~ExplorerServer();
  ExplorerServer(const ExplorerServer&) = delete;
  ExplorerServer& operator=(const ExplorerServer&) = delete;

  /// Binds options.host:options.port; returns the port (the one chosen when 0).
  /// Throws dvae::Error naming the address when it cannot listen.
  int bind();
  /// Serves until stop(); in-flight requests finish, idle connections close.
  void run();
  /// Makes run() return; safe from any thread, before or during run().
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dvae
