// libFuzzer target: the checkpoint loader (load_vae in src/training/checkpoint.cpp):
// LibTorch's zip archive reader, the metadata JSON, shapes and CRC-32 checks.
#include <string>

#include "core/check.h"
#include "fuzz_input.h"
#include "training/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = dvae::fuzz::write_input("checkpoint.pt", data, size);
  DVAE_FUZZ_EXPECTED_ERRORS((void)dvae::read_checkpoint_meta(path));
  DVAE_FUZZ_EXPECTED_ERRORS((void)dvae::load_vae(path));
  return 0;
}
