// Morpho-MNIST morphometrics: upscaling, binarisation, distance transform,
// medial-axis skeleton, moments and the bounding parallelogram (see the header
// for the procedure and where it follows the reference).
//
// Legend: S = scale, H,W = input size, HH = S*H, WW = S*W (112 for MNIST).
#include "data/morphometrics.h"

#include <ATen/Parallel.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <mutex>

#include "core/check.h"

namespace dvae {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point& t) {
  const Clock::time_point now = Clock::now();
  const double s = std::chrono::duration<double>(now - t).count();
  t = now;
  return s;
}

// Cubic B-spline basis beta3(x).
double bspline3(double x) {
  x = std::fabs(x);
  if (x < 1.0) return 2.0 / 3.0 - x * x + 0.5 * x * x * x;
  if (x < 2.0) return (2.0 - x) * (2.0 - x) * (2.0 - x) / 6.0;
  return 0.0;
}

// Whole-sample mirror of index k into [0, n) (scipy's "mirror": .. 2 1 | 0 1 2 .. n-1 | n-2 ..).
int mirror_index(int k, int n) {
  if (n == 1) return 0;
  const int period = 2 * n - 2;
  k %= period;
  if (k < 0) k += period;
  return k < n ? k : period - k;
}

// Half-sample reflection of index k into [0, n) (scipy's "reflect": .. 1 0 | 0 1 .. n-1 | n-1 ..).
int reflect_index(int k, int n) {
  const int period = 2 * n;
  k %= period;
  if (k < 0) k += period;
  return k < n ? k : period - 1 - k;
}

// The 1-D order-3 spline zoom of n samples by an integer factor as a matrix
// [S*n][n]: output o samples the interpolating cubic spline (mirror boundary) at
// x = (o + 0.5) / S - 0.5, like scipy.ndimage.zoom(order=3, mode="mirror",
// grid_mode=True) that skimage's resize calls.
std::vector<float> spline_zoom_matrix(int n, int scale) {
  const int m = n * scale;
  // Interpolation coefficients c = A^-1 e_i for every unit impulse e_i, where
  // A[r][k] sums beta3(r - k') over the mirror images k' of k.
  std::vector<double> a(static_cast<size_t>(n) * n, 0.0);
  for (int r = 0; r < n; ++r) {
    for (int d = -1; d <= 1; ++d) a[static_cast<size_t>(r) * n + mirror_index(r + d, n)] += bspline3(d);
  }
  std::vector<double> inv(static_cast<size_t>(n) * n, 0.0);
  for (int r = 0; r < n; ++r) inv[static_cast<size_t>(r) * n + r] = 1.0;
  for (int c = 0; c < n; ++c) {  // Gauss-Jordan; A is diagonally dominant, no pivoting needed
    const double p = a[static_cast<size_t>(c) * n + c];
    for (int k = 0; k < n; ++k) {
      a[static_cast<size_t>(c) * n + k] /= p;
      inv[static_cast<size_t>(c) * n + k] /= p;
    }
    for (int r = 0; r < n; ++r) {
      const double f = a[static_cast<size_t>(r) * n + c];
      if (r == c || f == 0.0) continue;
      for (int k = 0; k < n; ++k) {
        a[static_cast<size_t>(r) * n + k] -= f * a[static_cast<size_t>(c) * n + k];
        inv[static_cast<size_t>(r) * n + k] -= f * inv[static_cast<size_t>(c) * n + k];
      }
    }
  }
  std::vector<float> out(static_cast<size_t>(m) * n, 0.0f);
  for (int o = 0; o < m; ++o) {
    const double x = (o + 0.5) / scale - 0.5;
    const int k0 = static_cast<int>(std::floor(x));
    for (int i = 0; i < n; ++i) {
      double v = 0.0;
      for (int k = k0 - 1; k <= k0 + 2; ++k) v += inv[static_cast<size_t>(mirror_index(k, n)) * n + i] * bspline3(x - k);
      out[static_cast<size_t>(o) * n + i] = static_cast<float>(v);
    }
  }
  return out;
}

