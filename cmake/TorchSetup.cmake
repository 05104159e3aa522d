# Finds LibTorch (Debian's libtorch-dev 1.13 by default, or any 2.x given
# through CMAKE_PREFIX_PATH) and reports its version, ABI and CUDA support.
find_package(Torch REQUIRED)
# TorchConfig adds its flags to CMAKE_CXX_FLAGS; keep them for every target.
set(CMAKE_CXX_FLAGS "${CMAKE_CXX_FLAGS} ${TORCH_CXX_FLAGS}")
set(_dvae_abi "unknown")
if(TORCH_CXX_FLAGS MATCHES "_GLIBCXX_USE_CXX11_ABI=([01])")
  set(_dvae_abi "${CMAKE_MATCH_1}")
endif()
set(_dvae_cuda "no")
if(TARGET torch_cuda OR CUDA_FOUND OR TORCH_CUDA_LIBRARIES)
  set(_dvae_cuda "yes")
endif()
message(STATUS "dvae: LibTorch ${Torch_VERSION} at ${Torch_DIR} (CXX11 ABI ${_dvae_abi}, CUDA ${_dvae_cuda})")
