# Install rules and package config for the header-only pqt::pqt target.
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

# ARCH_INDEPENDENT: a 32-bit consumer may use a package configured on 64-bit.
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
