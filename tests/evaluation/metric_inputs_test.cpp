// Tests for evaluation/metric_inputs: the strict CSV reader (every malformed
// input is an error naming the line and column) and the join of codes with
// factors on `index`.
#include "evaluation/metric_inputs.h"

#include <gtest/gtest.h>

#include "core/check.h"

namespace dvae {
namespace {

// The message of the dvae::Error thrown by parsing text ("" when none).
std::string parse_error(const std::string& text) {
  try {
    parse_factor_csv(text, "f.csv");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(metric_inputs, ParsesAWellFormedTable) {
  const CsvTable t = parse_factor_csv("index,label,area\r\n0,7,1.5\r\n3,2,-2e-3\r\n", "f.csv");
  ASSERT_EQ(t.rows(), 2);
  ASSERT_EQ(t.cols(), 2);
  EXPECT_EQ(t.columns, (std::vector<std::string>{"label", "area"}));
  EXPECT_EQ(t.index, (std::vector<int64_t>{0, 3}));
  EXPECT_DOUBLE_EQ(t.at(0, 1), 1.5);
  EXPECT_DOUBLE_EQ(t.at(1, 1), -2e-3);
  EXPECT_EQ(parse_factor_csv("index,a\n1,2", "x").rows(), 1);  // no final newline
}

TEST(metric_inputs, ErrorsNameTheLineAndColumn) {
  EXPECT_NE(parse_error("index,a\n0,nan\n").find("line 2 column 2 (a): 'nan'"), std::string::npos);
  EXPECT_NE(parse_error("index,a\n0,1\n1,inf\n").find("line 3 column 2"), std::string::npos);
  EXPECT_NE(parse_error("index,a\n0,1.5x\n").find("'1.5x'"), std::string::npos);
  EXPECT_NE(parse_error("index,a\n0,1e999\n").find("out of the range"), std::string::npos);
  EXPECT_NE(parse_error("index,a\n0,1,2\n").find("line 2: 3 fields, expected 2"), std::string::npos);
  EXPECT_NE(parse_error("index,a\n-1,1\n").find("line 2 column 1: index '-1'"), std::string::npos);
  EXPECT_NE(parse_error("index,a\n0,\n").find("empty field"), std::string::npos);
  EXPECT_NE(parse_error("index,a\n0, 1\n").find("' 1'"), std::string::npos);
  EXPECT_NE(parse_error("index,a\n\n0,1\n").find("line 2: 1 fields"), std::string::npos);
  EXPECT_NE(parse_error("id,a\n0,1\n").find("expected 'index'"), std::string::npos);
  EXPECT_NE(parse_error("index,a,a\n0,1,2\n").find("appears twice"), std::string::npos);
  EXPECT_NE(parse_error("index,a\n").find("no rows"), std::string::npos);
  EXPECT_NE(parse_error("").find("empty file"), std::string::npos);
  EXPECT_NE(parse_error("index\n0\n").find("only an index column"), std::string::npos);
  EXPECT_EQ(parse_error("index,a\n0,1\n").find("f.csv"), std::string::npos);  // no error at all
}

TEST(metric_inputs, MatchesCodesToFactorsOnIndex) {
  const CsvTable codes = parse_factor_csv("index,label,mu_0,mu_1,logvar_0,logvar_1\n2,1,0.5,0.6,0,0\n0,3,1.5,1.6,0,0\n",
                                             "codes.csv");
  const CsvTable factors = parse_factor_csv("index,label,area\n0,3,10\n1,4,11\n2,1,12\n", "factors.csv");
  const FactorCodes d = match_codes_to_factors(codes, "codes.csv", factors, "factors.csv", false);
  ASSERT_EQ(d.codes.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(d.factor_names, (std::vector<std::string>{"area"}));
  EXPECT_DOUBLE_EQ(d.codes[0][1].item<double>(), 0.6);
  EXPECT_DOUBLE_EQ(d.factors[0][0].item<double>(), 12.0);  // index 2
  EXPECT_DOUBLE_EQ(d.factors[1][0].item<double>(), 10.0);  // index 0
  const FactorCodes l = match_codes_to_factors(codes, "codes.csv", factors, "factors.csv", true);
  EXPECT_EQ(l.factor_names, (std::vector<std::string>{"label", "area"}));
  EXPECT_EQ(l.discrete, (std::vector<bool>{true, false}));
}

TEST(metric_inputs, UnmatchedOrDuplicateIndicesAreErrors) {
  const CsvTable factors = parse_factor_csv("index,area\n0,10\n1,11\n", "factors.csv");
  const CsvTable missing = parse_factor_csv("index,mu_0\n0,1\n5,2\n", "codes.csv");
  try {
    match_codes_to_factors(missing, "codes.csv", factors, "factors.csv", false);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("codes.csv: index 5 (line 3) has no row in factors.csv"), std::string::npos)
        << e.what();
  }
  const CsvTable dup = parse_factor_csv("index,mu_0\n0,1\n0,2\n", "codes.csv");
  EXPECT_THROW(match_codes_to_factors(dup, "codes.csv", factors, "factors.csv", false), Error);
  const CsvTable dup_f = parse_factor_csv("index,area\n1,10\n1,11\n", "factors.csv");
  EXPECT_THROW(match_codes_to_factors(missing, "codes.csv", dup_f, "factors.csv", false), Error);
  const CsvTable no_mu = parse_factor_csv("index,z_0\n0,1\n", "codes.csv");
  EXPECT_THROW(match_codes_to_factors(no_mu, "codes.csv", factors, "factors.csv", false), Error);
}

}  // namespace
}  // namespace dvae
