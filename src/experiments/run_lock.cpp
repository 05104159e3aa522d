// flock(2)-based exclusive lock on an output folder.
#include "experiments/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "core/check.h"

namespace dvae {

RunLock::RunLock(const std::string& out_dir) {
  std::filesystem::create_directories(out_dir);
  const std::string path = out_dir + "/.dvae.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  // A read-only folder that already has the lock file can still be locked (flock
  // needs no write access), so that the write that fails later names its file.
  if (fd_ < 0 && (errno == EROFS || errno == EACCES)) fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  DVAE_CHECK(fd_ >= 0, path, ": cannot open lock file: ", std::strerror(errno),
             " (is the folder writable?)");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    ::close(fd_);
    fd_ = -1;
    throw Error(out_dir + ": another dvae run (pid " + (n > 0 ? std::string(buf, static_cast<size_t>(n)) : "?") +
                ") is using this output folder; wait for it to finish or choose another --out");
  }
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(fd_, 0) == 0) {
    (void)::pwrite(fd_, pid.data(), pid.size(), 0);
  }
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace dvae
