# SPDX-License-Identifier: Apache-2.0
# Install rules, the CMake package (acmConfig.cmake, acmConfigVersion.cmake, acmTargets.cmake)
# and the pkg-config file acm.pc. Included from the top-level CMakeLists.txt. See docs/packaging.md.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ACM_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/acm CACHE STRING
  "Where acmConfig.cmake is installed, relative to the prefix")

# Private dependencies of libacm. A static libacm.a does not contain them, so consumers link
# them too: acmConfig.cmake finds them and acm.pc lists them. One entry per dependency:
#   "<find_package arguments>|<pkg-config module, or -l flags for Libs.private>"
# When src/ links a new PRIVATE dependency, add its line here, e.g.
#   "date|-ldate-tz"   "EXPAT|expat"   "ZLIB|zlib"
set(ACM_PRIVATE_DEPENDENCIES
  "Boost 1.74 COMPONENTS serialization|-lboost_serialization"
  "fmt|fmt"
  "SQLite3|sqlite3"
  "date CONFIG|-ldate-tz"
  "EXPAT|expat"
  "ZLIB|zlib"
  # -lpq, not the libpq module: Debian's libpq.pc lists static-only libraries (-lpgcommon,
  # -lpgport, ...) under Libs.private that no Debian package installs, so `--static` would fail.
  "PostgreSQL|-lpq")

set(ACM_FIND_PRIVATE_DEPENDENCIES "")
set(ACM_PC_REQUIRES_PRIVATE "")
set(ACM_PC_LIBS_PRIVATE "")
foreach(dep IN LISTS ACM_PRIVATE_DEPENDENCIES)
  string(REPLACE "|" ";" parts "${dep}")
  list(GET parts 0 find_args)
  list(GET parts 1 pc)
  string(APPEND ACM_FIND_PRIVATE_DEPENDENCIES "  find_dependency(${find_args})\n")
  if(pc MATCHES "^-")
    list(APPEND ACM_PC_LIBS_PRIVATE "${pc}")
  else()
    list(APPEND ACM_PC_REQUIRES_PRIVATE "${pc}")
  endif()
endforeach()
get_target_property(acm_type acm TYPE)
if(acm_type STREQUAL "STATIC_LIBRARY")
  set(ACM_STATIC_LIBRARY ON)
else()
  set(ACM_STATIC_LIBRARY OFF)
endif()

# acm.pc. A static libacm.a carries none of its dependencies, so a plain
# `pkg-config --libs acm` (without --static) must already name them: they go to Requires/Libs.
# A shared libacm.so links them itself: they stay in Requires.private/Libs.private.
if(ACM_STATIC_LIBRARY)
  set(ACM_PC_REQUIRES nlohmann_json ${ACM_PC_REQUIRES_PRIVATE})
  set(ACM_PC_LIBS ${ACM_PC_LIBS_PRIVATE} -pthread)
  set(ACM_PC_REQUIRES_PRIVATE "")
  set(ACM_PC_LIBS_PRIVATE "")
else()
  set(ACM_PC_REQUIRES nlohmann_json)
  set(ACM_PC_LIBS "")
  list(APPEND ACM_PC_LIBS_PRIVATE -pthread)
endif()
foreach(v ACM_PC_REQUIRES ACM_PC_LIBS ACM_PC_REQUIRES_PRIVATE ACM_PC_LIBS_PRIVATE)
  list(JOIN ${v} " " ${v})
endforeach()

# acm_c.pc. The shared libacm_c.so holds acm and its dependencies: -lacm_c is all. A static
# libacm_c.a (ACM_C_SHARED=OFF) needs acm (so its dependencies) and the C++ runtime.
if(TARGET acm_c)
  get_target_property(acm_c_type acm_c TYPE)
  if(acm_c_type STREQUAL "STATIC_LIBRARY")
    set(ACM_C_PC_REQUIRES acm)
    set(ACM_C_PC_CFLAGS -DACM_C_STATIC)
    set(ACM_C_PC_LIBS -lstdc++ -lm)
  else()
    set(ACM_C_PC_REQUIRES "")
    set(ACM_C_PC_CFLAGS "")
    set(ACM_C_PC_LIBS "")
  endif()
endif()

# Libraries and headers.
set(acm_install_targets acm)
if(TARGET acm_c)
  list(APPEND acm_install_targets acm_c)
endif()
install(TARGETS ${acm_install_targets} EXPORT acmTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/acm DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp")
if(TARGET acm_c)
  install(FILES ${PROJECT_SOURCE_DIR}/bindings/c/include/acm/c.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/acm)
endif()

# The CMake package.
install(EXPORT acmTargets NAMESPACE acm:: DESTINATION ${ACM_INSTALL_CMAKEDIR} FILE acmTargets.cmake)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/acmConfig.cmake.in
  ${PROJECT_BINARY_DIR}/acmConfig.cmake INSTALL_DESTINATION ${ACM_INSTALL_CMAKEDIR})
# 0.x: minor versions may break the API, so only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/acmConfigVersion.cmake.body
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
file(READ ${PROJECT_BINARY_DIR}/acmConfigVersion.cmake.body acm_version_body)
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/acmConfigVersion.cmake
  CONTENT "# SPDX-License-Identifier: Apache-2.0\n# acm @PROJECT_VERSION@, licence Apache-2.0.\n\n@acm_version_body@" @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/acmConfig.cmake ${PROJECT_BINARY_DIR}/acmConfigVersion.cmake
  DESTINATION ${ACM_INSTALL_CMAKEDIR})

# pkg-config: relocatable (prefix found from the .pc file's own place).
file(RELATIVE_PATH ACM_PC_PREFIX_FROM_PCDIR
  ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" ACM_PC_PREFIX_FROM_PCDIR "${ACM_PC_PREFIX_FROM_PCDIR}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/acm.pc.in ${PROJECT_BINARY_DIR}/acm.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/acm.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(TARGET acm_c)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/acm_c.pc.in ${PROJECT_BINARY_DIR}/acm_c.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/acm_c.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()

# The licence, the documentation and the example definitions (the `acm` CLI itself is
# installed by examples/CMakeLists.txt, which defines it).
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs FILES_MATCHING PATTERN "*.md")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/definitions/ DESTINATION ${CMAKE_INSTALL_DATADIR}/acm/definitions
  FILES_MATCHING PATTERN "*.json")
