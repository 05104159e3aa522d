// Tests of `dvae serve` through the binary on 127.0.0.1: bad flags, the page
// and its headers, path traversal, every malformed request at the HTTP level,
// a bounded concurrent load (50 clients x 200 requests, memory bounded), slow
// clients, and shutdown on SIGINT / SIGTERM.
#include <gtest/gtest.h>

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "serve/serve_process.h"

namespace dvae {
namespace {

using test::body_of;
using test::raw_http;
using test::status_of;

// Two tiny untrained models (8x8 images, 3 latents): what is tested here does not need training.
test::ServeModels& models() {
  static test::ServeModels m(8, 8, 3, 60, 30, false);
  return m;
}

// Only parses: DVAE_BLAS_KERNEL=keep skips the start-up BLAS checks.
test::RunResult run_parse_only(const std::string& args) {
  return test::run_shell(std::string("DVAE_BLAS_KERNEL=keep ") + DVAE_BINARY + " " + args);
}

std::string serve_args(const std::string& extra = "") {
  return "--quiet --checkpoint " + models().a + " --checkpoint beta4=" + models().b + " --data-dir " + models().data +
         " " + extra;
}

std::string post(const std::string& path, const std::string& body, const std::string& extra_headers = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string get(const std::string& target, const std::string& host = "127.0.0.1") {
  return "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
}

// The response is a one-line JSON {"error": ...}.
void expect_json_error(const std::string& response) {
  const std::string body = body_of(response);
  EXPECT_NE(response.find("Content-Type: application/json"), std::string::npos) << response.substr(0, 300);
  EXPECT_EQ(body.find('\n'), std::string::npos) << body;
  const auto j = nlohmann::json::parse(body, nullptr, false);
  EXPECT_TRUE(j.is_object() && j.contains("error") && j["error"].is_string()) << body;
}

TEST(ServeCli, BadFlagsExitTwoWithAOneLineErrorNamingTheFlag) {
  const std::string ck = " --checkpoint " + models().a;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"serve" + ck + " --port 70000", "--port"},
      {"serve" + ck + " --port -1", "--port"},
      {"serve" + ck + " --workers 0", "--workers"},
      {"serve" + ck + " --inference-threads nan", "--inference-threads"},
      {"serve" + ck + " --host 0.0.0.0", "--host"},
      {"serve" + ck + " --classifier probe:0", "--classifier"},
      {"serve" + ck + " --classifier knn", "--classifier"},
      {"serve --checkpoint =x.pt", "--checkpoint"},
      {"serve" + ck + ck, "--checkpoint"},  // two models named 'standard'
      {"serve" + ck + " --dataset mnist --data-dir x", "--dataset/--data-dir"},
      {"serve", "--checkpoint"},
  };
  for (const auto& [args, flag] : cases) {
    const auto r = run_parse_only(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_EQ(r.err.find("error:"), 0u) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(flag), std::string::npos) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << "\n" << r.err;
  }
  const auto missing = run_parse_only("serve --checkpoint " + models().dir.file("none.pt") + " --data-dir " +
                                      models().data);
  EXPECT_EQ(missing.exit_code, 1) << missing.err;
  EXPECT_NE(missing.err.find("none.pt"), std::string::npos) << missing.err;
}

TEST(ServeHttp, ServesTheEmbeddedPageWithItsSecurityHeaders) {
  test::ServeProcess s(serve_args());
  ASSERT_GT(s.port(), 0) << s.err();
  EXPECT_NE(s.out().find("model 1 'beta4'"), std::string::npos) << s.out();
  const std::string page = raw_http(s.port(), get("/"));
  EXPECT_EQ(status_of(page), 200) << page.substr(0, 200);
  EXPECT_NE(page.find("Content-Type: text/html"), std::string::npos);
  EXPECT_NE(page.find("Content-Security-Policy: default-src 'none'; script-src 'self'"), std::string::npos);
  EXPECT_NE(page.find("<script src=\"/app.js\"></script>"), std::string::npos);
  EXPECT_EQ(body_of(page).find("https://"), std::string::npos) << "the page must not load anything from elsewhere";
  for (const auto& [path, type] : {std::pair<std::string, std::string>{"/app.js", "text/javascript"},
                                   {"/style.css", "text/css"}, {"/index.html", "text/html"}}) {
    const std::string r = raw_http(s.port(), get(path));
    EXPECT_EQ(status_of(r), 200) << path;
    EXPECT_NE(r.find("Content-Type: " + type), std::string::npos) << path;
    EXPECT_NE(r.find("X-Content-Type-Options: nosniff"), std::string::npos) << path;
  }
  // Answers are never compressed (httplib would spend 15-100 ms compressing each for a browser).
  const std::string br = raw_http(s.port(), "GET /app.js HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip, br\r\n"
                                            "Connection: close\r\n\r\n");
  EXPECT_EQ(status_of(br), 200);
  EXPECT_EQ(br.find("Content-Encoding"), std::string::npos) << br.substr(0, 400);
  EXPECT_NE(body_of(br).find("'use strict';"), std::string::npos);
  const std::string meta = raw_http(s.port(), get("/api/models"));
  ASSERT_EQ(status_of(meta), 200) << meta;
  const auto j = nlohmann::json::parse(body_of(meta));
  EXPECT_EQ(j["models"][0]["name"], "standard");
  EXPECT_EQ(j["models"][1]["name"], "beta4");
  EXPECT_EQ(j["models"][1]["kl_source"], "checkpoint");
  const std::string decoded = raw_http(s.port(), post("/api/decode", "{\"model\":\"beta4\",\"code\":[0,1,-1]}"));
  EXPECT_EQ(status_of(decoded), 200) << decoded;
  EXPECT_EQ(nlohmann::json::parse(body_of(decoded))["image"]["pixels"].size(), 64u);
  const std::string png = raw_http(s.port(), post("/api/decode", "{\"code\":[0,1,-1],\"format\":\"png\"}"));
  EXPECT_NE(png.find("Content-Type: image/png"), std::string::npos);
  EXPECT_EQ(body_of(png).substr(1, 3), "PNG");
}

TEST(ServeHttp, PathTraversalAndUnknownPathsAre404WithoutAnyFile) {
  test::ServeProcess s(serve_args());
  ASSERT_GT(s.port(), 0) << s.err();
  const std::vector<std::string> targets = {
      "/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/app.js/../../../etc/passwd",
      "//etc/passwd", "/etc/passwd", "/%2Fetc%2Fpasswd", "/..%2F..%2F..%2Fetc%2Fpasswd", "/..\\..\\etc\\passwd",
      "/.%2e/CMakeLists.txt", "/assets/", "/src/serve/assets/app.js", "/index.html%00.js", "/app.js%00",
      "/api/../index.html", "/api/models/../../../etc/passwd", "/api/", "/api/nope", "/checkpoint.pt",
      "/standard/checkpoint.pt", models().a, "/app.js.bak", "/APP.JS", "/.git/config", "/%ff%fe%00",
      "http://127.0.0.1/../../etc/passwd"};
  for (const auto& t : targets) {
    const std::string r = raw_http(s.port(), get(t));
    const int status = status_of(r);
    EXPECT_TRUE(status == 404 || status == 400) << t << " -> " << r.substr(0, 200);
    EXPECT_EQ(r.find("root:"), std::string::npos) << t;
    EXPECT_EQ(r.find("cmake_minimum_required"), std::string::npos) << t;
    expect_json_error(r);
  }
  const std::string r = raw_http(s.port(), post("/api/../api/decode", "{\"code\":[0,0,0]}"));
  EXPECT_EQ(status_of(r), 404) << r;
}

TEST(ServeHttp, MalformedRequestsGetA4xxAndAOneLineJsonError) {
  test::ServeProcess s(serve_args());
  ASSERT_GT(s.port(), 0) << s.err();
  const int port = s.port();
  const std::string big(2 << 20, ' ');
  struct Case {
    std::string name, request;
    int status;
  };
  const std::vector<Case> cases = {
      {"body over 1 MiB", post("/api/decode", "{\"code\":[0,0,0]}" + big), 413},
      {"chunked body", "POST /api/decode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\n{\"a\":\r\n0\r\n\r\n", 411},
      {"gzip body", post("/api/decode", "\x1f\x8b", "Content-Encoding: gzip\r\n"), 415},
      {"no Content-Length", "POST /api/decode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                            "Connection: close\r\n\r\n", 411},
      {"text/plain", "POST /api/decode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                     "Content-Length: 2\r\nConnection: close\r\n\r\n{}", 415},
      {"PUT", "PUT /api/decode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 405},
      {"DELETE", "DELETE / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 405},
      {"GET on a POST endpoint", get("/api/decode"), 405},
      {"POST on a GET endpoint", post("/api/models", "{}"), 405},
      {"foreign Host (DNS rebinding)", get("/api/models", "evil.example:8080"), 403},
      {"garbage request line", "HELLO\r\n\r\n", 400},
      {"16 KiB header line", "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: " + std::string(16384, 'a') +
                                 "\r\nConnection: close\r\n\r\n", 400},
      {"malformed JSON", post("/api/decode", "{\"code\":[0,0,"), 400},
      {"NaN", post("/api/decode", "{\"code\":[0,NaN,0]}"), 400},
      {"absurd magnitude", post("/api/decode", "{\"code\":[0,1e300,0]}"), 400},
      {"wrong code length", post("/api/decode", "{\"code\":[0,0]}"), 400},
      {"no such model", post("/api/decode", "{\"model\":9,\"code\":[0,0,0]}"), 404},
      {"huge image", post("/api/encode", "{\"pixels\":[],\"width\":5000,\"height\":5000}"), 400},
      {"malformed PNG", post("/api/encode", "{\"png\":\"iVBORw0KGgoAAAAA\"}"), 400},
      {"classify without classifier", post("/api/classify", "{\"code\":[0,0,0]}"), 409},
  };
  for (const auto& c : cases) {
    const std::string r = raw_http(port, c.request);
    EXPECT_EQ(status_of(r), c.status) << c.name << ": " << r.substr(0, 300);
    expect_json_error(r);
  }
  // The server is still well after all of that.
  EXPECT_EQ(status_of(raw_http(port, post("/api/decode", "{\"code\":[0,0,0]}"))), 200);
}

TEST(ServeHttp, FiftyClientsTimesTwoHundredRequestsAreAllAnsweredInBoundedMemory) {
  test::ServeProcess s(serve_args("--workers 8"));
  ASSERT_GT(s.port(), 0) << s.err();
  std::atomic<int> retried{0};  // requests sent again after a transport error (never after an answer)
  std::mutex why_mutex;
  std::string why;  // the first failure or retry: the transport error or the status
  const auto load = [&](int clients, int requests) {
    std::atomic<int> ok{0}, failed{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        httplib::Client client("127.0.0.1", s.port());
        client.set_keep_alive(true);
        client.set_tcp_nodelay(true);  // as browsers do: else Nagle + delayed ACKs add ~40 ms a request
        client.set_read_timeout(30, 0);
        for (int i = 0; i < requests; ++i) {
          const double v = 0.01 * ((c * 31 + i) % 300) - 1.5;
          const std::string body = "{\"model\":" + std::to_string(i % 2) + ",\"code\":[" + std::to_string(v) + ",0," +
                                   std::to_string(-v) + "]}";
          auto res = client.Post("/api/decode", body, "application/json");
          if (!res) {
            {
              std::lock_guard<std::mutex> lock(why_mutex);
              if (why.empty()) why = "retried after " + httplib::to_string(res.error());
            }
            // A transport error on a kept-alive connection (the server closing it, idle or at its request limit, as
            // the request leaves): retried once on a fresh connection, as browsers retry idempotent requests.
            ++retried;
            res = client.Post("/api/decode", body, "application/json");
          }
          if (res && res->status == 200 && res->body.find("\"pixels\"") != std::string::npos) {
            ++ok;
          } else {
            ++failed;
            std::lock_guard<std::mutex> lock(why_mutex);
            if (why.size() < 400) why += res ? "; failed with status " + std::to_string(res->status)
                       : "; failed again: " + httplib::to_string(res.error());
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    return std::make_pair(ok.load(), failed.load());
  };
  load(16, 10);  // warm up every worker's allocations
  const long rss_before = test::proc_status_kib(s.pid(), "VmRSS");
  const auto t0 = std::chrono::steady_clock::now();
  const auto [ok, failed] = load(50, 200);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const long peak = test::proc_status_kib(s.pid(), "VmHWM");
  const long rss_after = test::proc_status_kib(s.pid(), "VmRSS");
  std::cout << "[ load ] 50 clients x 200 requests: " << ok << " answered in " << seconds << " s ("
            << static_cast<int>(ok / seconds) << " requests/s); RSS " << rss_before / 1024 << " -> " << rss_after / 1024
            << " MiB, peak " << peak / 1024 << " MiB; " << retried.load() << " retried after a transport error"
            << std::endl;
  EXPECT_EQ(ok, 10000);
  EXPECT_EQ(failed, 0) << why;
  EXPECT_LE(retried.load(), 50) << "more than 0.5% of the requests met a dropped connection: " << why;
  EXPECT_LT(peak - rss_before, 64 * 1024) << "memory grew by more than 64 MiB under load";
  // A second round of the same load does not grow memory again (nothing accumulates per request).
  const auto [ok2, failed2] = load(50, 40);
  EXPECT_EQ(ok2, 2000);
  EXPECT_EQ(failed2, 0) << why;
  EXPECT_LT(test::proc_status_kib(s.pid(), "VmRSS") - rss_after, 16 * 1024);
}

TEST(ServeHttp, StalledClientsDoNotBlockOthers) {
  test::ServeProcess s(serve_args("--workers 8"));
  ASSERT_GT(s.port(), 0) << s.err();
  std::vector<int> stalled;
  for (int i = 0; i < 4; ++i) {
    const int fd = test::connect_loopback(s.port());
    ASSERT_GE(fd, 0);
    const std::string partial = "POST /api/decode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n";
    ASSERT_GT(::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL), 0);
    stalled.push_back(fd);
  }
  for (int i = 0; i < 20; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string r = raw_http(s.port(), post("/api/decode", "{\"code\":[0,0,0]}"));
    EXPECT_EQ(status_of(r), 200);
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.0);
  }
  for (const int fd : stalled) ::close(fd);
}

TEST(ServeHttp, SigintAndSigtermStopTheServerCleanly) {
  for (const int sig : {SIGINT, SIGTERM}) {
    test::ServeProcess s(serve_args());
    ASSERT_GT(s.port(), 0) << s.err();
    // An idle kept-alive connection and a request in the pipe do not hold the shutdown up.
    const int idle = test::connect_loopback(s.port());
    const std::string keep = "GET /api/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    ASSERT_GT(::send(idle, keep.data(), keep.size(), MSG_NOSIGNAL), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto t0 = std::chrono::steady_clock::now();
    const int code = s.stop(sig, std::chrono::seconds(15));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(code, 0) << strsignal(sig) << "\n" << s.err();
    EXPECT_LT(seconds, 10.0);
    EXPECT_NE(s.out().find(sig == SIGINT ? "stopped (SIGINT)" : "stopped (SIGTERM)"), std::string::npos) << s.out();
    ::close(idle);
  }
}

TEST(ServeHttp, AnotherAddressNeedsAllowRemoteAndPrintsAWarning) {
  test::ServeProcess s(serve_args("--host 0.0.0.0 --allow-remote"));
  ASSERT_GT(s.port(), 0) << s.err();
  EXPECT_NE(s.out().find("http://0.0.0.0:"), std::string::npos) << s.out();
  EXPECT_NE(s.err().find("warning: dvae serve listens on 0.0.0.0:"), std::string::npos) << s.err();
  // Not on loopback only, so any Host header is answered (the user chose to be reachable).
  EXPECT_EQ(status_of(raw_http(s.port(), get("/api/models", "machine.example:8080"))), 200);
}

TEST(ServeHttp, ASecondServerOnTheSamePortIsAnErrorNamingThePort) {
  test::ServeProcess s(serve_args());
  ASSERT_GT(s.port(), 0) << s.err();
  const auto r = run_parse_only("serve --quiet --checkpoint " + models().a + " --data-dir " + models().data +
                                " --port " + std::to_string(s.port()));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.find("error: --port " + std::to_string(s.port())), 0u) << r.err;
}

}  // namespace
}  // namespace dvae
