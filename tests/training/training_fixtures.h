// Shared helpers of the training tests: a tiny in-memory synthetic data set
// and tiny model/train options that keep every test well under a second.
#pragma once

#include <torch/torch.h>

#include <string>

#include "data/image_set.h"
#include "models/vae.h"
#include "support/fixtures.h"
#include "training/vae_trainer.h"

namespace dvae::test {

/// n_train + n_test synthetic size x size images as an in-memory Dataset.
inline Dataset tiny_dataset(uint32_t n_train = 48, uint32_t n_test = 24, uint32_t size = 12, uint64_t seed = 1) {
  auto to_set = [size](uint32_t n, uint64_t s) {
    const SyntheticSet raw = make_synthetic(n, size, size, 10, s);
    ImageSet set;
    set.images = torch::from_blob(const_cast<uint8_t*>(raw.pixels.data()), {n, size, size}, torch::kUInt8).clone();
    set.labels = torch::from_blob(const_cast<uint8_t*>(raw.labels.data()), {n}, torch::kUInt8).to(torch::kInt64);
    set.source = "synthetic";
    return set;
  };
  Dataset data;
  data.name = "synthetic";
  data.dir = "(memory)";
  data.train = to_set(n_train, seed);
  data.test = to_set(n_test, seed + 1000);
  return data;
}

/// A tiny model of arch for size x size images.
inline ModelOptions tiny_model(const std::string& arch = "mlp", int64_t size = 12) {
  ModelOptions o;
  o.arch = arch;
  o.latent_dim = 3;
  o.image_size = size;
  o.mlp_hidden = 16;
  o.cnn_fc = 16;
  return o;
}

/// A few short epochs of small batches (the last batch is partial).
inline TrainOptions tiny_train(int64_t epochs = 3) {
  TrainOptions t;
  t.beta = 2.0;
  t.epochs = epochs;
  t.batch_size = 10;
  t.seed = 7;
  return t;
}

}  // namespace dvae::test
