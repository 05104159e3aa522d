// Parsing log.jsonl into plain records.
#include "analysis/records.h"

#include <sstream>

#include "core/atomic_file.h"
#include "core/check.h"
#include "core/json_check.h"

namespace dvae {

namespace {

template <typename T>
T field(const nlohmann::json& j, const char* key, const std::string& where) {
  DVAE_CHECK(j.contains(key), where, ": missing key \"", key, "\", expected a ", key, " field");
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(where + ": key \"" + key + "\" holds " + j.at(key).dump() + ", expected a value of another type");
  }
}

// An optional key: fallback when absent, else a value of type T (an error naming the key otherwise).
template <typename T>
T field_or(const nlohmann::json& j, const char* key, const T& fallback, const std::string& where) {
  return j.contains(key) ? field<T>(j, key, where) : fallback;
}

}  // namespace

std::vector<nlohmann::json> read_json_lines(const std::string& path) {
  const std::string text = read_file(path);
  std::istringstream in(text);
  std::vector<nlohmann::json> rows;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    DVAE_CHECK(!j.is_discarded() && j.is_object(), path, ":", number, ": not a JSON object (",
               line.substr(0, 40), "...), expected one JSON object per line");
    rows.push_back(std::move(j));
  }
  return rows;
}

std::vector<EpochRecord> read_training_log(const std::string& path) {
  const auto lines = read_json_lines(path);
  std::vector<EpochRecord> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& j = lines[i];
    const std::string where = path + ": line " + std::to_string(i + 1);
    EpochRecord e;
    require_json_integer_fields(j, where, {"epoch"});
    e.epoch = field<int64_t>(j, "epoch", where);
    e.train_recon = field<double>(j, "train_recon", where);
    e.train_kl = field<double>(j, "train_kl", where);
    e.test_recon = field<double>(j, "test_recon", where);
    e.test_kl = field<double>(j, "test_kl", where);
    e.test_elbo = j.contains("test_elbo") ? field<double>(j, "test_elbo", where) : -(e.test_recon + e.test_kl);
    e.beta = field_or(j, "beta", 0.0, where);
    if (j.contains("kl_per_latent")) e.kl_per_latent = field<std::vector<double>>(j, "kl_per_latent", where);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace dvae
