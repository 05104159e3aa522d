// Checks a zip archive held in memory before a reader that trusts it sees it:
// LibTorch's archive reader (miniz) checks neither an entry's CRC-32 nor that
// the central directory agrees with the local headers, and its TorchScript
// importer crashes (SIGSEGV) on some damaged archives. Not a zip reader: it
// extracts nothing, it only says whether every entry is what its writer wrote.
#pragma once

#include <string>

namespace dvae {

/// Checks that bytes are a zip archive (ZIP64 records allowed) whose every entry
/// lies inside the file, has the same name in its local header as in the central
/// directory, is stored or deflated, and has the CRC-32 and size recorded for it.
/// Throws dvae::Error saying what is wrong (naming the first bad entry); the
/// caller adds the file's name.
void check_zip(const std::string& bytes);

}  // namespace dvae
