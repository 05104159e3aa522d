// Batch conversion and sub-setting for ImageSet.
#include "data/image_set.h"

namespace dvae {

torch::Tensor ImageSet::batch(const torch::Tensor& idx) const {
  auto x = images.index_select(0, idx);  // [B,H,W] uint8
  return x.to(torch::kFloat32).div_(255.0f).unsqueeze(1);  // [B,H,W] -> [B,1,H,W]
}

torch::Tensor ImageSet::batch_labels(const torch::Tensor& idx) const { return labels.index_select(0, idx); }

ImageSet ImageSet::subset(const torch::Tensor& idx) const {
  ImageSet out;
  out.images = images.index_select(0, idx);
  out.labels = labels.index_select(0, idx);
  out.num_classes = num_classes;
  out.source = source;
  out.factor_names = factor_names;
  if (factors.defined()) out.factors = factors.index_select(0, idx);
  return out;
}

}  // namespace dvae
