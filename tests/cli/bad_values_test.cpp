// Every numeric flag of every subcommand and every numeric key of a study file,
// given negative, zero, NaN, infinite, huge and wrong-type values: a usage
// error that names the flag or key and what it expects, and no output written
// (no work started). Every value is parsed in-process (dvae's own app, fast);
// one value per flag or key, rotating through the kinds, also goes through the
// binary, which must exit with code 2 and one line on stderr starting with
// "error:". FlagTable.CoversEveryNumericFlag keeps the table in step with --help.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include "cli/app.h"
#include "core/check.h"
#include "experiments/study_spec.h"
#include "support/fixtures.h"

namespace dvae {
namespace {

namespace fs = std::filesystem;

// DVAE_BLAS_KERNEL=keep skips the start-up BLAS checks: these runs only parse.
test::RunResult run_quick(const std::string& args) {
  return test::run_shell(std::string("DVAE_BLAS_KERNEL=keep ") + DVAE_BINARY + " " + args);
}

// Bad values by what a flag accepts.
const std::vector<std::string> kCount = {"-1", "0", "nan", "inf", "99999999999", "99999999999999999999",
                                         "abc", "1.5"};
const std::vector<std::string> kNonNegInt = {"-1", "-nan", "inf", "99999999999999999999", "abc", "1.5"};
const std::vector<std::string> kSeed = {"-1", "nan", "99999999999999999999", "abc", "1.5", "0x10"};
const std::vector<std::string> kPositiveReal = {"-1", "0", "nan", "NaN", "inf", "-inf", "1e400", "1e300", "abc"};
const std::vector<std::string> kNonNegReal = {"-1", "nan", "inf", "1e400", "1e300", "abc", "2x"};

// {T} in a command is the test's temporary folder; outputs lists what must not appear.
struct FlagCase {
  std::string command;               // e.g. "train --out {T}/run"
  std::string flag;                  // e.g. "--epochs"
  std::vector<std::string> values;   // bad values
  std::vector<std::string> outputs;  // paths (under {T}) that must not be created
};

std::string with_dir(std::string s, const std::string& dir) {
  for (size_t at; (at = s.find("{T}")) != std::string::npos;) s.replace(at, 3, dir);
  return s;
}

const std::string kTrain = "train --data-dir {T}/data --out {T}/run";
const std::string kClassify = "classify --encoder a={T}/a.pt --data-dir {T}/data --out {T}/cls";
const std::string kTraverse = "traverse --checkpoint {T}/a.pt --data-dir {T}/data --out {T}/fig.png";
const std::string kReconstruct = "reconstruct --checkpoint {T}/a.pt --data-dir {T}/data --out {T}/fig.png";
const std::string kSample = "sample --checkpoint {T}/a.pt --out {T}/fig.png";
const std::string kMetrics = "metrics --codes {T}/codes.csv --factors {T}/factors.csv --out {T}/m.json";
const std::string kPlot = "plot --results {T}/r.jsonl --out {T}/plots";
const std::string kReproduce = "reproduce --data-root {T}/data --out {T}/rep";
const std::string kFactors = "factors --data-dir {T}/data --no-cache --out {T}/f.csv";
const std::string kFetch = "--data-root {T}/root data fetch mnist --mirror http://127.0.0.1:9";

std::vector<FlagCase> flag_cases() {
  const std::vector<std::string> run = {"run"}, cls = {"cls"}, fig = {"fig.png"}, plots = {"plots"};
  return {
      {"--threads={V} " + kTrain, "--threads", kCount, run},
      {kTrain, "--beta", kNonNegReal, run},
      {kTrain + " --objective factor-vae", "--gamma", kNonNegReal, run},
      {kTrain + " --objective annealed-vae", "--c-min", kNonNegReal, run},
      {kTrain + " --objective annealed-vae", "--c-max", kNonNegReal, run},
      {kTrain + " --objective annealed-vae", "--capacity-iterations", kCount, run},
      {kTrain + " --objective factor-vae", "--disc-hidden", kCount, run},
      {kTrain + " --objective factor-vae", "--disc-layers", kCount, run},
      {kTrain + " --objective factor-vae", "--disc-lr", kPositiveReal, run},
      {kTrain, "--epochs", kCount, run},
      {kTrain, "--latent", kCount, run},
      {kTrain, "--hidden", kCount, run},
      {kTrain, "--fc", kCount, run},
      {kTrain, "--lr", kPositiveReal, run},
      {kTrain, "--batch-size", kCount, run},
      {kTrain, "--momentum", {"-1", "nan", "inf", "1.5", "abc"}, run},
      {kTrain, "--seed", kSeed, run},
      {kTrain, "--limit-train", kNonNegInt, run},
      {kTrain, "--limit-test", kNonNegInt, run},
      {kTrain, "--nproc", kCount, run},
      {kTrain, "--dist-timeout", kPositiveReal, run},
      {kClassify, "--sizes", {"-1", "0", "nan", "inf", "1e3", "99999999999", "99999999999999999999", "abc", "1,,2"},
       cls},
      {kClassify, "--trials", kCount, cls},
      {kClassify, "--trials-large", kCount, cls},
      {kClassify, "--epochs", kCount, cls},
      {kClassify, "--lr", kPositiveReal, cls},
      {kClassify, "--hidden", kNonNegInt, cls},
      {kClassify, "--supervised-epochs", kCount, cls},
      {kClassify, "--supervised-lr", kPositiveReal, cls},
      {kClassify, "--seed", kSeed, cls},
      {kClassify, "--validation-per-class", kNonNegInt, cls},
      {kClassify, "--max-listed", kNonNegInt, cls},
      {kTraverse, "--steps", kCount, fig},
      {kTraverse, "--range", kPositiveReal, fig},
      {kTraverse, "--base", {"-1", "nan", "inf", "99999999999999999999", "abc", "1.5"}, fig},
      {kTraverse, "--collapsed-kl", kNonNegReal, fig},
      {kTraverse, "--scale", kCount, fig},
      {kReconstruct, "--k", kCount, fig},
      {kReconstruct, "--seed", kSeed, fig},
      {kReconstruct, "--cols", kNonNegInt, fig},
      {kReconstruct, "--scale", kCount, fig},
      {kSample, "--n", kCount, fig},
      {kSample, "--cols", kCount, fig},
      {kSample, "--seed", kSeed, fig},
      {kSample, "--scale", kCount, fig},
      {kMetrics, "--bins", {"1", "-1", "0", "nan", "inf", "1001", "99999999999999999999", "abc", "1.5"}, {"m.json"}},
      {kMetrics, "--seed", kSeed, {"m.json"}},
      {kPlot, "--n", {"-2", "nan", "inf", "99999999999", "99999999999999999999", "abc", "1.5"}, plots},
      {kPlot, "--gallery-k", kCount, plots},
      {kPlot, "--scale", kCount, plots},
      {kReproduce, "--vae-seeds", kCount, {"rep"}},
      {kReproduce, "--seed", kSeed, {"rep"}},
      {kFetch, "--timeout", kCount, {"root"}},
      {kFactors, "--limit", kNonNegInt, {"f.csv"}},
  };
}

// The error names the flag (or key) and what it expects, on one line.
void expect_usage_error(const test::RunResult& r, const std::string& name, const std::string& what) {
  EXPECT_EQ(r.exit_code, 2) << what << "\n" << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << what << "\n" << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << what << ": expected one line\n" << r.err;
  EXPECT_NE(r.err.find(name), std::string::npos) << what << ": the error does not name " << name << "\n" << r.err;
  EXPECT_NE(r.err.find("expected"), std::string::npos) << what << ": the error does not say what is expected\n"
                                                       << r.err;
}

// Parses args with dvae's app in-process, as main() would; returns the usage error's message
// ("" when the arguments were accepted, "not a usage error: ..." for any other outcome).
std::string usage_error_of(const std::vector<std::string>& args) {
  cli::GlobalOptions global;
  auto app = cli::make_app(global);
  std::vector<std::string> argv_text = {"dvae"};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  try {
    app->parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return e.get_exit_code() == 0 ? "not a usage error: help" : e.what();
  } catch (const UsageError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not a usage error: ") + e.what();
  }
  return "";
}

// Splits a command of the table into arguments (no quoting: the table has none).
std::vector<std::string> split(const std::string& command) {
  std::vector<std::string> out;
  std::istringstream in(command);
  for (std::string a; in >> a;) out.push_back(a);
  return out;
}

class BadFlagValue : public ::testing::TestWithParam<FlagCase> {
 protected:
  // The case's row in the table: which of its values goes through the binary.
  size_t GetParamIndexForRotation() const {
    const auto& info = *::testing::UnitTest::GetInstance()->current_test_info();
    const std::string name = info.name();
    size_t h = 0;
    for (char ch : name) h = h * 31 + static_cast<unsigned char>(ch);
    return h;
  }
};

TEST_P(BadFlagValue, IsAUsageErrorNamingTheFlagBeforeAnyWork) {
  const FlagCase& c = GetParam();
  test::TempDir dir;
  test::write_synthetic_mnist(dir.file("data"), 20, 10, 4);
  test::write_synthetic_mnist(dir.file("data/mnist"), 20, 10, 4);
  auto with_value = [&](const std::string& v) {
    std::vector<std::string> args = split(with_dir(c.command, dir.path()));
    bool placed = false;
    for (auto& a : args) {
      if (a.find("{V}") != std::string::npos) {
        a.replace(a.find("{V}"), 3, v);
        placed = true;
      }
    }
    if (!placed) args.push_back(c.flag + "=" + v);
    return args;
  };
  for (const auto& v : c.values) {
    const std::string message = usage_error_of(with_value(v));
    const std::string what = c.flag + "=" + v;
    EXPECT_NE(message, "") << what << ": accepted";
    EXPECT_EQ(message.rfind("not a usage error", 0), std::string::npos) << what << ": " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << what << ": more than one line: " << message;
    EXPECT_NE(message.find(c.flag), std::string::npos) << what << ": the error does not name the flag: " << message;
    EXPECT_NE(message.find("expected"), std::string::npos) << what << ": the error does not say what is expected: "
                                                           << message;
    for (const auto& o : c.outputs) EXPECT_FALSE(fs::exists(dir.file(o))) << what << ": created " << o;
  }
  // One value through the binary: exit code 2, one "error:" line.
  const size_t index = GetParamIndexForRotation();
  std::string cmd;
  for (const auto& a : with_value(c.values[index % c.values.size()])) cmd += " '" + a + "'";
  const auto r = run_quick(cmd);
  expect_usage_error(r, c.flag, cmd);
  for (const auto& o : c.outputs) EXPECT_FALSE(fs::exists(dir.file(o))) << cmd << ": created " << o;
}

std::string flag_case_name(const ::testing::TestParamInfo<FlagCase>& info) {
  std::string name = info.param.command.substr(0, info.param.command.find(' ')) + "_" + info.param.flag;
  if (name.rfind("--", 0) == 0) name = "global" + name.substr(name.find('_'));
  if (info.param.command.find("data fetch") != std::string::npos) name = "fetch_" + info.param.flag;
  std::string out;
  for (char ch : name) out += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return out;
}

INSTANTIATE_TEST_SUITE_P(EveryNumericFlag, BadFlagValue, ::testing::ValuesIn(flag_cases()), flag_case_name);

// Every option that --help shows with a numeric type is in the table above.
TEST(FlagTable, CoversEveryNumericFlag) {
  std::set<std::pair<std::string, std::string>> covered;  // (subcommand, flag)
  for (const auto& c : flag_cases()) {
    std::string sub = c.command.rfind("--", 0) == 0 ? "" : c.command.substr(0, c.command.find(' '));
    if (c.command.find("data fetch") != std::string::npos) sub = "data fetch";
    if (c.flag == "--threads") sub = "";
    covered.insert({sub, c.flag});
  }
  const std::regex numeric_option(R"(^\s+(--[a-z0-9-]+)\s+(INT|UINT|FLOAT|NUMBER|INT64|DOUBLE)\b)");
  for (const std::string sub : {"", "train", "classify", "encode", "traverse", "reconstruct", "sample", "plot",
                                "reproduce", "export", "metrics", "study run", "data info", "data fetch", "info", "factors"}) {
    const auto r = run_quick(sub + " --help");
    ASSERT_EQ(r.exit_code, 0) << sub << "\n" << r.err;
    std::istringstream lines(r.out);
    int numeric = 0;
    for (std::string line; std::getline(lines, line);) {
      std::smatch m;
      if (!std::regex_search(line, m, numeric_option)) continue;
      ++numeric;
      const std::string owner = m[1] == "--threads" ? "" : sub;
      EXPECT_TRUE(covered.count({owner, m[1]})) << "dvae " << sub << " " << m[1]
                                                << ": numeric flag missing from the bad-values table";
    }
    if (sub == "train") EXPECT_GE(numeric, 11) << r.out;  // the pattern still matches CLI11's help
  }
}

// A minimal valid study; each case appends or replaces one numeric key.
struct KeyCase {
  std::string key;                  // as the error names it, e.g. "models[0].beta"
  std::string table;                // TOML text holding {V}
  std::vector<std::string> values;  // bad TOML values
};

const std::vector<std::string> kTomlCount = {"-1", "0", "nan", "inf", "1.5", "\"abc\"", "true",
                                             "9223372036854775807", "99999999999999999999", "[1]"};
const std::vector<std::string> kTomlNonNegInt = {"-1", "nan", "-inf", "1.5", "\"3\"", "9223372036854775807",
                                                 "99999999999999999999"};
const std::vector<std::string> kTomlPositiveReal = {"-1", "0", "0.0", "nan", "+inf", "-inf", "1e300", "\"abc\"",
                                                    "false"};
const std::vector<std::string> kTomlFraction = {"-0.5", "nan", "inf", "1.5", "1e300", "\"half\""};

const std::string kModel = "[[models]]\nname = \"m\"\n";
const std::string kProbe = "[[classifiers]]\nname = \"p\"\nkind = \"probe\"\n";
const std::string kClaim = "[[claims]]\nkind = \"collapse\"\nmodels = [\"m\"]\n";

std::vector<KeyCase> key_cases() {
  return {
      {"seed", "seed = {V}\n", {"-1", "nan", "1.5", "\"abc\"", "99999999999999999999"}},
      {"vae_seeds", "vae_seeds = {V}\n", kTomlCount},
      {"trials_small", "trials_small = {V}\n", kTomlCount},
      {"trials_large", "trials_large = {V}\n", kTomlCount},
      {"validation_per_class", "validation_per_class = {V}\n", kTomlNonNegInt},
      {"disentanglement_points", "disentanglement_points = {V}\n", kTomlCount},
      {"vae_nproc", "vae_nproc = {V}\n", {"-1", "0", "65", "nan", "1.5", "\"2\"", "true", "99999999999999999999"}},
      {"sizes", "sizes = {V}\n", {"[-1]", "[0]", "[nan]", "[inf]", "[1.5]", "[99999999999]", "[\"most\"]", "3"}},
      {"models[0].beta", kModel + "beta = {V}\n", {"-1", "nan", "inf", "1e300", "\"4\"", "{ mlp = -1 }",
                                                   "{ mlp = nan }", "{ resnet = 4 }"}},
      {"models[0].latent_dim", kModel + "latent_dim = {V}\n", kTomlCount},
      {"models[0].epochs", kModel + "epochs = {V}\n", kTomlCount},
      {"models[0].train_images", kModel + "train_images = {V}\n", kTomlNonNegInt},
      {"models[0].gamma", kModel + "objective = \"factor-vae\"\ngamma = {V}\n",
       {"-1", "nan", "inf", "1e300", "\"4\""}},
      {"models[0].c_min", kModel + "objective = \"annealed-vae\"\nc_min = {V}\n", {"-1", "nan", "inf", "\"0\""}},
      {"models[0].c_max", kModel + "objective = \"annealed-vae\"\nc_max = {V}\n", {"-1", "nan", "1e300", "true"}},
      {"models[0].capacity_iterations", kModel + "objective = \"annealed-vae\"\ncapacity_iterations = {V}\n",
       kTomlCount},
      {"models[0].disc_hidden", kModel + "objective = \"factor-vae\"\ndisc_hidden = {V}\n", kTomlCount},
      {"models[0].disc_layers", kModel + "objective = \"factor-vae\"\ndisc_layers = {V}\n", kTomlCount},
      {"models[0].disc_lr", kModel + "objective = \"factor-vae\"\ndisc_lr = {V}\n", kTomlPositiveReal},
      {"classifiers[0].epochs", kProbe + "epochs = {V}\n", kTomlCount},
      {"classifiers[0].lr", kProbe + "lr = {V}\n", kTomlPositiveReal},
      {"classifiers[0].hidden", kProbe + "hidden = {V}\n", kTomlNonNegInt},
      {"classifiers[0].batch_size", kProbe + "batch_size = {V}\n", kTomlCount},
      {"claims[0].margin", "[[claims]]\nkind = \"matches\"\na = \"m\"\nb = \"m\"\nmargin = {V}\n",
       kTomlPositiveReal},
      {"claims[0].min_fraction", kClaim + "min_fraction = {V}\n", kTomlFraction},
      {"claims[0].max_fraction", kClaim + "max_fraction = {V}\n", kTomlFraction},
  };
}

class BadKeyValue : public ::testing::TestWithParam<KeyCase> {};

TEST_P(BadKeyValue, IsAUsageErrorNamingTheKeyBeforeAnyWork) {
  const KeyCase& c = GetParam();
  test::TempDir dir;
  const std::string path = dir.file("s.toml");
  auto spec_with = [&](const std::string& v) {
    std::string table = c.table;
    table.replace(table.find("{V}"), 3, v);
    return "title = \"bad\"\ndatasets = [\"mnist\"]\narchs = [\"mlp\"]\n" + table;
  };
  for (const auto& v : c.values) {
    const std::string what = c.key + " = " + v;
    std::string message;
    try {
      (void)parse_study(spec_with(v), path);
    } catch (const UsageError& e) {
      message = e.what();
    } catch (const std::exception& e) {
      message = std::string("not a usage error: ") + e.what();
    }
    EXPECT_NE(message, "") << what << ": accepted";
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << what << ": the error does not start with the file: " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << what << ": more than one line: " << message;
    // A value TOML itself cannot hold (an integer beyond 64 bits) is a syntax error quoting the line.
    const std::string leaf = c.key.substr(c.key.rfind('.') == std::string::npos ? 0 : c.key.rfind('.') + 1);
    const bool names_key = message.find(c.key) != std::string::npos ||
                           (message.find("TOML syntax error") != std::string::npos &&
                            message.find("(" + leaf + " = ") != std::string::npos);
    EXPECT_TRUE(names_key) << what << ": the error does not name the key: " << message;
    EXPECT_NE(message.find("expected"), std::string::npos) << what << ": the error does not say what is expected: "
                                                           << message;
  }
  // One value through the binary: exit code 2, one "error:" line, no output folder.
  size_t h = 0;
  for (char ch : c.key) h = h * 31 + static_cast<unsigned char>(ch);
  const std::string v = c.values[h % c.values.size()];
  test::write_bytes(path, spec_with(v));
  const auto r = run_quick("study run " + path + " --out " + dir.file("out"));
  const bool syntax = r.err.find("TOML syntax error") != std::string::npos;
  expect_usage_error(r, syntax ? c.key.substr(c.key.rfind('.') + 1) + " = " : c.key, c.key + " = " + v);
  EXPECT_FALSE(fs::exists(dir.file("out"))) << c.key << " = " << v << ": created the output folder";
}

std::string key_case_name(const ::testing::TestParamInfo<KeyCase>& info) {
  std::string out;
  for (char ch : info.param.key) out += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return out;
}

INSTANTIATE_TEST_SUITE_P(EveryNumericKey, BadKeyValue, ::testing::ValuesIn(key_cases()), key_case_name);

}  // namespace
}  // namespace dvae
