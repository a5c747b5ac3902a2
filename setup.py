# SPDX-License-Identifier: Apache-2.0
"""Builds the Python package `acm`: the pure-Python part from bindings/python/acm and the
extension `acm._acm` through CMake (target acm_python only). Metadata is in pyproject.toml;
the version is read from project(VERSION) in CMakeLists.txt, its only source.

Environment (all optional):
  ACM_CMAKE_BUILD_DIR    CMake build folder (default: under setuptools' build_temp); reused
                         between builds, so a second `pip install .` is incremental
  ACM_CMAKE_BUILD_TYPE   default Release
  ACM_PYTHON_BUILD_BASE  setuptools' build folder (default: build/ in this tree), and where
                         acm.egg-info goes
  CMAKE_BUILD_PARALLEL_LEVEL  build jobs (default 2)
  CMAKE_CXX_COMPILER_LAUNCHER compiler launcher; when unset and ccache is on PATH, ccache
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def project_version() -> str:
    text = (ROOT / "CMakeLists.txt").read_text(encoding="utf-8")
    found = re.search(r"project\(\s*acm\s+VERSION\s+([0-9][0-9.]*)", text)
    if not found:
        raise RuntimeError("no project(acm VERSION x.y.z) in CMakeLists.txt")
    return found.group(1)


class CMakeBuild(build_ext):
    """Configures the acm CMake project with only the Python module on, builds acm_python,
    and copies the module where setuptools expects the extension."""

    def build_extension(self, ext: Extension) -> None:
        target = Path(self.get_ext_fullpath(ext.name)).resolve()
        build_dir = Path(os.environ.get("ACM_CMAKE_BUILD_DIR") or Path(self.build_temp) / "cmake").resolve()
        build_type = os.environ.get("ACM_CMAKE_BUILD_TYPE", "Release")
        args = [
            f"-DCMAKE_BUILD_TYPE={build_type}",
            f"-DPython_EXECUTABLE={sys.executable}",
            "-DACM_BUILD_PYTHON=ON",
            "-DACM_BUILD_TESTS=OFF",
            "-DACM_BUILD_EXAMPLES=OFF",
            "-DACM_BUILD_C=OFF",
            "-DACM_INSTALL=OFF",
        ]
        launcher = os.environ.get("CMAKE_CXX_COMPILER_LAUNCHER") or shutil.which("ccache")
        if launcher:
            args += [f"-DCMAKE_CXX_COMPILER_LAUNCHER={launcher}", f"-DCMAKE_C_COMPILER_LAUNCHER={launcher}"]
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")
        build_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build_dir), *args], check=True)
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "acm_python", "-j", jobs], check=True)
        built = sorted((build_dir / "bindings" / "python" / "acm").glob("_acm*.so"))
        if len(built) != 1:
            raise RuntimeError(f"expected one built module _acm*.so in {build_dir}, found {built}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[0], target)


options = {}
build_base = os.environ.get("ACM_PYTHON_BUILD_BASE")
if build_base:
    Path(build_base).mkdir(parents=True, exist_ok=True)
    options = {"build": {"build_base": build_base}, "egg_info": {"egg_base": build_base}}

setup(
    version=project_version(),
    packages=["acm"],
    package_dir={"acm": "bindings/python/acm"},
    package_data={"acm": ["py.typed", "*.pyi"]},
    ext_modules=[Extension("acm._acm", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    options=options,
    zip_safe=False,
)
