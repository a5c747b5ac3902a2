# SPDX-License-Identifier: Apache-2.0
# Proves the layering check can fail: runs tests/check_layers.cmake on a fixture tree that breaks
# the rules and passes only if the check fails AND its message matches every regex of EXPECT
# (a ;-list; white space in the message is compared as single spaces). Run as: cmake -DFIXTURE=<tree> "-DEXPECT=<regex>;..." -P expect_refusal.cmake
cmake_minimum_required(VERSION 3.20)
execute_process(
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${FIXTURE} -DMIN_FILES=1 -P ${CMAKE_CURRENT_LIST_DIR}/../check_layers.cmake
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "the layering check accepted ${FIXTURE}, which breaks the rules:\n${out}${err}")
endif()
# CMake wraps long messages: compare with every run of white space made one space.
string(REGEX REPLACE "[ \t\r\n]+" " " said "${out}${err}")
foreach(re IN LISTS EXPECT)
  if(NOT said MATCHES "${re}")
    message(FATAL_ERROR "the layering check failed on ${FIXTURE}, but without the message '${re}':\n${out}${err}")
  endif()
endforeach()
message(STATUS "refused as expected:\n${err}")
