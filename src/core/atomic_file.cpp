// Atomic writes, durable appends and SHA-256 (through OpenSSL's EVP API).
#include "core/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <vector>

#include "core/check.h"

namespace dvae {
namespace fs = std::filesystem;

namespace {

std::string temp_path_for(const std::string& path) {
  static thread_local std::mt19937_64 gen(std::random_device{}());
  std::ostringstream out;
  out << path << ".tmp." << ::getpid() << "." << std::hex << gen();
  return out.str();
}

void fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return;  // best effort for directories on odd filesystems
  ::fsync(fd);
  ::close(fd);
}

// A full disk may only show when the data reaches it (delayed allocation, NFS).
void fsync_written(const std::string& tmp, const std::string& path) {
  const int fd = ::open(tmp.c_str(), O_RDONLY);
  DVAE_CHECK(fd >= 0, path, ": cannot reopen ", tmp, ": ", std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  DVAE_CHECK(rc == 0, path, ": cannot write ", tmp, ": ", std::strerror(err), " (is the disk full?)");
}

}  // namespace

void write_atomic_with(const std::string& path, const std::function<void(const std::string&)>& write) {
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const std::string tmp = temp_path_for(path);
  try {
    write(tmp);
    fsync_written(tmp, path);
    std::error_code ec;
    fs::rename(tmp, target, ec);
    DVAE_CHECK(!ec, "cannot rename ", tmp, " to ", path, ": ", ec.message());
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
  fsync_path(target.has_parent_path() ? target.parent_path().string() : ".", true);
}

int64_t remove_stale_temporaries(const std::string& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return 0;
  int64_t removed = 0;
  std::vector<fs::path> stale;
  for (auto it = fs::recursive_directory_iterator(folder, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    // TARGET.tmp.PID.HEX (temp_path_for)
    const std::string name = it->path().filename().string();
    const size_t tag = name.rfind(".tmp.");
    if (tag == std::string::npos) continue;
    const std::string rest = name.substr(tag + 5);
    const size_t dot = rest.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == rest.size() ||
        rest.find_first_not_of("0123456789") != dot || rest.find_first_not_of("0123456789abcdef", dot + 1) != std::string::npos) {
      continue;
    }
    const long pid = std::strtol(rest.substr(0, dot).c_str(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) stale.push_back(it->path());
  }
  for (const auto& p : stale) removed += fs::remove(p, ec) ? 1 : 0;
  return removed;
}

void write_file_atomic(const std::string& path, const std::string& contents) {
  write_atomic_with(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    DVAE_CHECK(out, path, ": cannot open ", tmp, " for writing: ", std::strerror(errno),
               " (is the folder writable?)");
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    DVAE_CHECK(out, path, ": cannot write ", tmp, ": ", std::strerror(errno), " (is the disk full?)");
  });
}

void append_line_durable(const std::string& path, const std::string& line) {
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  DVAE_CHECK(fd >= 0, "cannot open ", path, " for appending: ", std::strerror(errno));
  const std::string data = line + "\n";
  const off_t size_before = ::lseek(fd, 0, SEEK_END);
  const ssize_t n = ::write(fd, data.data(), data.size());
  const int write_err = errno;
  // A short write (disk full) would leave half a line: take it back.
  if (n >= 0 && n < static_cast<ssize_t>(data.size()) && size_before >= 0) (void)!::ftruncate(fd, size_before);
  const int synced = ::fsync(fd);
  const int sync_err = errno;
  ::close(fd);
  DVAE_CHECK(n == static_cast<ssize_t>(data.size()), "cannot append to ", path, ": ",
             std::strerror(n < 0 ? write_err : ENOSPC), " (is the disk full?)");
  DVAE_CHECK(synced == 0, "cannot append to ", path, ": ", std::strerror(sync_err), " (is the disk full?)");
}

std::string read_file(const std::string& path) {
  std::error_code ec;
  DVAE_CHECK(fs::exists(path, ec), path, ": file not found");
  DVAE_CHECK(!fs::is_directory(path, ec), path, ": is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  DVAE_CHECK(in, path, ": cannot open for reading: ", std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

namespace {
std::string to_hex(const unsigned char* digest, unsigned int len) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}
}  // namespace

std::string sha256_hex(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  DVAE_CHECK(EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr) == 1,
             "SHA-256 computation failed");
  return to_hex(digest, len);
}

std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  DVAE_CHECK(in, path, ": cannot open for reading");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  return to_hex(digest, len);
}

}  // namespace dvae
