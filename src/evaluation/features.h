// Frozen-encoder features for the few-label probes. A VAE encoder is run once
// over a whole image set and its posterior mean (optionally mean and
// log-variance) becomes the feature vector of every image; the probes of every
// subset size and trial then reuse these features instead of the encoder.
#pragma once

#include <torch/torch.h>

#include "data/image_set.h"
#include "models/vae.h"

namespace dvae {

/// Features of every image of set through a frozen encoder, float [N,D] on the CPU:
/// the posterior mean mu by default (the choice this project documents: the mean is
/// the encoder's deterministic code), or [mu, logvar] concatenated, [N,2D], when
/// with_logvar. Runs under NoGrad in eval mode (restoring the encoder's mode), in
/// batches of `batch` images on the device of the encoder's parameters.
torch::Tensor extract_features(EncoderImpl& encoder, const ImageSet& set, bool with_logvar, int64_t batch = 1000);

/// The same for images held in a tensor: uint8 [N,H,W] grey levels 0..255 (as
/// ImageSet holds them), or float [N,1,H,W] in [0,1]. Throws dvae::Error on
/// another type or rank.
torch::Tensor extract_features(EncoderImpl& encoder, const torch::Tensor& images, bool with_logvar,
                               int64_t batch = 1000);

}  // namespace dvae
