#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Build the consumer programs with pkg-config alone, against acm installed under PREFIX.
# Usage: examples/consumer/pkg_config.sh PREFIX [OUTPUT_DIR]
set -eu
prefix=$1
out=${2:-.}
src=$(dirname "$0")
pcdir=$(dirname "$(find "$prefix" -name acm.pc | head -n 1)")
export PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"

# C++: acm.pc names libacm and every library it needs (no --static needed). The flags carry no
# -std option: compile with C++20 or later.
${CXX:-c++} -std=c++20 "$src/main.cpp" $(pkg-config --cflags --libs acm) -o "$out/consumer_cpp_pc"

# C: acm_c.pc. libacm_c.so holds the engine; the rpath lets the program find it at run time.
${CC:-cc} -std=c99 "$src/main.c" $(pkg-config --cflags --libs acm_c) \
  -Wl,-rpath,"$(pkg-config --variable=libdir acm_c)" -o "$out/consumer_c_pc"

"$out/consumer_cpp_pc"
"$out/consumer_c_pc"
