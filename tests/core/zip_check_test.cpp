// Tests for core/zip_check: LibTorch's own archives and the fuzz seed pass; a
// flipped byte, a truncation, a renamed entry, an unknown compression method
// and a file that is no zip each give an error naming what is wrong.
#include "core/zip_check.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

#include "core/atomic_file.h"
#include "core/check.h"

namespace dvae {
namespace {

// A small archive as LibTorch writes it: a tensor and a string.
std::string libtorch_archive() {
  torch::serialize::OutputArchive archive;
  archive.write("weights", torch::arange(64, torch::kFloat32));
  archive.write("meta", c10::IValue(std::string("{\"epoch\":3}")));
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

std::string error_of(const std::string& bytes) {
  try {
    check_zip(bytes);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ZipCheck, AcceptsLibTorchArchivesAndTheFuzzSeed) {
  EXPECT_NO_THROW(check_zip(libtorch_archive()));
  // The seed holds deflated entries (TorchScript source) beside stored ones.
  EXPECT_NO_THROW(check_zip(read_file(std::string(DVAE_SOURCE_DIR) + "/fuzz/corpus/checkpoint/mlp_tiny.pt")));
}

TEST(ZipCheck, FlippedByteInAnEntryNamesTheEntry) {
  const std::string good = libtorch_archive();
  const torch::Tensor w = torch::arange(64, torch::kFloat32);
  const std::string raw(static_cast<const char*>(w.data_ptr()), 64);
  const size_t at = good.find(raw);
  ASSERT_NE(at, std::string::npos);
  std::string bad = good;
  bad[at + 9] = static_cast<char>(bad[at + 9] ^ 0x01);
  const std::string what = error_of(bad);
  EXPECT_NE(what.find("zip entry '"), std::string::npos) << what;
  EXPECT_NE(what.find("/data/0' has CRC-32 "), std::string::npos) << what;
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
}

TEST(ZipCheck, TruncationsRenamesMethodsAndNonZipsAreErrors) {
  const std::string good = libtorch_archive();
  for (size_t n : {size_t{0}, size_t{10}, size_t{200}, good.size() / 2, good.size() - 23, good.size() - 1}) {
    EXPECT_NE(error_of(good.substr(0, n)), "") << "prefix of " << n << " bytes";
  }
  // The central directory's copy of an entry name differs from its local header's.
  std::string renamed = good;
  const size_t central = renamed.rfind("data.pkl");
  ASSERT_NE(central, std::string::npos);
  renamed[central] = 'D';
  EXPECT_NE(error_of(renamed).find("does not match its local header"), std::string::npos) << error_of(renamed);
  // Compression method 99 in the first central entry.
  std::string method = good;
  const size_t dir = method.find(std::string("PK\x01\x02", 4));
  ASSERT_NE(dir, std::string::npos);
  method[dir + 10] = 99;
  EXPECT_NE(error_of(method).find("compression method 99"), std::string::npos) << error_of(method);
  EXPECT_NE(error_of(std::string(4096, 'x')).find("no zip end-of-directory record"), std::string::npos);
}

TEST(ZipCheck, TheArchiveThatCrashedLibTorchsImporterIsRejected) {
  // fuzz_checkpoint: mutated TorchScript source and pickles in this archive made
  // torch::jit's type parser dereference a wild pointer (SIGSEGV).
  const std::string what =
      error_of(read_file(std::string(DVAE_SOURCE_DIR) + "/fuzz/regressions/checkpoint/torchscript_importer_segv.pt"));
  EXPECT_NE(what.find("has CRC-32"), std::string::npos) << what;
}

}  // namespace
}  // namespace dvae
