// Shards of a study (experiments/shards.h): --shard parsing, the balanced
// deterministic assignment, the manifest, the merge's refusals (another study,
// a missing or unfinished shard, a corrupt artefact, a disentanglement record
// that disagrees with its table or its VAE); and, through the binary,
// a tiny study run as 3 shards and merged gives one process's results table
// and disentanglement scores (each shard scores its VAEs, the merge copies them),
// a shard killed part-way and rerun completes, a merge holds OUT's lock.
#include "experiments/shards.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/atomic_file.h"
#include "core/check.h"
#include "experiments/results_db.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

namespace fs = std::filesystem;

std::string shard_error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Shards, ParsesKOverN) {
  const ShardSpec s = parse_shard("2/3");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 3);
  EXPECT_EQ(parse_shard("0/1").count, 1);
  for (const char* bad : {"3/3", "-1/3", "1", "1/0", "a/3", "1/3x", "/3", "1/", "+1/3", ""}) {
    try {
      parse_shard(bad);
      ADD_FAILURE() << bad;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("--shard: '"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("expected K/N"), std::string::npos) << e.what();
    }
  }
}

TEST(Shards, LongestFirstOntoTheLeastLoadedShard) {
  // By hand: 10->0, 8->1, 6->1 (14), 5->0 (15), 4->1 (18), 1->0 (16).
  const std::vector<ShardItem> items = {{"f", 1}, {"c", 6}, {"a", 10}, {"e", 4}, {"b", 8}, {"d", 5}};
  EXPECT_EQ(assign_shards(items, 2), (std::vector<int>{0, 1, 0, 1, 1, 0}));
  // Equal costs: by key, round the shards.
  EXPECT_EQ(assign_shards({{"b", 1}, {"a", 1}, {"c", 1}}, 3), (std::vector<int>{1, 0, 2}));
  EXPECT_EQ(assign_shards(items, 1), std::vector<int>(6, 0));
  // Balanced: no shard exceeds the mean by more than the largest item.
  std::vector<ShardItem> many;
  for (int i = 0; i < 40; ++i) many.push_back({"k" + std::to_string(i), 1.0 + (i * 37 % 11)});
  const auto where = assign_shards(many, 4);
  std::vector<double> load(4);
  double total = 0;
  for (size_t i = 0; i < many.size(); ++i) {
    load[where[i]] += many[i].cost;
    total += many[i].cost;
  }
  for (double l : load) EXPECT_LE(l, total / 4 + 11.0);
  EXPECT_EQ(assign_shards(many, 4), where);  // deterministic
}

// A shard folder with one recorded unit whose artefact is vae/u/checkpoint.pt.
void make_shard(const std::string& dir, const std::string& hash, int k, int n, bool complete,
                const std::string& key, const std::string& bytes) {
  fs::create_directories(dir + "/vae/" + key);
  test::write_bytes(dir + "/vae/" + key + "/checkpoint.pt", bytes);
  test::write_bytes(dir + "/vae/" + key + "/log.jsonl", "{}\n");
  {
    ResultsDb db(dir + "/results.sqlite");
    db.put({key, "vae", "unit " + key, "vae/" + key + "/checkpoint.pt", sha256_file(dir + "/vae/" + key + "/checkpoint.pt"),
            {{"epoch", 1}}, 1.0});
  }
  write_shard_manifest(dir, {hash, "archs = [\"mlp\"]\n", {k, n}, {key}, complete});
}

TEST(Shards, ManifestRoundTrips) {
  test::TempDir dir;
  write_shard_manifest(dir.path(), {"abc", "x = 1\n", {1, 3}, {"k1", "k2"}, true});
  const ShardManifest m = read_shard_manifest(dir.path());
  EXPECT_EQ(m.spec_hash, "abc");
  EXPECT_EQ(m.spec_toml, "x = 1\n");
  EXPECT_EQ(m.shard.index, 1);
  EXPECT_EQ(m.shard.count, 3);
  EXPECT_EQ(m.units, (std::vector<std::string>{"k1", "k2"}));
  EXPECT_TRUE(m.complete);
  EXPECT_NE(shard_error_of([&] { read_shard_manifest(dir.file("none")); }).find("shard.json: not found"),
            std::string::npos);
}

