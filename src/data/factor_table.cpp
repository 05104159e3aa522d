// The factor table of a split: cached morphometrics plus generator factors, and its CSV form.
#include "data/factor_table.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "core/atomic_file.h"
#include "core/check.h"
#include "data/morphometrics.h"

namespace dvae {
namespace {

namespace fs = std::filesystem;

void append_number(std::string& out, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  out += buf;
}

std::vector<std::string> split_commas(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

double parse_number(const std::string& text, const std::string& path, size_t line, const std::string& column) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  DVAE_CHECK(!text.empty() && end == text.c_str() + text.size(), path, ":", line, ": column ", column, ": '", text,
             "' is not a number");
  return v;
}

// The cache file: a header line naming the key, the column names, then rows.
std::string cache_text(const std::string& key, const torch::Tensor& m) {
  std::string out = "# dvae morphometrics " + key + "\n";
  const std::vector<std::string>& names = morphometric_names();
  for (size_t k = 0; k < names.size(); ++k) out += (k ? "," : "") + names[k];
  out += "\n";
  const auto a = m.accessor<double, 2>();
  for (int64_t i = 0; i < a.size(0); ++i) {
    for (int64_t k = 0; k < a.size(1); ++k) {
      if (k) out += ",";
      append_number(out, a[i][k]);
    }
    out += "\n";
  }
  return out;
}

// The cached morphometrics [M,6] when the file holds key with at least `need` rows, else undefined.
torch::Tensor read_cache(const std::string& path, const std::string& key, int64_t need) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return {};
  std::istringstream in(read_file(path));
  std::string line;
  if (!std::getline(in, line) || line != "# dvae morphometrics " + key) return {};
  if (!std::getline(in, line)) return {};
  std::vector<double> values;
  size_t lineno = 2;
  while (std::getline(in, line)) {
    ++lineno;
    const std::vector<std::string> fields = split_commas(line);
    DVAE_CHECK(fields.size() == 6, path, ":", lineno, ": ", fields.size(), " fields, expected 6 (delete the cache file)");
    for (const std::string& f : fields) values.push_back(parse_number(f, path, lineno, "?"));
  }
  const auto rows = static_cast<int64_t>(values.size() / 6);
  if (rows < need) return {};
  return torch::from_blob(values.data(), {rows, 6}, torch::kFloat64).clone();
}

}  // namespace

std::string factor_cache_key(const std::string& fingerprint, const std::string& split) {
  return fingerprint.substr(0, 16) + "-" + split + "-morpho" + std::to_string(kMorphometricsVersion);
}

FactorTable factor_table(const ImageSet& set, const FactorTableOptions& options, FactorTableStats* stats) {
  DVAE_CHECK(options.limit >= 0, "factor_table: limit ", options.limit, ", expected >= 0");
  DVAE_CHECK(options.cache_dir.empty() || !options.cache_key.empty(), "factor_table: a cache folder (",
             options.cache_dir, ") needs a cache key");
  const int64_t n = options.limit > 0 ? std::min(options.limit, set.size()) : set.size();
  FactorTableStats local;
  torch::Tensor morpho;  // [n,6]
  if (!options.cache_dir.empty()) {
    local.cache_file = options.cache_dir + "/" + options.cache_key + ".csv";
    const torch::Tensor cached = read_cache(local.cache_file, options.cache_key, n);
    if (cached.defined()) {
      morpho = cached.narrow(0, 0, n);
      local.cache_hit = true;
    }
  }
  if (!morpho.defined()) {
    const auto start = std::chrono::steady_clock::now();
    morpho = measure_images(set.images.narrow(0, 0, n), {}, &local.stages);
    local.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!options.cache_dir.empty()) {
      fs::create_directories(options.cache_dir);
      write_file_atomic(local.cache_file, cache_text(options.cache_key, morpho));
    }
  }
  FactorTable table;
  table.names = morphometric_names();
  table.index = torch::arange(n, torch::kInt64);
  table.labels = set.labels.narrow(0, 0, n).to(torch::kInt64);
  table.values = morpho;
  if (set.has_factors()) {
    DVAE_CHECK(set.factors.defined() && set.factors.dim() == 2 && set.factors.size(0) == set.size() &&
                   set.factors.size(1) == static_cast<int64_t>(set.factor_names.size()),
               set.source, ": factor table does not match its ", set.size(), " images and ", set.factor_names.size(),
               " factor names");
    table.names.insert(table.names.end(), set.factor_names.begin(), set.factor_names.end());
    table.values = torch::cat({morpho, set.factors.narrow(0, 0, n).to(torch::kFloat64)}, 1);  // [n,6+G]
  }
  table.values = table.values.contiguous();
  if (stats) *stats = local;
  return table;
}

std::string factor_table_csv(const FactorTable& table) {
  std::string out = "index,label";
  for (const std::string& name : table.names) out += "," + name;
  out += "\n";
  const auto idx = table.index.accessor<int64_t, 1>();
  const auto lab = table.labels.accessor<int64_t, 1>();
  const auto v = table.values.accessor<double, 2>();
  for (int64_t i = 0; i < v.size(0); ++i) {
    out += std::to_string(idx[i]) + "," + std::to_string(lab[i]);
    for (int64_t k = 0; k < v.size(1); ++k) {
      out += ",";
      append_number(out, v[i][k]);
    }
    out += "\n";
  }
  return out;
}

FactorTable read_factor_table_csv(const std::string& path) {
  std::istringstream in(read_file(path));
  std::string line;
  DVAE_CHECK(std::getline(in, line), path, ": empty file, expected a header line index,label,<factors>");
  const std::vector<std::string> header = split_commas(line);
  DVAE_CHECK(header.size() >= 3 && header[0] == "index" && header[1] == "label", path,
             ":1: header '", line, "', expected index,label followed by at least one factor column");
  FactorTable table;
  table.names.assign(header.begin() + 2, header.end());
  std::vector<int64_t> index, labels;
  std::vector<double> values;
  size_t lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    const std::vector<std::string> f = split_commas(line);
    DVAE_CHECK(f.size() == header.size(), path, ":", lineno, ": ", f.size(), " fields, expected ", header.size());
    for (size_t k = 0; k < f.size(); ++k) {
      const double v = parse_number(f[k], path, lineno, header[k]);
      if (k == 0 || k == 1) {
        // Range first: casting a double outside int64's range is undefined behaviour.
        DVAE_CHECK(std::isfinite(v) && std::fabs(v) < 9.0e15 && v == std::floor(v), path, ":", lineno, ": column ",
                   header[k], ": '", f[k], "', expected an integer");
        (k == 0 ? index : labels).push_back(static_cast<int64_t>(v));
      } else {
        values.push_back(v);
      }
    }
  }
  const auto n = static_cast<int64_t>(index.size());
  const auto cols = static_cast<int64_t>(table.names.size());
  table.index = torch::tensor(index, torch::kInt64);
  table.labels = torch::tensor(labels, torch::kInt64);
  table.values = n ? torch::from_blob(values.data(), {n, cols}, torch::kFloat64).clone()
                   : torch::zeros({0, cols}, torch::kFloat64);
  return table;
}

}  // namespace dvae
