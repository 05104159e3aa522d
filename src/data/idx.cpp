// IDX reading: file checks, a raw and a gzip byte source behind one interface,
// header validation against the file size, and the payload read straight into
// a uint8 tensor.
#include "data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>

#include "core/check.h"

namespace dvae {
namespace fs = std::filesystem;

namespace {

// Deflate cannot expand data by more than about 1032:1, so a gzip file of c
// bytes never decompresses to more than this many bytes.
uint64_t gzip_output_bound(uint64_t compressed_bytes) { return compressed_bytes * 1032 + 1024; }

// A sequential source of decompressed bytes.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Fills out with up to n bytes; returns fewer only at the end of the data.
  virtual size_t read(uint8_t* out, size_t n) = 0;
};

class RawSource : public ByteSource {
 public:
  RawSource(const std::string& path) : path_(path), in_(path, std::ios::binary) {
    DVAE_CHECK(in_, path, ": cannot open for reading: ", std::strerror(errno));
  }
  size_t read(uint8_t* out, size_t n) override {
    in_.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(n));
    DVAE_CHECK(!in_.bad(), path_, ": read error: ", std::strerror(errno));
    return static_cast<size_t>(in_.gcount());
  }

 private:
  std::string path_;
  std::ifstream in_;
};

// Inflates an in-memory gzip file (one or more members) incrementally, so the
// caller decides how much output it is willing to receive.
class GzipSource : public ByteSource {
 public:
  GzipSource(const std::string& path, std::string compressed) : path_(path), compressed_(std::move(compressed)) {
    std::memset(&strm_, 0, sizeof(strm_));
    DVAE_CHECK(inflateInit2(&strm_, 16 + MAX_WBITS) == Z_OK, path_, ": cannot initialise zlib");
    strm_.next_in = reinterpret_cast<Bytef*>(compressed_.data());
    strm_.avail_in = static_cast<uInt>(compressed_.size());
  }
  ~GzipSource() override { inflateEnd(&strm_); }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  size_t read(uint8_t* out, size_t n) override {
    size_t produced = 0;
    while (produced < n) {
      if (stream_end_) {
        if (strm_.avail_in == 0) break;  // clean end of the last member
        // Another gzip member may follow; anything else is garbage.
        DVAE_CHECK(strm_.avail_in >= 2 && strm_.next_in[0] == 0x1f && strm_.next_in[1] == 0x8b, path_, ": ",
                   strm_.avail_in, " bytes of non-gzip data after the compressed stream, expected end of file");
        DVAE_CHECK(inflateReset(&strm_) == Z_OK, path_, ": cannot reset zlib");
        stream_end_ = false;
      }
      DVAE_CHECK(strm_.avail_in > 0, path_,
                 ": corrupt gzip: the compressed stream ends early (truncated .gz file), expected a complete gzip file");
      const size_t chunk = std::min<size_t>(n - produced, std::numeric_limits<uInt>::max());
      strm_.next_out = out + produced;
      strm_.avail_out = static_cast<uInt>(chunk);
      const int rc = inflate(&strm_, Z_NO_FLUSH);
      produced += chunk - strm_.avail_out;
      if (rc == Z_STREAM_END) {
        stream_end_ = true;
      } else if (rc != Z_OK) {
        DVAE_CHECK(!(rc == Z_BUF_ERROR && strm_.avail_in == 0), path_,
                   ": corrupt gzip: the compressed stream ends early (truncated .gz file), expected a complete gzip file");
        DVAE_CHECK(false, path_, ": corrupt gzip data (zlib: ", strm_.msg ? strm_.msg : zError(rc),
                   "), expected a valid .gz file");
      }
    }
    return produced;
  }

 private:
  std::string path_;
  std::string compressed_;
  z_stream strm_;
  bool stream_end_ = false;
};