// scipy.ndimage.gaussian_filter1d's kernel: radius int(4 sigma + 0.5), normalised.
std::vector<float> gaussian_kernel(double sigma) {
  const int radius = static_cast<int>(4.0 * sigma + 0.5);
  std::vector<double> w(static_cast<size_t>(2 * radius + 1));
  double sum = 0.0;
  for (int d = -radius; d <= radius; ++d) sum += w[static_cast<size_t>(d + radius)] = std::exp(-0.5 * d * d / (sigma * sigma));
  std::vector<float> out(w.size());
  for (size_t k = 0; k < w.size(); ++k) out[k] = static_cast<float>(w[k] / sum);
  return out;
}

// The medial axis's two 512-entry tables over 3x3 neighbourhoods (bit b = pixel
// (b / 3, b % 3), bit 4 the centre): keep[] says a foreground pixel must stay
// (removing it changes the number of 8-connected components around it, or it has
// at most one neighbour); corner[] counts the background pixels (9 - popcount).
struct SkeletonTables {
  std::array<uint8_t, 512> keep{};
  std::array<uint8_t, 512> corner{};
};

// 8-connected components of the set pixels of a 3x3 pattern.
int components3x3(int index) {
  int seen = 0, count = 0;
  for (int start = 0; start < 9; ++start) {
    if (!(index >> start & 1) || (seen >> start & 1)) continue;
    ++count;
    int stack[9], top = 0;
    stack[top++] = start;
    seen |= 1 << start;
    while (top > 0) {
      const int p = stack[--top];
      for (int q = 0; q < 9; ++q) {
        if (!(index >> q & 1) || (seen >> q & 1)) continue;
        if (std::abs(q / 3 - p / 3) <= 1 && std::abs(q % 3 - p % 3) <= 1) {
          seen |= 1 << q;
          stack[top++] = q;
        }
      }
    }
  }
  return count;
}

const SkeletonTables& skeleton_tables() {
  static const SkeletonTables tables = [] {
    SkeletonTables t;
    for (int index = 0; index < 512; ++index) {
      const int pop = __builtin_popcount(static_cast<unsigned>(index));
      const bool centre = index >> 4 & 1;
      const bool changes = components3x3(index) != components3x3(index & ~16);
      t.keep[static_cast<size_t>(index)] = centre && (changes || pop < 3);
      t.corner[static_cast<size_t>(index)] = static_cast<uint8_t>(9 - pop);
    }
    return t;
  }();
  return tables;
}

// The 3x3 neighbourhood index of (r, c) in a binary image with a zero border.
inline int neighbourhood(const uint8_t* b, int stride, int r, int c) {
  const uint8_t* p = b + static_cast<ptrdiff_t>(r) * stride + c;
  return (p[-stride - 1] ? 1 : 0) | (p[-stride] ? 2 : 0) | (p[-stride + 1] ? 4 : 0) | (p[-1] ? 8 : 0) |
         (p[0] ? 16 : 0) | (p[1] ? 32 : 0) | (p[stride - 1] ? 64 : 0) | (p[stride] ? 128 : 0) |
         (p[stride + 1] ? 256 : 0);
}

