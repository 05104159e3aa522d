// cpp-httplib wiring of the explorer: assets, API routes, request guards, the
// bounded worker pool, and a stop() that works whenever it is called.
#include "serve/http_server.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "core/check.h"
#include "serve/embedded_assets.h"

namespace dvae {

namespace {

// The page may load only itself: no CDN, no inline script, no other origin.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// httplib's TaskQueue with a fixed number of workers and a bounded queue:
// enqueue() (called by the accepting thread) waits while the queue is full, so
// a flood of connections waits in the kernel's backlog instead of in memory.
class BoundedPool final : public httplib::TaskQueue {
 public:
  BoundedPool(int workers, int capacity) : capacity_(static_cast<size_t>(capacity)) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  }
  ~BoundedPool() override = default;

  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lock(mutex_);
    space_.wait(lock, [&] { return jobs_.size() < capacity_ || shutdown_; });
    jobs_.push_back(std::move(fn));
    lock.unlock();
    ready_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      shutdown_ = true;
    }
    ready_.notify_all();
    space_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [&] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) return;  // shut down and drained
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      space_.notify_one();
      try {
        fn();
      } catch (...) {
        // httplib answers handler exceptions itself; anything else only loses this connection.
      }
    }
  }

  const size_t capacity_;
  std::vector<std::thread> threads_;
  std::deque<std::function<void()>> jobs_;
  bool shutdown_ = false;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::condition_variable space_;
};

// The host name of a Host header ("127.0.0.1:8080" -> "127.0.0.1", "[::1]:80" -> "[::1]").
std::string host_name_of(const std::string& header) {
  if (!header.empty() && header[0] == '[') {
    const size_t end = header.find(']');
    return end == std::string::npos ? header : header.substr(0, end + 1);
  }
  return header.substr(0, header.find(':'));
}

// Bodies go out through a content provider of known length: httplib 0.11.4 compresses every text or JSON
// body set with set_content for clients that accept it (every browser), with brotli at its slowest
// quality, which made each answer 15-100 ms slower than the model.
void set_body(httplib::Response& res, std::shared_ptr<const std::string> body, const std::string& type) {
  if (body->empty()) return res.set_content("", type);
  const size_t size = body->size();
  res.set_content_provider(size, type, [body](size_t offset, size_t length, httplib::DataSink& sink) {
    return sink.write(body->data() + offset, length);
  });
}

void set_reply(httplib::Response& res, const ApiReply& reply) {
  res.status = reply.status;
  set_body(res, std::make_shared<const std::string>(reply.body), reply.content_type);
}

const char* reason_of(int status) {
  switch (status) {
    case 400: return "malformed request";
    case 404: return "no such resource";
    case 405: return "method not allowed";
    case 413: return "request body too large";
    case 414: return "request line too long";
    case 416: return "bad Range header";
    default: return status >= 500 ? "internal error" : "request refused";
  }
}

}  // namespace

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  in_addr v4{};
  return ::inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

struct ExplorerServer::Impl {
  const Explorer& explorer;
  ServerOptions options;
  httplib::Server server;
  std::map<std::string, httplib::Server::Handler> get_routes;  // exact paths only
  std::atomic<bool> stop_requested{false};
  std::atomic<bool> run_started{false};
  std::atomic<bool> run_finished{false};
  int listen_fd = -1;  // the listening socket, seen by the socket-options hook before bind

  Impl(const Explorer& e, const ServerOptions& o) : explorer(e), options(o) {}

  bool host_allowed(const httplib::Request& req) const {
    if (!req.has_header("Host")) return true;  // HTTP/1.0 clients; browsers always send it
    const std::string name = host_name_of(req.get_header_value("Host"));
    return name == "localhost" || name == "[::1]" || name == options.host || is_loopback_host(name);
  }

  // Refusals decided from the request line and headers, before any body is read.
  httplib::Server::HandlerResponse guard(const httplib::Request& req, httplib::Response& res) const {
    auto refuse = [&](int status, const std::string& message) {
      set_reply(res, api_error(status, message));
      res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    };
    if (req.method != "GET" && req.method != "HEAD" && req.method != "POST") {
      res.set_header("Allow", "GET, HEAD, POST");
      return refuse(405, "method " + req.method.substr(0, 20) + " not allowed, expected GET or POST");
    }
    if (is_loopback_host(options.host) && !host_allowed(req)) {
      return refuse(403, "Host '" + req.get_header_value("Host").substr(0, 80) +
                             "' refused: this server answers requests addressed to 127.0.0.1 or localhost only");
    }
    if (req.method != "POST") return httplib::Server::HandlerResponse::Unhandled;
    if (req.has_header("Transfer-Encoding")) {
      return refuse(411, "Transfer-Encoding is not accepted, expected a body with Content-Length");
    }
    if (req.has_header("Content-Encoding") && req.get_header_value("Content-Encoding") != "identity") {
      return refuse(415, "Content-Encoding '" + req.get_header_value("Content-Encoding").substr(0, 40) +
                             "' is not accepted, expected an uncompressed body");
    }
    if (!req.has_header("Content-Length")) return refuse(411, "Content-Length required");
    const std::string type = req.get_header_value("Content-Type");
    if (type.rfind("application/json", 0) != 0) {
      return refuse(415, "Content-Type '" + type.substr(0, 60) + "', expected application/json");
    }
    return httplib::Server::HandlerResponse::Unhandled;
  }

