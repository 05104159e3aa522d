// Shared by the model tests: the number of trainable scalars of a module.
#pragma once

#include <torch/torch.h>

namespace dvae::test {

/// Sum of numel() over m's parameters.
inline int64_t count_params(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace dvae::test
