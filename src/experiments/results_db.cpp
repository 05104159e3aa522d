// SQLite-backed store of finished units of work.
#include "experiments/results_db.h"

#include <sqlite3.h>

#include <chrono>

#include "core/atomic_file.h"
#include "core/check.h"

namespace dvae {

namespace {

// What to check, by SQLite's primary result code: a full disk and a read-only
// folder show as I/O errors; a file of another kind as NOTADB or CORRUPT.
const char* hint_for(int code) {
  switch (code & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
      return " (is the disk full, or the folder read-only?)";
    case SQLITE_CANTOPEN:
      return " (does its folder exist, and is it writable?)";
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return " (is the file or its folder read-only?)";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return " (is another program using it?)";
    default:
      return " (is the file a dvae results database?)";
  }
}

}  // namespace

std::string unit_key(const nlohmann::json& spec) { return sha256_hex(spec.dump()); }

ResultsDb::ResultsDb(const std::string& path) : path_(path) {
  const int rc = sqlite3_open(path.c_str(), &db_);
  if (rc != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(path + ": cannot open results database: " + msg + hint_for(rc));
  }
  sqlite3_busy_timeout(db_, 5000);
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=FULL");
  exec(
      "CREATE TABLE IF NOT EXISTS units ("
      " key TEXT PRIMARY KEY, kind TEXT NOT NULL, label TEXT NOT NULL,"
      " artefact TEXT NOT NULL, sha256 TEXT NOT NULL, payload TEXT NOT NULL,"
      " seconds REAL NOT NULL, finished_at TEXT NOT NULL)");
  exec(
      "CREATE TABLE IF NOT EXISTS disentanglement ("
      " vae TEXT NOT NULL, metric TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY (vae, metric))");
}

ResultsDb::~ResultsDb() {
  if (db_) sqlite3_close(db_);
}


void ResultsDb::exec(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw Error(path_ + ": SQLite error: " + msg + hint_for(sqlite3_extended_errcode(db_)));
  }
}

namespace {

struct Statement {
  sqlite3_stmt* stmt = nullptr;
  Statement(sqlite3* db, const std::string& sql, const std::string& path) {
    DVAE_CHECK(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK, path,
               ": SQLite error: ", sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(stmt); }
  void bind(int i, const std::string& s) { sqlite3_bind_text(stmt, i, s.c_str(), -1, SQLITE_TRANSIENT); }
  std::string text(int i) const {
    const auto* p = sqlite3_column_text(stmt, i);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
};

UnitRecord read_row(const Statement& s) {
  UnitRecord r;
  r.key = s.text(0);
  r.kind = s.text(1);
  r.label = s.text(2);
  r.artefact = s.text(3);
  r.sha256 = s.text(4);
  r.payload = nlohmann::json::parse(s.text(5), nullptr, false);
  r.seconds = sqlite3_column_double(s.stmt, 6);
  return r;
}

std::string now_iso() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

constexpr const char* kColumns = "key, kind, label, artefact, sha256, payload, seconds";

}  // namespace

std::optional<UnitRecord> ResultsDb::find(const std::string& key) const {
  Statement s(db_, std::string("SELECT ") + kColumns + " FROM units WHERE key = ?", path_);
  s.bind(1, key);
  if (sqlite3_step(s.stmt) == SQLITE_ROW) return read_row(s);
  return std::nullopt;
}

void ResultsDb::put(const UnitRecord& r) {
  Statement s(db_,
              "INSERT OR REPLACE INTO units (key, kind, label, artefact, sha256, payload, seconds, finished_at)"
              " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              path_);
  s.bind(1, r.key);
  s.bind(2, r.kind);
  s.bind(3, r.label);
  s.bind(4, r.artefact);
  s.bind(5, r.sha256);
  s.bind(6, r.payload.dump());
  sqlite3_bind_double(s.stmt, 7, r.seconds);
  s.bind(8, now_iso());
  DVAE_CHECK(sqlite3_step(s.stmt) == SQLITE_DONE, path_, ": cannot record unit ", r.label, ": ",
             sqlite3_errmsg(db_), hint_for(sqlite3_extended_errcode(db_)));
}

void ResultsDb::erase(const std::string& key) {
  Statement s(db_, "DELETE FROM units WHERE key = ?", path_);
  s.bind(1, key);
  DVAE_CHECK(sqlite3_step(s.stmt) == SQLITE_DONE, path_, ": cannot delete unit: ", sqlite3_errmsg(db_));
}

std::vector<UnitRecord> ResultsDb::all(const std::string& kind) const {
  Statement s(db_,
              std::string("SELECT ") + kColumns + " FROM units" + (kind.empty() ? "" : " WHERE kind = ?") +
                  " ORDER BY rowid",
              path_);
  if (!kind.empty()) s.bind(1, kind);
  std::vector<UnitRecord> out;
  while (sqlite3_step(s.stmt) == SQLITE_ROW) out.push_back(read_row(s));
  return out;
}

void ResultsDb::put_disentanglement(const std::string& vae_key,
                                    const std::vector<std::pair<std::string, double>>& values) {
  for (const auto& [metric, value] : values) {
    Statement s(db_, "INSERT OR REPLACE INTO disentanglement (vae, metric, value) VALUES (?, ?, ?)", path_);
    s.bind(1, vae_key);
    s.bind(2, metric);
    sqlite3_bind_double(s.stmt, 3, value);
    DVAE_CHECK(sqlite3_step(s.stmt) == SQLITE_DONE, path_, ": cannot record metric ", metric, ": ",
               sqlite3_errmsg(db_), hint_for(sqlite3_extended_errcode(db_)));
  }
}

std::vector<std::pair<std::string, double>> ResultsDb::disentanglement(const std::string& vae_key) const {
  Statement s(db_, "SELECT metric, value FROM disentanglement WHERE vae = ? ORDER BY metric", path_);
  s.bind(1, vae_key);
  std::vector<std::pair<std::string, double>> out;
  while (sqlite3_step(s.stmt) == SQLITE_ROW) out.emplace_back(s.text(0), sqlite3_column_double(s.stmt, 1));
  return out;
}

}  // namespace dvae
