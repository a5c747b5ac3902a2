# SPDX-License-Identifier: Apache-2.0
"""The type stubs (acm/_acm.pyi) against the built module, by introspection: every public name
of the module has a stub and every stub names something the module has, and each function's
parameters (names, keyword-only, *args/**kwargs, overloads) are those of the module's own
signature (pybind11 writes it at the top of each docstring)."""

import ast
import pathlib
import re

import pytest

import acm
from acm import _acm

STUB = pathlib.Path(__file__).resolve().parents[1] / "acm" / "_acm.pyi"
KEPT_DUNDERS = {"__version__"}


def public(name: str) -> bool:
    return not name.startswith("_") or name in KEPT_DUNDERS


def split_params(text: str) -> list[str]:
    """Splits a parameter list at the commas that are not nested in brackets or quotes."""
    out, depth, quote, cur = [], 0, "", ""
    for ch in text:
        if quote:
            cur += ch
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def runtime_signatures(name: str, obj) -> list[tuple]:
    """The (name, kind) parameter lists of a pybind11 function, one per overload."""
    doc = getattr(obj, "__doc__", None) or ""
    sigs = []
    for line in doc.splitlines():
        m = re.match(r"^(?:\d+\. )?" + re.escape(name) + r"\((.*)\) -> .*$", line)
        if not m:
            continue
        params, kind = [], "pos"
        for p in split_params(m.group(1)):
            if p == "/":
                continue
            if p == "*":
                kind = "kwonly"
                continue
            if p.startswith("**"):
                params.append((p[2:].split(":")[0].strip(), "varkw"))
            elif p.startswith("*"):
                params.append((p[1:].split(":")[0].strip(), "var"))
                kind = "kwonly"
            else:
                params.append((re.split(r"[:=]", p)[0].strip(), kind))
        sigs.append(tuple(params))
    if len(sigs) > 1 and sigs[0] == (("args", "var"), ("kwargs", "varkw")):
        sigs = sigs[1:]  # "f(*args, **kwargs)" heads an overload list
    return sigs


def stub_signature(fn: ast.FunctionDef) -> tuple:
    a = fn.args
    params = [(x.arg, "pos") for x in a.posonlyargs + a.args]
    if a.vararg:
        params.append((a.vararg.arg, "var"))
    params += [(x.arg, "kwonly") for x in a.kwonlyargs]
    if a.kwarg:
        params.append((a.kwarg.arg, "varkw"))
    return tuple(params)


def is_property(fn: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "property" or isinstance(d, ast.Attribute) and d.attr == "setter"
               for d in fn.decorator_list)


def scope(body) -> dict:
    """name -> list of FunctionDef (overloads), a ClassDef, or "attribute"."""
    out: dict = {}
    for node in body:
        if isinstance(node, ast.FunctionDef):
            out.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.ClassDef):
            out[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = "attribute"
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    out[t.id] = "attribute"
    return out


STUBS = scope(ast.parse(STUB.read_text(encoding="utf-8")).body)
CLASSES = sorted(n for n, v in vars(_acm).items() if public(n) and isinstance(v, type))


def compare(where: str, runtime: dict, stubs: dict) -> list[str]:
    problems = []
    for name in sorted(set(runtime) - set(stubs)):
        problems.append(f"{where}{name}: in the module, missing from {STUB.name}")
    for name in sorted(set(stubs) - set(runtime)):
        problems.append(f"{where}{name}: in {STUB.name}, not in the module")
    for name in sorted(set(runtime) & set(stubs)):
        obj, stub = runtime[name], stubs[name]
        if isinstance(obj, staticmethod):
            obj = obj.__func__
        if isinstance(obj, property) or not callable(obj) or isinstance(obj, type):
            continue
        if not isinstance(stub, list):
            problems.append(f"{where}{name}: a function in the module, not a def in the stub")
            continue
        defs = [d for d in stub if not is_property(d)]
        want = runtime_signatures(name, obj)
        got = [stub_signature(d) for d in defs]
        if want and sorted(want) != sorted(got):
            problems.append(f"{where}{name}: parameters differ\n    module: {want}\n    stub:   {got}")
    return problems


def test_module_level_names_and_signatures():
    runtime = {n: v for n, v in vars(_acm).items() if public(n)}
    stubs = {n: v for n, v in STUBS.items() if public(n)}
    problems = compare("acm._acm.", runtime, stubs)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", CLASSES)
def test_class_members_and_signatures(name):
    cls = getattr(_acm, name)
    stub = STUBS.get(name)
    assert isinstance(stub, ast.ClassDef), f"class {name}: no class in {STUB.name}"
    runtime = {n: v for n, v in vars(cls).items() if public(n) or n in ("__init__", "__enter__", "__exit__")}
    if "__init__" in runtime and not runtime_signatures("__init__", runtime["__init__"]):
        del runtime["__init__"]  # not a constructor pybind11 defined (no signature)
    members = scope(stub.body)
    members = {n: v for n, v in members.items() if public(n) or n in ("__init__", "__enter__", "__exit__")}
    problems = compare(f"acm._acm.{name}.", runtime, members)
    assert not problems, "\n".join(problems)


def test_the_checker_sees_a_missing_stub():
    # The comparison is not vacuous: a module name without a stub is reported.
    runtime = {n: v for n, v in vars(_acm).items() if public(n)}
    stubs = dict(STUBS)
    removed = sorted(n for n in stubs if n in runtime and isinstance(stubs[n], list))[0]
    del stubs[removed]
    assert any(removed in p for p in compare("acm._acm.", runtime, stubs))


def test_stubs_use_no_opaque_types():
    # pybind11's fallback names (handle, object of an unregistered caster) make useless stubs.
    text = STUB.read_text(encoding="utf-8")
    assert "pybind11" not in text and not re.search(r"\bhandle\b", text)


def test_version_is_the_project_version():
    import os
    source = pathlib.Path(os.environ.get("ACM_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[3]))
    m = re.search(r"project\(\s*acm\s+VERSION\s+([0-9.]+)", (source / "CMakeLists.txt").read_text())
    assert acm.__version__ == _acm.__version__ == m.group(1)
