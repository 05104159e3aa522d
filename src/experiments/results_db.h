// The results database of `dvae reproduce`: one SQLite row per finished unit
// of work (a trained VAE, a classifier cell, a figure), keyed by a hash of
// everything that determines it. A unit is recorded only after its artefacts
// are complete on disk, so no record ever points to a partial file.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace dvae {

/// One finished unit of work.
struct UnitRecord {
  std::string key;        ///< content hash (see unit_key)
  std::string kind;       ///< "vae", "cell", "figure", "report", ...
  std::string label;      ///< human-readable description
  std::string artefact;   ///< path of the main artefact, relative to the output folder ("" if none)
  std::string sha256;     ///< SHA-256 of the artefact ("" if none)
  nlohmann::json payload; ///< the unit's results (metrics, rows)
  double seconds = 0;     ///< wall time spent on the unit
};

/// Hash of everything that determines a unit: SHA-256 of the canonical JSON
/// dump of spec (sorted keys), as 64 hex digits.
std::string unit_key(const nlohmann::json& spec);

/// SQLite store of finished units (WAL journal, synchronous=FULL).
class ResultsDb {
 public:
  /// Opens (creating if needed) the database at path; throws dvae::Error naming it.
  explicit ResultsDb(const std::string& path);
  ~ResultsDb();
  ResultsDb(const ResultsDb&) = delete;
  ResultsDb& operator=(const ResultsDb&) = delete;

  /// The record with this key, if the unit finished.
  std::optional<UnitRecord> find(const std::string& key) const;
  /// Records a finished unit (replacing an older record with the same key).
  void put(const UnitRecord& record);
  /// Removes a record (used by --force).
  void erase(const std::string& key);
  /// All records of a kind, in insertion order.
  std::vector<UnitRecord> all(const std::string& kind = "") const;

  /// Records a VAE's disentanglement metrics in table disentanglement(vae, metric, value),
  /// keyed by the VAE unit's key (replacing the values of the same metrics).
  void put_disentanglement(const std::string& vae_key, const std::vector<std::pair<std::string, double>>& values);
  /// The metrics recorded for a VAE unit, by metric name.
  std::vector<std::pair<std::string, double>> disentanglement(const std::string& vae_key) const;

 private:
  void exec(const std::string& sql) const;
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace dvae
