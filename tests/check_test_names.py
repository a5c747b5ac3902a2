#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Fails when a doctest TEST_CASE name under tests/ contains ';'.

doctest_discover_tests hands each name to ctest as a CMake list element: a ';' cuts the name,
ctest then runs '--test-case=<first part>', which matches no test case, and the test passes
having run nothing. Run as: check_test_names.py <tests dir>; --self-test proves it finds one.
"""
import pathlib
import re
import sys
import tempfile

NAME = re.compile(r'\bTEST_CASE(?:_TEMPLATE|_FIXTURE)?\s*\(\s*(?:[A-Za-z_:]+\s*,\s*)?"((?:[^"\\]|\\.)*)"')


def bad_names(root):
    found = []
    for path in sorted(pathlib.Path(root).rglob("*.cpp")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in NAME.finditer(text):
            if ";" in m.group(1):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{path}:{line}: {m.group(1)}")
    return found


def main():
    if sys.argv[1:] == ["--self-test"]:
        with tempfile.TemporaryDirectory() as d:
            pathlib.Path(d, "t.cpp").write_text('TEST_CASE("fine") {}\nTEST_CASE("a; b") {}\n')
            found = bad_names(d)
            if len(found) != 1 or not found[0].endswith("a; b"):
                print("self-test: the check missed a name with ';':", found)
                return 1
        print("self-test: a name with ';' is found")
        return 0
    found = bad_names(sys.argv[1])
    if found:
        print("test names with ';' (ctest would run none of these; use ',' instead):")
        print("\n".join("  " + f for f in found))
        return 1
    print("no test name contains ';'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
