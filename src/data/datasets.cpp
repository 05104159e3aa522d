// The data set registry, folder loading, statistics and fingerprints.
#include "data/datasets.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <memory>
#include <sstream>

#include "core/check.h"
#include "data/idx.h"
#include "data/mnist_affine.h"

namespace dvae {
namespace fs = std::filesystem;

namespace {

// The four standard MNIST-family file names, without the optional ".gz".
const std::array<const char*, 4> kIdxNames = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

std::string expand_root(const std::string& tmpl, const std::string& data_root) {
  const std::string key = "{root}";
  const size_t at = tmpl.find(key);
  if (at == std::string::npos) return tmpl;
  return tmpl.substr(0, at) + data_root + tmpl.substr(at + key.size());
}

// The raw file if present, else the .gz one, else "".
std::string find_one(const std::string& dir, const std::string& name) {
  std::error_code ec;
  for (const std::string& candidate : {dir + "/" + name, dir + "/" + name + ".gz"}) {
    if (fs::exists(candidate, ec)) return candidate;
  }
  return "";
}

std::string fetch_hint(const std::string& name) {
  if (name == "fashion-mnist") {
    return "install Debian's dataset-fashion-mnist or run `dvae data fetch fashion-mnist`";
  }
  if (name == "mnist") return "run scripts/setup.sh or `dvae data fetch mnist`";
  return "run `dvae data fetch " + name + "`";
}

}  // namespace

const std::vector<DatasetInfo>& registered_datasets() {
  static const std::vector<DatasetInfo> kDatasets = {
      {"mnist", "MNIST handwritten digits (LeCun et al. 1998), 60,000 + 10,000 28x28 images", {"{root}/mnist"},
       {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, {}, {}},
      {"fashion-mnist", "Fashion-MNIST Zalando article images (Xiao et al. 2017), 60,000 + 10,000 28x28 images",
       {"{root}/fashion-mnist", "/usr/share/datasets/fashion-mnist"},
       {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}, {}, {}},
      {"kmnist", "Kuzushiji-MNIST cursive Japanese (Clanuwat et al. 2018), 60,000 + 10,000 28x28 images",
       {"{root}/kmnist"},
       {"o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"}, {}, {}},
      {"mnist-affine", "MNIST rotated, scaled, sheared, shifted, thinned or thickened by known random factors (seeded)",
       {}, {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, load_mnist_affine, make_mnist_affine_source},
  };
  return kDatasets;
}

const DatasetInfo* find_dataset(const std::string& name) {
  for (const DatasetInfo& info : registered_datasets()) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

std::string dataset_folder(const DatasetInfo& info, const std::string& data_root) {
  if (info.folders.empty()) return "";
  for (const std::string& tmpl : info.folders) {
    const std::string dir = expand_root(tmpl, data_root);
    if (has_idx_files(dir)) return dir;
  }
  return expand_root(info.folders.front(), data_root);
}

bool has_idx_files(const std::string& dir) {
  for (const char* name : kIdxNames) {
    if (find_one(dir, name).empty()) return false;
  }
  return true;
}

std::vector<std::string> find_idx_files(const std::string& dir) {
  std::vector<std::string> paths;
  for (const char* name : kIdxNames) {
    const std::string path = find_one(dir, name);
    DVAE_CHECK(!path.empty(), dir, "/", name, ": file not found (nor ", name,
               ".gz), expected the four standard IDX files in ", dir);
    paths.push_back(path);
  }
  return paths;
}

Dataset load_dataset_dir(const std::string& dir, const std::string& name) {
  std::error_code ec;
  DVAE_CHECK(fs::exists(dir, ec), dir, ": folder not found, expected a folder holding the four standard IDX files");
  DVAE_CHECK(fs::is_directory(dir, ec), dir, ": is not a folder, expected a folder holding the four standard IDX files");
  const std::vector<std::string> paths = find_idx_files(dir);
  Dataset data;
  data.name = name.empty() ? dir : name;
  data.dir = fs::absolute(dir, ec).lexically_normal().string();
  if (ec || data.dir.empty()) data.dir = dir;
  data.train = read_idx_pair(paths[0], paths[1], 10);
  data.test = read_idx_pair(paths[2], paths[3], 10);
  DVAE_CHECK(data.train.rows() == data.test.rows() && data.train.cols() == data.test.cols(), paths[2], ": images are ",
             data.test.rows(), "x", data.test.cols(), ", expected ", data.train.rows(), "x", data.train.cols(),
             " like ", paths[0]);
  data.train.source = data.name + "/train";
  data.test.source = data.name + "/test";
  return data;
}

Dataset load_dataset(const std::string& name_or_dir, const std::string& data_root) {
  if (const DatasetInfo* info = find_dataset(name_or_dir)) {
    if (info->generate) return info->generate(data_root);
    const std::string dir = dataset_folder(*info, data_root);
    if (!has_idx_files(dir)) {
      std::ostringstream looked;
      for (size_t i = 0; i < info->folders.size(); ++i) {
        looked << (i ? ", " : "") << expand_root(info->folders[i], data_root);
      }
      throw Error("dataset " + info->name + ": the four IDX files are not in " + looked.str() + "; " +
                  fetch_hint(info->name));
    }
    return load_dataset_dir(dir, info->name);
  }
  std::error_code ec;
  const bool looks_like_path = name_or_dir.find('/') != std::string::npos || fs::is_directory(name_or_dir, ec);
  if (!looks_like_path) {
    std::ostringstream names;
    for (const DatasetInfo& info : registered_datasets()) names << info.name << ", ";
    throw UsageError("unknown dataset '" + name_or_dir + "', expected one of " + names.str() +
                     "or a folder holding the four standard IDX files");
  }
  return load_dataset_dir(name_or_dir);
}

DatasetStats dataset_stats(const ImageSet& set) {
  DatasetStats stats;
  stats.count = set.size();
  stats.histogram.assign(static_cast<size_t>(set.num_classes), 0);
  if (stats.count == 0) return stats;
  stats.rows = set.rows();
  stats.cols = set.cols();
  const torch::Tensor images = set.images.contiguous();
  const uint8_t* p = images.data_ptr<uint8_t>();
  const int64_t n = images.numel();
  // A histogram of grey levels gives exact integer sums.
  std::array<int64_t, 256> levels{};
  for (int64_t i = 0; i < n; ++i) ++levels[p[i]];
  double sum = 0.0, sum_sq = 0.0;
  for (int v = 0; v < 256; ++v) {
    sum += static_cast<double>(levels[v]) * v;
    sum_sq += static_cast<double>(levels[v]) * v * v;
  }
  const double mean = sum / static_cast<double>(n);
  const double var = std::max(0.0, sum_sq / static_cast<double>(n) - mean * mean);
  stats.pixel_mean = mean / 255.0;
  stats.pixel_std = std::sqrt(var) / 255.0;
  const torch::Tensor labels = set.labels.to(torch::kInt64).contiguous();
  const int64_t* l = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < labels.numel(); ++i) {
    DVAE_CHECK(l[i] >= 0 && l[i] < set.num_classes, set.source, ": label ", l[i], " at index ", i, ", expected < ",
               set.num_classes);
    ++stats.histogram[static_cast<size_t>(l[i])];
  }
  return stats;
}

std::string dataset_fingerprint(const Dataset& data) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  DVAE_CHECK(ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1, "SHA-256 initialisation failed");
  auto update = [&](const void* bytes, size_t n) { EVP_DigestUpdate(ctx.get(), bytes, n); };
  const std::string tag = "dvae-dataset-v1\n";
  update(tag.data(), tag.size());
  for (const auto& [split, set] : {std::pair<const char*, const ImageSet*>{"train", &data.train},
                                   std::pair<const char*, const ImageSet*>{"test", &data.test}}) {
    std::ostringstream header;
    header << split << " " << set->size();
    if (set->size() > 0) header << " " << set->rows() << " " << set->cols();
    header << " " << set->num_classes << "\n";
    const std::string h = header.str();
    update(h.data(), h.size());
    if (set->size() == 0) continue;
    const torch::Tensor images = set->images.contiguous();
    update(images.data_ptr<uint8_t>(), static_cast<size_t>(images.numel()));
    const torch::Tensor labels = set->labels.to(torch::kUInt8).contiguous();  // int64 [N] -> uint8 [N]
    update(labels.data_ptr<uint8_t>(), static_cast<size_t>(labels.numel()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

}  // namespace dvae
