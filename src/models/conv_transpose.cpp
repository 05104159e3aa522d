// Batched-GEMM transposed convolution on CPU and its module (see conv_transpose.h).
#include "models/conv_transpose.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <tuple>
#include <vector>

#include "core/check.h"
#include "core/cpu_dispatch.h"
#include "core/simd.h"

namespace dvae {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// Sizes of one transposed convolution, taken from the input and the weight.
struct Geometry {
  int64_t batch = 0, cin = 0, cout = 0, h = 0, w = 0, kh = 0, kw = 0, stride = 1, padding = 0, ho = 0, wo = 0;
  int64_t rows() const { return batch * h * w; }    ///< B*H*W
  int64_t cols() const { return kh * kw * cout; }   ///< kh*kw*Co, the length of one row of cols
};

Geometry geometry(at::IntArrayRef x_sizes, at::IntArrayRef w_sizes, int64_t stride, int64_t padding) {
  Geometry g;
  g.batch = x_sizes[0];
  g.cin = x_sizes[1];
  g.h = x_sizes[2];
  g.w = x_sizes[3];
  g.cout = w_sizes[1];
  g.kh = w_sizes[2];
  g.kw = w_sizes[3];
  g.stride = stride;
  g.padding = padding;
  g.ho = (g.h - 1) * stride - 2 * padding + g.kh;
  g.wo = (g.w - 1) * stride - 2 * padding + g.kw;
  return g;
}

/// Chunk size for at::parallel_for so that each task does at least ~32k elementary operations.
int64_t grain_for(int64_t work_per_item) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, work_per_item)); }

/// Output rows [begin, end) of col2im below (row = (b, oh)). Plain loops that the compiler
/// vectorises for whichever target the function that inlines them carries.
DVAE_SIMD_INLINE void col2im_rows(const float* cols, const float* bias, float* out, const Geometry& g, int64_t begin,
                                  int64_t end) {
  const int64_t row_len = g.cols();
  std::vector<float> acc(static_cast<size_t>(g.wo * g.cout));  // [Wo,Co]
  for (int64_t bo = begin; bo < end; ++bo) {
    const int64_t b = bo / g.ho;
    const int64_t oh = bo % g.ho;
    for (int64_t ow = 0; ow < g.wo; ++ow) std::copy(bias, bias + g.cout, acc.data() + ow * g.cout);
    // Kernel rows i with ih * stride - padding + i == oh, 0 <= ih < H.
    for (int64_t i = (oh + g.padding) % g.stride; i < g.kh && i <= oh + g.padding; i += g.stride) {
      const int64_t ih = (oh + g.padding - i) / g.stride;
      if (ih >= g.h) continue;
      const float* cols_row = cols + (b * g.h + ih) * g.w * row_len;
      for (int64_t ow = 0; ow < g.wo; ++ow) {
        float* a = acc.data() + ow * g.cout;
        for (int64_t j = (ow + g.padding) % g.stride; j < g.kw && j <= ow + g.padding; j += g.stride) {
          const int64_t iw = (ow + g.padding - j) / g.stride;
          if (iw >= g.w) continue;
          const float* c = cols_row + iw * row_len + (i * g.kw + j) * g.cout;
          for (int64_t co = 0; co < g.cout; ++co) a[co] += c[co];
        }
      }
    }
    float* o = out + (b * g.cout * g.ho + oh) * g.wo;  // out[b, 0, oh, 0]
    for (int64_t co = 0; co < g.cout; ++co) {
      float* orow = o + co * g.ho * g.wo;
      for (int64_t ow = 0; ow < g.wo; ++ow) orow[ow] = acc[static_cast<size_t>(ow * g.cout + co)];
    }
  }
}

void col2im_rows_scalar(const float* cols, const float* bias, float* out, const Geometry& g, int64_t begin,
                        int64_t end) {
  col2im_rows(cols, bias, out, g, begin, end);
}

DVAE_TARGET_AVX2 void col2im_rows_avx2(const float* cols, const float* bias, float* out, const Geometry& g,
                                       int64_t begin, int64_t end) {
  col2im_rows(cols, bias, out, g, begin, end);
}

DVAE_TARGET_AVX512 void col2im_rows_avx512(const float* cols, const float* bias, float* out, const Geometry& g,
                                           int64_t begin, int64_t end) {
  col2im_rows(cols, bias, out, g, begin, end);
}

