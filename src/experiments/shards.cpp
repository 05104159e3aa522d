// Shards of a study: the assignment, the manifest, and the merge of the stores.
#include "experiments/shards.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <set>

#include "core/atomic_file.h"
#include "core/check.h"
#include "core/one_line.h"
#include "experiments/results_db.h"

namespace dvae {
namespace {

namespace fs = std::filesystem;

// The folder holding a unit's artefact and its companions (log, config, partial results).
fs::path unit_folder(const std::string& artefact) { return fs::path(artefact).parent_path(); }

using MetricPairs = std::vector<std::pair<std::string, double>>;

// A disentanglement record of shard dir (experiments/disentanglement_stage.h) has
// no artefact: its values are checked instead against its VAE, a unit of the same
// shard whose checkpoint (verified before) is the one scored, and against the
// shard's table disentanglement(vae, metric, value). Returns the values to copy.
MetricPairs checked_disentanglement(const ResultsDb& db, const std::string& dir, const UnitRecord& r) {
  const std::string what = dir + "/results.sqlite: disentanglement unit " + r.key.substr(0, 12) + " (" + r.label + ")";
  const nlohmann::json& p = r.payload;
  DVAE_CHECK(p.is_object() && p.contains("metrics") && p.contains("vae") && p.contains("checkpoint") &&
                 p.at("metrics").is_array() && p.at("vae").is_string() && p.at("checkpoint").is_string(),
             what, ": no metrics, vae or checkpoint in its record, expected one written by this dvae's "
             "`dvae study run --shard`; rerun that shard with --force");
  const std::string vae = p.at("vae").get<std::string>();
  const auto v = db.find(vae);
  DVAE_CHECK(v && v->kind == "vae", what, ": its VAE ", vae.substr(0, 12),
             " is not a unit of that shard, expected the shard that trained it; rerun that shard");
  DVAE_CHECK(v->sha256 == p.at("checkpoint").get<std::string>(), what, ": scored checkpoint ",
             p.at("checkpoint").get<std::string>().substr(0, 12), ", but its VAE's checkpoint is ",
             v->sha256.substr(0, 12), ", expected the scores of that checkpoint; rerun that shard with --force");
  MetricPairs values;
  for (const auto& pair : p.at("metrics")) {
    DVAE_CHECK(pair.is_array() && pair.size() == 2 && pair.at(0).is_string() && pair.at(1).is_number(), what,
               ": metric entry ", one_line(pair.dump()), ", expected [name, value]");
    values.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<double>());
  }
  const MetricPairs table = db.disentanglement(vae);
  for (const auto& [name, value] : values) {
    // A named copy: a lambda may not capture a structured binding before C++20 (clang refuses it).
    const std::string& wanted = name;
    const auto it = std::find_if(table.begin(), table.end(), [&](const auto& t) { return t.first == wanted; });
    DVAE_CHECK(it != table.end() && (it->second == value || (std::isnan(it->second) && std::isnan(value))), what,
               ": ", name, " is ", value, " in the record but ",
               it == table.end() ? std::string("absent") : std::to_string(it->second),
               " in table disentanglement, expected the same value; rerun that shard with --force");
  }
  return values;
}

}  // namespace

ShardSpec parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  ShardSpec s;
  bool ok = slash != std::string::npos && slash > 0 && slash + 1 < text.size();
  if (ok) {
    try {
      size_t used_k = 0, used_n = 0;
      const long long k = std::stoll(text.substr(0, slash), &used_k, 10);
      const long long n = std::stoll(text.substr(slash + 1), &used_n, 10);
      ok = used_k == slash && used_n == text.size() - slash - 1 && n >= 1 && n <= 100000 && k >= 0 && k < n &&
           text[0] != '+' && text[slash + 1] != '+';
      s.index = static_cast<int>(k);
      s.count = static_cast<int>(n);
    } catch (const std::exception&) {
      ok = false;
    }
  }
  if (!ok) {
    throw UsageError("--shard: '" + one_line(text) + "', expected K/N with 0 <= K < N <= 100000 (e.g. 0/3)");
  }
  return s;
}

std::vector<int> assign_shards(const std::vector<ShardItem>& items, int count) {
  DVAE_CHECK(count >= 1, "shards: ", count, ", expected >= 1");
  std::vector<size_t> order(items.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (items[a].cost != items[b].cost) return items[a].cost > items[b].cost;
    return items[a].key < items[b].key;
  });
  std::vector<double> load(static_cast<size_t>(count), 0.0);
  std::vector<int> shard(items.size(), 0);
  for (const size_t i : order) {
    const auto least = std::min_element(load.begin(), load.end());  // first of equals: the lowest index
    shard[i] = static_cast<int>(least - load.begin());
    *least += items[i].cost;
  }
  return shard;
}

void write_shard_manifest(const std::string& out_dir, const ShardManifest& m) {
  const nlohmann::json j = {{"spec_hash", m.spec_hash}, {"spec_toml", m.spec_toml}, {"shard", m.shard.index},
                            {"shards", m.shard.count},  {"units", m.units},         {"complete", m.complete}};
  write_file_atomic(out_dir + "/shard.json", j.dump(2) + "\n");
}

