#!/usr/bin/env bash
# Installs what is missing, builds acm and runs the whole test suite.
#   scripts/test.sh            regular build in build/
#   ACM_SANITIZE=address,undefined scripts/test.sh   sanitizer build in build-address-undefined/
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
SAN="${ACM_SANITIZE:-}"
# No comma in the folder name: linker options such as -Wl,-rpath,<dir> split on commas.
DIR="build${SAN:+-${SAN//,/-}}"
cmake -S . -B "$DIR" -DCMAKE_BUILD_TYPE="${ACM_BUILD_TYPE:-RelWithDebInfo}" -DACM_SANITIZE="$SAN" >/dev/null
cmake --build "$DIR" -j"$(nproc)" ${ACM_BUILD_TARGET:+--target $ACM_BUILD_TARGET}
cd "$DIR"
ctest --output-on-failure -j"$(nproc)" ${ACM_CTEST_ARGS:-}
