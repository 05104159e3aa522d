// Downloading the MNIST family's four .gz files over libcurl, for users with
// internet access: pinned SHA-256 per file, public mirrors tried in order (or
// one given base URL), an atomic write per data set (every file goes to a
// temporary name and is renamed only after all four verify, so a failed or
// interrupted fetch leaves nothing in place), and one-line errors for HTTP
// status >= 400, stalled transfers, short bodies and checksum mismatches.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dvae {

/// One file of a remote data set and its pinned digest.
struct RemoteFile {
  std::string name;    ///< file name, e.g. "train-images-idx3-ubyte.gz"
  std::string sha256;  ///< expected SHA-256, 64 lowercase hex digits
};

/// Where a data set can be downloaded from.
struct RemoteDataset {
  std::string name;                  ///< registry name, e.g. "mnist"
  std::vector<std::string> mirrors;  ///< base URLs tried in order; a file's URL is base + "/" + name
  std::vector<RemoteFile> files;     ///< the files to fetch
};

/// The data sets `dvae data fetch` knows: mnist, fashion-mnist, kmnist.
const std::vector<RemoteDataset>& remote_datasets();

/// The remote data set called name; throws dvae::UsageError when unknown.
const RemoteDataset& remote_dataset(const std::string& name);

/// Transfer settings.
struct FetchOptions {
  std::string mirror;                 ///< base URL to use instead of the built-in mirrors ("" = built-in)
  long connect_timeout_s = 30;        ///< give up connecting after this many seconds
  long low_speed_time_s = 30;         ///< abort when slower than low_speed_bytes/s for this long
  long low_speed_bytes = 1024;        ///< see low_speed_time_s
  int64_t max_file_bytes = int64_t{256} << 20;  ///< refuse bodies larger than this (256 MiB)
  bool force = false;                 ///< download even when verified files are already in place
  std::function<void(const std::string&)> log;  ///< progress lines (optional)
};

/// Downloads url to path atomically and checks its SHA-256 (empty sha256 = no
/// check). On any failure path is left as it was and dvae::Error names the URL.
void download_file(const std::string& url, const std::string& path, const std::string& sha256,
                   const FetchOptions& options = {});

/// Downloads every file of spec into dest_dir, trying each mirror in turn (or
/// options.mirror). Files already present with the right digest are kept. The
/// new files are renamed into place only after all of them verify. Returns dest_dir.
std::string fetch_files(const RemoteDataset& spec, const std::string& dest_dir, const FetchOptions& options = {});

/// Fetches a known data set into data_root/name; returns that folder.
std::string fetch_dataset(const std::string& name, const std::string& data_root, const FetchOptions& options = {});

}  // namespace dvae