// Checks that path is a non-empty regular file and returns its size.
uint64_t checked_file_size(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  DVAE_CHECK(!ec && fs::exists(st), path, ": file not found, expected an IDX file");
  DVAE_CHECK(!fs::is_directory(st), path, ": is a directory, expected an IDX file");
  DVAE_CHECK(fs::is_regular_file(st), path, ": is not a regular file, expected an IDX file");
  const uint64_t size = fs::file_size(path, ec);
  DVAE_CHECK(!ec, path, ": cannot read the file size: ", ec.message());
  DVAE_CHECK(size > 0, path, ": file is empty, expected an IDX header");
  return size;
}

bool starts_with_gzip_magic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  DVAE_CHECK(in, path, ": cannot open for reading: ", std::strerror(errno));
  unsigned char magic[2] = {0, 0};
  in.read(reinterpret_cast<char*>(magic), 2);
  return in.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

std::string hex_byte(uint8_t b) {
  static const char* kHex = "0123456789abcdef";
  return std::string("0x") + kHex[b >> 4] + kHex[b & 15];
}

std::string dims_string(const std::vector<int64_t>& dims) {
  std::ostringstream out;
  for (size_t i = 0; i < dims.size(); ++i) out << (i ? "x" : "") << dims[i];
  return out.str();
}

const char* type_name(uint8_t type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0b: return "short";
    case 0x0c: return "int";
    case 0x0d: return "float";
    case 0x0e: return "double";
    default: return "unknown";
  }
}

const char* rank_name(int ndims) { return ndims == 1 ? " (idx1 labels)" : ndims == 3 ? " (idx3 images)" : ""; }

}  // namespace

