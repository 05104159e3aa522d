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

# at::parallel_for is a header template: in dvae's own kernels (the fused optimiser,
# the MLP steps' elementwise passes, col2im, rendering, morphometrics) it runs in
# parallel only where dvae is compiled with OpenMP as LibTorch was; without the flag
# it silently runs every chunk on the calling thread. DVAE_TORCH_OPENMP says which.
set(DVAE_TORCH_OPENMP OFF)
foreach(_dir ${TORCH_INCLUDE_DIRS})
  if(EXISTS "${_dir}/ATen/Config.h")
    file(STRINGS "${_dir}/ATen/Config.h" _dvae_par REGEX "#define AT_PARALLEL_OPENMP 1")
    if(_dvae_par)
      set(DVAE_TORCH_OPENMP ON)
    endif()
    break()
  endif()
endforeach()
if(DVAE_TORCH_OPENMP)
  find_package(OpenMP REQUIRED COMPONENTS CXX)
  message(STATUS "dvae: LibTorch's intra-op backend is OpenMP: dvae compiles with ${OpenMP_CXX_FLAGS}")
endif()
