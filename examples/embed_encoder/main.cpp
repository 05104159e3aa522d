// Embeds a trained dvae encoder: reads images from an IDX file (raw or .gz)
// and prints the latent means of the first N as CSV, "index,mu_0,...".
//
//   embed_encoder CHECKPOINT IMAGES_IDX [N]
#include <cstdio>
#include <exception>
#include <string>

#include "dvae.h"

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: %s CHECKPOINT IMAGES_IDX [N]\n", argv[0]);
    return 2;
  }
  try {
    const dvae::TrainedEncoder encoder(argv[1]);                  // loads and checks the checkpoint
    torch::Tensor images = dvae::read_idx_images(argv[2]);        // uint8 [N,H,W]
    const int64_t n = argc == 4 ? std::min<int64_t>(std::stoll(argv[3]), images.size(0)) : images.size(0);
    const torch::Tensor mu = encoder.encode(images.narrow(0, 0, n));  // float [n,D]
    std::printf("index");
    for (int64_t d = 0; d < encoder.latent_dim(); ++d) std::printf(",mu_%lld", static_cast<long long>(d));
    std::printf("\n");
    const auto m = mu.accessor<float, 2>();
    for (int64_t i = 0; i < n; ++i) {
      std::printf("%lld", static_cast<long long>(i));
      for (int64_t d = 0; d < m.size(1); ++d) std::printf(",%.9g", static_cast<double>(m[i][d]));
      std::printf("\n");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