IdxArray read_idx(const std::string& path, int expected_ndims) {
  const uint64_t file_size = checked_file_size(path);
  const bool gzip = starts_with_gzip_magic(path);
  std::unique_ptr<ByteSource> source;
  if (gzip) {
    DVAE_CHECK(file_size <= kMaxIdxPayloadBytes, path, ": gzip file of ", file_size,
               " bytes, expected at most ", kMaxIdxPayloadBytes, " bytes for an IDX file");
    std::string compressed(static_cast<size_t>(file_size), '\0');
    std::ifstream in(path, std::ios::binary);
    DVAE_CHECK(in, path, ": cannot open for reading: ", std::strerror(errno));
    in.read(compressed.data(), static_cast<std::streamsize>(file_size));
    DVAE_CHECK(static_cast<uint64_t>(in.gcount()) == file_size, path, ": read ", in.gcount(), " of ", file_size,
               " bytes (file changed while reading?)");
    source = std::make_unique<GzipSource>(path, std::move(compressed));
  } else {
    source = std::make_unique<RawSource>(path);
  }
  const char* what = gzip ? " after decompression" : "";

  // Magic: two zero bytes, the data type, the number of dimensions.
  uint8_t magic[4] = {0, 0, 0, 0};
  const size_t got_magic = source->read(magic, 4);
  DVAE_CHECK(got_magic == 4, path, ": ", got_magic, " bytes", what, ", shorter than the 4-byte IDX magic, expected an IDX file");
  DVAE_CHECK(magic[0] == 0 && magic[1] == 0, path, ": bad magic bytes ", hex_byte(magic[0]), " ", hex_byte(magic[1]),
             ", expected 0x00 0x00 (not an IDX file)");
  DVAE_CHECK(magic[2] == 0x08, path, ": data type ", hex_byte(magic[2]), " (", type_name(magic[2]),
             "), expected 0x08 (unsigned byte)");
  DVAE_CHECK(magic[3] == expected_ndims, path, ": ", static_cast<int>(magic[3]), " dimensions, expected ",
             expected_ndims, rank_name(expected_ndims));

  // Dimensions: big-endian uint32 each.
  const uint64_t header_bytes = 4 + 4 * static_cast<uint64_t>(expected_ndims);
  std::vector<uint8_t> raw_dims(4 * static_cast<size_t>(expected_ndims));
  const size_t got_dims = source->read(raw_dims.data(), raw_dims.size());
  DVAE_CHECK(got_dims == raw_dims.size(), path, ": header truncated (", 4 + got_dims, " bytes", what,
             "), expected a ", header_bytes, "-byte header");
  IdxArray out;
  uint64_t payload = 1;
  bool overflow = false;
  for (int i = 0; i < expected_ndims; ++i) {
    const uint8_t* p = raw_dims.data() + 4 * i;
    const uint64_t d = (uint64_t{p[0]} << 24) | (uint64_t{p[1]} << 16) | (uint64_t{p[2]} << 8) | uint64_t{p[3]};
    out.dims.push_back(static_cast<int64_t>(d));
    overflow = overflow || __builtin_mul_overflow(payload, d, &payload);
  }
  for (int i = 0; i < expected_ndims; ++i) {
    DVAE_CHECK(out.dims[i] > 0, path, ": dimension ", i, " of ", dims_string(out.dims), " is 0, expected at least 1");
  }

  // Sizes against the file before allocating anything.
  if (gzip) {
    const uint64_t bound = std::min(kMaxIdxPayloadBytes, gzip_output_bound(file_size));
    DVAE_CHECK(!overflow && payload <= bound, path, ": header dimensions ", dims_string(out.dims), " need ",
               overflow ? std::string("more than 2^64") : std::to_string(payload), " bytes, more than a ", file_size,
               "-byte gzip file can hold (at most ", bound, "), expected dimensions that match the data");
  } else {
    DVAE_CHECK(!overflow && payload <= kMaxIdxPayloadBytes, path, ": header dimensions ", dims_string(out.dims),
               " need ", overflow ? std::string("more than 2^64") : std::to_string(payload), " bytes, but the file has ",
               file_size, " bytes, expected dimensions that match the file size");
    const uint64_t expected_size = header_bytes + payload;
    DVAE_CHECK(file_size >= expected_size, path, ": truncated: header ", dims_string(out.dims), " needs ",
               expected_size, " bytes, the file has ", file_size);
    DVAE_CHECK(file_size <= expected_size, path, ": ", file_size - expected_size,
               " trailing bytes: header ", dims_string(out.dims), " needs ", expected_size, " bytes, the file has ",
               file_size);
  }

  out.data = torch::empty(out.dims, torch::kUInt8);  // shape = header dims
  const size_t got = source->read(out.data.data_ptr<uint8_t>(), static_cast<size_t>(payload));
  DVAE_CHECK(got == payload, path, ": truncated: header ", dims_string(out.dims), " needs ", payload,
             " data bytes", what, ", found ", got);
  uint8_t extra[64];
  const size_t trailing = source->read(extra, sizeof(extra));
  DVAE_CHECK(trailing == 0, path, ": trailing bytes", what, " after the ", payload, " data bytes of ",
             dims_string(out.dims), ", expected the data to end there");
  return out;
}

torch::Tensor read_idx_images(const std::string& path) { return read_idx(path, 3).data; }

torch::Tensor read_idx_labels(const std::string& path, int64_t num_classes) {
  torch::Tensor bytes = read_idx(path, 1).data;  // uint8 [N]
  const uint8_t* p = bytes.data_ptr<uint8_t>();
  const int64_t n = bytes.size(0);
  for (int64_t i = 0; i < n; ++i) {
    DVAE_CHECK(p[i] < num_classes, path, ": label ", static_cast<int>(p[i]), " at index ", i, ", expected < ",
               num_classes);
  }
  return bytes.to(torch::kInt64);  // uint8 [N] -> int64 [N]
}

ImageSet read_idx_pair(const std::string& images_path, const std::string& labels_path, int64_t num_classes) {
  ImageSet set;
  set.images = read_idx_images(images_path);
  set.labels = read_idx_labels(labels_path, num_classes);
  DVAE_CHECK(set.images.size(0) == set.labels.size(0), images_path, " and ", labels_path, ": ", set.images.size(0),
             " images but ", set.labels.size(0), " labels, expected equal counts");
  set.num_classes = num_classes;
  set.source = images_path;
  return set;
}

}  // namespace dvae
