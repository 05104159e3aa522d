// Tests for the SQLite results database and unit keys.
#include "experiments/results_db.h"

#include <gtest/gtest.h>

#include "core/check.h"
#include "support/fixtures.h"

namespace dvae {

TEST(UnitKey, DependsOnEveryFieldButNotOnKeyOrder) {
  nlohmann::json a = {{"beta", 4}, {"arch", "mlp"}};
  nlohmann::json b = {{"arch", "mlp"}, {"beta", 4}};
  nlohmann::json c = {{"arch", "mlp"}, {"beta", 6}};
  EXPECT_EQ(unit_key(a), unit_key(b));
  EXPECT_NE(unit_key(a), unit_key(c));
  EXPECT_EQ(unit_key(a).size(), 64u);
}

TEST(ResultsDb, PutFindEraseSurviveReopen) {
  test::TempDir dir;
  const std::string path = dir.file("results.sqlite");
  {
    ResultsDb db(path);
    EXPECT_FALSE(db.find("k1").has_value());
    db.put({"k1", "vae", "mlp beta=4", "vae/a.pt", "abc", {{"elbo", -100.5}}, 12.5});
    db.put({"k2", "cell", "n=1", "", "", {{"accuracy", 0.5}}, 0.1});
  }
  ResultsDb db(path);
  auto r = db.find("k1");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, "vae");
  EXPECT_EQ(r->artefact, "vae/a.pt");
  EXPECT_DOUBLE_EQ(r->payload["elbo"].get<double>(), -100.5);
  EXPECT_DOUBLE_EQ(r->seconds, 12.5);
  EXPECT_EQ(db.all("cell").size(), 1u);
  EXPECT_EQ(db.all().size(), 2u);
  db.erase("k1");
  EXPECT_FALSE(db.find("k1").has_value());
}

TEST(ResultsDb, DisentanglementTableKeepsOneValuePerVaeAndMetric) {
  test::TempDir dir;
  const std::string path = dir.file("results.sqlite");
  {
    ResultsDb db(path);
    db.put_disentanglement("vae1", {{"mig", 0.25}, {"sap", 0.5}});
    db.put_disentanglement("vae1", {{"mig", 0.75}});  // replaces
    db.put_disentanglement("vae2", {{"mig", 0.1}});
  }
  ResultsDb db(path);
  const auto v = db.disentanglement("vae1");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].first, "mig");
  EXPECT_DOUBLE_EQ(v[0].second, 0.75);
  EXPECT_DOUBLE_EQ(v[1].second, 0.5);
  EXPECT_EQ(db.disentanglement("vae2").size(), 1u);
  EXPECT_TRUE(db.disentanglement("none").empty());
}

TEST(ResultsDb, NonDatabaseFileIsAClearError) {
  test::TempDir dir;
  const std::string path = dir.file("junk.sqlite");
  test::write_bytes(path, std::string(4096, 'x'));
  try {
    ResultsDb db(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("(is the file a dvae results database?)"), std::string::npos) << e.what();
  }
}

TEST(ResultsDb, ErrorsSayWhatToCheck) {
  test::TempDir dir;
  const std::string missing_folder = dir.file("no/such/folder/results.sqlite");
  try {
    ResultsDb db(missing_folder);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(missing_folder + ": ", 0), 0u) << e.what();
    EXPECT_NE(std::string(e.what()).find("(does its folder exist, and is it writable?)"), std::string::npos)
        << e.what();
  }
}

}  // namespace dvae
