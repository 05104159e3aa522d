// libFuzzer target: the IDX reader (src/data/idx.cpp), raw and gzip. The first
// byte chooses the reader (images, labels, any rank) and whether the rest is
// gzip-compressed before it is written, so that mutations of the IDX header
// also reach the reader behind the gzip layer.
#include <zlib.h>

#include <string>

#include "core/check.h"
#include "data/idx.h"
#include "fuzz_input.h"

namespace {

std::string gzip(const uint8_t* data, size_t size) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, size) + 32, '\0');
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  ++data;
  --size;
  std::string path;
  if (mode & 0x80) {
    const std::string z = gzip(data, size);
    path = dvae::fuzz::write_input("idx", reinterpret_cast<const uint8_t*>(z.data()), z.size());
  } else {
    path = dvae::fuzz::write_input("idx", data, size);
  }
  switch (mode & 0x3) {
    case 0:
      DVAE_FUZZ_EXPECTED_ERRORS(dvae::read_idx_images(path));
      break;
    case 1:
      DVAE_FUZZ_EXPECTED_ERRORS(dvae::read_idx_labels(path, 10));
      break;
    default:
      DVAE_FUZZ_EXPECTED_ERRORS(dvae::read_idx(path, 1 + (mode >> 2) % 4));
      break;
  }
  return 0;
}
