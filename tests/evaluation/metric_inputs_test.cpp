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
  const FactorTable t = parse_factor_csv("index,label,area,slant\r\n0,7,1.5,0\r\n3,2,-2e-3,1\r\n", "f.csv");
  ASSERT_EQ(t.values.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(t.names, (std::vector<std::string>{"area", "slant"}));
  EXPECT_EQ(t.index[1].item<int64_t>(), 3);
  EXPECT_EQ(t.labels[0].item<int64_t>(), 7);
  EXPECT_DOUBLE_EQ(t.values[0][0].item<double>(), 1.5);
  EXPECT_DOUBLE_EQ(t.values[1][0].item<double>(), -2e-3);
  EXPECT_EQ(parse_factor_csv("index,label,a\n1,0,2", "x").values.size(0), 1);  // no final newline
}

TEST(metric_inputs, ErrorsNameTheLineAndColumn) {
  EXPECT_NE(parse_error("index,label,a\n0,0,nan\n").find("f.csv: line 2 column 3 (a): 'nan'"), std::string::npos);
  EXPECT_NE(parse_error("index,label,a\n0,0,1\n1,0,inf\n").find("line 3 column 3"), std::string::npos);
  EXPECT_NE(parse_error("index,label,a\n0,0,1.5x\n").find("'1.5x'"), std::string::npos);
  EXPECT_NE(parse_error("index,label,a\n0,0,1e999\n").find("out of the range"), std::string::npos);
  EXPECT_NE(parse_error("index,label,a\n0,0,1,2\n").find("line 2: 4 fields, expected 3"), std::string::npos);
  EXPECT_NE(parse_error("index,label,a\n-1,0,1\n").find("line 2 column 1 (index): index '-1'"), std::string::npos);
  EXPECT_NE(parse_error("index,label,a\n0,2.5,1\n").find("line 2 column 2 (label)"), std::string::npos);
  EXPECT_NE(parse_error("index,label,a\n0,0,\n").find("empty field"), std::string::npos);
  EXPECT_NE(parse_error("index,label,a\n0,0, 1\n").find("' 1'"), std::string::npos);
  EXPECT_NE(parse_error("index,label,a\n\n0,0,1\n").find("line 2: 1 fields"), std::string::npos);
  EXPECT_NE(parse_error("id,label,a\n0,0,1\n").find("expected 'index'"), std::string::npos);
  EXPECT_NE(parse_error("index,a\n0,1\n").find("column 2: header 'a', expected 'label'"), std::string::npos);
  EXPECT_NE(parse_error("index,label,a,a\n0,0,1,2\n").find("appears twice"), std::string::npos);
  EXPECT_NE(parse_error("index,label,a\n").find("no rows"), std::string::npos);
  EXPECT_NE(parse_error("").find("empty file"), std::string::npos);
  EXPECT_NE(parse_error("index,label\n0,0\n").find("only index and label"), std::string::npos);
  EXPECT_EQ(parse_error("index,label,a\n0,0,1\n"), "");  // no error at all
}

TEST(metric_inputs, MatchesCodesToFactorsOnIndex) {
  const FactorTable codes = parse_factor_csv("index,label,mu_0,mu_1,logvar_0,logvar_1\n2,1,0.5,0.6,0,0\n0,3,1.5,1.6,0,0\n",
                                             "codes.csv");
  const FactorTable factors = parse_factor_csv("index,label,area\n0,3,10\n1,4,11\n2,1,12\n", "factors.csv");
  const FactorCodes d = match_codes_to_factors(codes, "codes.csv", factors, "factors.csv", false);
  ASSERT_EQ(d.codes.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(d.factor_names, (std::vector<std::string>{"area"}));
  EXPECT_DOUBLE_EQ(d.codes[0][1].item<double>(), 0.6);
  EXPECT_DOUBLE_EQ(d.factors[0][0].item<double>(), 12.0);  // index 2
  EXPECT_DOUBLE_EQ(d.factors[1][0].item<double>(), 10.0);  // index 0
  const FactorCodes l = match_codes_to_factors(codes, "codes.csv", factors, "factors.csv", true);
  EXPECT_EQ(l.factor_names, (std::vector<std::string>{"label", "area"}));
  EXPECT_EQ(l.discrete, (std::vector<bool>{true, false}));
  EXPECT_DOUBLE_EQ(l.factors[0][0].item<double>(), 1.0);  // index 2's label
  EXPECT_DOUBLE_EQ(l.factors[1][1].item<double>(), 10.0);
}

TEST(metric_inputs, UnmatchedOrDuplicateIndicesAreErrors) {
  const FactorTable factors = parse_factor_csv("index,label,area\n0,0,10\n1,0,11\n", "factors.csv");
  const FactorTable missing = parse_factor_csv("index,label,mu_0\n0,0,1\n5,0,2\n", "codes.csv");
  try {
    match_codes_to_factors(missing, "codes.csv", factors, "factors.csv", false);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("codes.csv: index 5 (line 3) has no row in factors.csv"), std::string::npos)
        << e.what();
  }
  const FactorTable dup = parse_factor_csv("index,label,mu_0\n0,0,1\n0,0,2\n", "codes.csv");
  EXPECT_THROW(match_codes_to_factors(dup, "codes.csv", factors, "factors.csv", false), Error);
  const FactorTable dup_f = parse_factor_csv("index,label,area\n1,0,10\n1,0,11\n", "factors.csv");
  EXPECT_THROW(match_codes_to_factors(missing, "codes.csv", dup_f, "factors.csv", false), Error);
  const FactorTable no_mu = parse_factor_csv("index,label,z_0\n0,0,1\n", "codes.csv");
  EXPECT_THROW(match_codes_to_factors(no_mu, "codes.csv", factors, "factors.csv", false), Error);
}

}  // namespace
}  // namespace dvae
