// mnist-affine: the seeded transformation of MNIST digits by known factors, the
// registered data set and its interventional generator (see the header).
//
// Legend: S = image size (28), U = 4 S (the upscaled working size, 112), N = images.
#include "data/mnist_affine.h"

#include <ATen/Parallel.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <tuple>

#include "core/atomic_file.h"
#include "core/check.h"
#include "data/datasets.h"

namespace dvae {
namespace {

constexpr int kAffineUpscale = 4;  // working resolution = 4 x the image size
constexpr double kPi = 3.14159265358979323846;

// OpenCV's own threads would compete with the images rendered in parallel.
void opencv_one_thread_per_call() {
  static const bool once = [] {
    cv::setNumThreads(1);
    return true;
  }();
  (void)once;
}

// The buffers one thread reuses from image to image.
class AffineRenderer {
 public:
  explicit AffineRenderer(int size)
      : s_(size), u_(size * kAffineUpscale), src_(s_, s_, CV_32F), up_(u_, u_, CV_32F), inside_(u_, u_, CV_8U),
        outside_(u_, u_, CV_8U), dist_in_(u_, u_, CV_32F), dist_out_(u_, u_, CV_32F), stroke_(u_, u_, CV_32F),
        warped_(u_, u_, CV_32F), down_(s_, s_, CV_32F) {}

  void render(const uint8_t* in, uint8_t* out, const AffineFactors& f) {
    for (int r = 0; r < s_; ++r) {
      float* row = src_.ptr<float>(r);
      for (int c = 0; c < s_; ++c) row[c] = in[r * s_ + c] / 255.0f;
    }
    cv::resize(src_, up_, up_.size(), 0, 0, cv::INTER_CUBIC);  // [S,S] -> [U,U]
    thicken(f.thickness * kAffineUpscale);
    cv::warpAffine(stroke_, warped_, forward_matrix(f), warped_.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0.0);
    cv::resize(warped_, down_, down_.size(), 0, 0, cv::INTER_AREA);  // [U,U] -> [S,S]
    for (int r = 0; r < s_; ++r) {
      const float* row = down_.ptr<float>(r);
      for (int c = 0; c < s_; ++c) {
        out[r * s_ + c] = static_cast<uint8_t>(std::lround(std::clamp(row[c], 0.0f, 1.0f) * 255.0f));
      }
    }
  }

 private:
  // stroke_ = the binarised stroke (up_ >= 0.5) with its edge moved outwards by
  // delta working pixels along the signed distance d (< 0 inside), drawn with a
  // soft edge two working pixels wide: clamp(0.5 + (delta - d) / 2, 0, 1).
  void thicken(double delta) {
    cv::compare(up_, 0.5, inside_, cv::CMP_GE);
    cv::bitwise_not(inside_, outside_);
    cv::distanceTransform(inside_, dist_in_, cv::DIST_L2, cv::DIST_MASK_PRECISE, CV_32F);
    cv::distanceTransform(outside_, dist_out_, cv::DIST_L2, cv::DIST_MASK_PRECISE, CV_32F);
    for (int r = 0; r < u_; ++r) {
      const uint8_t* on = inside_.ptr<uint8_t>(r);
      const float* di = dist_in_.ptr<float>(r);
      const float* dout = dist_out_.ptr<float>(r);
      float* o = stroke_.ptr<float>(r);
      for (int c = 0; c < u_; ++c) {
        // The edge lies half a pixel beyond the last foreground pixel.
        const double d = on[c] ? 0.5 - di[c] : dout[c] - 0.5;
        o[c] = static_cast<float>(std::clamp(0.5 + (delta - d) / 2.0, 0.0, 1.0));
      }
    }
  }

