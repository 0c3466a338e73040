# Settings for pqt's own tests, tools, benches and examples. Included only
# when one of those is built; nothing here reaches the pqt::pqt target.

# ---- CUDA language ---------------------------------------------------------
set(PQT_HAVE_CUDA OFF)
if(NOT PQT_ENABLE_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    # nvcc's own default (sm_52/sm_75) is not what pqt targets; respect a
    # choice made by -D or the CUDAARCHS environment variable.
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES AND NOT DEFINED ENV{CUDAARCHS})
      set(CMAKE_CUDA_ARCHITECTURES "80;90" CACHE STRING "CUDA architectures to compile pqt's .cu files for")
    endif()
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    set(CMAKE_CUDA_EXTENSIONS OFF)
    enable_language(CUDA)
    set(PQT_HAVE_CUDA ON)
  elseif(PQT_ENABLE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "PQT_ENABLE_CUDA=ON but no CUDA compiler was found. Put nvcc on PATH, "
                        "pass -DCMAKE_CUDA_COMPILER=/path/to/nvcc, or use -DPQT_ENABLE_CUDA=AUTO/OFF.")
  endif()
endif()
if(PQT_HAVE_CUDA)
  message(STATUS "pqt: CUDA ON (PQT_ENABLE_CUDA=${PQT_ENABLE_CUDA}), architectures ${CMAKE_CUDA_ARCHITECTURES}")
else()
  message(STATUS "pqt: CUDA OFF (PQT_ENABLE_CUDA=${PQT_ENABLE_CUDA})")
endif()

# CUDA toolkit headers (cuda_fp8.h, Thrust) for *host* tests that compare
# against them. find_package(CUDAToolkit) works without the CUDA language.
# OFF means no CUDA at all, so a host-only build really exercises the paths
# a machine without CUDA takes.
set(PQT_CUDA_HEADER_DIRS "")
if(NOT PQT_ENABLE_CUDA STREQUAL "OFF")
  find_package(CUDAToolkit QUIET)
  find_path(PQT_CUDA_INCLUDE_DIR cuda_fp8.h
            HINTS ${CUDAToolkit_INCLUDE_DIRS}
            PATHS /usr/local/cuda/include
            DOC "Directory holding cuda_fp8.h, for host tests marked PQT_NEEDS_CUDA_INCLUDE")
  if(PQT_CUDA_INCLUDE_DIR)
    list(APPEND PQT_CUDA_HEADER_DIRS "${PQT_CUDA_INCLUDE_DIR}")
    # CUDA 13 moved Thrust/CUB/libcu++ under include/cccl.
    if(IS_DIRECTORY "${PQT_CUDA_INCLUDE_DIR}/cccl")
      list(APPEND PQT_CUDA_HEADER_DIRS "${PQT_CUDA_INCLUDE_DIR}/cccl")
    endif()
  endif()
endif()

# ---- OpenMP ----------------------------------------------------------------
# Discoverable only: PQT_HAVE_OPENMP and OpenMP::OpenMP_CXX for the targets
# that ask for it; the pqt target itself never requires OpenMP.
set(PQT_HAVE_OPENMP OFF)
if(PQT_ENABLE_OPENMP STREQUAL "ON")
  find_package(OpenMP REQUIRED COMPONENTS CXX)
  set(PQT_HAVE_OPENMP ON)
elseif(PQT_ENABLE_OPENMP STREQUAL "AUTO")
  find_package(OpenMP QUIET COMPONENTS CXX)
  if(OpenMP_CXX_FOUND)
    set(PQT_HAVE_OPENMP ON)
  endif()
endif()
set(_pqt_shown "${PQT_CUDA_HEADER_DIRS}")
if(NOT _pqt_shown)
  set(_pqt_shown none)
endif()
message(STATUS "pqt: OpenMP ${PQT_HAVE_OPENMP}; CUDA headers for host code: ${_pqt_shown}")

