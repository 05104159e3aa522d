// Implementation of the test helpers in fixtures.h.
#include "support/fixtures.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "core/cpu_dispatch.h"
#include "core/gemm.h"
#include "core/random.h"

namespace dvae::test {
namespace fs = std::filesystem;

namespace {

// DVAE_KERNEL_PATH=scalar|avx2|avx512 in a test binary's environment forces the
// hand-written kernels' path for every test that does not choose its own (as
// dvae's CLI does), so a whole test binary can run on one path:
//   DVAE_KERNEL_PATH=scalar build/tests/test_training
// A path this CPU cannot run fails at start-up with dvae's error.
const bool kKernelPathFromEnvironment = [] {
  if (const char* path = std::getenv("DVAE_KERNEL_PATH"); path != nullptr && *path != '\0') {
    set_kernel_path(parse_kernel_path(path, "DVAE_KERNEL_PATH"));
  }
  // DVAE_GEMM=blas|onednn likewise forces the MLP steps' matrix-product backend.
  if (const char* gemm = std::getenv("DVAE_GEMM"); gemm != nullptr && *gemm != '\0') {
    set_gemm_backend(parse_gemm_backend(gemm, "DVAE_GEMM"));
  }
  return true;
}();

}  // namespace

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

std::string gzip_bytes(const std::string& bytes) {
  z_stream strm{};
  if (deflateInit2(&strm, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::string out(deflateBound(&strm, bytes.size()) + 64, '\0');
  strm.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  strm.avail_in = static_cast<uInt>(bytes.size());
  strm.next_out = reinterpret_cast<Bytef*>(out.data());
  strm.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&strm, Z_FINISH);
  out.resize(strm.total_out);
  deflateEnd(&strm);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
  return out;
}

std::vector<MalformedIdxCase> malformed_idx_cases() {
  const std::string img = "train-images-idx3-ubyte", lbl = "train-labels-idx1-ubyte";
  return {
      {"missing", img, "file not found"},
      {"directory", img, "is a directory"},
      {"empty", img, "file is empty"},
      {"tiny", img, "shorter than the 4-byte IDX magic"},
      {"bad_magic", img, "bad magic bytes 0x12 0x34"},
      {"wrong_type", img, "data type 0x0d (float), expected 0x08"},
      {"wrong_rank", img, "2 dimensions, expected 3"},
      {"labels_wrong_rank", lbl, "3 dimensions, expected 1"},
      {"short_header", img, "header truncated"},
      {"truncated", img, "truncated"},
      {"trailing", img, "1 trailing bytes"},
      {"overflow_dims", img, "more than 2^64"},
      {"absurd_dims", img, "need 3136000000000 bytes"},
      {"zero_dim", img, "is 0, expected at least 1"},
      {"label_out_of_range", lbl, "label 10 at index 7, expected < 10"},
      {"count_mismatch", lbl, "20 images but 19 labels"},
      {"gz_absurd_dims", img + ".gz", "gzip file can hold"},
      {"gz_bad_crc", img + ".gz", "corrupt gzip data"},
      {"gz_bad_block", img + ".gz", "corrupt gzip data"},
      {"gz_truncated", img + ".gz", "truncated .gz file"},
      {"gz_garbage_after", img + ".gz", "non-gzip data after the compressed stream"},
      {"gz_payload_truncated", img + ".gz", "truncated"},
      {"gz_payload_trailing", img + ".gz", "trailing bytes after decompression"},
      {"gz_empty_payload", img + ".gz", "0 bytes after decompression"},
      {"gz_labels_out_of_range", lbl + ".gz", "label 10 at index 7"},
  };
}

std::string write_malformed_mnist(const std::string& dir, const MalformedIdxCase& c) {
  write_synthetic_mnist(dir, 20, 10, 4, false, 1);
  const SyntheticSet train = make_synthetic(20, 4, 4, 10, 1);
  const std::string good_images = idx_bytes(3, {20, 4, 4}, train.pixels);
  const bool gz = c.file.size() > 3 && c.file.compare(c.file.size() - 3, 3, ".gz") == 0;
  const std::string stem = gz ? c.file.substr(0, c.file.size() - 3) : c.file;
  const std::string path = dir + "/" + c.file;
  fs::remove(dir + "/" + stem);
  std::string bytes;
  const std::string& n = c.name;
  if (n == "missing") return path;
  if (n == "directory") {
    fs::create_directories(path);
    return path;
  }
  if (n == "empty") {
    bytes = "";
  } else if (n == "tiny") {
    bytes = std::string("\0\0\x08", 3);
  } else if (n == "bad_magic") {
    bytes = good_images;
    bytes[0] = 0x12;
    bytes[1] = 0x34;
  } else if (n == "wrong_type") {
    bytes = good_images;
    bytes[2] = 0x0d;
  } else if (n == "wrong_rank") {
    bytes = idx_bytes(2, {20, 16}, train.pixels);
  } else if (n == "labels_wrong_rank") {
    bytes = idx_bytes(3, {20, 1, 1}, train.labels);
  } else if (n == "short_header") {
    bytes = good_images.substr(0, 10);
  } else if (n == "truncated" || n == "gz_payload_truncated") {
    bytes = good_images.substr(0, good_images.size() - 1);
  } else if (n == "trailing" || n == "gz_payload_trailing") {
    bytes = good_images + "x";
  } else if (n == "overflow_dims") {
    bytes = idx_bytes(3, {0xffffffffu, 0xffffffffu, 0xffffffffu}, {1, 2, 3});
  } else if (n == "absurd_dims") {
    bytes = idx_bytes(3, {4000000000u, 28, 28}, {1, 2, 3});
  } else if (n == "zero_dim") {
    bytes = idx_bytes(3, {20, 0, 4}, {});
  } else if (n == "label_out_of_range" || n == "gz_labels_out_of_range") {
    std::vector<uint8_t> labels = train.labels;
    labels[7] = 10;
    bytes = idx_bytes(1, {20}, labels);
  } else if (n == "count_mismatch") {
    std::vector<uint8_t> labels(train.labels.begin(), train.labels.begin() + 19);
    bytes = idx_bytes(1, {19}, labels);
  } else if (n == "gz_absurd_dims") {
    bytes = idx_bytes(3, {1000000000u, 28, 28}, {});
  } else if (n == "gz_empty_payload") {
    bytes = "";
  } else if (n == "gz_bad_crc" || n == "gz_bad_block" || n == "gz_truncated" || n == "gz_garbage_after") {
    std::string z = gzip_bytes(good_images);
    if (n == "gz_bad_crc") z[z.size() - 8] = static_cast<char>(z[z.size() - 8] ^ 0xff);  // CRC32 trailer
    if (n == "gz_bad_block") z[10] = static_cast<char>(0xff);  // first deflate block: reserved type 3
    if (n == "gz_truncated") z.resize(z.size() / 2);
    if (n == "gz_garbage_after") z += "garbage!";
    write_bytes(path, z, false);
    return path;
  } else {
    throw std::runtime_error("unknown malformed case " + n);
  }
  write_bytes(path, gz ? gzip_bytes(bytes) : bytes, false);
  return path;
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

std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> fields;
    std::istringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, ',')) fields.push_back(cell);
    rows.push_back(fields);
  }
  return rows;
}

