// TrainedEncoder: checkpoint in, latent codes out.
#include "evaluation/trained_encoder.h"

#include "core/check.h"
#include "evaluation/features.h"

namespace dvae {

TrainedEncoder::TrainedEncoder(const std::string& checkpoint, torch::Device device)
    : loaded_(load_vae(checkpoint, device)) {}

torch::Tensor TrainedEncoder::encode(const torch::Tensor& images, int64_t batch) const {
  return run(images, false, batch);
}

torch::Tensor TrainedEncoder::encode_with_logvar(const torch::Tensor& images, int64_t batch) const {
  return run(images, true, batch);
}

torch::Tensor TrainedEncoder::run(const torch::Tensor& images, bool with_logvar, int64_t batch) const {
  const int64_t side = image_size();
  DVAE_CHECK(images.defined(), "TrainedEncoder: undefined images tensor, expected [N,", side, ",", side, "]");
  const bool bytes = images.scalar_type() == torch::kUInt8 && images.dim() == 3;
  const bool floats = images.scalar_type() == torch::kFloat && (images.dim() == 3 || images.dim() == 4);
  DVAE_CHECK(bytes || floats, "TrainedEncoder: images of type ", c10::toString(images.scalar_type()), " and shape ",
             images.sizes(), ", expected uint8 [N,", side, ",", side, "] or float [N,1,", side, ",", side,
             "] in [0,1]");
  const bool square = images.size(-1) == side && images.size(-2) == side && (images.dim() == 3 || images.size(1) == 1);
  DVAE_CHECK(square, "TrainedEncoder: images of shape ", images.sizes(), ", expected [N,", side, ",", side,
             "] (this ", meta().arch, " encoder was trained on ", side, "x", side, " images)");
  torch::Tensor x = floats && images.dim() == 3 ? images.unsqueeze(1) : images;  // [N,H,W] -> [N,1,H,W]
  return extract_features(*loaded_.vae->encoder(), x, with_logvar, batch);
}

}  // namespace dvae
