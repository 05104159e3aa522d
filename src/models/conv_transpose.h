// A 2-D transposed convolution that is fast on CPU: a drop-in for
// torch::nn::ConvTranspose2d (same parameter names, shapes and default
// initialisation, so checkpoints and exported models are interchangeable).
//
// Why: LibTorch 1.13 runs ConvTranspose2d on CPU through slow_conv_transpose2d,
// one small im2col GEMM per sample (~95 ms forward+backward for the CNN
// decoder's 128->64 layer at batch 100 on 2 cores). Two faster paths:
//  - kAdjoint (default where LibTorch has oneDNN): a transposed convolution is
//    the input gradient of conv2d with the same weight, so forward is
//    at::convolution_backward's input gradient, dx = conv2d(grad_out, W) and
//    dW = conv2d's weight gradient: oneDNN's convolution kernels do all of it.
//  - kGemm (no oneDNN): the whole batch as one GEMM per pass, with the weight
//    reordered to Wr[Ci, kh*kw*Co] so that each row of cols holds contiguous
//    Co-vectors, one per kernel tap:
//      forward   cols[B*H*W, kh*kw*Co] = x_rows[B*H*W, Ci] @ Wr, col2im (gather) + bias
//      backward  dcols = im2col(grad_out) in the same row layout,
//                dx_rows = dcols @ Wr^T, dWr = x_rows^T @ dcols, db = sum of grad_out over (B,Ho,Wo)
//    with hand-written im2col/col2im loops parallelised with at::parallel_for
//    (col2im in the AVX-512, AVX2 or portable variant kernel_path() names).
// Both are taken for 4-D CPU float32 input only; any other device or dtype
// (CUDA included) goes to torch::conv_transpose2d (cuDNN, oneDNN, ...).
// Not supported: output_padding, dilation, groups, and double backward (the
// gradients computed by the fast paths carry no graph of their own).
//
// Tensor legend: B batch, Ci/Co input/output channels, H,W input size,
// Ho = (H-1)*stride - 2*padding + kh (same for Wo), kh,kw kernel size.
#pragma once

#include <torch/torch.h>

#include <ostream>

namespace dvae {

/// How transposed_conv2d computes on CPU float32 (other devices and dtypes always use LibTorch's).
enum class TransposedConvPath {
  kAuto,      ///< kAdjoint when LibTorch has oneDNN, kGemm otherwise
  kLibTorch,  ///< torch::conv_transpose2d (on 1.13's CPU: the per-sample slow_conv_transpose2d)
  kGemm,      ///< one batched GEMM per pass with hand-written col2im/im2col
  kAdjoint,   ///< as the adjoint of conv2d, through LibTorch's convolution kernels (oneDNN)
};

/// "auto", "libtorch", "gemm" or "adjoint".
const char* transposed_conv_path_name(TransposedConvPath path);

/// Options of TransposedConv2d (a square kernel, one stride and one padding for both axes).
struct TransposedConv2dOptions {
  /// Channels in and out and the kernel side.
  TransposedConv2dOptions(int64_t in_channels, int64_t out_channels, int64_t kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  TORCH_ARG(int64_t, in_channels);   ///< Ci
  TORCH_ARG(int64_t, out_channels);  ///< Co
  TORCH_ARG(int64_t, kernel_size);   ///< kh = kw
  TORCH_ARG(int64_t, stride) = 1;    ///< stride along both axes (default 1)
  TORCH_ARG(int64_t, padding) = 0;   ///< implicit padding removed from both sides (default 0)
  TORCH_ARG(bool, bias) = true;      ///< learn an additive per-channel bias (default true)
  TORCH_ARG(TransposedConvPath, path) = TransposedConvPath::kAuto;  ///< CPU float32 kernel (default kAuto)
};

/// Transposed convolution [B,Ci,H,W] -> [B,Co,Ho,Wo] through path on CPU float32,
/// torch::conv_transpose2d otherwise. bias may be undefined. weight is [Ci,Co,kh,kw].
torch::Tensor transposed_conv2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                int64_t stride, int64_t padding, TransposedConvPath path = TransposedConvPath::kAuto);

/// True when transposed_conv2d may take a fast path (kGemm, kAdjoint) for these tensors.
bool transposed_conv2d_fast_path(const torch::Tensor& x, const torch::Tensor& weight);

/// ConvTranspose2d with parameters "weight" [Ci,Co,k,k] and "bias" [Co] initialised like LibTorch's.
class TransposedConv2dImpl : public torch::nn::Cloneable<TransposedConv2dImpl> {
 public:
  /// Creates and initialises the parameters; throws dvae::Error for non-positive sizes.
  explicit TransposedConv2dImpl(TransposedConv2dOptions options);
  /// Re-creates the parameters (used by the constructor and clone()).
  void reset() override;
  /// Re-draws the parameters exactly as torch::nn::ConvTranspose2d does.
  void reset_parameters();
  /// [B,Ci,H,W] -> [B,Co,Ho,Wo].
  torch::Tensor forward(const torch::Tensor& x);
  /// Prints like torch::nn::ConvTranspose2d.
  void pretty_print(std::ostream& stream) const override;

  TransposedConv2dOptions options;  ///< the options it was built with
  torch::Tensor weight;             ///< [Ci,Co,k,k]
  torch::Tensor bias;               ///< [Co], undefined without bias
};

TORCH_MODULE(TransposedConv2d);

}  // namespace dvae
