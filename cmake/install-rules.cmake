# Install rules and package config for the header-only pqt::pqt target and
# the sources of the compiled mode, pqt::tensor (built in the consumer's
# project when something links it: see pqtConfig.cmake.in).
include(CMakePackageConfigHelpers)

# A header-only package is the same on every architecture, so its config goes
# under the data dir (share/pqt), where find_package looks on all platforms.
set(pqt_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/pqt"
    CACHE STRING "Install directory for pqt's CMake package files, relative to the prefix")
mark_as_advanced(pqt_INSTALL_CMAKEDIR)

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        COMPONENT pqt_Development)

install(TARGETS pqt EXPORT pqtTargets)

# pqt::tensor's sources, next to the config that defines the target; the build
# tree gets copies at the same place relative to its config.
foreach(_src IN LISTS PQT_TENSOR_SOURCES)
  install(FILES "${PROJECT_SOURCE_DIR}/src/${_src}"
          DESTINATION "${pqt_INSTALL_CMAKEDIR}/tensor-src"
          COMPONENT pqt_Development)
  configure_file("${PROJECT_SOURCE_DIR}/src/${_src}" "${PROJECT_BINARY_DIR}/tensor-src/${_src}" COPYONLY)
endforeach()

# ARCH_INDEPENDENT: a 32-bit consumer may use a package configured on 64-bit
# (nothing compiled is installed: pqt::tensor is built by the consumer).
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/pqtConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion
  ARCH_INDEPENDENT)

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/pqtConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/pqtConfig.cmake"
  INSTALL_DESTINATION "${pqt_INSTALL_CMAKEDIR}")

install(FILES
          "${PROJECT_BINARY_DIR}/pqtConfig.cmake"
          "${PROJECT_BINARY_DIR}/pqtConfigVersion.cmake"
        DESTINATION "${pqt_INSTALL_CMAKEDIR}"
        COMPONENT pqt_Development)

install(EXPORT pqtTargets
        NAMESPACE pqt::
        DESTINATION "${pqt_INSTALL_CMAKEDIR}"
        COMPONENT pqt_Development)

# The same three files in the build tree let find_package(pqt) use an
# uninstalled build (-Dpqt_DIR=<build dir> or CMAKE_PREFIX_PATH).
export(EXPORT pqtTargets
       NAMESPACE pqt::
       FILE "${PROJECT_BINARY_DIR}/pqtTargets.cmake")
