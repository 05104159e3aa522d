# dvae_layer(name [deps...]): a static library dvae_<name> from src/<name>/*.cpp
# that links dvae_<dep> for each dependency and reuses dvae_core's PCH.
function(dvae_layer name)
  file(GLOB _srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cpp)
  if(NOT _srcs)  # a layer still being written: keep the target graph intact
    set(_srcs ${CMAKE_BINARY_DIR}/empty_${name}.cpp)
    file(WRITE ${_srcs} "// empty layer\n")
  endif()
  add_library(dvae_${name} STATIC ${_srcs})
  foreach(dep IN LISTS ARGN)
    target_link_libraries(dvae_${name} PUBLIC dvae_${dep})
  endforeach()
  if(NOT name STREQUAL "core")
    target_precompile_headers(dvae_${name} REUSE_FROM dvae_core)
  endif()
  dvae_warnings(dvae_${name})
endfunction()
