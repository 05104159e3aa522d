// Zip archive checks: end of central directory (and its ZIP64 form), every
// central entry against its local header, sizes and CRC-32 (zlib's crc32 and
// raw inflate). Format: PKWARE APPNOTE.TXT 6.3, sections 4.3.7-4.3.16.
#include "core/zip_check.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/check.h"

namespace dvae {
namespace {

constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr uint32_t kZip64End = 0x06064b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr size_t kEndSize = 22, kCentralSize = 46, kLocalSize = 30, kZip64EndSize = 56, kZip64LocatorSize = 20;

// Little-endian reads, bounds-checked against the archive.
class Reader {
 public:
  explicit Reader(const std::string& bytes) : bytes_(bytes) {}
  uint64_t u(uint64_t at, int width) const {
    need(at, static_cast<uint64_t>(width), "a header");
    uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes_[at + static_cast<uint64_t>(i)]);
    return v;
  }
  void need(uint64_t at, uint64_t n, const char* part) const {
    DVAE_CHECK(at <= bytes_.size() && n <= bytes_.size() - at, part, " at byte ", at, " runs past the end of the ",
               bytes_.size(), "-byte file");
  }
  const std::string& bytes() const { return bytes_; }

 private:
  const std::string& bytes_;
};

std::string hex8(uint64_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(v));
  return buf;
}

struct Directory {
  uint64_t entries = 0, offset = 0, size = 0;
};

Directory find_directory(const Reader& r) {
  const std::string& b = r.bytes();
  DVAE_CHECK(b.size() >= kEndSize, b.size(), " bytes, too short for a zip archive");
  // The end record is the last 22 bytes, or earlier by its comment (at most 65535 bytes).
  size_t end = std::string::npos;
  const size_t lowest = b.size() > kEndSize + 65535 ? b.size() - kEndSize - 65535 : 0;
  for (size_t at = b.size() - kEndSize + 1; at-- > lowest;) {
    if (r.u(at, 4) == kEndOfCentralDirectory && at + kEndSize + r.u(at + 20, 2) == b.size()) {
      end = at;
      break;
    }
  }
  DVAE_CHECK(end != std::string::npos, "no zip end-of-directory record");
  Directory d{r.u(end + 10, 2), r.u(end + 16, 4), r.u(end + 12, 4)};
  DVAE_CHECK(r.u(end + 4, 2) == 0 && r.u(end + 6, 2) == 0 && r.u(end + 8, 2) == r.u(end + 10, 2),
             "a multi-part zip archive");
  if (d.entries == 0xffff || d.offset == 0xffffffff || d.size == 0xffffffff) {
    DVAE_CHECK(end >= kZip64LocatorSize && r.u(end - kZip64LocatorSize, 4) == kZip64Locator,
               "ZIP64 sizes without a ZIP64 locator");
    const uint64_t at = r.u(end - kZip64LocatorSize + 8, 8);
    r.need(at, kZip64EndSize, "the ZIP64 end record");
    DVAE_CHECK(r.u(at, 4) == kZip64End, "no ZIP64 end record at byte ", at);
    d = {r.u(at + 32, 8), r.u(at + 48, 8), r.u(at + 40, 8)};
  }
  r.need(d.offset, d.size, "the central directory");
  DVAE_CHECK(d.entries <= d.size / kCentralSize, d.entries, " entries in a ", d.size, "-byte central directory");
  return d;
}

// The ZIP64 extended field of a central entry replaces the sizes and offset saturated at 0xffffffff.
void apply_zip64(const Reader& r, uint64_t extra, uint64_t extra_len, uint64_t& usize, uint64_t& csize,
                 uint64_t& offset) {
  for (uint64_t at = extra; at + 4 <= extra + extra_len;) {
    const uint64_t id = r.u(at, 2), len = r.u(at + 2, 2);
    if (id == 1) {
      uint64_t field = at + 4;
      for (uint64_t* v : {&usize, &csize, &offset}) {
        if (*v == 0xffffffff && field + 8 <= at + 4 + len) {
          *v = r.u(field, 8);
          field += 8;
        }
      }
    }
    at += 4 + len;
  }
}

uint32_t crc_of(const char* data, uint64_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (uint64_t done = 0; done < n;) {
    const auto chunk = static_cast<uInt>(std::min<uint64_t>(n - done, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data + done), chunk);
    done += chunk;
  }
  return static_cast<uint32_t>(crc);
}

// Inflates a raw deflate stream of csize bytes that must give exactly usize bytes; their CRC-32.
bool inflate_crc(const char* data, uint64_t csize, uint64_t usize, uint32_t& crc) {
  if (csize >= (1u << 30)) return false;  // deflated entries of LibTorch archives are small source files
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return false;
  std::vector<unsigned char> out(1 << 16);
  uLong c = crc32(0L, Z_NULL, 0);
  uint64_t produced = 0;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
  z.avail_in = static_cast<uInt>(csize);
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    rc = inflate(&z, Z_NO_FLUSH);
    const uint64_t got = out.size() - z.avail_out;
    produced += got;
    if (produced > usize) break;
    c = crc32(c, out.data(), static_cast<uInt>(got));
    if (rc == Z_OK && got == 0 && z.avail_in == 0) break;
  }
  inflateEnd(&z);
  crc = static_cast<uint32_t>(c);
  return rc == Z_STREAM_END && produced == usize;
}

}  // namespace

void check_zip(const std::string& bytes) {
  const Reader r(bytes);
  const Directory d = find_directory(r);
  uint64_t at = d.offset;
  for (uint64_t i = 0; i < d.entries; ++i) {
    r.need(at, kCentralSize, "a central directory entry");
    DVAE_CHECK(r.u(at, 4) == kCentralHeader, "central directory entry ", i + 1, " of ", d.entries, " is damaged");
    const uint64_t method = r.u(at + 10, 2), crc = r.u(at + 16, 4), name_len = r.u(at + 28, 2),
                   extra_len = r.u(at + 30, 2), comment_len = r.u(at + 32, 2);
    uint64_t csize = r.u(at + 20, 4), usize = r.u(at + 24, 4), local = r.u(at + 42, 4);
    r.need(at + kCentralSize, name_len + extra_len + comment_len, "a central directory entry");
    const std::string name = bytes.substr(at + kCentralSize, name_len);
    apply_zip64(r, at + kCentralSize + name_len, extra_len, usize, csize, local);
    const std::string entry = "zip entry '" + name + "' ";
    r.need(local, kLocalSize, "a local header");
    DVAE_CHECK(r.u(local, 4) == kLocalHeader && r.u(local + 26, 2) == name_len &&
                   bytes.compare(local + kLocalSize, name_len, name) == 0,
               entry, "does not match its local header");
    const uint64_t data = local + kLocalSize + name_len + r.u(local + 28, 2);
    r.need(data, csize, "an entry's data");
    uint32_t got = 0;
    if (method == 0) {
      DVAE_CHECK(csize == usize, entry, "is stored with sizes ", csize, " and ", usize);
      got = crc_of(bytes.data() + data, usize);
    } else {
      DVAE_CHECK(method == 8, entry, "uses compression method ", method, ", expected stored (0) or deflated (8)");
      DVAE_CHECK(inflate_crc(bytes.data() + data, csize, usize, got), entry, "does not inflate to its ", usize,
                 " recorded bytes");
    }
    DVAE_CHECK(got == crc, entry, "has CRC-32 ", hex8(got), ", its header records ", hex8(crc));
    at += kCentralSize + name_len + extra_len + comment_len;
  }
}

}  // namespace dvae