// np.interp(x, xp, fp) for nondecreasing xp.
double interp(double x, const std::vector<double>& xp, const std::vector<double>& fp) {
  const size_t n = xp.size();
  if (x < xp[0]) return fp[0];
  const size_t j = static_cast<size_t>(std::upper_bound(xp.begin(), xp.end(), x) - xp.begin()) - 1;
  if (j >= n - 1) return fp[n - 1];
  return fp[j] + (x - xp[j]) * (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
}

// Everything one thread reuses from image to image.
class Measurer {
 public:
  Measurer(int rows, int cols, const MorphometricsOptions& options)
      : h_(rows), w_(cols), s_(options.scale), hh_(rows * options.scale), ww_(cols * options.scale),
        options_(options), zoom_rows_(spline_zoom_matrix(rows, options.scale)),
        zoom_cols_(spline_zoom_matrix(cols, options.scale)), gauss_(gaussian_kernel(2.0 * options.scale / 6.0)),
        tmp_(static_cast<size_t>(h_) * ww_), up_(static_cast<size_t>(hh_) * ww_), blur_(up_.size()),
        hires_(up_.size()), binary_(static_cast<size_t>(hh_ + 2) * (ww_ + 2)),
        mask_(hh_, ww_, CV_8U), dist_(hh_, ww_, CV_32F), hcdf_(static_cast<size_t>(ww_)), vcdf_(static_cast<size_t>(hh_)),
        hloc_(static_cast<size_t>(ww_)), vloc_(static_cast<size_t>(hh_)) {
    DVAE_CHECK(options.scale >= 1 && options.scale <= 16, "morphometrics: scale ", options.scale,
               ", expected an integer in [1, 16]");
    DVAE_CHECK(options.threshold > 0.0 && options.threshold < 1.0, "morphometrics: threshold ", options.threshold,
               ", expected a value in (0, 1)");
    DVAE_CHECK(options.bound_frac >= 0.0 && options.bound_frac < 1.0, "morphometrics: bound_frac ",
               options.bound_frac, ", expected a value in [0, 1)");
    for (int t = 0; t < ww_; ++t) hloc_[static_cast<size_t>(t)] = t;
    for (int t = 0; t < hh_; ++t) vloc_[static_cast<size_t>(t)] = t;
  }

  Morphometrics measure(const uint8_t* pixels, MorphometricsTimings& timings) {
    Clock::time_point t = Clock::now();
    const bool nonempty = upscale(pixels);
    timings.upscale += seconds_since(t);
    if (!nonempty) return {};
    const int64_t area_px = binarise_and_distance();
    timings.distance += seconds_since(t);
    medial_axis();
    timings.skeleton += seconds_since(t);
    Morphometrics m = measures(area_px);
    timings.measures += seconds_since(t);
    return m;
  }

 private:
  // Step 1: hires_ = trunc(255 * gauss(clip(zoom(image / 255)))); false when the image is flat.
  bool upscale(const uint8_t* pixels) {
    const auto [lo_it, hi_it] = std::minmax_element(pixels, pixels + static_cast<ptrdiff_t>(h_) * w_);
    const float lo = *lo_it / 255.0f, hi = *hi_it / 255.0f;
    if (*lo_it == *hi_it) return false;
    // Columns: tmp_[r][o] = sum_c zoom_cols[o][c] x[r][c]   [H,W] -> [H,WW]
    std::fill(tmp_.begin(), tmp_.end(), 0.0f);
    row_lo_ = h_;
    row_hi_ = -1;
    for (int r = 0; r < h_; ++r) {
      float* out = tmp_.data() + static_cast<size_t>(r) * ww_;
      for (int c = 0; c < w_; ++c) {
        const uint8_t v = pixels[r * w_ + c];
        if (v == 0) continue;
        row_lo_ = std::min(row_lo_, r);
        row_hi_ = std::max(row_hi_, r);
        const float x = v / 255.0f;
        for (int o = 0; o < ww_; ++o) out[o] += x * zoom_cols_[static_cast<size_t>(o) * w_ + c];
      }
    }
    // Rows: up_[o][:] = sum_r zoom_rows[o][r] tmp_[r][:]   [H,WW] -> [HH,WW], then clip.
    for (int o = 0; o < hh_; ++o) {
      float* out = up_.data() + static_cast<size_t>(o) * ww_;
      std::fill(out, out + ww_, 0.0f);
      for (int r = row_lo_; r <= row_hi_; ++r) {
        const float a = zoom_rows_[static_cast<size_t>(o) * h_ + r];
        const float* in = tmp_.data() + static_cast<size_t>(r) * ww_;
        for (int k = 0; k < ww_; ++k) out[k] += a * in[k];
      }
      for (int k = 0; k < ww_; ++k) out[k] = std::clamp(out[k], lo, hi);  // resize(clip=True)
    }
    if (s_ == 1) {  // the reference neither resizes nor smooths at scale 1
      for (size_t k = 0; k < up_.size(); ++k) hires_[k] = pixels[k];
      return true;
    }
    // Gaussian smoothing, half-sample reflection at the edges (skimage's mode "reflect").
    const int radius = static_cast<int>(gauss_.size() / 2);
    for (int o = 0; o < hh_; ++o) {  // along rows: blur_[o][k] = sum_d g[d] up_[o][k+d]
      const float* in = up_.data() + static_cast<size_t>(o) * ww_;
      float* out = blur_.data() + static_cast<size_t>(o) * ww_;
      for (int k = 0; k < ww_; ++k) {
        float v = 0.0f;
        if (k >= radius && k + radius < ww_) {
          for (int d = -radius; d <= radius; ++d) v += gauss_[static_cast<size_t>(d + radius)] * in[k + d];
        } else {
          for (int d = -radius; d <= radius; ++d) v += gauss_[static_cast<size_t>(d + radius)] * in[reflect_index(k + d, ww_)];
        }
        out[k] = v;
      }
    }
    std::fill(up_.begin(), up_.end(), 0.0f);
    for (int o = 0; o < hh_; ++o) {  // along columns: up_[o][:] = sum_d g[d] blur_[o+d][:]
      float* out = up_.data() + static_cast<size_t>(o) * ww_;
      for (int d = -radius; d <= radius; ++d) {
        const float g = gauss_[static_cast<size_t>(d + radius)];
        const float* in = blur_.data() + static_cast<size_t>(reflect_index(o + d, hh_)) * ww_;
        for (int k = 0; k < ww_; ++k) out[k] += g * in[k];
      }
    }
    for (size_t k = 0; k < up_.size(); ++k) {
      hires_[k] = static_cast<uint8_t>(std::clamp(255.0f * up_[k], 0.0f, 255.0f));  // truncation, as astype(uint8)
    }
    return true;
  }

  // Step 2: binary image (zero border of one pixel) and its exact Euclidean distance
  // transform; returns the number of foreground pixels.
  int64_t binarise_and_distance() {
    const auto [lo_it, hi_it] = std::minmax_element(hires_.begin(), hires_.end());
    const double threshold = *lo_it + (*hi_it - *lo_it) * options_.threshold;
    const int stride = ww_ + 2;
    std::fill(binary_.begin(), binary_.end(), 0);
    int64_t count = 0;
    for (int r = 0; r < hh_; ++r) {
      uint8_t* row = mask_.ptr<uint8_t>(r);
      for (int c = 0; c < ww_; ++c) {
        const bool on = hires_[static_cast<size_t>(r) * ww_ + c] >= threshold;
        row[c] = on ? 255 : 0;
        binary_[static_cast<size_t>(r + 1) * stride + c + 1] = on;
        count += on;
      }
    }
    cv::distanceTransform(mask_, dist_, cv::DIST_L2, cv::DIST_MASK_PRECISE, CV_32F);
    return count;
  }

  // Step 3: skimage's medial_axis. Foreground pixels are visited once, in order of
  // increasing distance, then cornerness, then raster position (the reference breaks
  // the last ties at random), and removed unless keep[] says otherwise.
  void medial_axis() {
    const SkeletonTables& tables = skeleton_tables();
    const int stride = ww_ + 2;
    order_.clear();
    for (int r = 0; r < hh_; ++r) {
      const float* d = dist_.ptr<float>(r);
      for (int c = 0; c < ww_; ++c) {
        if (!binary_[static_cast<size_t>(r + 1) * stride + c + 1]) continue;
        const uint64_t d2 = static_cast<uint64_t>(std::lround(static_cast<double>(d[c]) * d[c]));
        const uint64_t corner = tables.corner[static_cast<size_t>(neighbourhood(binary_.data(), stride, r + 1, c + 1))];
        const uint64_t pos = static_cast<uint64_t>(r) * static_cast<uint64_t>(ww_) + static_cast<uint64_t>(c);
        order_.push_back(d2 << 36 | corner << 32 | pos);
      }
    }
    std::sort(order_.begin(), order_.end());
    for (const uint64_t key : order_) {
      const int pos = static_cast<int>(key & 0xffffffffu);
      const int r = pos / ww_ + 1, c = pos % ww_ + 1;
      binary_[static_cast<size_t>(r) * stride + c] = tables.keep[static_cast<size_t>(neighbourhood(binary_.data(), stride, r, c))];
    }
  }

  // Step 4: the six measures from the skeleton (now in binary_), distances and hi-res image.
  Morphometrics measures(int64_t area_px) {
    Morphometrics m;
    const double s = s_;
    const int stride = ww_ + 2;
    m.area = static_cast<double>(area_px) / (s * s);
    // Length: per skeleton pixel, 1 for a right or lower neighbour, sqrt 2 for a lower-left or lower-right one.
    double length = 0.0, dist_sum = 0.0;
    int64_t skel_count = 0;
    for (int r = 1; r <= hh_; ++r) {
      const uint8_t* row = binary_.data() + static_cast<size_t>(r) * stride;
      for (int c = 1; c <= ww_; ++c) {
        if (!row[c]) continue;
        length += row[c + 1] + row[c + stride] + M_SQRT2 * (row[c + stride - 1] + row[c + stride + 1]);
        dist_sum += dist_.ptr<float>(r - 1)[c - 1];
        ++skel_count;
      }
    }
    m.length = length / s;
    m.thickness = skel_count > 0 ? 2.0 * dist_sum / static_cast<double>(skel_count) / s : 0.0;
    // Moments of the hi-res grey image (x = column, y = row).
    double m00 = 0, m10 = 0, m01 = 0, m20 = 0, m11 = 0, m02 = 0;
    for (int r = 0; r < hh_; ++r) {
      const uint8_t* row = hires_.data() + static_cast<size_t>(r) * ww_;
      double rs = 0, rx = 0, rxx = 0;
      for (int c = 0; c < ww_; ++c) {
        const double v = row[c];
        rs += v;
        rx += c * v;
        rxx += static_cast<double>(c) * c * v;
      }
      m00 += rs;
      m10 += rx;
      m01 += r * rs;
      m20 += rxx;
      m11 += r * rx;
      m02 += static_cast<double>(r) * r * rs;
    }
    m10 /= m00;
    m01 /= m00;
    const double u11 = m11 / m00 - m10 * m01;
    const double u02 = m02 / m00 - m01 * m01;
    const double shear = u02 > 0.0 ? u11 / u02 : 0.0;  // one row of pixels: no shear (the reference gives NaN)
    m.slant = std::atan(-shear);
    // The bounding parallelogram: mass to the left of the sheared line x + 0.5 < t + shear (y - y_mid)
    // (pixels with t >= floor(x + 0.5 - shear (y - y_mid)) + 1), and above row t.
    std::fill(hcdf_.begin(), hcdf_.end(), 0.0);
    std::fill(vcdf_.begin(), vcdf_.end(), 0.0);
    for (int r = 0; r < hh_; ++r) {
      const uint8_t* row = hires_.data() + static_cast<size_t>(r) * ww_;
      const double offset = 0.5 - shear * (r - m01);
      double rs = 0;
      for (int c = 0; c < ww_; ++c) {
        if (!row[c]) continue;
        rs += row[c];
        const double first = std::floor(c + offset) + 1.0;
        if (first < ww_) hcdf_[static_cast<size_t>(std::max(0.0, first))] += row[c];
      }
      if (r + 1 < hh_) vcdf_[static_cast<size_t>(r + 1)] += rs;
    }
    for (int t = 1; t < ww_; ++t) hcdf_[static_cast<size_t>(t)] += hcdf_[static_cast<size_t>(t - 1)];
    for (int t = 1; t < hh_; ++t) vcdf_[static_cast<size_t>(t)] += vcdf_[static_cast<size_t>(t - 1)];
    for (double& v : hcdf_) v /= m00;
    for (double& v : vcdf_) v /= m00;
    const double frac = options_.bound_frac / 2.0;
    m.width = (interp(1.0 - frac, hcdf_, hloc_) - interp(frac, hcdf_, hloc_)) / s;
    m.height = (interp(1.0 - frac, vcdf_, vloc_) - interp(frac, vcdf_, vloc_)) / s;
    return m;
  }

  int h_, w_, s_, hh_, ww_;
  MorphometricsOptions options_;
  std::vector<float> zoom_rows_;  // [HH][H]
  std::vector<float> zoom_cols_;  // [WW][W]
  std::vector<float> gauss_;      // [2 radius + 1]
  std::vector<float> tmp_;        // [H][WW]
  std::vector<float> up_;         // [HH][WW]
  std::vector<float> blur_;       // [HH][WW]
  std::vector<uint8_t> hires_;    // [HH][WW] the hi-res image
  std::vector<uint8_t> binary_;   // [HH+2][WW+2] binary image, then skeleton, zero border
  cv::Mat mask_;                  // [HH][WW] binary image for the distance transform
  cv::Mat dist_;                  // [HH][WW] float distance to the background
  std::vector<uint64_t> order_;   // foreground pixels, sort keys
  std::vector<double> hcdf_, vcdf_, hloc_, vloc_;
  int row_lo_ = 0, row_hi_ = -1;
};

}  // namespace

