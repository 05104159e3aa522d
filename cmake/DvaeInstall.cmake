# `cmake --install build --prefix P` puts the dvae executable in P/bin, the
# layer libraries in P/lib, every header in P/include/dvae (the umbrella is
# dvae.h) and a CMake package in P/lib/cmake/dvae, so that another program
# can find_package(dvae) and link dvae::dvae (examples/embed_encoder/).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_dvae_layers core data models training evaluation analysis experiments serve cli)
set(_dvae_targets dvae_lib)
foreach(layer IN LISTS _dvae_layers)
  list(APPEND _dvae_targets dvae_${layer})
endforeach()
install(TARGETS dvae RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS ${_dvae_targets} EXPORT dvaeTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/ ${CMAKE_CURRENT_BINARY_DIR}/generated/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dvae FILES_MATCHING PATTERN "*.h")
install(EXPORT dvaeTargets NAMESPACE dvae:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dvae)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/dvaeConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/dvaeConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dvae)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/dvaeConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/dvaeConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/dvaeConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dvae)
