// An exclusive lock on an output folder, so that a second `dvae train`,
// `classify`, `study run` or `reproduce` on the same folder refuses instead of
// corrupting the first (two writers would interleave log lines and results
// rows and overwrite each other's checkpoints). Uses flock(2):
// the lock dies with the process, so a killed run never leaves a stale lock.
#pragma once

#include <string>

namespace dvae {

/// Holds OUT/.dvae.lock exclusively for the object's lifetime.
class RunLock {
 public:
  /// Takes the lock or throws dvae::Error naming the folder and the holder's pid.
  explicit RunLock(const std::string& out_dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace dvae