  void add_routes() {
    for (const EmbeddedAsset& asset : embedded_assets()) {
      const std::string type = asset.content_type;
      const auto body = std::make_shared<const std::string>(asset.body);
      auto handler = [type, body](const httplib::Request&, httplib::Response& res) {
        res.set_header("Content-Security-Policy", kContentSecurityPolicy);
        set_body(res, body, type);
      };
      get_routes[asset.path] = handler;
      if (std::string(asset.path) == "/index.html") get_routes["/"] = handler;
    }
    for (const ApiEndpoint& e : api_endpoints()) {
      if (e.method != "GET") continue;
      const std::string name = e.name;
      get_routes["/api/" + name] = [this, name](const httplib::Request& req, httplib::Response& res) {
        set_reply(res, api_call(explorer, name, req.body, options.limits));
      };
    }
    server.Get(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      const auto it = get_routes.find(req.path);
      if (it != get_routes.end()) return it->second(req, res);
      for (const ApiEndpoint& e : api_endpoints()) {
        if (req.path == "/api/" + e.name) return set_reply(res, api_error(405, "use " + e.method + " for " + req.path));
      }
      set_reply(res, api_error(404, "no such resource: " + req.path.substr(0, 80)));
    });
    server.Post(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      for (const ApiEndpoint& e : api_endpoints()) {
        if (req.path != "/api/" + e.name) continue;
        if (e.method != "POST") return set_reply(res, api_error(405, "use " + e.method + " for " + req.path));
        return set_reply(res, api_call(explorer, e.name, req.body, options.limits));
      }
      set_reply(res, api_error(404, "no such resource: " + req.path.substr(0, 80)));
    });
  }

  void configure() {
    const int workers = options.workers;
    const int queue = options.queue;
    server.new_task_queue = [workers, queue] { return new BoundedPool(workers, queue); };
    // SO_REUSEADDR only: httplib's default SO_REUSEPORT would let a second server share the port silently.
    server.set_socket_options([this](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      listen_fd = sock;
    });
    server.set_tcp_nodelay(true);  // small answers: no Nagle delay
    server.set_read_timeout(options.read_timeout_s, 0);
    server.set_write_timeout(options.read_timeout_s, 0);
    server.set_keep_alive_timeout(options.keep_alive_s);
    server.set_keep_alive_max_count(static_cast<size_t>(options.keep_alive_requests));
    server.set_payload_max_length(options.limits.max_body);
    server.set_default_headers({{"X-Content-Type-Options", "nosniff"},
                                {"Referrer-Policy", "no-referrer"},
                                {"Cache-Control", "no-store"}});
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      return guard(req, res);
    });
    server.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
      if (res.has_header("Content-Type")) return httplib::Server::HandlerResponse::Unhandled;  // ours already
      set_reply(res, api_error(res.status, reason_of(res.status)));
      return httplib::Server::HandlerResponse::Handled;
    }));
    server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      set_reply(res, api_error(500, "internal error"));
    });
    add_routes();
  }
};

ExplorerServer::ExplorerServer(const Explorer& explorer, const ServerOptions& options)
    : impl_(std::make_unique<Impl>(explorer, options)) {
  DVAE_CHECK(options.workers >= 1 && options.queue >= 1, "ExplorerServer: ", options.workers, " workers and queue ",
             options.queue, ", expected at least 1 of each");
  impl_->configure();
}

ExplorerServer::~ExplorerServer() { stop(); }

int ExplorerServer::bind() {
  const ServerOptions& o = impl_->options;
  const int port = o.port == 0 ? impl_->server.bind_to_any_port(o.host)
                               : (impl_->server.bind_to_port(o.host, o.port) ? o.port : -1);
  DVAE_CHECK(port > 0, "--port ", o.port, ": cannot listen on ", o.host, ":", o.port,
             " (address in use or not local?), expected a free port (--port 0 picks one)");
  // Debian's compiled cpp-httplib listens with a backlog of 5: when many clients (re)connect at once on a busy
  // machine the kernel's accept queue overflows and connections are dropped before a worker sees them (a load
  // test lost 4-5 of 10,000 requests that way). Listening again on the bound socket raises the backlog.
  if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, SOMAXCONN);
  return port;
}

void ExplorerServer::run() {
  impl_->run_started = true;
  if (!impl_->stop_requested) impl_->server.listen_after_bind();
  impl_->run_finished = true;
}

void ExplorerServer::stop() {
  impl_->stop_requested = true;
  if (!impl_->run_started) return;  // run() will see stop_requested and return at once
  // httplib's stop() does nothing until the accept loop has started: wait for it (or for run() to end).
  while (!impl_->server.is_running() && !impl_->run_finished) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->server.stop();
}

}  // namespace dvae
