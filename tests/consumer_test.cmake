# SPDX-License-Identifier: Apache-2.0
# The "consumer" test (cmake -P): install the build tree into a temporary prefix, build the
# project examples/consumer against it with find_package(acm), run its programs, and check that
# acm.pc works: pkg-config flags, and a program compiled and linked with them alone.
#
# Inputs (-D): BUILD_DIR, CONSUMER_DIR, WORK_DIR, CONFIG, WITH_C (ON/OFF), GENERATOR,
# CXX_COMPILER, C_COMPILER, VERSION (the project version every surface must report).
cmake_minimum_required(VERSION 3.20)

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok")
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
if(NOT CONFIG)
  set(CONFIG Debug)
endif()

# 1. Install: libraries, headers, package files, the CLI, the example definitions, the docs.
run("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} --config ${CONFIG})
set(expected include/acm/acm.hpp include/acm/engine.hpp include/acm/version.hpp bin/acm
  share/acm/definitions/helpdesk.json share/doc/acm/LICENSE share/doc/acm/README.md
  share/doc/acm/docs/index.md share/doc/acm/docs/packaging.md)
if(WITH_C)
  list(APPEND expected include/acm/c.h)
endif()
foreach(f IN LISTS expected)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
set(package_files acmConfig.cmake acmConfigVersion.cmake acm.pc)
if(WITH_C)
  list(APPEND package_files acm_c.pc)
endif()
foreach(name IN LISTS package_files)
  file(GLOB_RECURSE found ${prefix}/*/${name})
  list(LENGTH found n)
  if(NOT n EQUAL 1)
    message(FATAL_ERROR "expected one installed ${name}, found: ${found}")
  endif()
  # The licence is named in every piece of package metadata.
  file(READ ${found} text)
  if(NOT text MATCHES "Apache-2\\.0")
    message(FATAL_ERROR "${name} does not name the licence Apache-2.0")
  endif()
  if(name MATCHES "\\.pc$" AND NOT text MATCHES "\nVersion: ${VERSION}\n")
    message(FATAL_ERROR "${name} does not carry Version: ${VERSION}")
  endif()
endforeach()
run("installed acm --version" ${prefix}/bin/acm --version)
string(STRIP "${run_output}" cli_version)
if(NOT cli_version STREQUAL VERSION)
  message(FATAL_ERROR "acm --version printed '${cli_version}', expected '${VERSION}'")
endif()

# 2. The consumer project, with CMake (it sets no C++ standard: acm::acm carries C++20).
run("configure consumer" ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${consumer_build} -G ${GENERATOR}
  -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=${CONFIG}
  -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_C_COMPILER=${C_COMPILER})
run("build consumer" ${CMAKE_COMMAND} --build ${consumer_build} --config ${CONFIG})
run("run consumer_cpp" ${consumer_build}/consumer_cpp ${VERSION})
message(STATUS "  ${run_output}")
if(WITH_C)
  if(NOT EXISTS ${consumer_build}/consumer_c)
    message(FATAL_ERROR "acm::c was not found by the consumer project")
  endif()
  run("run consumer_c" ${consumer_build}/consumer_c ${VERSION})
  message(STATUS "  ${run_output}")
endif()

# 3. pkg-config.
find_program(PKG_CONFIG pkg-config)
if(NOT PKG_CONFIG)
  message(FATAL_ERROR "pkg-config not found")
endif()
file(GLOB_RECURSE pc_file ${prefix}/*/acm.pc)
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
run("pkg-config --cflags --libs acm" ${PKG_CONFIG} --cflags --libs acm)
string(STRIP "${run_output}" flags)
message(STATUS "  ${flags}")
if(NOT flags MATCHES "-lacm" OR NOT flags MATCHES "-I[^ ]*include")
  message(FATAL_ERROR "unexpected pkg-config output: ${flags}")
endif()
run("pkg-config --modversion acm" ${PKG_CONFIG} --modversion acm)
string(STRIP "${run_output}" pc_version)
if(NOT pc_version STREQUAL VERSION)
  message(FATAL_ERROR "pkg-config --modversion acm: '${pc_version}', expected '${VERSION}'")
endif()
# --static still links (a static libacm.a with its dependencies).
run("pkg-config --static" ${PKG_CONFIG} --cflags --libs --static acm)
string(STRIP "${run_output}" static_flags)
separate_arguments(static_flags UNIX_COMMAND "${static_flags}")
run("compile with pkg-config --static flags" ${CXX_COMPILER} -std=c++20 ${CONSUMER_DIR}/main.cpp ${static_flags}
  -o ${WORK_DIR}/consumer_pc_static)
run("run consumer_pc_static" ${WORK_DIR}/consumer_pc_static ${VERSION})
# Plain pkg-config (no --static), as a user would: examples/consumer/pkg_config.sh (quoted in
# docs/packaging.md) compiles, links and runs the C++ program with acm.pc and the C program
# with acm_c.pc.
if(WITH_C)
  set(ENV{CXX} ${CXX_COMPILER})
  set(ENV{CC} ${C_COMPILER})
  run("examples/consumer/pkg_config.sh" sh ${CONSUMER_DIR}/pkg_config.sh ${prefix} ${WORK_DIR})
  message(STATUS "  ${run_output}")
else()
  separate_arguments(plain_flags UNIX_COMMAND "${flags}")
  run("compile with plain pkg-config flags" ${CXX_COMPILER} -std=c++20 ${CONSUMER_DIR}/main.cpp ${plain_flags}
    -o ${WORK_DIR}/consumer_cpp_pc)
  run("run consumer_cpp_pc" ${WORK_DIR}/consumer_cpp_pc ${VERSION})
endif()
