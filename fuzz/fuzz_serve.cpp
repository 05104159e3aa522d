// libFuzzer target: the request handling of `dvae serve` (api_call in
// src/serve/api.cpp: JSON parsing, field validation against ApiLimits, base64
// and PNG uploads, pixel arrays, codes, traversals) on a small explorer: two
// untrained MLP VAEs on 8x8 images (one with a probe), built once per process.
// The first input byte picks the endpoint (one value past the registry is an
// unknown name), the rest is the request body. A finding: an exception escaping
// api_call, a 5xx answer other than 503 (out of memory), or a JSON answer that
// is not one line.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "core/check.h"
#include "models/vae.h"
#include "serve/api.h"
#include "training/checkpoint.h"

namespace dvae::fuzz {
namespace {

// An untrained MLP VAE on 8x8 images saved to path.
void save_tiny_vae(const std::string& path, int64_t latent_dim, uint64_t seed) {
  ModelOptions model;
  model.latent_dim = latent_dim;
  model.mlp_hidden = 8;
  model.image_size = 8;
  torch::manual_seed(seed);
  Vae vae(model);
  CheckpointMeta meta;
  meta.arch = model.arch;
  meta.latent_dim = model.latent_dim;
  meta.beta = 1.0;
  meta.dataset = "synthetic";
  meta.seed = seed;
  meta.epoch = meta.epochs = 1;
  meta.dvae_version = "fuzz";
  meta.model_options = model_options_to_json(model);
  meta.train_options = nlohmann::json::object();
  save_checkpoint(path, *vae, meta, nullptr);
}

// Random 8x8 images in 10 classes.
ImageSet tiny_set(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  ImageSet set;
  set.images = torch::randint(0, 256, {n, 8, 8}, torch::kUInt8);
  set.labels = torch::arange(n, torch::kInt64).remainder(10);
  set.source = "fuzz";
  return set;
}

const Explorer& explorer() {
  static const std::unique_ptr<Explorer> world = [] {
    const std::string dir = std::filesystem::temp_directory_path().string() + "/dvae-fuzz-serve-" +
                            std::to_string(getpid());
    std::filesystem::create_directories(dir);
    save_tiny_vae(dir + "/a.pt", 3, 1);
    save_tiny_vae(dir + "/b.pt", 5, 2);
    Dataset data{"synthetic", dir, tiny_set(40, 3), tiny_set(20, 4)};
    ExplorerOptions options;
    options.probe_labels = 2;
    options.probe.epochs = 5;
    auto e = std::make_unique<Explorer>(std::vector<ServedCheckpoint>{{"a", dir + "/a.pt"}, {"b", dir + "/b.pt"}},
                                        data, options);
    std::filesystem::remove_all(dir);
    return e;
  }();
  return *world;
}

}  // namespace
}  // namespace dvae::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& endpoints = dvae::api_endpoints();
  const size_t pick = data[0] % (endpoints.size() + 1);
  const std::string name = pick < endpoints.size() ? endpoints[pick].name : "no-such-endpoint";
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  dvae::ApiLimits limits;
  limits.max_body = 64 << 10;  // the fuzzer's -max_len, so bodies over the limit are reached too
  limits.max_image_side = 64;
  const dvae::ApiReply reply = dvae::api_call(dvae::fuzz::explorer(), name, body, limits);
  const bool server_fault = reply.status >= 500 && reply.status != 503;
  const bool multi_line = reply.content_type == "application/json" && reply.body.find('\n') != std::string::npos;
  if (server_fault || multi_line || reply.status < 200 || reply.status > 599) {
    std::fprintf(stderr, "/api/%s answered %d (%s): %.400s\n", name.c_str(), reply.status,
                 reply.content_type.c_str(), reply.body.c_str());
    std::abort();
  }
  return 0;
}
