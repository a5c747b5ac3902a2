#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# ctest python_package: the Python package as a user gets it. examples/python_venv.sh creates a
# fresh virtual environment (/usr/bin/python3 -m venv --system-site-packages), pip-installs the
# source tree into it (--no-build-isolation --no-index: Debian's setuptools and wheel) and runs
# examples/helpdesk.py copied outside the source tree; then the installed package's version,
# licence, stubs and location are checked, and a wheel is built and inspected.
# Usage: python_package_test.sh SOURCE_DIR WORK_DIR VERSION
set -eu
src=$1
work=$2
version=$3
rm -rf "$work/venv" "$work/dist"
mkdir -p "$work"
# The CMake build of the extension (acm_python only, Release) is kept between runs; with ccache
# a fresh one is cheap too.
export ACM_CMAKE_BUILD_DIR="$work/cmake"
export ACM_PYTHON_BUILD_BASE="$work/setuptools"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
run=$(mktemp -d)
trap 'rm -rf "$run"' EXIT
cp "$src/examples/helpdesk.py" "$run/case.py"
cd "$run"
sh "$src/examples/python_venv.sh" "$work/venv" case.py "$src/examples/definitions/helpdesk.json"

"$work/venv/bin/python" - "$version" "$work/venv" <<'PY'
import importlib.metadata as metadata
import pathlib
import sys

import acm

version, venv = sys.argv[1], pathlib.Path(sys.argv[2]).resolve()
package = pathlib.Path(acm.__file__).resolve().parent
assert venv in package.parents, f"acm imported from {package}, not from the venv {venv}"
assert acm.__version__ == version, (acm.__version__, version)
assert metadata.version("acm") == version, metadata.version("acm")
assert metadata.metadata("acm")["License"] == "Apache-2.0", metadata.metadata("acm")["License"]
for name in ("py.typed", "_acm.pyi", "__init__.py"):
    assert (package / name).is_file(), f"{name} not installed in {package}"
print(f"acm {acm.__version__} installed in {package}")
PY

/usr/bin/python3 -m build --no-isolation --wheel --outdir "$work/dist" "$src" >"$work/build-wheel.log" 2>&1 ||
  { cat "$work/build-wheel.log"; exit 1; }
/usr/bin/python3 - "$work/dist" "$version" <<'PY'
import pathlib
import sys
import zipfile

wheels = list(pathlib.Path(sys.argv[1]).glob("acm-*.whl"))
assert len(wheels) == 1, wheels
names = zipfile.ZipFile(wheels[0]).namelist()
for wanted in ("acm/__init__.py", "acm/py.typed", "acm/_acm.pyi"):
    assert wanted in names, f"{wanted} not in {wheels[0].name}: {names}"
assert any(n.startswith("acm/_acm") and n.endswith(".so") for n in names), names
meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
text = zipfile.ZipFile(wheels[0]).read(meta).decode()
assert f"Version: {sys.argv[2]}\n" in text and "License: Apache-2.0\n" in text, text[:500]
print(f"wheel {wheels[0].name}: {len(names)} files")
PY