# ---- Warnings ----------------------------------------------------------------
# Our own strict flags, kept off the interface target so consumers choose theirs.
# Standard C++17 (not gnu++17) proves the headers need no extensions.
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_COMPILE_WARNING_AS_ERROR ${PQT_WARNINGS_AS_ERRORS})
add_library(pqt_warnings INTERFACE)
target_compile_options(pqt_warnings INTERFACE
  "$<$<COMPILE_LANG_AND_ID:CXX,GNU,Clang,AppleClang>:-Wall;-Wextra;-Wpedantic;-Wshadow>"
  "$<$<COMPILE_LANG_AND_ID:CXX,MSVC>:/W4;/permissive->"
  # nvcc's generated host code trips -Wpedantic, so the host side gets the rest.
  "$<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra,-Wshadow>"
  # COMPILE_WARNING_AS_ERROR covers nvcc's own warnings, not the host compiler's.
  "$<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${PQT_WARNINGS_AS_ERRORS}>>:-Xcompiler=-Werror>")

# ---- pqt_add_program ---------------------------------------------------------
# pqt_add_program(<target> <source>)
#
# One executable from one source, linked to pqt::pqt with pqt's warnings.
# A source opts into extras by containing a marker string (a comment will do):
#   PQT_NEEDS_CUDA_INCLUDE  CUDA toolkit headers as SYSTEM includes and
#                           PQT_HAVE_CUDA_HEADERS=1, when the headers exist
#   PQT_USES_OPENMP         OpenMP::OpenMP_CXX, when OpenMP was found (test _OPENMP)
#   PQT_OPTIMIZE            -O2 even in unoptimized (Debug) builds
#   PQT_USES_TENSOR_LIB     pqt::tensor (the compiled mode): the tensor API's
#                           loops come from the library, compiled once
#   PQT_USES_CUDA_LIB       pqt_cuda_tensor (the compiled CUDA mode): the
#                           pqt::cuda launchers come from it, compiled once
function(pqt_add_program target source)
  add_executable(${target} "${source}")
  target_link_libraries(${target} PRIVATE pqt::pqt pqt_warnings)

  get_filename_component(path "${source}" ABSOLUTE)
  file(READ "${path}" text)
  # Markers are read at configure time, so editing the file must re-run it.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${path}")

  string(FIND "${text}" "PQT_NEEDS_CUDA_INCLUDE" at)
  if(at GREATER -1 AND PQT_CUDA_HEADER_DIRS)
    target_include_directories(${target} SYSTEM PRIVATE ${PQT_CUDA_HEADER_DIRS})
    target_compile_definitions(${target} PRIVATE PQT_HAVE_CUDA_HEADERS=1)
  endif()

  string(FIND "${text}" "PQT_USES_OPENMP" at)
  if(at GREATER -1 AND PQT_HAVE_OPENMP)
    target_link_libraries(${target} PRIVATE OpenMP::OpenMP_CXX)
  endif()

  string(FIND "${text}" "PQT_OPTIMIZE" at)
  if(at GREATER -1)
    pqt_optimize(${target})
  endif()

  string(FIND "${text}" "PQT_USES_TENSOR_LIB" at)
  if(at GREATER -1)
    target_link_libraries(${target} PRIVATE pqt::tensor)
  endif()

  string(FIND "${text}" "PQT_USES_CUDA_LIB" at)
  if(at GREATER -1)
    target_link_libraries(${target} PRIVATE pqt_cuda_tensor)
  endif()
endfunction()

# pqt_optimize(<target>): -O2 where the configuration does not optimize
# already (never lowers Release's -O3).
function(pqt_optimize target)
  target_compile_options(${target} PRIVATE
    "$<$<AND:$<NOT:$<CONFIG:Release,RelWithDebInfo,MinSizeRel>>,$<COMPILE_LANG_AND_ID:CXX,GNU,Clang,AppleClang>>:-O2>"
    "$<$<AND:$<NOT:$<CONFIG:Release,RelWithDebInfo,MinSizeRel>>,$<COMPILE_LANGUAGE:CUDA>>:-O2>")
endfunction()
