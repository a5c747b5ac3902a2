#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install the Python package acm into a fresh virtual environment with Debian's pip, setuptools
# and wheel (no package index is used), then run a script with it.
# Usage: examples/python_venv.sh VENV [SCRIPT [ARGS...]]
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
venv=$1
shift
/usr/bin/python3 -m venv --system-site-packages "$venv"
"$venv/bin/python" -m pip install --no-build-isolation --no-index --no-deps "$src"
if [ $# -gt 0 ]; then
  "$venv/bin/python" "$@"
fi
