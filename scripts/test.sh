#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing, builds acm and runs the whole test suite.
#   scripts/test.sh            regular build in build/
#   ACM_SANITIZE=address,undefined scripts/test.sh   sanitizer build in build-address-undefined/
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
SAN="${ACM_SANITIZE:-}"
# No comma in the folder name: linker options such as -Wl,-rpath,<dir> split on commas.
DIR="build${SAN:+-${SAN//,/-}}"
# ccache (installed by deps.sh) keeps rebuilds of unchanged files cheap; paths relative to the
# checkout (and hash_dir off, so -g builds of other checkouts hit too) to share one cache.
LAUNCHER=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
  LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$DIR" "${LAUNCHER[@]}" -DCMAKE_BUILD_TYPE="${ACM_BUILD_TYPE:-RelWithDebInfo}" -DACM_SANITIZE="$SAN" >/dev/null
cmake --build "$DIR" -j"$(nproc)" ${ACM_BUILD_TARGET:+--target $ACM_BUILD_TARGET}
cd "$DIR"
ctest --output-on-failure -j"$(nproc)" ${ACM_CTEST_ARGS:-}
