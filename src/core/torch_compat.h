// The one place that knows which LibTorch it is built against.
// dvae builds against Debian's LibTorch 1.13 and against LibTorch 2.x; every
// difference between them is absorbed here, keyed on TORCH_VERSION_MAJOR.
#pragma once

#include <torch/torch.h>
#include <torch/version.h>

#include <string>

namespace c10d {
class ProcessGroup;
class Backend;
}  // namespace c10d

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

/// The c10d class that Gloo's and NCCL's process groups derive from (and that
/// allreduce/broadcast/barrier are called on): ProcessGroup on 1.x; on 2.x the
/// backends are c10d::Backend and ProcessGroup became a dispatcher over them.
#if TORCH_VERSION_MAJOR >= 2
using C10dCollectives = ::c10d::Backend;
#else
using C10dCollectives = ::c10d::ProcessGroup;
#endif

/// True when this LibTorch build has CUDA and a device is present.
inline bool cuda_usable() { return torch::cuda::is_available(); }

}  // namespace dvae::compat
