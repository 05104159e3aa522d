// The factor table: morphometric columns then generator factors, --limit,
// the cache (hit, larger request recomputes, key mismatch ignored), CSV round trip.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/check.h"
#include "data/factor_table.h"
#include "data/mnist_affine.h"
#include "data/morphometrics.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

ImageSet squares(int n) {
  ImageSet set;
  set.images = torch::zeros({n, 28, 28}, torch::kUInt8);
  for (int i = 0; i < n; ++i) set.images[i].narrow(0, 6, 12 + i % 4).narrow(1, 9, 4 + i % 5).fill_(255);
  set.labels = torch::arange(n, torch::kInt64).remainder(10);
  set.source = "squares";
  return set;
}

TEST(FactorTable, MorphometricColumnsThenGeneratorFactors) {
  const ImageSet plain = squares(6);
  const FactorTable t = factor_table(plain, {});
  EXPECT_EQ(t.names, morphometric_names());
  ASSERT_EQ(t.values.sizes(), (std::vector<int64_t>{6, 6}));
  EXPECT_TRUE(torch::equal(t.values, measure_images(plain.images)));
  EXPECT_TRUE(torch::equal(t.labels, plain.labels));
  const ImageSet affine = make_affine_set(plain, 1, 0);
  const FactorTable a = factor_table(affine, {});
  ASSERT_EQ(a.names.size(), 12u);
  EXPECT_EQ(a.names[6], "rotation");
  EXPECT_EQ(a.names[11], "thickening");
  EXPECT_TRUE(torch::equal(a.values.narrow(1, 6, 6), affine.factors));
}

TEST(FactorTable, LimitTakesTheFirstImages) {
  const ImageSet set = squares(8);
  FactorTableOptions o;
  o.limit = 3;
  const FactorTable t = factor_table(set, o);
  EXPECT_EQ(t.values.size(0), 3);
  EXPECT_TRUE(torch::equal(t.index, torch::arange(3, torch::kInt64)));
  o.limit = 100;  // more than there are: all
  EXPECT_EQ(factor_table(set, o).values.size(0), 8);
}

TEST(FactorTable, CacheIsReusedAndKeyed) {
  test::TempDir dir;
  const ImageSet set = squares(8);
  FactorTableOptions o;
  o.cache_dir = dir.file("cache");
  o.cache_key = factor_cache_key("0123456789abcdef0123", "train");
  EXPECT_EQ(o.cache_key, "0123456789abcdef-train-morpho" + std::to_string(kMorphometricsVersion));
  o.limit = 4;
  FactorTableStats s;
  const FactorTable first = factor_table(set, o, &s);
  EXPECT_FALSE(s.cache_hit);
  EXPECT_TRUE(std::filesystem::exists(s.cache_file));
  const FactorTable again = factor_table(set, o, &s);
  EXPECT_TRUE(s.cache_hit);
  EXPECT_TRUE(torch::equal(first.values, again.values));  // exact round trip through the file
  o.limit = 6;  // more rows than cached: measured again, and cached
  factor_table(set, o, &s);
  EXPECT_FALSE(s.cache_hit);
  o.limit = 5;
  factor_table(set, o, &s);
  EXPECT_TRUE(s.cache_hit);
  // A cache file written under another key is not used.
  const std::string text = read_file(s.cache_file);
  FactorTableOptions other = o;
  other.cache_key = factor_cache_key("ffffffffffffffff", "train");
  write_file_atomic(o.cache_dir + "/" + other.cache_key + ".csv", text);
  factor_table(set, other, &s);
  EXPECT_FALSE(s.cache_hit);
}

TEST(FactorTable, CsvRoundTripAndErrors) {
  test::TempDir dir;
  const FactorTable t = factor_table(make_affine_set(squares(5), 2, 0), {});
  const std::string csv = factor_table_csv(t);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "index,label,area,length,thickness,slant,width,height,rotation,scale,shear,tx,ty,thickening");
  write_file_atomic(dir.file("f.csv"), csv);
  const FactorTable back = read_factor_table_csv(dir.file("f.csv"));
  EXPECT_EQ(back.names, t.names);
  EXPECT_TRUE(torch::equal(back.values, t.values));
  EXPECT_TRUE(torch::equal(back.labels, t.labels));
  write_file_atomic(dir.file("bad.csv"), "index,label,area\n0,1,x\n");
  try {
    read_factor_table_csv(dir.file("bad.csv"));
    FAIL() << "a bad value must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv:2: column area"), std::string::npos) << e.what();
  }
  // An index beyond int64's range is refused before any cast (that cast is undefined behaviour).
  for (const std::string idx : {"1e300", "-9.3e18", "2.5", "nan", "inf"}) {
    write_file_atomic(dir.file("huge.csv"), "index,label,area\n" + idx + ",1,3\n");
    try {
      read_factor_table_csv(dir.file("huge.csv"));
      FAIL() << "index " << idx << " must be refused";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("huge.csv:2: column index"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace dvae
