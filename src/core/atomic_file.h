// Atomic file output: write to a temporary file beside the target, flush and
// fsync it, then rename over the target, so a reader (or a rerun after a kill)
// sees either the old file or the complete new one, never a partial one.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace dvae {

/// Writes contents to path atomically; throws dvae::Error naming path on failure.
void write_file_atomic(const std::string& path, const std::string& contents);

/// Calls write(tmp_path) to produce a temporary file, fsyncs it and renames it
/// to path. On any exception the temporary file is removed and the target is untouched.
void write_atomic_with(const std::string& path, const std::function<void(const std::string& tmp_path)>& write);

/// Removes what write_atomic_with leaves when its process is killed mid-write:
/// files named TARGET.tmp.PID.HEX under folder (recursively) whose PID no longer
/// runs. Returns how many it removed.
int64_t remove_stale_temporaries(const std::string& folder);

/// Appends one line (a '\n' is added) to path and flushes it to disk.
void append_line_durable(const std::string& path, const std::string& line);

/// Reads a whole file; throws dvae::Error naming path when it cannot.
std::string read_file(const std::string& path);

/// SHA-256 of a byte string as 64 lowercase hex digits.
std::string sha256_hex(const std::string& bytes);

/// SHA-256 of a file's contents as 64 lowercase hex digits.
std::string sha256_file(const std::string& path);

}  // namespace dvae
