# Instrumented builds, each in a build folder of its own:
#   DVAE_SANITIZE=ON  AddressSanitizer + UndefinedBehaviorSanitizer on every dvae
#                     target (scripts/sanitize.sh: build-asan, gcc);
#   DVAE_FUZZ=ON      the same plus libFuzzer coverage, and the targets under
#                     fuzz/ (scripts/fuzz.sh: build-fuzz, clang).
# LibTorch, OpenBLAS and the other libraries stay uninstrumented: ASan still
# checks every access dvae's code makes, including into their buffers.
option(DVAE_SANITIZE "Build with AddressSanitizer + UndefinedBehaviorSanitizer" OFF)
option(DVAE_FUZZ "Build the libFuzzer targets under fuzz/ (clang, with ASan + UBSan)" OFF)

if(DVAE_SANITIZE OR DVAE_FUZZ)
  # UBSan's vptr check needs the dynamic type of LibTorch's objects, whose type
  # information lives in the uninstrumented library: that one check is left out
  # (a precaution against false reports).
  set(_dvae_san -fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined
                -fno-omit-frame-pointer)
  add_compile_options(${_dvae_san} -g)
  add_link_options(${_dvae_san})
endif()

if(DVAE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "DVAE_FUZZ=ON needs clang (libFuzzer): cmake -DCMAKE_CXX_COMPILER=clang++ ...")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
