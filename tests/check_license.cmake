# SPDX-License-Identifier: Apache-2.0
# Fails when a source, header, script or CMake file of the project lacks its SPDX licence line
# within its first three lines. Run as: cmake -DSOURCE_DIR=<root> -P check_license.cmake
file(GLOB_RECURSE candidates RELATIVE ${SOURCE_DIR}
  ${SOURCE_DIR}/include/* ${SOURCE_DIR}/src/* ${SOURCE_DIR}/bindings/* ${SOURCE_DIR}/examples/*
  ${SOURCE_DIR}/tests/* ${SOURCE_DIR}/bench/* ${SOURCE_DIR}/scripts/* ${SOURCE_DIR}/cmake/*
  ${SOURCE_DIR}/.ci/* ${SOURCE_DIR}/CMakeLists.txt)
set(missing "")
set(checked 0)
foreach(f IN LISTS candidates)
  if(f MATCHES "(\\.(cpp|hpp|c|h|py|pyi|sh|cmake|in|js|css|html)|CMakeLists\\.txt|^\\.ci/run)$"
     AND NOT f MATCHES "(__pycache__|/build[^/]*/|\\.egg-info/)")
    file(STRINGS ${SOURCE_DIR}/${f} head LIMIT_COUNT 3)
    string(FIND "${head}" "SPDX-License-Identifier: Apache-2.0" at)
    math(EXPR checked "${checked} + 1")
    if(at EQUAL -1)
      list(APPEND missing ${f})
    endif()
  endif()
endforeach()
if(checked LESS 100)
  message(FATAL_ERROR "only ${checked} files found under ${SOURCE_DIR}: wrong folder?")
endif()
if(missing)
  list(JOIN missing "\n  " text)
  message(FATAL_ERROR "files without 'SPDX-License-Identifier: Apache-2.0' in their first lines:\n  ${text}")
endif()
message(STATUS "licence line present in all ${checked} files")
