// Tests for experiments/study_spec: presets are studies, a preset key keeps the
// other keys whatever their order, per-architecture values, strict errors.
#include "experiments/study_spec.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "core/check.h"
#include "evaluation/disentanglement.h"

namespace dvae {
namespace {

std::string error_of(const std::string& toml) {
  try {
    parse_study(toml, "spec.toml");
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(StudySpec, PaperPresetIsThePapersProtocol) {
  const StudySpec s = preset_study("paper");
  EXPECT_EQ(s.preset, "paper");
  EXPECT_EQ(s.vae_seeds, 1);
  EXPECT_EQ(s.archs, (std::vector<std::string>{"mlp", "cnn"}));
  EXPECT_EQ(s.sizes, (std::vector<int64_t>{1, 3, 5, 10, 100, 1000, -1}));
  EXPECT_EQ(s.trials_small, 5);
  ASSERT_EQ(s.models.size(), 2u);
  EXPECT_EQ(s.models[1].beta.at("mlp"), 4.0);
  EXPECT_EQ(s.models[1].beta.at("cnn"), 6.0);
  EXPECT_EQ(s.models[0].epochs.at("cnn"), 75);
  EXPECT_EQ(s.models[0].epochs.at("mlp"), 50);
  ASSERT_EQ(s.classifiers.size(), 2u);
  EXPECT_EQ(s.classifiers[0].probe.lr, 0.01);
  EXPECT_EQ(s.classifiers[1].supervised.lr, 0.001);
  EXPECT_GE(s.claims.size(), 6u);
}

TEST(StudySpec, QuickPresetHasTwoSeedsAndTheAllBudget) {
  const StudySpec s = preset_study("quick");
  EXPECT_GE(s.vae_seeds, 2);
  EXPECT_TRUE(s.indicative);
  EXPECT_EQ(s.sizes.back(), -1);
  EXPECT_THROW(preset_study("fast"), UsageError);
}

TEST(StudySpec, DisentanglementPresetsSweepBetaAndScoreEveryMetric) {
  const StudySpec s = preset_study("disentanglement");
  EXPECT_EQ(s.vae_seeds, 3);
  EXPECT_EQ(s.archs, (std::vector<std::string>{"mlp", "cnn"}));
  EXPECT_EQ(s.datasets, (std::vector<std::string>{"mnist", "mnist-affine"}));
  EXPECT_EQ(s.sizes, (std::vector<int64_t>{1, 10, 100}));
  EXPECT_EQ(s.disentanglement.size(), metric_registry().size());
  EXPECT_EQ(s.models.size() % 4, 0u);  // four weights per registered objective
  EXPECT_GE(s.models.size(), 4u);
  EXPECT_EQ(s.models[3].beta.at("mlp"), 8.0);
  const StudySpec q = preset_study("disentanglement-quick");
  EXPECT_EQ(q.archs, (std::vector<std::string>{"mlp"}));
  EXPECT_EQ(q.models.size(), 4u);
  EXPECT_EQ(q.models[0].epochs.at("mlp"), 3);
  EXPECT_EQ(q.disentanglement_points, 300);
}

TEST(StudySpec, DisentanglementKeyTakesMetricNamesOrAll) {
  const std::string base = "[[models]]\nname = \"a\"\n[[classifiers]]\nname = \"probe\"\nkind = \"probe\"\n";
  EXPECT_TRUE(parse_study(base, "s.toml").disentanglement.empty());
  EXPECT_EQ(parse_study("disentanglement = [\"mig\", \"dci\"]\n" + base, "s.toml").disentanglement,
            (std::vector<std::string>{"mig", "dci"}));
  EXPECT_EQ(parse_study("disentanglement = \"all\"\n" + base, "s.toml").disentanglement.size(),
            metric_registry().size());
  EXPECT_THROW(parse_study("disentanglement = [\"migg\"]\n" + base, "s.toml"), UsageError);
  EXPECT_THROW(parse_study("disentanglement = [\"mig\", \"mig\"]\n" + base, "s.toml"), UsageError);
  EXPECT_THROW(parse_study("disentanglement_points = 5\n" + base, "s.toml"), UsageError);
}

TEST(StudySpec, SemiSupervisedPresetHasM2BothBetasAndM1m2OnA50UnitVae) {
  const StudySpec s = preset_study("semi-supervised");
  validate_study(s, "preset");
  ASSERT_EQ(s.models.size(), 3u);
  EXPECT_EQ(s.models[2].latent_dim, 50);
  std::map<std::string, const ClassifierSpec*> by_name;
  for (const auto& c : s.classifiers) by_name[c.name] = &c;
  ASSERT_EQ(by_name.size(), 5u);
  EXPECT_EQ(by_name.at("probe")->encoders, (std::vector<std::string>{"standard", "disentangled"}));
  EXPECT_EQ(by_name.at("m2")->kind, "m2");
  EXPECT_EQ(by_name.at("m2")->semi.train.beta, 1.0);
  EXPECT_GT(by_name.at("m2-beta4")->semi.train.beta, 1.0);
  EXPECT_EQ(by_name.at("m1m2")->encoders, (std::vector<std::string>{"m1"}));
  // M1+M2 as measured best (README): a 200-epoch M1, nips14-ssl's 100-label
  // q(y|x), Adam 1e-3 and 200 M2 epochs (where the curve flattens).
  EXPECT_EQ(s.models[2].epochs.at("mlp"), 200);
  EXPECT_EQ(by_name.at("m1m2")->semi.train.epochs, 200);
  EXPECT_EQ(by_name.at("m1m2")->semi.hidden, 300);
  EXPECT_EQ(by_name.at("m1m2")->semi.hidden_layers, 1);
  EXPECT_DOUBLE_EQ(by_name.at("m1m2")->semi.train.lr, 1e-3);
  // M2 on pixels as the measured curve (README): one hidden layer of 500, Adam 3e-3.
  for (const char* m2 : {"m2", "m2-beta4"}) {
    EXPECT_EQ(by_name.at(m2)->semi.hidden_layers, 1) << m2;
    EXPECT_EQ(by_name.at(m2)->semi.hidden, 500) << m2;
    EXPECT_DOUBLE_EQ(by_name.at(m2)->semi.train.lr, 3e-3) << m2;
  }
  EXPECT_EQ(by_name.at("supervised")->kind, "supervised");
}

TEST(StudySpec, M2KeysAreReadAndCheckedAndRoundTrip) {
  const StudySpec s = parse_study(R"(
[[models]]
name = "m1"
latent_dim = 50
[[classifiers]]
name = "probe"
kind = "probe"
[[classifiers]]
name = "m2"
kind = "m2"
beta = 4
alpha = 0.2
epochs = 7
lr = 0.001
lr_decay = 0.95
hidden_layers = 1
z_dim = 20
trunk = "cnn"
labelled_batch = 50
[[classifiers]]
name = "m1m2"
kind = "m1m2"
encoders = "m1"
)",
                                  "m2.toml");
  ASSERT_EQ(s.classifiers.size(), 3u);
  const auto& m2 = s.classifiers[1].semi;
  EXPECT_EQ(m2.train.beta, 4.0);
  EXPECT_EQ(m2.train.alpha, 0.2);
  EXPECT_EQ(m2.train.epochs, 7);
  EXPECT_EQ(m2.train.lr, 0.001);
  EXPECT_EQ(m2.train.lr_decay, 0.95);
  EXPECT_EQ(s.classifiers[2].semi.train.lr_decay, 1.0);  // constant unless asked
  EXPECT_EQ(m2.hidden_layers, 1);
  EXPECT_EQ(m2.z_dim, 20);
  EXPECT_EQ(m2.trunk, "cnn");
  EXPECT_EQ(m2.train.labelled_batch, 50);
  EXPECT_EQ(s.classifiers[2].semi.train.lr, 3e-4);  // the M2 default, not the supervised one
  EXPECT_EQ(s.classifiers[2].encoders, (std::vector<std::string>{"m1"}));
  const auto j = study_to_json(s);
  EXPECT_EQ(j["classifiers"][1]["beta"], 4.0);
  EXPECT_EQ(j["classifiers"][2]["encoders"][0], "m1");
  const std::string head = "[[models]]\nname = \"a\"\n[[classifiers]]\nname = \"p\"\nkind = \"probe\"\n"
                           "[[classifiers]]\nname = \"m\"\nkind = \"m2\"\n";
  EXPECT_NE(error_of(head + "beta = -1\n").find("classifiers[1].beta"), std::string::npos);
  EXPECT_NE(error_of(head + "hidden_layers = 0\n").find("classifiers[1].hidden_layers"), std::string::npos);
  EXPECT_NE(error_of(head + "lr_decay = 0\n").find("classifiers[1].lr_decay"), std::string::npos);
  EXPECT_NE(error_of(head + "lr_decay = 1.5\n").find("classifiers[1].lr_decay"), std::string::npos);
  EXPECT_NE(error_of(head + "trunk = \"rnn\"\n").find("classifiers[1].trunk"), std::string::npos);
  EXPECT_NE(error_of(head + "with_logvar = true\n").find("only probe"), std::string::npos);
  EXPECT_NE(error_of(head + "encoders = [\"a\"]\n").find("only classifiers on an encoder"), std::string::npos);
  EXPECT_NE(error_of(head + "bogus = 1\n").find("bogus"), std::string::npos);
}

TEST(StudySpec, PresetKeyKeepsKeysThatSortBeforeIt) {
  // "archs" and "datasets" sort before "preset": they must survive it.
  const StudySpec s = parse_study("archs = [\"mlp\"]\ndatasets = [\"fashion-mnist\"]\npreset = \"paper\"\n"
                                  "vae_seeds = 3\n",
                                  "spec.toml");
  EXPECT_EQ(s.archs, (std::vector<std::string>{"mlp"}));
  EXPECT_EQ(s.datasets, (std::vector<std::string>{"fashion-mnist"}));
  EXPECT_EQ(s.vae_seeds, 3);
  EXPECT_EQ(s.trials_small, 5);  // from the preset
  EXPECT_EQ(s.models.size(), 2u);
}

TEST(StudySpec, ABetaSweepInTenLines) {
  const StudySpec s = parse_study(R"(
datasets = ["fashion-mnist"]
archs = ["mlp"]
vae_seeds = 5
models = [{name = "beta=1", beta = 1}, {name = "beta=2", beta = 2}, {name = "beta=4", beta = 4},
          {name = "beta=6", beta = 6}, {name = "beta=8", beta = 8}, {name = "beta=16", beta = 16}]
)",
                                  "sweep.toml");
  ASSERT_EQ(s.models.size(), 6u);
  EXPECT_EQ(s.models[5].beta.at("mlp"), 16.0);
  EXPECT_EQ(s.models[0].epochs.at("mlp"), 50);
  EXPECT_EQ(s.classifiers.size(), 2u);  // probe + supervised by default
  const auto j = study_to_json(s);
  EXPECT_EQ(j["models"][3]["beta"]["mlp"], 6.0);
}

// A study sweeps objectives x their weight: one [[models]] table per point.
TEST(StudySpec, ObjectivesAndTheirParametersSweep) {
  const StudySpec s = parse_study(R"(
archs = ["mlp"]
models = [{name = "b4", beta = 4},
          {name = "tc6", objective = "beta-tcvae", beta = 6},
          {name = "cap10", objective = "annealed-vae", c_max = 10, gamma = 100, capacity_iterations = 5000},
          {name = "f10", objective = "factor-vae", gamma = 10, disc_hidden = 100, disc_layers = 2}]
)",
                                  "sweep.toml");
  ASSERT_EQ(s.models.size(), 4u);
  const ObjectiveSettings cap = model_objective_settings(s.models[2]);
  EXPECT_EQ(cap.name, "annealed-vae");
  EXPECT_EQ(cap.c_max, 10.0);
  EXPECT_EQ(cap.c_min, 0.0);  // the default
  EXPECT_EQ(cap.gamma, 100.0);
  EXPECT_EQ(cap.capacity_iterations, 5000);
  const ObjectiveSettings f = model_objective_settings(s.models[3]);
  EXPECT_EQ(f.gamma, 10.0);
  EXPECT_EQ(f.disc_hidden, 100);
  EXPECT_EQ(f.disc_lr, 1e-4);
  EXPECT_EQ(s.models[1].beta.at("mlp"), 6.0);
  const auto j = study_to_json(s);
  EXPECT_FALSE(j["models"][0].contains("parameters"));  // a beta-vae's JSON is as before
  EXPECT_EQ(j["models"][3]["parameters"]["disc_layers"], 2);
  EXPECT_NE(study_keys_help().find("capacity_iterations"), std::string::npos);
}

TEST(StudySpec, AParameterOfAnotherObjectiveIsRefusedNamingBoth) {
  const std::string gamma = error_of("[[models]]\nname = \"a\"\ngamma = 3\n");
  EXPECT_NE(gamma.find("models[0].gamma"), std::string::npos) << gamma;
  EXPECT_NE(gamma.find("beta-vae"), std::string::npos) << gamma;
  const std::string beta = error_of("[[models]]\nname = \"a\"\nobjective = \"factor-vae\"\nbeta = 3\n");
  EXPECT_NE(beta.find("models[0].beta"), std::string::npos) << beta;
  EXPECT_NE(beta.find("factor-vae"), std::string::npos) << beta;
  const std::string disc = error_of("[[models]]\nname = \"a\"\nobjective = \"annealed-vae\"\ndisc_lr = 0.1\n");
  EXPECT_NE(disc.find("models[0].disc_lr"), std::string::npos) << disc;
  const std::string order = error_of("[[models]]\nname = \"a\"\nobjective = \"annealed-vae\"\nc_min = 9\nc_max = 3\n");
  EXPECT_NE(order.find("c_min <= c_max"), std::string::npos) << order;
  const std::string layers = error_of("[[models]]\nname = \"a\"\nobjective = \"factor-vae\"\ndisc_layers = 0\n");
  EXPECT_NE(layers.find("'models[0].disc_layers': 0, expected an integer in [1, 64]"), std::string::npos) << layers;
}

TEST(StudySpec, BadKeysAndValuesNameTheKeyAndTheRange) {
  EXPECT_NE(error_of("vae_seeds = 0").find("key 'vae_seeds': 0, expected an integer in [1, 1000]"), std::string::npos)
      << error_of("vae_seeds = 0");
  EXPECT_NE(error_of("vae_seeds = 2.5").find("'vae_seeds'"), std::string::npos);
  EXPECT_NE(error_of("bogus = 1").find("unknown key 'bogus'"), std::string::npos);
  EXPECT_NE(error_of("[[models]]\nname = \"a\"\nbeta = nan\n").find("models[0].beta"), std::string::npos);
  EXPECT_NE(error_of("[[models]]\nname = \"a\"\nbeta = -1\n").find("expected a finite number in [0"),
            std::string::npos);
  EXPECT_NE(error_of("[[models]]\nname = \"a\"\nepochs = {gpu = 3}\n").find("architecture 'gpu'"), std::string::npos);
  EXPECT_NE(error_of("[[models]]\nname = \"a\"\n[[models]]\nname = \"a\"\n").find("unique"), std::string::npos);
  EXPECT_NE(error_of("[[classifiers]]\nname = \"p\"\nkind = \"svm\"\n").find("classifier kind 'svm'"),
            std::string::npos);
  EXPECT_NE(error_of("[[classifiers]]\nname = \"p\"\nlr = 0\n").find("classifiers[0].lr"), std::string::npos);
  EXPECT_NE(error_of("sizes = [0]").find("key 'sizes'"), std::string::npos);
  EXPECT_NE(error_of("preset = \"fast\"").find("key 'preset'"), std::string::npos);
  EXPECT_NE(error_of("x = [").find("TOML syntax error"), std::string::npos);
  // Found by fuzz_study: toml++ quotes the raw bytes, line break included.
  const std::string broken = error_of("indicative = tru\n");
  EXPECT_EQ(broken.find('\n'), std::string::npos) << broken;
  EXPECT_NE(broken.find("line 1 (indicative = tru)"), std::string::npos) << broken;
  EXPECT_NE(error_of("[[claims]]\nkind = \"beats\"\na = \"nobody\"\nb = \"supervised\"\n").find("'nobody'"),
            std::string::npos);
  EXPECT_NE(error_of("[[models]]\nname = \"a\"\nobjective = \"gan\"\n").find("objective"), std::string::npos);
}

// Every study file shipped in examples/studies parses and validates, so a
// documented command cannot fail on its own file.
TEST(StudySpec, EveryExampleStudyFileIsValid) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(DVAE_SOURCE_DIR) / "examples" / "studies";
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".toml") continue;
    ++files;
    SCOPED_TRACE(entry.path().string());
    StudySpec s;
    EXPECT_NO_THROW(s = load_study(entry.path().string()));
    EXPECT_NO_THROW(validate_study(s, entry.path().string()));
    EXPECT_FALSE(s.models.empty());
  }
  EXPECT_GE(files, 6);
}

}  // namespace
}  // namespace dvae