/// Sums cols [B*H*W, kh*kw*Co] into out [B,Co,Ho,Wo] plus bias [Co]. Gather form: each output row
/// (b, oh) is one task that adds its contributions in a [Wo,Co] buffer, then writes it transposed.
/// The variant is kernel_path()'s (the sums are the same in every variant: one add per tap, in order).
void col2im(const float* cols, const float* bias, float* out, const Geometry& g) {
  const auto rows = kernel_path() == KernelPath::kAvx512 ? col2im_rows_avx512
                    : kernel_path() == KernelPath::kAvx2 ? col2im_rows_avx2
                                                         : col2im_rows_scalar;
  at::parallel_for(0, g.batch * g.ho, grain_for(g.wo * g.cols() / g.stride),
                   [&](int64_t begin, int64_t end) { rows(cols, bias, out, g, begin, end); });
}

/// Gathers grad_out in NHWC [B,Ho,Wo,Co] into dcols [B*H*W, kh*kw*Co] (zero where the kernel falls
/// off the output). Parallel over input rows (b, ih): each task writes its own rows of dcols. Only
/// memcpy/memset, which glibc already dispatches on the CPU: no kernel variants.
void im2col(const float* grad_nhwc, float* dcols, const Geometry& g) {
  const int64_t row_len = g.cols();
  const size_t channel_bytes = static_cast<size_t>(g.cout) * sizeof(float);
  at::parallel_for(0, g.batch * g.h, grain_for(g.w * row_len), [&](int64_t begin, int64_t end) {
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / g.h;
      const int64_t ih = bh % g.h;
      for (int64_t iw = 0; iw < g.w; ++iw) {
        float* d = dcols + (bh * g.w + iw) * row_len;
        for (int64_t i = 0; i < g.kh; ++i) {
          const int64_t oh = ih * g.stride - g.padding + i;
          for (int64_t j = 0; j < g.kw; ++j) {
            const int64_t ow = iw * g.stride - g.padding + j;
            float* dst = d + (i * g.kw + j) * g.cout;
            if (oh < 0 || oh >= g.ho || ow < 0 || ow >= g.wo) {
              std::memset(dst, 0, channel_bytes);
            } else {
              std::memcpy(dst, grad_nhwc + ((b * g.ho + oh) * g.wo + ow) * g.cout, channel_bytes);
            }
          }
        }
      }
    }
  });
}

/// The autograd Function of the GEMM path: inputs x, weight, bias (defined), stride, padding.
/// Saves the input in row layout and the reordered weight (copies made at forward time).
struct TransposedConv2dFunction : public torch::autograd::Function<TransposedConv2dFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias, int64_t stride, int64_t padding) {
    const Geometry g = geometry(x.sizes(), weight.sizes(), stride, padding);
    const auto x_rows = x.permute({0, 2, 3, 1}).contiguous().view({g.rows(), g.cin});  // [B,Ci,H,W] -> [BHW,Ci]
    const auto w_mat = weight.permute({0, 2, 3, 1}).contiguous().view({g.cin, g.cols()});  // -> [Ci,kh*kw*Co]
    const auto cols = torch::mm(x_rows, w_mat);  // [BHW,Ci] @ [Ci,kh*kw*Co] -> [BHW,kh*kw*Co]
    auto out = torch::empty({g.batch, g.cout, g.ho, g.wo}, x.options());
    const auto bias_c = bias.contiguous();
    col2im(cols.data_ptr<float>(), bias_c.data_ptr<float>(), out.data_ptr<float>(), g);  // -> [B,Co,Ho,Wo]
    ctx->saved_data["x_rows"] = x_rows;
    ctx->saved_data["w_mat"] = w_mat;
    ctx->saved_data["x_sizes"] = x.sizes().vec();
    ctx->saved_data["w_sizes"] = weight.sizes().vec();
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto x_rows = ctx->saved_data["x_rows"].toTensor();
    const auto w_mat = ctx->saved_data["w_mat"].toTensor();
    const auto w_sizes = ctx->saved_data["w_sizes"].toIntVector();
    const Geometry g = geometry(ctx->saved_data["x_sizes"].toIntVector(), w_sizes, ctx->saved_data["stride"].toInt(),
                                ctx->saved_data["padding"].toInt());
    const auto& grad = grad_outputs[0];  // [B,Co,Ho,Wo]
    const bool need_x = ctx->needs_input_grad(0);
    const bool need_w = ctx->needs_input_grad(1);
    const bool need_b = ctx->needs_input_grad(2);

