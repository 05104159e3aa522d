// Implementation of the test helpers in fixtures.h.
#include "support/fixtures.h"

#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/random.h"

namespace dvae::test {
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "dvae-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string idx_bytes(uint8_t ndims, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& payload) {
  std::string out;
  out.push_back(0);
  out.push_back(0);
  out.push_back(0x08);
  out.push_back(static_cast<char>(ndims));
  for (uint32_t d : dims) {
    out.push_back(static_cast<char>((d >> 24) & 0xff));
    out.push_back(static_cast<char>((d >> 16) & 0xff));
    out.push_back(static_cast<char>((d >> 8) & 0xff));
    out.push_back(static_cast<char>(d & 0xff));
  }
  out.append(reinterpret_cast<const char*>(payload.data()), payload.size());
  return out;
}

void write_bytes(const std::string& path, const std::string& bytes, bool gzip) {
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb");
    if (!f) throw std::runtime_error("gzopen failed: " + path);
    if (!bytes.empty()) gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
    return;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

SyntheticSet make_synthetic(uint32_t n, uint32_t h, uint32_t w, int classes, uint64_t seed) {
  SyntheticSet s;
  s.pixels.assign(static_cast<size_t>(n) * h * w, 0);
  s.labels.resize(n);
  Rng rng(seed);
  const uint32_t block = std::max<uint32_t>(2, h / 5);
  for (uint32_t i = 0; i < n; ++i) {
    const int label = static_cast<int>(i % static_cast<uint32_t>(classes));
    s.labels[i] = static_cast<uint8_t>(label);
    uint8_t* img = s.pixels.data() + static_cast<size_t>(i) * h * w;
    for (uint32_t p = 0; p < h * w; ++p) img[p] = static_cast<uint8_t>(rng.below(40));
    // A bright block at a class-specific position.
    const uint32_t cells = std::max<uint32_t>(1, (h / block) * (w / block));
    const uint32_t cell = static_cast<uint32_t>(label) % cells;
    const uint32_t r0 = (cell / (w / block)) * block, c0 = (cell % (w / block)) * block;
    for (uint32_t r = r0; r < r0 + block && r < h; ++r)
      for (uint32_t c = c0; c < c0 + block && c < w; ++c) img[r * w + c] = static_cast<uint8_t>(200 + rng.below(56));
  }
  return s;
}

void write_synthetic_mnist(const std::string& dir, uint32_t n_train, uint32_t n_test, uint32_t size, bool gzip,
                           uint64_t seed) {
  fs::create_directories(dir);
  const std::string ext = gzip ? ".gz" : "";
  auto train = make_synthetic(n_train, size, size, 10, seed);
  auto test = make_synthetic(n_test, size, size, 10, seed + 1);
  write_bytes(dir + "/train-images-idx3-ubyte" + ext, idx_bytes(3, {n_train, size, size}, train.pixels), gzip);
  write_bytes(dir + "/train-labels-idx1-ubyte" + ext, idx_bytes(1, {n_train}, train.labels), gzip);
  write_bytes(dir + "/t10k-images-idx3-ubyte" + ext, idx_bytes(3, {n_test, size, size}, test.pixels), gzip);
  write_bytes(dir + "/t10k-labels-idx1-ubyte" + ext, idx_bytes(1, {n_test}, test.labels), gzip);
}

RunResult run_shell(const std::string& command) {
  TempDir tmp;
  const std::string out_path = tmp.file("out"), err_path = tmp.file("err");
  const std::string full = command + " >" + out_path + " 2>" + err_path + " </dev/null";
  const int status = std::system(full.c_str());
  RunResult r;
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.exit_code = 128 + WTERMSIG(status);
  }
  auto slurp = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  };
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

RunResult run_dvae(const std::string& args) { return run_shell(std::string(DVAE_BINARY) + " " + args); }

std::string real_mnist_dir() {
  const char* env = std::getenv("DVAE_TEST_DATA");
  const std::string root = env ? env : std::string(DVAE_SOURCE_DIR) + "/data";
  const std::string dir = root + "/mnist";
  return fs::exists(dir + "/train-images-idx3-ubyte") || fs::exists(dir + "/train-images-idx3-ubyte.gz") ? dir : "";
}

}  // namespace dvae::test
