#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages acm needs to build and test, if any are missing.
set -euo pipefail
PACKAGES=(build-essential cmake pkg-config
  libboost-graph-dev libboost-serialization-dev libsqlite3-dev libfmt-dev
  nlohmann-json3-dev doctest-dev libcli11-dev libbenchmark-dev sqlite3
  libhowardhinnant-date-dev tzdata libexpat1-dev zlib1g-dev
  pybind11-dev python3-dev python3-pytest graphviz ccache
  python3-pip python3-venv python3-setuptools python3-wheel python3-build
  clang-16 libclang-rt-16-dev  # clang-16 + libFuzzer: scripts/fuzz.sh
  chromium chromium-driver python3-selenium  # the workspace browser test (tests/browser)
  libpq-dev postgresql)  # the PostgreSQL store; its tests start a throwaway server (tests/postgres)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "acm: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