  // x' = T(tx,ty) R(rotation) Sh(shear) S(scale) (x - centre) + centre, in working pixels.
  cv::Mat forward_matrix(const AffineFactors& f) const {
    const double centre = (u_ - 1) / 2.0;
    const double th = f.rotation * kPi / 180.0, cs = std::cos(th), sn = std::sin(th);
    // With y pointing down, a counter-clockwise turn on screen is [[c, s], [-s, c]];
    // the shear moves the top (y < centre) to the right: x' = x - shear y.
    const double sh[2][2] = {{f.scale, -f.shear * f.scale}, {0.0, f.scale}};
    const double rot[2][2] = {{cs, sn}, {-sn, cs}};
    double l[2][2];
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 2; ++j) l[i][j] = rot[i][0] * sh[0][j] + rot[i][1] * sh[1][j];
    }
    const double tx = f.tx * kAffineUpscale, ty = f.ty * kAffineUpscale;
    cv::Mat m(2, 3, CV_64F);
    m.at<double>(0, 0) = l[0][0];
    m.at<double>(0, 1) = l[0][1];
    m.at<double>(0, 2) = centre + tx - l[0][0] * centre - l[0][1] * centre;
    m.at<double>(1, 0) = l[1][0];
    m.at<double>(1, 1) = l[1][1];
    m.at<double>(1, 2) = centre + ty - l[1][0] * centre - l[1][1] * centre;
    return m;
  }

  int s_, u_;
  cv::Mat src_, up_, inside_, outside_, dist_in_, dist_out_, stroke_, warped_, down_;
};

// One factor vector drawn in mnist_affine_ranges() order.
void draw_affine_row(Rng& rng, double* row) {
  const std::vector<FactorRange>& ranges = mnist_affine_ranges();
  for (size_t k = 0; k < ranges.size(); ++k) row[k] = ranges[k].lo + (ranges[k].hi - ranges[k].lo) * rng.uniform();
}

// Renders images[idx[i]] with factor row i into out[i], in parallel.
void render_rows(const uint8_t* images, int size, const std::vector<int64_t>& idx, const double* factors,
                 int64_t stride, uint8_t* out) {
  opencv_one_thread_per_call();
  const int64_t n = static_cast<int64_t>(idx.size());
  const int64_t pixels = static_cast<int64_t>(size) * size;
  at::parallel_for(0, n, 64, [&](int64_t begin, int64_t end) {
    AffineRenderer renderer(size);
    for (int64_t i = begin; i < end; ++i) {
      renderer.render(images + idx[static_cast<size_t>(i)] * pixels, out + i * pixels,
                      affine_factors_from(factors + i * stride));
    }
  });
}

// The interventional generator: the six affine factors plus the digit class.
class MnistAffineSource : public FactorSource {
 public:
  explicit MnistAffineSource(ImageSet base) : base_(std::move(base)) {
    base_.images = base_.images.contiguous();
    by_class_.resize(10);
    const torch::Tensor labels = base_.labels.to(torch::kInt64).contiguous();
    const int64_t* l = labels.data_ptr<int64_t>();
    for (int64_t i = 0; i < labels.numel(); ++i) {
      DVAE_CHECK(l[i] >= 0 && l[i] < 10, base_.source, ": label ", l[i], " at index ", i, ", expected 0..9");
      by_class_[static_cast<size_t>(l[i])].push_back(i);
    }
    for (size_t d = 0; d < by_class_.size(); ++d) {
      DVAE_CHECK(!by_class_[d].empty(), base_.source, ": no image of digit ", d, ", expected every digit 0..9");
    }
  }

  std::vector<FactorRange> factor_ranges() const override {
    std::vector<FactorRange> ranges = mnist_affine_ranges();
    ranges.push_back({"digit", 0.0, 9.0, true, "class"});
    return ranges;
  }

  int64_t image_size() const override { return base_.rows(); }

