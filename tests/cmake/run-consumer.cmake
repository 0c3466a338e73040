# cmake -DMODE=<find_package|find_package_build_tree|subdirectory|fetchcontent>
#       -DPQT_SOURCE_DIR=... -DCONSUMER_DIR=... -DWORK_DIR=... -DGENERATOR=...
#       -DCXX_COMPILER=... -DCTEST_COMMAND=... -DCONFIG=... -DEXPECTED_VERSION=... [-DTENSOR=ON]
#       -P run-consumer.cmake
#
# Builds tests/cmake/consumer against pqt in the given mode, then runs it;
# TENSOR=ON also builds and runs its pqt::tensor program.
# Everything happens under WORK_DIR; nothing touches the network.
cmake_minimum_required(VERSION 3.25)

foreach(var IN ITEMS MODE PQT_SOURCE_DIR CONSUMER_DIR WORK_DIR GENERATOR CXX_COMPILER CTEST_COMMAND
                    EXPECTED_VERSION)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run-consumer.cmake: -D${var}=... is required")
  endif()
endforeach()
if(CONFIG STREQUAL "")
  set(CONFIG Release)
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# Same generator and compiler as the outer build; the consumer sees a clean
# environment otherwise.
set(common -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_BUILD_TYPE=${CONFIG}")

function(run)
  string(REPLACE ";" " " shown "${ARGN}")
  message(STATUS "run: ${shown}")
  execute_process(COMMAND ${ARGN} COMMAND_ERROR_IS_FATAL ANY)
endfunction()

# find_package_build_tree is find_package with a different pqt_DIR.
string(REGEX REPLACE "_build_tree$" "" consume_mode "${MODE}")
set(consumer_args "-DPQT_CONSUME_MODE=${consume_mode}" "-DPQT_EXPECTED_VERSION=${EXPECTED_VERSION}")
if(TENSOR)
  list(APPEND consumer_args -DPQT_CONSUMER_TENSOR=ON)
endif()

if(MODE MATCHES "^find_package")
  # A standalone pqt build with nothing but the library, as a packager would do it.
  run("${CMAKE_COMMAND}" -S "${PQT_SOURCE_DIR}" -B "${WORK_DIR}/pqt-build" ${common}
      -DPQT_BUILD_TESTS=OFF -DPQT_BUILD_TOOLS=OFF -DPQT_BUILD_BENCH=OFF -DPQT_BUILD_EXAMPLES=OFF
      "-DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix")
  run("${CMAKE_COMMAND}" --build "${WORK_DIR}/pqt-build" --config "${CONFIG}")
  if(MODE STREQUAL "find_package")
    run("${CMAKE_COMMAND}" --install "${WORK_DIR}/pqt-build" --config "${CONFIG}")
    list(APPEND consumer_args "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix")
  else()
    # The build tree itself, through export(EXPORT).
    list(APPEND consumer_args "-Dpqt_DIR=${WORK_DIR}/pqt-build")
  endif()
elseif(MODE STREQUAL "subdirectory")
  list(APPEND consumer_args "-DPQT_TEST_SOURCE_DIR=${PQT_SOURCE_DIR}")
elseif(MODE STREQUAL "fetchcontent")
  # What a release tarball would hold; fetched through a file:// URL, so the
  # download/extract path of FetchContent runs without a network.
  set(files CMakeLists.txt cmake include src)
  foreach(optional IN ITEMS LICENSE README.md)
    if(EXISTS "${PQT_SOURCE_DIR}/${optional}")
      list(APPEND files "${optional}")
    endif()
  endforeach()
  set(tarball "${WORK_DIR}/pqt-src.tar.gz")
  execute_process(COMMAND "${CMAKE_COMMAND}" -E tar czf "${tarball}" -- ${files}
                  WORKING_DIRECTORY "${PQT_SOURCE_DIR}" COMMAND_ERROR_IS_FATAL ANY)
  file(SHA256 "${tarball}" sha)
  list(APPEND consumer_args "-DPQT_TEST_URL=file://${tarball}" "-DPQT_TEST_URL_HASH=SHA256=${sha}")
else()
  message(FATAL_ERROR "run-consumer.cmake: unknown MODE '${MODE}'")
endif()

run("${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${WORK_DIR}/consumer-build" ${common} ${consumer_args})
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/consumer-build" --config "${CONFIG}")
run("${CTEST_COMMAND}" --test-dir "${WORK_DIR}/consumer-build" -C "${CONFIG}"
    --output-on-failure --no-tests=error)
