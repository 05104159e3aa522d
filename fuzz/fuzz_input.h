// Shared by the libFuzzer targets: the input written to a per-process scratch
// file (dvae's readers take paths), and the errors a reader may throw for bad
// input. Anything else escaping a reader (another exception, a crash, a
// sanitizer report, a hang) is a finding.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace dvae::fuzz {

/// Writes data to a scratch file named after tag and this process; returns its path.
inline std::string write_input(const std::string& tag, const uint8_t* data, size_t size) {
  static const std::string dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  const std::string path = dir + "/dvae-fuzz-" + std::to_string(getpid()) + "-" + tag;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

}  // namespace dvae::fuzz

/// Runs body; the dvae and LibTorch errors that reject bad input are expected and
/// swallowed, but a dvae error must be one line (dvae prints it as "error: ...").
#define DVAE_FUZZ_EXPECTED_ERRORS(body)                                                 \
  try {                                                                                 \
    body;                                                                               \
  } catch (const ::dvae::Error& e) {                                                    \
    if (std::string(e.what()).find('\n') != std::string::npos) {                        \
      std::fprintf(stderr, "dvae error message of more than one line:\n%s\n", e.what()); \
      std::abort();                                                                     \
    }                                                                                   \
  } catch (const ::c10::Error&) {                                                       \
  }