  torch::Tensor render(const torch::Tensor& factors, Rng& rng) const override {
    const int64_t f = static_cast<int64_t>(mnist_affine_ranges().size()) + 1;
    DVAE_CHECK(factors.defined() && factors.dim() == 2 && factors.size(1) == f, "mnist-affine render: factors ",
               factors.defined() ? factors.sizes() : at::IntArrayRef{}, ", expected [n,", f, "]");
    const torch::Tensor fac = factors.to(torch::kFloat64).contiguous();
    const int64_t n = fac.size(0);
    const double* p = fac.data_ptr<double>();
    std::vector<int64_t> idx(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {  // the source images, drawn in order so that rng's state decides them
      const double digit = p[i * f + f - 1];
      DVAE_CHECK(digit >= 0 && digit <= 9 && digit == std::floor(digit), "mnist-affine render: digit ", digit,
                 " in row ", i, ", expected an integer in 0..9");
      const std::vector<int64_t>& pool = by_class_[static_cast<size_t>(digit)];
      idx[static_cast<size_t>(i)] = pool[static_cast<size_t>(rng.below(pool.size()))];
    }
    const int size = static_cast<int>(base_.rows());
    torch::Tensor bytes = torch::empty({n, size, size}, torch::kUInt8);  // [n,S,S]
    render_rows(base_.images.data_ptr<uint8_t>(), size, idx, p, f, bytes.data_ptr<uint8_t>());
    return bytes.to(torch::kFloat32).div_(255.0f).unsqueeze(1);  // [n,S,S] -> [n,1,S,S]
  }

 private:
  ImageSet base_;
  std::vector<std::vector<int64_t>> by_class_;  // image indices of each digit
};

}  // namespace

const std::vector<FactorRange>& mnist_affine_ranges() {
  static const std::vector<FactorRange> kRanges = {
      {"rotation", -40.0, 40.0, false, "degrees"}, {"scale", 0.8, 1.15, false, ""},
      {"shear", -0.3, 0.3, false, ""},             {"tx", -3.0, 3.0, false, "px"},
      {"ty", -3.0, 3.0, false, "px"},              {"thickening", -0.4, 1.0, false, "px"},
  };
  return kRanges;
}

AffineFactors affine_factors_from(const double* row) {
  AffineFactors f;
  f.rotation = row[0];
  f.scale = row[1];
  f.shear = row[2];
  f.tx = row[3];
  f.ty = row[4];
  f.thickness = row[5];
  return f;
}

void transform_digit(const uint8_t* in, uint8_t* out, int size, const AffineFactors& f) {
  DVAE_CHECK(size >= 2, "transform_digit: image size ", size, ", expected >= 2");
  opencv_one_thread_per_call();
  AffineRenderer renderer(size);
  renderer.render(in, out, f);
}

ImageSet make_affine_factors(const ImageSet& base, uint64_t seed, uint64_t stream) {
  const int64_t n = base.size();
  const int64_t f = static_cast<int64_t>(mnist_affine_ranges().size());
  ImageSet out;
  out.num_classes = base.num_classes;
  out.labels = base.labels.clone();
  out.source = base.source;
  for (const FactorRange& r : mnist_affine_ranges()) out.factor_names.push_back(r.name);
  out.factors = torch::empty({n, f}, torch::kFloat64);  // [N,6]
  double* p = out.factors.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i) {
    Rng rng(derive_seed(seed, {stream, static_cast<uint64_t>(i)}));
    draw_affine_row(rng, p + i * f);
  }
  return out;
}

ImageSet make_affine_set(const ImageSet& base, uint64_t seed, uint64_t stream) {
  DVAE_CHECK(base.size() == 0 || base.rows() == base.cols(), base.source, ": ", base.rows(), "x", base.cols(),
             " images, expected square images");
  const int64_t n = base.size();
  const int64_t f = static_cast<int64_t>(mnist_affine_ranges().size());
  ImageSet out = make_affine_factors(base, seed, stream);
  if (n == 0) {
    out.images = base.images.clone();
    return out;
  }
  const double* p = out.factors.data_ptr<double>();
  const torch::Tensor images = base.images.contiguous();
  const int size = static_cast<int>(base.rows());
  out.images = torch::empty({n, size, size}, torch::kUInt8);  // [N,S,S]
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) idx[static_cast<size_t>(i)] = i;
  render_rows(images.data_ptr<uint8_t>(), size, idx, p, f, out.images.data_ptr<uint8_t>());
  return out;
}

