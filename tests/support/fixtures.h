// Test helpers: temporary folders, tiny synthetic IDX files (well-formed and
// malformed), and running the dvae binary. Nothing here downloads anything.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace dvae::test {

/// A fresh temporary folder removed (recursively) when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  /// The folder's path.
  const std::string& path() const { return path_; }
  /// path()/name.
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// Big-endian IDX header + payload for unsigned-byte data of the given dims.
std::string idx_bytes(uint8_t ndims, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& payload);

/// Writes bytes to path (raw), or gzip-compressed when gzip is true.
void write_bytes(const std::string& path, const std::string& bytes, bool gzip = false);

/// Synthetic labelled images: n images of h x w, label i % classes, with a
/// class-dependent bright square so that classes are linearly separable.
struct SyntheticSet {
  std::vector<uint8_t> pixels;  ///< n*h*w bytes
  std::vector<uint8_t> labels;  ///< n bytes
};
/// Makes a SyntheticSet deterministically from seed.
SyntheticSet make_synthetic(uint32_t n, uint32_t h, uint32_t w, int classes, uint64_t seed);

/// Writes the four standard MNIST-named files (train n_train, test n_test) into dir.
void write_synthetic_mnist(const std::string& dir, uint32_t n_train, uint32_t n_test, uint32_t size = 28,
                           bool gzip = false, uint64_t seed = 1);

/// gzip-compresses bytes in memory (the .gz file format).
std::string gzip_bytes(const std::string& bytes);

/// One malformed-IDX scenario: which standard file is broken and how.
struct MalformedIdxCase {
  std::string name;    ///< identifier, e.g. "bad_magic"
  std::string file;    ///< the broken file, e.g. "train-images-idx3-ubyte" or "train-labels-idx1-ubyte.gz"
  std::string expect;  ///< a substring the error message must contain
};

/// Prints a case as its name in test logs (instead of its bytes).
inline void PrintTo(const MalformedIdxCase& c, std::ostream* os) { *os << c.name << " (" << c.file << ")"; }

/// Every malformed case dvae must reject (missing, directory, empty, bad magic,
/// wrong type, wrong rank, truncated/trailing, absurd dims, corrupt gzip, ...).
std::vector<MalformedIdxCase> malformed_idx_cases();

/// Writes a small synthetic MNIST folder (20 train, 10 test, 4x4 images) into
/// dir with one file broken as c says; returns the broken file's path.
std::string write_malformed_mnist(const std::string& dir, const MalformedIdxCase& c);

/// Rows of comma-separated text (no quoting), one vector of fields per line.
std::vector<std::vector<std::string>> parse_csv(const std::string& text);

/// Result of running a command.
struct RunResult {
  int exit_code = -1;   ///< exit status (or 128+signal)
  std::string out;      ///< captured stdout
  std::string err;      ///< captured stderr
};

/// Runs the dvae binary with args (a shell-quoted string) and captures output.
RunResult run_dvae(const std::string& args);

/// Runs a shell command and captures output.
RunResult run_shell(const std::string& command);

/// A shell command running in the background (stdout and stderr to a file);
/// killed with SIGKILL and reaped when the object dies, if still running.
class Background {
 public:
  /// Starts `sh -c "exec COMMAND"`; its output goes to output_file.
  explicit Background(const std::string& command, const std::string& output_file = "/dev/null");
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  /// The process id.
  int pid() const { return pid_; }
  /// True while it has not exited (reaps it when it has).
  bool running();
  /// Sends SIGKILL (if running) and waits for it.
  void kill();
  /// Waits for it to exit; returns its exit status (128+signal if killed).
  int wait();

 private:
  int pid_ = -1;
  int status_ = -1;
};

/// Polls until some process holds an flock(2) on path; false after timeout_seconds.
bool wait_until_locked(const std::string& path, double timeout_seconds);

/// Polls until pred() holds; false after timeout_seconds.
bool wait_until(const std::function<bool()>& pred, double timeout_seconds);

/// Folder holding the real MNIST IDX files set-up installed, or "" when absent.
std::string real_mnist_dir();

}  // namespace dvae::test