RunResult run_dvae(const std::string& args) { return run_shell(std::string(DVAE_BINARY) + " " + args); }

Background::Background(const std::string& command, const std::string& output_file) {
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const std::string full = "exec " + command + " >" + output_file + " 2>&1 </dev/null";
    ::execl("/bin/sh", "sh", "-c", full.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
}

Background::~Background() { kill(); }

bool Background::running() {
  if (status_ >= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
  status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

void Background::kill() {
  if (running()) ::kill(pid_, SIGKILL);
  wait();
}

int Background::wait() {
  if (status_ < 0) {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return status_;
}

bool wait_until(const std::function<bool()>& pred, double timeout_seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

bool wait_until_locked(const std::string& path, double timeout_seconds) {
  return wait_until(
      [&] {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return false;
        const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
        ::close(fd);  // also releases the lock if we took it
        return held;
      },
      timeout_seconds);
}

std::string real_mnist_dir() {
  const char* env = std::getenv("DVAE_TEST_DATA");
  const std::string root = env ? env : std::string(DVAE_SOURCE_DIR) + "/data";
  const std::string dir = root + "/mnist";
  return fs::exists(dir + "/train-images-idx3-ubyte") || fs::exists(dir + "/train-images-idx3-ubyte.gz") ? dir : "";
}

}  // namespace dvae::test