std::string mnist_affine_cache_file(const std::string& data_root, const std::string& mnist_fingerprint) {
  return data_root + "/.cache/mnist-affine-" + mnist_fingerprint.substr(0, 16) + "-seed" +
         std::to_string(kMnistAffineSeed) + "-v" + std::to_string(kMnistAffineVersion) + ".bin";
}

namespace {

// The cache file: one header line, then the train and the test images' bytes.
std::string affine_cache_header(const Dataset& d) {
  return "dvae mnist-affine v" + std::to_string(kMnistAffineVersion) + " " + std::to_string(d.train.size()) + " " +
         std::to_string(d.test.size()) + " " + std::to_string(d.train.rows()) + "\n";
}

// Fills out's images from the cache file when it holds exactly what mnist would give; false otherwise.
bool read_affine_cache(const std::string& path, const Dataset& mnist, Dataset& out) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return false;
  const std::string bytes = read_file(path);
  const std::string header = affine_cache_header(mnist);
  const size_t train_bytes = static_cast<size_t>(mnist.train.images.numel());
  const size_t test_bytes = static_cast<size_t>(mnist.test.images.numel());
  if (bytes.size() != header.size() + train_bytes + test_bytes || bytes.compare(0, header.size(), header) != 0) {
    return false;
  }
  out.train.images = torch::empty_like(mnist.train.images);
  out.test.images = torch::empty_like(mnist.test.images);
  std::memcpy(out.train.images.data_ptr<uint8_t>(), bytes.data() + header.size(), train_bytes);
  std::memcpy(out.test.images.data_ptr<uint8_t>(), bytes.data() + header.size() + train_bytes, test_bytes);
  return true;
}

}  // namespace

Dataset load_mnist_affine(const std::string& data_root) {
  const Dataset mnist = load_dataset("mnist", data_root);
  Dataset out;
  out.name = "mnist-affine";
  out.dir = mnist.dir;
  // The factors are redrawn (fast); the images come from the cache when it matches.
  const std::string cache = mnist_affine_cache_file(data_root, dataset_fingerprint(mnist));
  Dataset cached;
  if (read_affine_cache(cache, mnist, cached)) {
    for (auto [split, base, stream] : {std::tuple<ImageSet*, const ImageSet*, uint64_t>{&out.train, &mnist.train, 0},
                                       {&out.test, &mnist.test, 1}}) {
      *split = make_affine_factors(*base, kMnistAffineSeed, stream);
      split->images = (stream == 0 ? cached.train : cached.test).images;
    }
  } else {
    out.train = make_affine_set(mnist.train, kMnistAffineSeed, 0);
    out.test = make_affine_set(mnist.test, kMnistAffineSeed, 1);
    try {
      std::filesystem::create_directories(std::filesystem::path(cache).parent_path());
      std::string bytes = affine_cache_header(mnist);
      bytes.append(reinterpret_cast<const char*>(out.train.images.data_ptr<uint8_t>()),
                   static_cast<size_t>(out.train.images.numel()));
      bytes.append(reinterpret_cast<const char*>(out.test.images.data_ptr<uint8_t>()),
                   static_cast<size_t>(out.test.images.numel()));
      write_file_atomic(cache, bytes);
    } catch (const std::exception&) {
      // A read-only data root: the data set is still complete, only the next load regenerates it.
    }
  }
  out.train.source = "mnist-affine/train";
  out.test.source = "mnist-affine/test";
  return out;
}

std::unique_ptr<FactorSource> make_mnist_affine_source(const std::string& data_root, const std::string& split) {
  DVAE_CHECK_USAGE(split == "train" || split == "test", "split '", split, "', expected train or test");
  Dataset mnist = load_dataset("mnist", data_root);
  return std::make_unique<MnistAffineSource>(split == "train" ? std::move(mnist.train) : std::move(mnist.test));
}

}  // namespace dvae