    torch::Tensor dx, dw, db;
    if (need_x || need_w) {
      const auto grad_nhwc = grad.permute({0, 2, 3, 1}).contiguous();  // [B,Co,Ho,Wo] -> [B,Ho,Wo,Co]
      auto dcols = torch::empty({g.rows(), g.cols()}, grad.options());
      im2col(grad_nhwc.data_ptr<float>(), dcols.data_ptr<float>(), g);  // -> [BHW,kh*kw*Co]
      if (need_x) {
        dx = torch::mm(dcols, w_mat.t())            // [BHW,kh*kw*Co] @ [kh*kw*Co,Ci] -> [BHW,Ci]
                 .view({g.batch, g.h, g.w, g.cin})  // -> [B,H,W,Ci]
                 .permute({0, 3, 1, 2})             // -> [B,Ci,H,W]
                 .contiguous();
      }
      if (need_w) {
        dw = torch::mm(x_rows.t(), dcols)             // [Ci,BHW] @ [BHW,kh*kw*Co] -> [Ci,kh*kw*Co]
                 .view({g.cin, g.kh, g.kw, g.cout})   // -> [Ci,kh,kw,Co]
                 .permute({0, 3, 1, 2})               // -> [Ci,Co,kh,kw]
                 .contiguous();
      }
    }
    if (need_b) db = grad.sum({0, 2, 3});  // [B,Co,Ho,Wo] -> [Co]
    return {dx, dw, db, torch::Tensor(), torch::Tensor()};
  }
};