ShardManifest read_shard_manifest(const std::string& out_dir) {
  const std::string path = out_dir + "/shard.json";
  DVAE_CHECK(fs::exists(path), path, ": not found, expected the folder of a `dvae study run --shard K/N`");
  ShardManifest m;
  try {
    const auto j = nlohmann::json::parse(read_file(path));
    m.spec_hash = j.at("spec_hash").get<std::string>();
    m.spec_toml = j.at("spec_toml").get<std::string>();
    m.shard.index = j.at("shard").get<int>();
    m.shard.count = j.at("shards").get<int>();
    m.units = j.at("units").get<std::vector<std::string>>();
    m.complete = j.at("complete").get<bool>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": " + one_line(e.what()) + ", expected a shard.json written by dvae study run --shard");
  }
  DVAE_CHECK(m.shard.count >= 1 && m.shard.index >= 0 && m.shard.index < m.shard.count, path, ": shard ",
             m.shard.index, "/", m.shard.count, ", expected K/N with 0 <= K < N");
  return m;
}

ShardManifest merge_shards(const std::vector<std::string>& shard_dirs, const std::string& out_dir) {
  DVAE_CHECK(!shard_dirs.empty(), "study merge: no shard folders, expected OUT_1 ... OUT_N");
  std::vector<ShardManifest> manifests;
  for (const auto& dir : shard_dirs) manifests.push_back(read_shard_manifest(dir));
  const ShardManifest& first = manifests.front();
  std::vector<std::string> seen(static_cast<size_t>(first.shard.count));
  for (size_t i = 0; i < manifests.size(); ++i) {
    const ShardManifest& m = manifests[i];
    DVAE_CHECK(m.spec_hash == first.spec_hash, shard_dirs[i], ": a shard of another study (spec hash ",
               m.spec_hash.substr(0, 12), ", ", shard_dirs[0], " has ", first.spec_hash.substr(0, 12),
               "), expected the shards of one study");
    DVAE_CHECK(m.shard.count == first.shard.count, shard_dirs[i], ": shard ", m.shard.index, "/", m.shard.count,
               ", expected one of ", first.shard.count, " shards like ", shard_dirs[0]);
    std::string& slot = seen[static_cast<size_t>(m.shard.index)];
    DVAE_CHECK(slot.empty(), shard_dirs[i], ": shard ", m.shard.index, "/", m.shard.count, " again (also in ", slot,
               "), expected each shard once");
    slot = shard_dirs[i];
    DVAE_CHECK(m.complete, shard_dirs[i], ": shard ", m.shard.index, "/", m.shard.count,
               " did not finish, expected a complete shard; rerun `dvae study run SPEC --shard ", m.shard.index, "/",
               m.shard.count, " --out ", shard_dirs[i], "` to complete it");
  }
  for (size_t k = 0; k < seen.size(); ++k) {
    DVAE_CHECK(!seen[k].empty(), "study merge: shard ", k, "/", first.shard.count,
               " is missing, expected all ", first.shard.count,
               " shard folders; run `dvae study run SPEC --shard ", k, "/", first.shard.count, "` and merge again");
  }
  fs::create_directories(out_dir);
  ResultsDb out(out_dir + "/results.sqlite");
  for (size_t i = 0; i < manifests.size(); ++i) {
    const std::string& dir = shard_dirs[i];
    ResultsDb db(dir + "/results.sqlite");
    std::set<std::string> recorded;
    for (const UnitRecord& r : db.all()) {
      recorded.insert(r.key);
      if (r.artefact.empty()) continue;
      const std::string from = dir + "/" + r.artefact;
      DVAE_CHECK(fs::exists(from), from, ": missing, expected the artefact of unit ", r.key.substr(0, 12), " (",
                 r.label, "); rerun that shard");
      if (!r.sha256.empty()) {
        DVAE_CHECK(sha256_file(from) == r.sha256, from, ": SHA-256 differs from the shard's record (",
                   r.sha256.substr(0, 12), "), expected the file the shard wrote; rerun that shard with --force");
      }
      if (out.find(r.key)) continue;  // merged before (or the same unit in two shards)
      const fs::path folder = unit_folder(r.artefact);
      fs::create_directories(fs::path(out_dir) / folder);
      fs::copy(fs::path(dir) / folder, fs::path(out_dir) / folder,
               fs::copy_options::recursive | fs::copy_options::overwrite_existing);
      if (!r.sha256.empty()) {
        DVAE_CHECK(sha256_file(out_dir + "/" + r.artefact) == r.sha256, out_dir, "/", r.artefact,
                   ": the copy differs from the shard's file, expected an identical copy (disk full?)");
      }
      out.put(r);
    }
    // After the loop above verified every checkpoint of this shard.
    for (const UnitRecord& r : db.all("disentanglement")) {
      const MetricPairs values = checked_disentanglement(db, dir, r);
      if (out.find(r.key)) continue;
      out.put_disentanglement(r.payload.at("vae").get<std::string>(), values);
      out.put(r);
    }
    for (const auto& key : manifests[i].units) {
      DVAE_CHECK(recorded.count(key) == 1, dir, ": unit ", key.substr(0, 12), " of shard ",
                 manifests[i].shard.index, "/", manifests[i].shard.count,
                 " has no record, expected every unit of a complete shard; rerun that shard");
    }
  }
  return first;
}

}  // namespace dvae
