// run_study (experiments/study.h) with the study key vae_nproc: a tiny study
// whose VAE unit trains on 2 data-parallel ranks gives the weights and the
// records of the same study in one process, to float tolerance, in the same
// unit folder (vae_nproc is in no hash), and records the world size.
#include "experiments/study.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/check.h"
#include "experiments/results_db.h"
#include "experiments/study_spec.h"
#include "support/fixtures.h"
#include "training/checkpoint.h"

namespace dvae {
namespace {

namespace fs = std::filesystem;

const char* const kNprocStudy =
    "archs = [\"mlp\"]\n"
    "sizes = [1]\n"
    "trials_small = 1\n"
    "validation_per_class = 0\n"
    "models = [{name = \"standard\", beta = 1, latent_dim = 3, epochs = 2}]\n"
    "classifiers = [{name = \"probe\", kind = \"probe\", epochs = 5}]\n";

// The only VAE unit's folder under out/vae.
std::string nproc_unit_dir(const std::string& out) {
  std::vector<std::string> dirs;
  for (const auto& e : fs::directory_iterator(out + "/vae")) dirs.push_back(e.path().string());
  EXPECT_EQ(dirs.size(), 1u);
  return dirs.empty() ? "" : dirs[0];
}

TEST(StudyVaeNproc, TwoRanksPerVaeUnitGiveTheOneProcessUnit) {
  test::TempDir dir;
  const std::string data = dir.file("synth");
  test::write_synthetic_mnist(data, 120, 40, 28, false, 3);
  const std::string base = "datasets = [\"" + data + "\"]\n" + kNprocStudy;
  std::map<int, std::string> units;
  for (int nproc : {1, 2}) {
    const StudySpec spec = parse_study(base + "vae_nproc = " + std::to_string(nproc) + "\n", "tiny.toml");
    EXPECT_EQ(spec.vae_nproc, nproc);
    StudyContext ctx;
    ctx.out_dir = dir.file("out" + std::to_string(nproc));
    run_study(spec, ctx);
    units[nproc] = nproc_unit_dir(ctx.out_dir);
    const auto unit_config = nlohmann::json::parse(read_file(units[nproc] + "/config.json"));
    EXPECT_EQ(unit_config.at("world_size"), nproc);
    EXPECT_EQ(nlohmann::json::parse(read_file(ctx.out_dir + "/config.json")).at("vae_nproc"), nproc);
  }
  // Same content hash, hence the same folder name.
  EXPECT_EQ(fs::path(units[1]).filename(), fs::path(units[2]).filename());
  const LoadedVae one = load_vae(units[1] + "/checkpoint.pt");
  const LoadedVae two = load_vae(units[2] + "/checkpoint.pt");
  const auto p2 = two.vae->named_parameters();
  for (const auto& p : one.vae->named_parameters()) {
    EXPECT_TRUE(torch::allclose(p.value(), p2[p.key()], 1e-4, 2e-5))
        << p.key() << ": max difference " << (p.value() - p2[p.key()]).abs().max().item<double>();
  }
  const auto r1 = ResultsDb(dir.file("out1/results.sqlite")).all("vae");
  const auto r2 = ResultsDb(dir.file("out2/results.sqlite")).all("vae");
  ASSERT_EQ(r1.size(), 1u);
  ASSERT_EQ(r2.size(), 1u);
  EXPECT_EQ(r1[0].key, r2[0].key);
  const double elbo = r1[0].payload.at("test_elbo").get<double>();
  EXPECT_NEAR(r2[0].payload.at("test_elbo").get<double>(), elbo, 1e-3 * std::abs(elbo));
}

TEST(StudyVaeNproc, ObjectivesThatCannotTrainDataParallelAreRefusedAtValidation) {
  const std::string spec =
      "vae_nproc = 2\nmodels = [{name = \"tc\", objective = \"beta-tcvae\", beta = 6}]\n";
  try {
    parse_study(spec, "s.toml");
    FAIL() << "accepted";
  } catch (const UsageError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("s.toml: key 'vae_nproc': 2 with models[0].objective 'beta-tcvae'"), std::string::npos) << m;
    EXPECT_NE(m.find("expected vae_nproc = 1 or only objectives that train data-parallel (beta-vae)"),
              std::string::npos)
        << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
  EXPECT_EQ(parse_study("vae_nproc = 1\nmodels = [{name = \"tc\", objective = \"beta-tcvae\"}]\n", "s.toml")
                .vae_nproc,
            1);
}

}  // namespace
}  // namespace dvae