/// The autograd Function of the adjoint path: a transposed convolution is the input gradient of
/// conv2d(input [B,Co,Ho,Wo], weight [Ci,Co,kh,kw]), so LibTorch's conv2d kernels (oneDNN on CPU) do
/// the work: forward = conv2d's input gradient, dx = conv2d(grad_out), dW = conv2d's weight gradient.
struct AdjointTransposedConv2dFunction : public torch::autograd::Function<AdjointTransposedConv2dFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias, int64_t stride, int64_t padding) {
    const Geometry g = geometry(x.sizes(), weight.sizes(), stride, padding);
    const auto out_shape = torch::empty({g.batch, g.cout, g.ho, g.wo}, x.options());  // sizes only, never read
    auto out = std::get<0>(at::convolution_backward(x.contiguous(), out_shape, weight.contiguous(), c10::nullopt,
                                                    {stride, stride}, {padding, padding}, {1, 1}, false, {0, 0}, 1,
                                                    {true, false, false}));  // [B,Ci,H,W] -> [B,Co,Ho,Wo]
    out.add_(bias.view({1, g.cout, 1, 1}));
    ctx->save_for_backward({x, weight});
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const int64_t stride = ctx->saved_data["stride"].toInt();
    const int64_t padding = ctx->saved_data["padding"].toInt();
    const auto grad = grad_outputs[0].contiguous();  // [B,Co,Ho,Wo]
    torch::Tensor dx, dw, db;
    if (ctx->needs_input_grad(0)) {
      dx = torch::conv2d(grad, weight.contiguous(), {}, stride, padding);  // [B,Co,Ho,Wo] -> [B,Ci,H,W]
    }
    if (ctx->needs_input_grad(1)) {
      dw = std::get<1>(at::convolution_backward(x.contiguous(), grad, weight.contiguous(), c10::nullopt,
                                                {stride, stride}, {padding, padding}, {1, 1}, false, {0, 0}, 1,
                                                {false, true, false}));  // -> [Ci,Co,kh,kw]
    }
    if (ctx->needs_input_grad(2)) db = grad.sum({0, 2, 3});  // [B,Co,Ho,Wo] -> [Co]
    return {dx, dw, db, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

bool transposed_conv2d_fast_path(const torch::Tensor& x, const torch::Tensor& weight) {
  return x.device().is_cpu() && weight.device().is_cpu() && x.scalar_type() == torch::kFloat &&
         weight.scalar_type() == torch::kFloat && x.dim() == 4 && weight.dim() == 4 && x.size(1) == weight.size(0) &&
         x.numel() > 0 && !x.is_mkldnn() && x.layout() == torch::kStrided && weight.layout() == torch::kStrided;
}

torch::Tensor transposed_conv2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                int64_t stride, int64_t padding, TransposedConvPath path) {
  const bool bias_ok = !bias.defined() || (bias.device().is_cpu() && bias.scalar_type() == torch::kFloat &&
                                           bias.dim() == 1 && bias.size(0) == weight.size(1));
  if (path == TransposedConvPath::kLibTorch || !transposed_conv2d_fast_path(x, weight) || !bias_ok) {
    return torch::conv_transpose2d(x, weight, bias, stride, padding);
  }
  TORCH_CHECK(stride > 0 && padding >= 0, "transposed_conv2d: stride ", stride, ", padding ", padding,
              ", expected stride > 0 and padding >= 0");
  const int64_t ho = (x.size(2) - 1) * stride - 2 * padding + weight.size(2);
  const int64_t wo = (x.size(3) - 1) * stride - 2 * padding + weight.size(3);
  TORCH_CHECK(ho > 0 && wo > 0, "transposed_conv2d: output size ", ho, "x", wo, " from input ", x.sizes(),
              ", expected a positive size (lower the padding)");
  // Function::apply needs defined inputs: no bias is a zero bias that needs no gradient.
  const auto bias_or_zero = bias.defined() ? bias : torch::zeros({weight.size(1)}, weight.options());
  if (path == TransposedConvPath::kAuto) {
    path = at::hasMKLDNN() ? TransposedConvPath::kAdjoint : TransposedConvPath::kGemm;
  }
  if (path == TransposedConvPath::kAdjoint) {
    return AdjointTransposedConv2dFunction::apply(x, weight, bias_or_zero, stride, padding);
  }
  return TransposedConv2dFunction::apply(x, weight, bias_or_zero, stride, padding);
}

const char* transposed_conv_path_name(TransposedConvPath path) {
  switch (path) {
    case TransposedConvPath::kAuto: return "auto";
    case TransposedConvPath::kLibTorch: return "libtorch";
    case TransposedConvPath::kGemm: return "gemm";
    case TransposedConvPath::kAdjoint: return "adjoint";
  }
  return "?";
}

TransposedConv2dImpl::TransposedConv2dImpl(TransposedConv2dOptions options_) : options(std::move(options_)) {
  DVAE_CHECK(options.in_channels() > 0 && options.out_channels() > 0 && options.kernel_size() > 0,
             "transposed conv: channels ", options.in_channels(), "->", options.out_channels(), ", kernel ",
             options.kernel_size(), ", expected positive sizes");
  DVAE_CHECK(options.stride() > 0 && options.padding() >= 0, "transposed conv: stride ", options.stride(),
             ", padding ", options.padding(), ", expected stride > 0 and padding >= 0");
  reset();
}

void TransposedConv2dImpl::reset() {
  const int64_t k = options.kernel_size();
  weight = register_parameter("weight", torch::empty({options.in_channels(), options.out_channels(), k, k}));
  if (options.bias()) {
    bias = register_parameter("bias", torch::empty({options.out_channels()}));
  } else {
    bias = register_parameter("bias", torch::Tensor(), /*requires_grad=*/false);
  }
  reset_parameters();
}

void TransposedConv2dImpl::reset_parameters() {
  // Same draws, in the same order, as torch::nn::ConvTranspose2dImpl::reset_parameters.
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_uniform_(weight, /*a=*/std::sqrt(5.0));
  if (bias.defined()) {
    int64_t fan_in = 0;
    int64_t fan_out = 0;
    std::tie(fan_in, fan_out) = torch::nn::init::_calculate_fan_in_and_fan_out(weight);
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    torch::nn::init::uniform_(bias, -bound, bound);
  }
}

torch::Tensor TransposedConv2dImpl::forward(const torch::Tensor& x) {
  return transposed_conv2d(x, weight, bias, options.stride(), options.padding(), options.path());
}

void TransposedConv2dImpl::pretty_print(std::ostream& stream) const {
  stream << "dvae::TransposedConv2d(" << options.in_channels() << ", " << options.out_channels()
         << ", kernel_size=" << options.kernel_size() << ", stride=" << options.stride()
         << ", padding=" << options.padding() << (options.bias() ? "" : ", bias=false")
         << ", path=" << transposed_conv_path_name(options.path()) << ")";
}

}  // namespace dvae
