#pragma once
/// pqt version. CMake reads these three lines to version the package.
#define PQT_VERSION_MAJOR 0
#define PQT_VERSION_MINOR 1
#define PQT_VERSION_PATCH 0
#define PQT_VERSION_STRING "0.1.0"