const std::vector<std::string>& morphometric_names() {
  static const std::vector<std::string> kNames = {"area", "length", "thickness", "slant", "width", "height"};
  return kNames;
}

Morphometrics measure_image(const uint8_t* pixels, int rows, int cols, const MorphometricsOptions& options) {
  DVAE_CHECK(rows > 0 && cols > 0, "measure_image: ", rows, "x", cols, " image, expected a positive size");
  Measurer measurer(rows, cols, options);
  MorphometricsTimings timings;
  return measurer.measure(pixels, timings);
}

torch::Tensor measure_images(const torch::Tensor& images, const MorphometricsOptions& options,
                             MorphometricsTimings* timings) {
  DVAE_CHECK(images.defined() && images.dim() == 3 && images.scalar_type() == torch::kUInt8,
             "measure_images: expected uint8 images [N,H,W], got ", images.defined() ? images.sizes() : at::IntArrayRef{});
  const torch::Tensor x = images.contiguous();
  const int64_t n = x.size(0);
  const int rows = static_cast<int>(x.size(1)), cols = static_cast<int>(x.size(2));
  torch::Tensor out = torch::zeros({n, 6}, torch::kFloat64);  // [N,6]
  if (n == 0) return out;
  const uint8_t* px = x.data_ptr<uint8_t>();
  double* po = out.data_ptr<double>();
  std::mutex timing_mutex;
  // Grain: enough images per task that each thread builds its Measurer (~50 KB) rarely.
  at::parallel_for(0, n, 256, [&](int64_t begin, int64_t end) {
    Measurer measurer(rows, cols, options);
    MorphometricsTimings local;
    for (int64_t i = begin; i < end; ++i) {
      const Morphometrics m = measurer.measure(px + i * rows * cols, local);
      double* row = po + i * 6;
      row[0] = m.area;
      row[1] = m.length;
      row[2] = m.thickness;
      row[3] = m.slant;
      row[4] = m.width;
      row[5] = m.height;
    }
    if (timings) {
      std::lock_guard<std::mutex> lock(timing_mutex);
      timings->upscale += local.upscale;
      timings->distance += local.distance;
      timings->skeleton += local.skeleton;
      timings->measures += local.measures;
    }
  });
  return out;
}

}  // namespace dvae
