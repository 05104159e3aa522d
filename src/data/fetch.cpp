// libcurl downloads with pinned digests and temporary files renamed into place.
#include "data/fetch.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <sstream>

#include "core/atomic_file.h"
#include "core/check.h"
#include "dvae/version.h"

namespace dvae {
namespace fs = std::filesystem;

namespace {

// Digests as published by the data sets' mirrors (see the report in the README).
const std::vector<RemoteDataset>& builtin_remotes() {
  static const std::vector<RemoteDataset> kRemotes = {
      {"mnist",
       {"https://ossci-datasets.s3.amazonaws.com/mnist", "https://storage.googleapis.com/cvdf-datasets/mnist"},
       {{"train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
        {"train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
        {"t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
        {"t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"}}},
      {"fashion-mnist",
       {"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion"},
       {{"train-images-idx3-ubyte.gz", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"},
        {"train-labels-idx1-ubyte.gz", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"},
        {"t10k-images-idx3-ubyte.gz", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"},
        {"t10k-labels-idx1-ubyte.gz", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"}}},
      {"kmnist",
       {"https://codh.rois.ac.jp/kmnist/dataset/kmnist", "http://codh.rois.ac.jp/kmnist/dataset/kmnist"},
       {{"train-images-idx3-ubyte.gz", "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4"},
        {"train-labels-idx1-ubyte.gz", "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17"},
        {"t10k-images-idx3-ubyte.gz", "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5"},
        {"t10k-labels-idx1-ubyte.gz", "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c"}}},
  };
  return kRemotes;
}

void ensure_curl_initialised() {
  static const bool kInitialised = [] {
    DVAE_CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK, "cannot initialise libcurl");
    return true;
  }();
  (void)kInitialised;
}

std::string temp_name(const std::string& path) {
  static thread_local std::mt19937_64 gen(std::random_device{}());
  std::ostringstream out;
  out << path << ".tmp." << ::getpid() << "." << std::hex << gen();
  return out.str();
}

std::string join_url(const std::string& base, const std::string& name) {
  return base.empty() || base.back() == '/' ? base + name : base + "/" + name;
}

size_t write_to_file(char* data, size_t size, size_t count, void* user) {
  return std::fwrite(data, size, count, static_cast<std::FILE*>(user)) * size;
}

void fsync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Downloads url into tmp (created or truncated). Throws dvae::Error naming url;
// the caller removes tmp.
void download_to(const std::string& url, const std::string& tmp, const FetchOptions& o) {
  ensure_curl_initialised();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  DVAE_CHECK(curl, url, ": cannot create a libcurl handle");
  std::unique_ptr<std::FILE, decltype(&std::fclose)> file(std::fopen(tmp.c_str(), "wb"), &std::fclose);
  DVAE_CHECK(file, tmp, ": cannot open for writing: ", std::strerror(errno));
  char errbuf[CURL_ERROR_SIZE] = {0};
  const std::string agent = std::string("dvae/") + kVersion;
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &write_to_file);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, file.get());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(h, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, o.connect_timeout_s);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, o.low_speed_bytes);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, o.low_speed_time_s);
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(o.max_file_bytes));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, agent.c_str());
  const CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_off_t received = 0, announced = -1;
  curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &received);
  curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced);
  const bool flushed = std::fflush(file.get()) == 0;
  const std::string detail = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
  DVAE_CHECK(rc != CURLE_HTTP_RETURNED_ERROR && status < 400, url, ": HTTP status ", status, ", expected 200");
  DVAE_CHECK(rc != CURLE_OPERATION_TIMEDOUT, url, ": timed out (", detail, "), expected a transfer faster than ",
             o.low_speed_bytes, " bytes/s over ", o.low_speed_time_s, " s");
  DVAE_CHECK(rc != CURLE_PARTIAL_FILE, url, ": transfer interrupted after ", received, " of ", announced,
             " bytes, expected the whole file");
  DVAE_CHECK(rc != CURLE_FILESIZE_EXCEEDED, url, ": file larger than ", o.max_file_bytes,
             " bytes, expected a data set file");
  DVAE_CHECK(rc != CURLE_WRITE_ERROR && flushed, tmp, ": cannot write the download: ", std::strerror(errno),
             " (is the disk full?)");
  DVAE_CHECK(rc == CURLE_OK, url, ": download failed: ", detail);
  DVAE_CHECK(status == 200 || status == 0, url, ": HTTP status ", status, ", expected 200");
}

// Downloads one file from the first mirror that gives the right digest into a
// temporary file next to path; returns its name. Throws the last mirror's error.
std::string download_verified(const std::vector<std::string>& bases, const RemoteFile& file, const std::string& path,
                              const FetchOptions& o) {
  std::string last_error;
  for (const std::string& base : bases) {
    const std::string url = join_url(base, file.name);
    const std::string tmp = temp_name(path);
    try {
      if (o.log) o.log("downloading " + url);
      download_to(url, tmp, o);
      if (!file.sha256.empty()) {
        const std::string got = sha256_file(tmp);
        DVAE_CHECK(got == file.sha256, url, ": SHA-256 ", got, ", expected ", file.sha256,
                   " (corrupt or changed file; try another --mirror)");
      }
      fsync_file(tmp);
      return tmp;
    } catch (const Error& e) {
      std::error_code ignored;
      fs::remove(tmp, ignored);
      last_error = e.what();
      if (o.log) o.log(std::string("failed: ") + e.what());
    }
  }
  if (bases.size() > 1) last_error += " (tried " + std::to_string(bases.size()) + " mirrors)";
  throw Error(last_error);
}

}  // namespace

const std::vector<RemoteDataset>& remote_datasets() { return builtin_remotes(); }

const RemoteDataset& remote_dataset(const std::string& name) {
  std::string names;
  for (const RemoteDataset& r : remote_datasets()) {
    if (r.name == name) return r;
    names += (names.empty() ? "" : ", ") + r.name;
  }
  throw UsageError("unknown dataset '" + name + "' to fetch, expected one of " + names);
}

void download_file(const std::string& url, const std::string& path, const std::string& sha256,
                   const FetchOptions& options) {
  write_atomic_with(path, [&](const std::string& tmp) {
    download_to(url, tmp, options);
    if (!sha256.empty()) {
      const std::string got = sha256_file(tmp);
      DVAE_CHECK(got == sha256, url, ": SHA-256 ", got, ", expected ", sha256,
                 " (corrupt or changed file; try another --mirror)");
    }
  });
}

std::string fetch_files(const RemoteDataset& spec, const std::string& dest_dir, const FetchOptions& options) {
  std::error_code ec;
  fs::create_directories(dest_dir, ec);
  DVAE_CHECK(!ec && fs::is_directory(dest_dir), dest_dir, ": cannot create the folder: ", ec.message());
  const std::vector<std::string> bases =
      options.mirror.empty() ? spec.mirrors : std::vector<std::string>{options.mirror};
  DVAE_CHECK(!bases.empty(), "dataset ", spec.name, ": no mirror to download from, expected --mirror URL");
  // (final path, temporary path) of every file still to move into place.
  std::vector<std::pair<std::string, std::string>> pending;
  try {
    for (const RemoteFile& file : spec.files) {
      const std::string path = dest_dir + "/" + file.name;
      if (!options.force && fs::is_regular_file(path, ec) && !file.sha256.empty() &&
          sha256_file(path) == file.sha256) {
        if (options.log) options.log(path + ": present, SHA-256 verified");
        continue;
      }
      pending.emplace_back(path, download_verified(bases, file, path, options));
    }
  } catch (...) {
    for (const auto& entry : pending) fs::remove(entry.second, ec);
    throw;
  }
  for (size_t i = 0; i < pending.size(); ++i) {
    fs::rename(pending[i].second, pending[i].first, ec);
    if (ec) {
      const std::string message = ec.message();
      for (size_t j = i; j < pending.size(); ++j) fs::remove(pending[j].second, ec);
      throw Error(pending[i].first + ": cannot move the download into place: " + message);
    }
    if (options.log) options.log(pending[i].first + ": written, SHA-256 verified");
  }
  const int dir_fd = ::open(dest_dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return dest_dir;
}

std::string fetch_dataset(const std::string& name, const std::string& data_root, const FetchOptions& options) {
  const RemoteDataset& spec = remote_dataset(name);
  return fetch_files(spec, data_root + "/" + name, options);
}

}  // namespace dvae
