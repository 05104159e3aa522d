// Tests for downloads against a loopback HTTP server (never the internet):
// success, checksum mismatch, interrupted transfer, server errors, stalls,
// mirror fallback, and that a failed fetch leaves nothing in place.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>

#include "core/atomic_file.h"
#include "core/check.h"
#include "data/datasets.h"
#include "data/fetch.h"
#include "support/fixtures.h"
#include "support/http_server.h"

namespace dvae {
namespace {
namespace fs = std::filesystem;

using test::HttpRoute;
using test::LocalHttpServer;
using test::TempDir;

const char* kNames[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                        "t10k-labels-idx1-ubyte"};

// Serves a synthetic MNIST as .gz under /good and returns its spec (pinned digests).
RemoteDataset serve_synthetic(LocalHttpServer& server, const TempDir& src) {
  test::write_synthetic_mnist(src.path(), 20, 10, 6, /*gzip=*/true);
  RemoteDataset spec;
  spec.name = "synthetic";
  spec.mirrors = {server.base_url() + "/good"};
  for (const char* name : kNames) {
    const std::string file = std::string(name) + ".gz";
    const std::string body = read_file(src.file(file));
    server.route("/good/" + file, HttpRoute{200, body});
    spec.files.push_back({file, sha256_hex(body)});
  }
  return spec;
}

// Files in dir (names only).
std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Fetch, DownloadsVerifiesAndLoads) {
  LocalHttpServer server;
  TempDir src, dest;
  const RemoteDataset spec = serve_synthetic(server, src);
  EXPECT_EQ(fetch_files(spec, dest.file("synthetic")), dest.file("synthetic"));
  EXPECT_EQ(listing(dest.file("synthetic")).size(), 4u);
  const Dataset data = load_dataset_dir(dest.file("synthetic"));
  EXPECT_EQ(data.train.size(), 20);
  EXPECT_EQ(data.test.size(), 10);
  EXPECT_EQ(server.requests(), 4);
  // A second fetch finds verified files and downloads nothing.
  fetch_files(spec, dest.file("synthetic"));
  EXPECT_EQ(server.requests(), 4);
}

TEST(Fetch, ChecksumMismatchLeavesNothingInPlace) {
  LocalHttpServer server;
  TempDir src, dest;
  RemoteDataset spec = serve_synthetic(server, src);
  spec.files[3].sha256 = std::string(64, '0');
  const std::string msg = error_of([&] { fetch_files(spec, dest.file("d")); });
  EXPECT_NE(msg.find("/good/t10k-labels-idx1-ubyte.gz: SHA-256 "), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected 0000"), std::string::npos) << msg;
  EXPECT_TRUE(listing(dest.file("d")).empty()) << "files left behind";
}

TEST(Fetch, InterruptedTransferIsReportedAndCleanedUp) {
  LocalHttpServer server;
  TempDir dest;
  server.route("/short/file.gz", HttpRoute{200, std::string(1000, 'x'), /*declared_length=*/5000});
  const std::string msg =
      error_of([&] { download_file(server.base_url() + "/short/file.gz", dest.file("file.gz"), ""); });
  EXPECT_NE(msg.find("transfer interrupted after 1000 of 5000 bytes"), std::string::npos) << msg;
  EXPECT_TRUE(listing(dest.path()).empty());
}

TEST(Fetch, ServerErrorsNameTheStatus) {
  LocalHttpServer server;
  TempDir dest;
  server.route("/boom/file.gz", HttpRoute{500, "oops"});
  std::string msg = error_of([&] { download_file(server.base_url() + "/boom/file.gz", dest.file("f"), ""); });
  EXPECT_NE(msg.find("/boom/file.gz: HTTP status 500"), std::string::npos) << msg;
  msg = error_of([&] { download_file(server.base_url() + "/missing.gz", dest.file("f"), ""); });
  EXPECT_NE(msg.find("/missing.gz: HTTP status 404"), std::string::npos) << msg;
  EXPECT_TRUE(listing(dest.path()).empty());
}

TEST(Fetch, StalledTransferTimesOut) {
  LocalHttpServer server;
  TempDir dest;
  server.route("/stall/file.gz", HttpRoute{200, "abc", 100000, /*stall=*/true});
  FetchOptions o;
  o.low_speed_time_s = 1;
  const auto t0 = std::chrono::steady_clock::now();
  const std::string msg =
      error_of([&] { download_file(server.base_url() + "/stall/file.gz", dest.file("f"), "", o); });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(msg.find("timed out"), std::string::npos) << msg;
  EXPECT_LT(seconds, 10.0);
  EXPECT_TRUE(listing(dest.path()).empty());
}

TEST(Fetch, FallsBackToTheNextMirror) {
  LocalHttpServer server;
  TempDir src, dest;
  RemoteDataset spec = serve_synthetic(server, src);
  spec.mirrors.insert(spec.mirrors.begin(), server.base_url() + "/dead");
  fetch_files(spec, dest.path());
  EXPECT_EQ(listing(dest.path()).size(), 4u);
  EXPECT_EQ(server.requests(), 8);  // 4 x 404, then 4 x 200
}

TEST(Fetch, MirrorOptionReplacesBuiltInMirrors) {
  LocalHttpServer server;
  TempDir src, dest;
  RemoteDataset spec = serve_synthetic(server, src);
  spec.mirrors = {"http://127.0.0.1:1/never-contacted"};
  FetchOptions o;
  o.mirror = server.base_url() + "/good/";  // trailing slash is fine
  fetch_files(spec, dest.path(), o);
  EXPECT_EQ(listing(dest.path()).size(), 4u);
}

TEST(Fetch, ExistingFileSurvivesAFailedDownload) {
  LocalHttpServer server;
  TempDir dest;
  write_file_atomic(dest.file("f"), "old contents");
  server.route("/bad", HttpRoute{503, ""});
  EXPECT_THROW(download_file(server.base_url() + "/bad", dest.file("f"), ""), Error);
  EXPECT_EQ(read_file(dest.file("f")), "old contents");
  EXPECT_EQ(listing(dest.path()), std::vector<std::string>{"f"});
}

TEST(Fetch, KnownDatasetsHavePinnedDigests) {
  for (const char* name : {"mnist", "fashion-mnist", "kmnist"}) {
    const RemoteDataset& r = remote_dataset(name);
    EXPECT_FALSE(r.mirrors.empty()) << name;
    ASSERT_EQ(r.files.size(), 4u) << name;
    for (const RemoteFile& f : r.files) {
      EXPECT_EQ(f.sha256.size(), 64u) << name << " " << f.name;
      EXPECT_EQ(f.sha256.find_first_not_of("0123456789abcdef"), std::string::npos) << f.name;
    }
  }
  EXPECT_THROW(remote_dataset("imagenet"), UsageError);
}

}  // namespace
}  // namespace dvae
