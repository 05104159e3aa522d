// The one place that knows which LibTorch it is built against.
// dvae builds against Debian's LibTorch 1.13 and against LibTorch 2.x; every
// difference between them is absorbed here, keyed on TORCH_VERSION_MAJOR.
#pragma once

#include <torch/torch.h>
#include <torch/version.h>

#include <string>

namespace dvae::compat {

/// LibTorch's version as "major.minor.patch".
inline std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

/// Return type of torch::data::Dataset::size(): torch::optional on 1.x, std::optional on 2.x.
#if TORCH_VERSION_MAJOR >= 2
using OptionalSize = std::optional<size_t>;
#else
using OptionalSize = torch::optional<size_t>;
#endif

/// True when this LibTorch build has CUDA and a device is present.
inline bool cuda_usable() { return torch::cuda::is_available(); }

}  // namespace dvae::compat
