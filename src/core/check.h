// Errors and input checks. Every check on user input or file contents throws
// dvae::Error with a one-line message naming the file or flag, the value seen
// and what was expected. UsageError marks command-line mistakes (exit code 2).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace dvae {

/// A runtime error with a one-line, user-facing message (exit code 1).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A command-line usage error (exit code 2).
class UsageError : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
}  // namespace detail

}  // namespace dvae

/// Throws dvae::Error with the concatenated message when cond is false.
#define DVAE_CHECK(cond, ...)                                  \
  do {                                                         \
    if (!(cond)) {                                             \
      throw ::dvae::Error(::dvae::detail::concat(__VA_ARGS__)); \
    }                                                          \
  } while (false)

/// Throws dvae::UsageError with the concatenated message when cond is false.
#define DVAE_CHECK_USAGE(cond, ...)                                 \
  do {                                                              \
    if (!(cond)) {                                                  \
      throw ::dvae::UsageError(::dvae::detail::concat(__VA_ARGS__)); \
    }                                                               \
  } while (false)