TEST(Shards, MergeCopiesUnitsAndRecordsAndRefusesWhatIsNotOneCompleteStudy) {
  test::TempDir dir;
  make_shard(dir.file("s0"), "H", 0, 2, true, "u0", "zero");
  make_shard(dir.file("s1"), "H", 1, 2, true, "u1", "one");
  const ShardManifest m = merge_shards({dir.file("s0"), dir.file("s1")}, dir.file("out"));
  EXPECT_EQ(m.spec_hash, "H");
  EXPECT_EQ(read_file(dir.file("out/vae/u1/checkpoint.pt")), "one");
  EXPECT_TRUE(fs::exists(dir.file("out/vae/u0/log.jsonl")));  // the unit's whole folder
  {
    ResultsDb out(dir.file("out/results.sqlite"));
    EXPECT_EQ(out.all("vae").size(), 2u);
  }
  // A missing shard is named.
  std::string e = shard_error_of([&] { merge_shards({dir.file("s1")}, dir.file("out2")); });
  EXPECT_NE(e.find("shard 0/2 is missing"), std::string::npos) << e;
  // The same shard twice.
  e = shard_error_of([&] { merge_shards({dir.file("s1"), dir.file("s1")}, dir.file("out2")); });
  EXPECT_NE(e.find("again"), std::string::npos) << e;
  // A shard of another study.
  make_shard(dir.file("other"), "G", 1, 2, true, "u9", "nine");
  e = shard_error_of([&] { merge_shards({dir.file("s0"), dir.file("other")}, dir.file("out2")); });
  EXPECT_NE(e.find("a shard of another study"), std::string::npos) << e;
  EXPECT_NE(e.find(dir.file("other")), std::string::npos) << e;
  // A shard that did not finish: rerun it.
  make_shard(dir.file("cut"), "H", 1, 2, false, "u1", "one");
  e = shard_error_of([&] { merge_shards({dir.file("s0"), dir.file("cut")}, dir.file("out2")); });
  EXPECT_NE(e.find("did not finish"), std::string::npos) << e;
  EXPECT_NE(e.find("--shard 1/2"), std::string::npos) << e;
  // A corrupt artefact.
  test::write_bytes(dir.file("s1/vae/u1/checkpoint.pt"), "ONE");
  e = shard_error_of([&] { merge_shards({dir.file("s0"), dir.file("s1")}, dir.file("out3")); });
  EXPECT_NE(e.find("SHA-256 differs"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(dir.file("out2/vae")));
}

// Adds to shard dir a disentanglement record of its VAE unit vae (checkpoint sha)
// with mig = value, and the table row (mig = table_value).
void add_disentanglement(const std::string& dir, const std::string& vae, const std::string& sha, double value,
                         double table_value) {
  ResultsDb db(dir + "/results.sqlite");
  db.put({"d-" + vae, "disentanglement", "unit " + vae + " disentanglement", "", "",
          {{"metrics", nlohmann::json::array({nlohmann::json::array({"mig", value})})}, {"vae", vae}, {"checkpoint", sha}}, 1.0});
  db.put_disentanglement(vae, {{"mig", table_value}});
}

TEST(Shards, MergeCopiesDisentanglementRecordsWithTheirTableAndRefusesMismatches) {
  test::TempDir dir;
  make_shard(dir.file("s0"), "H", 0, 2, true, "u0", "zero");
  make_shard(dir.file("s1"), "H", 1, 2, true, "u1", "one");
  add_disentanglement(dir.file("s0"), "u0", sha256_file(dir.file("s0/vae/u0/checkpoint.pt")), 0.25, 0.25);
  add_disentanglement(dir.file("s1"), "u1", sha256_file(dir.file("s1/vae/u1/checkpoint.pt")), 0.5, 0.5);
  merge_shards({dir.file("s0"), dir.file("s1")}, dir.file("out"));
  {
    ResultsDb out(dir.file("out/results.sqlite"));
    EXPECT_EQ(out.all("disentanglement").size(), 2u);
    using Pairs = std::vector<std::pair<std::string, double>>;
    EXPECT_EQ(out.disentanglement("u0"), (Pairs{{"mig", 0.25}}));
    EXPECT_EQ(out.disentanglement("u1"), (Pairs{{"mig", 0.5}}));
  }
  // The table disagrees with the record.
  add_disentanglement(dir.file("s1"), "u1", sha256_file(dir.file("s1/vae/u1/checkpoint.pt")), 0.5, 0.75);
  std::string e = shard_error_of([&] { merge_shards({dir.file("s0"), dir.file("s1")}, dir.file("out2")); });
  EXPECT_NE(e.find("mig is 0.5 in the record but 0.75"), std::string::npos) << e;
  EXPECT_NE(e.find(dir.file("s1") + "/results.sqlite: disentanglement unit d-u1"), std::string::npos) << e;
  // Scores of another checkpoint than the VAE's.
  add_disentanglement(dir.file("s1"), "u1", sha256_file(dir.file("s0/vae/u0/checkpoint.pt")), 0.5, 0.5);
  e = shard_error_of([&] { merge_shards({dir.file("s0"), dir.file("s1")}, dir.file("out2")); });
  EXPECT_NE(e.find("but its VAE's checkpoint is"), std::string::npos) << e;
  // A VAE that is not a unit of that shard.
  add_disentanglement(dir.file("s1"), "u1", sha256_file(dir.file("s1/vae/u1/checkpoint.pt")), 0.5, 0.5);
  add_disentanglement(dir.file("s1"), "u0", sha256_file(dir.file("s0/vae/u0/checkpoint.pt")), 0.5, 0.5);
  e = shard_error_of([&] { merge_shards({dir.file("s0"), dir.file("s1")}, dir.file("out2")); });
  EXPECT_NE(e.find("is not a unit of that shard"), std::string::npos) << e;
}

// --- Through the binary -------------------------------------------------------

constexpr const char* kShardStudy =
    "archs = [\"mlp\"]\n"
    "vae_seeds = 2\n"
    "sizes = [1, 5]\n"
    "trials_small = 2\n"
    "trials_large = 1\n"
    "validation_per_class = 2\n"
    "models = [{name = \"standard\", beta = 1, epochs = 2}, {name = \"disentangled\", beta = 4, epochs = 2}]\n"
    "classifiers = [{name = \"probe\", kind = \"probe\", epochs = 10},\n"
    "               {name = \"supervised\", kind = \"supervised\", epochs = 2}]\n";

struct ShardStudySetup {
  test::TempDir dir;
  std::string data = dir.file("synth");
  std::string spec = dir.file("tiny.toml");
  ShardStudySetup(const std::string& extra = "") {
    test::write_synthetic_mnist(data, 300, 100, 28, false, 3);
    test::write_bytes(spec, "datasets = [\"" + data + "\"]\n" + kShardStudy + extra);
  }
  std::string run(const std::string& out, const std::string& flags = "") const {
    return "--quiet --threads 1 study run " + spec + " --out " + out + flags;
  }
};

// The report's disentanglement section (report.md from its heading to the next).
std::string disentanglement_md(const std::string& path) {
  const std::string md = read_file(path);
  const auto from = md.find("## Disentanglement and few-label accuracy");
  if (from == std::string::npos) return "";
  return md.substr(from, md.find("\n## ", from + 1) - from);
}

std::string shard_results_table(const std::string& path) {
  std::ifstream in(path);
  std::string line, out;
  while (std::getline(in, line)) out += line.substr(0, line.rfind(',')) + "\n";
  return out;
}

TEST(ShardsSlow, ThreeShardsMergedEqualOneProcessAndAKilledShardCompletesOnRerun) {
  ShardStudySetup s("disentanglement = \"all\"\n");  // scored on the digits' morphometrics
  const auto one = test::run_dvae(s.run(s.dir.file("one")));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  std::vector<std::string> shards;
  for (int k = 0; k < 3; ++k) {
    const std::string out = s.dir.file("shard" + std::to_string(k));
    shards.push_back(out);
    if (k == 1) continue;  // run below, killed part-way first
    const auto r = test::run_dvae(s.run(out, " --shard " + std::to_string(k) + "/3"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("shard " + std::to_string(k) + "/3 done"), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(out + "/report"));  // the merge writes the report
  }
  // Shard 1, killed once its first unit is recorded.
  {
    test::Background cut(std::string(DVAE_BINARY) + " " + s.run(shards[1], " --shard 1/3"));
    ASSERT_TRUE(test::wait_until(
        [&] {
          if (!fs::exists(shards[1] + "/results.sqlite")) return false;
          try {
            return !ResultsDb(shards[1] + "/results.sqlite").all().empty();
          } catch (const Error&) {
            return false;
          }
        },
        120));
    cut.kill();
  }
  std::string args = "--quiet --threads 1 study merge";
  for (const auto& d : shards) args += " " + d;
  auto merged = test::run_dvae(args + " --out " + s.dir.file("merged"));
  if (!read_shard_manifest(shards[1]).complete) {  // killed before it finished: the merge names it
    EXPECT_EQ(merged.exit_code, 1);
    EXPECT_NE(merged.err.find("shard 1/3 did not finish"), std::string::npos) << merged.err;
  }
  const auto rerun = test::run_dvae(s.run(shards[1], " --shard 1/3"));
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_TRUE(read_shard_manifest(shards[1]).complete);
  merged = test::run_dvae(args + " --out " + s.dir.file("merged"));
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_NE(merged.out.find("units computed: "), std::string::npos);
  EXPECT_EQ(shard_results_table(s.dir.file("merged/report/results.csv")),
            shard_results_table(s.dir.file("one/report/results.csv")));
  // The disentanglement stage: each shard scored its own VAEs, the merge scored
  // none, and the values and the report's section are one process's.
  EXPECT_EQ(merged.err.find("scoring disentanglement"), std::string::npos) << merged.err;
  const std::string section = disentanglement_md(s.dir.file("one/report/report.md"));
  EXPECT_NE(section.find("| mig |"), std::string::npos) << section;  // a row of the correlation table
  EXPECT_EQ(disentanglement_md(s.dir.file("merged/report/report.md")), section);
  // Every unit ran on exactly one shard.
  size_t units = 0, scored = 0;
  for (const auto& d : shards) {
    units += read_shard_manifest(d).units.size();
    scored += ResultsDb(d + "/results.sqlite").all("disentanglement").size();
  }
  {
    const ResultsDb db(s.dir.file("one/results.sqlite")), merged_db(s.dir.file("merged/results.sqlite"));
    EXPECT_EQ(units, db.all("vae").size() + db.all("probe").size() + db.all("supervised").size());
    EXPECT_EQ(scored, db.all("vae").size());
    ASSERT_EQ(db.all("disentanglement").size(), 4u);
    for (const auto& v : db.all("vae")) {
      EXPECT_FALSE(db.disentanglement(v.key).empty()) << v.label;
      EXPECT_EQ(merged_db.disentanglement(v.key), db.disentanglement(v.key)) << v.label;
    }
  }
  // The merge holds OUT's lock: a study run on that folder meanwhile is refused.
  {
    test::Background merging(std::string(DVAE_BINARY) + " " + args + " --out " + s.dir.file("merged2"));
    ASSERT_TRUE(test::wait_until_locked(s.dir.file("merged2/.dvae.lock"), 60));
    const auto busy = test::run_dvae(s.run(s.dir.file("merged2")));
    // On a quiet machine the merge can finish before the study run starts; then
    // the run may work. If it failed, or the merge outlived it, it was refused.
    if (busy.exit_code != 0 || merging.running()) {
      EXPECT_EQ(busy.exit_code, 1) << busy.err;
      EXPECT_NE(busy.err.find("another dvae run"), std::string::npos) << busy.err;
    }
    EXPECT_EQ(merging.wait(), 0);
  }

  // Shards of another study are refused.
  ShardStudySetup other("[[claims]]\nkind = \"beats\"\na = \"disentangled\"\nb = \"standard\"\n");
  const auto r = test::run_dvae(other.run(other.dir.file("o0"), " --shard 0/3"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto refused = test::run_dvae("--quiet study merge " + other.dir.file("o0") + " " + shards[1] + " " +
                                      shards[2] + " --out " + s.dir.file("mixed"));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("a shard of another study"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace dvae
