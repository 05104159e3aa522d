// Tests of checkpoints: round trip of weights, buffers and metadata; every
// kind of bad file (missing, truncated, corrupt, other architecture or latent
// size) gives a dvae::Error that names the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "core/atomic_file.h"
#include "core/check.h"
#include "support/checkpoint_fixtures.h"
#include "training/checkpoint.h"
#include "training_fixtures.h"

namespace dvae {
namespace {

CheckpointMeta meta_for(const ModelOptions& model) {
  CheckpointMeta meta = test::checkpoint_meta(model, 4.0, 3);
  meta.epoch = 2;
  meta.epochs = 5;
  meta.train_options = train_options_to_json(TrainOptions{});
  return meta;
}

std::string write_checkpoint(const test::TempDir& dir, const ModelOptions& model, Vae* out = nullptr) {
  torch::manual_seed(11);
  Vae vae(model);
  vae->train();
  vae->forward(torch::rand({4, 1, model.image_size, model.image_size}));  // moves BatchNorm statistics
  const std::string path = dir.file("checkpoint.pt");
  save_checkpoint(path, *vae, meta_for(model), nullptr);
  if (out != nullptr) *out = vae;
  return path;
}

void expect_error_naming(const std::function<void()>& f, const std::string& path, const std::string& part = "") {
  try {
    f();
    FAIL() << "expected dvae::Error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find(part), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
  }
}

TEST(Checkpoint, RoundTripsWeightsBuffersAndMetadata) {
  test::TempDir dir;
  const ModelOptions model = test::tiny_model("cnn", 16);
  Vae saved = nullptr;
  const std::string path = write_checkpoint(dir, model, &saved);
  const LoadedVae loaded = load_vae(path);
  EXPECT_FALSE(loaded.vae->is_training());
  EXPECT_EQ(loaded.meta.arch, "cnn");
  EXPECT_EQ(loaded.meta.latent_dim, 3);
  EXPECT_EQ(loaded.meta.epoch, 2);
  EXPECT_EQ(loaded.meta.seed, 3u);
  EXPECT_DOUBLE_EQ(loaded.meta.beta, 4.0);
  EXPECT_EQ(loaded.vae->options().cnn_fc, 16);
  const auto a = saved->named_parameters();
  const auto b = loaded.vae->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& p : a) EXPECT_TRUE(torch::equal(p.value(), b[p.key()])) << p.key();
  const auto ab = saved->named_buffers();
  const auto bb = loaded.vae->named_buffers();
  ASSERT_EQ(ab.size(), bb.size());
  for (const auto& p : ab) EXPECT_TRUE(torch::equal(p.value(), bb[p.key()])) << p.key();
}

TEST(Checkpoint, MissingFileIsAnError) {
  test::TempDir dir;
  expect_error_naming([&] { load_vae(dir.file("nope.pt")); }, dir.file("nope.pt"), "no such file");
}

TEST(Checkpoint, TruncatedFileIsAnError) {
  test::TempDir dir;
  const std::string path = write_checkpoint(dir, test::tiny_model());
  const std::string bytes = read_file(path);
  for (size_t keep : {size_t{0}, size_t{10}, bytes.size() / 2, bytes.size() - 30}) {
    write_file_atomic(path, bytes.substr(0, keep));
    expect_error_naming([&] { load_vae(path); }, path);
  }
}

TEST(Checkpoint, CorruptFileIsAnError) {
  test::TempDir dir;
  Vae saved = nullptr;
  const std::string path = write_checkpoint(dir, test::tiny_model(), &saved);
  const std::string bytes = read_file(path);
  write_file_atomic(path, "this is not a checkpoint\n");
  expect_error_naming([&] { load_vae(path); }, path);

  // One flipped byte inside a weight tensor's data (found by its bytes in the
  // file): LibTorch's reader does not check the zip's CRCs, dvae must (check_zip).
  const torch::Tensor w = saved->named_parameters()["encoder.fc1.weight"].contiguous();
  const std::string raw(static_cast<const char*>(w.data_ptr()), 64);
  const size_t at = bytes.find(raw);
  ASSERT_NE(at, std::string::npos);
  std::string bad = bytes;
  bad[at + 5] = static_cast<char>(bad[at + 5] ^ 0x10);
  write_file_atomic(path, bad);
  expect_error_naming([&] { load_vae(path); }, path, "has CRC-32");

  // Garbage anywhere (64 bytes at 16 places): an error, or (in padding or
  // duplicated headers) exactly the saved weights, never other weights.
  for (int k = 0; k < 16; ++k) {
    bad = bytes;
    const size_t from = bytes.size() * k / 16;
    for (size_t i = from; i < from + 64 && i < bad.size(); ++i) bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    write_file_atomic(path, bad);
    try {
      const LoadedVae loaded = load_vae(path);
      for (const auto& p : saved->named_parameters()) {
        EXPECT_TRUE(torch::equal(p.value(), loaded.vae->named_parameters()[p.key()])) << "offset " << from;
      }
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
}

TEST(Checkpoint, OtherLatentSizeOrArchitectureIsAnError) {
  test::TempDir dir;
  const ModelOptions mlp = test::tiny_model("mlp", 16);
  const std::string path = write_checkpoint(dir, mlp);
  ModelOptions wider = mlp;
  wider.latent_dim = 5;
  Vae other(wider);
  expect_error_naming([&] { restore_checkpoint(path, *other, nullptr, false); }, path, "shape");
  Vae cnn(test::tiny_model("cnn", 16));
  expect_error_naming([&] { restore_checkpoint(path, *cnn, nullptr, false); }, path);
}

TEST(Checkpoint, MetadataOfAnotherFormatIsAnError) {
  test::TempDir dir;
  nlohmann::json json = checkpoint_meta_to_json(meta_for(test::tiny_model()));
  json["format_version"] = 99;
  expect_error_naming([&] { checkpoint_meta_from_json(json, "x.pt"); }, "x.pt", "version");
  json.erase("format_version");
  expect_error_naming([&] { checkpoint_meta_from_json(json, "x.pt"); }, "x.pt");
}

TEST(Checkpoint, ExportIsADictOfNamedTensorsForPythonSlow) {
  if (test::run_shell("/usr/bin/python3 -c 'import torch' 2>/dev/null").exit_code != 0) {
    GTEST_SKIP() << "/usr/bin/python3 has no torch";
  }
  test::TempDir dir;
  Vae vae = nullptr;
  const std::string path = write_checkpoint(dir, test::tiny_model("cnn", 16), &vae);
  const LoadedVae loaded = load_vae(path);
  export_state_dict(*loaded.vae, dir.file("weights.pt"));
  const auto weight = loaded.vae->named_parameters()["encoder.fc.weight"];
  const auto r = test::run_shell(
      "/usr/bin/python3 -c 'import sys, torch; d = torch.load(sys.argv[1]); "
      "assert isinstance(d, dict) and all(torch.is_tensor(t) for t in d.values()); "
      "w = d[\"encoder.fc.weight\"]; "
      "print(len(d), list(w.shape), \"%.6f\" % w.double().sum().item(), d[\"decoder.bn1.running_mean\"].shape[0])' " +
      dir.file("weights.pt"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t expected = loaded.vae->named_parameters().size() + loaded.vae->named_buffers().size();
  std::ostringstream sum;
  sum << std::fixed << std::setprecision(6) << weight.to(torch::kFloat64).sum().item<double>();
  EXPECT_EQ(r.out, std::to_string(expected) + " [16, 64] " + sum.str() + " 16\n");
}

}  // namespace
}  // namespace dvae
