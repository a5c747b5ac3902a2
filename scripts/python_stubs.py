#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Prints a draft of bindings/python/acm/_acm.pyi from the built module's own signatures
(pybind11 writes them at the top of each docstring), with readable types where pybind11 only
knows `handle`/`object` (chosen by parameter name). The committed stub is this output, reviewed;
regenerate and diff when bindings change (test_stubs.py fails until the stub matches):

  PYTHONPATH=build/bindings/python /usr/bin/python3 scripts/python_stubs.py > /tmp/_acm.pyi
"""

import inspect
import re
import sys

import acm  # noqa: F401  (installs the error classes)
from acm import _acm

TIME = {"start", "end", "time", "due", "overdue_at", "at", "deadline", "now", "t", "since", "until", "start_time"}
DURATION = {"work", "estimate", "within", "duration", "delta", "step"}
RETURNS = {  # (class or "", name) -> return type where pybind11 says only "object"
    ("", "parse_time"): "datetime.datetime",
    ("", "parse_duration"): "datetime.timedelta",
    ("Clock", "now"): "datetime.datetime",
    ("ManualClock", "now"): "datetime.datetime",
    ("SystemClock", "now"): "datetime.datetime",
    ("Engine", "now"): "datetime.datetime",
    ("Engine", "next_due"): "datetime.datetime | None",
    ("Engine", "find_case"): "dict[str, Any] | None",
    ("BusinessCalendar", "add"): "datetime.datetime",
    ("BusinessCalendar", "latest_start"): "datetime.datetime",
    ("BusinessCalendar", "next_working"): "datetime.datetime",
    ("BusinessCalendar", "between"): "datetime.timedelta",
    ("BusinessCalendar", "week_work"): "datetime.timedelta",
    ("TaskContext", "now"): "datetime.datetime",
    ("BusinessCalendar", "name"): "str",
    ("BusinessCalendar", "spec"): "dict[str, Any]",
    ("Engine", "closed"): "bool",
    ("Engine", "__enter__"): "Engine",
    ("Engine", "get_fragment"): "dict[str, Any]",
    ("Engine", "get_case_type"): "dict[str, Any]",
    ("Engine", "inspect"): "dict[str, Any]",
    ("Engine", "explain_priority"): "dict[str, Any]",
    ("Learner", "options"): "dict[str, Any]",
    ("Learner", "save"): "bytes",
    ("", "parse_definitions"): "dict[str, Any]",
}
PARAMS = {  # (class or "", parameter) -> type where pybind11 says only "handle"/"object"
    ("ManualClock", "by"): "datetime.timedelta | str",
    ("Actor", "roles"): "list[str]",
    ("Engine", "roles"): "list[str] | None",
    ("Engine", "admin_roles"): "list[str] | None",
    ("Engine", "designer_roles"): "list[str] | None",
    ("Engine", "kinds"): "list[str] | None",
    ("Engine", "skills"): "list[str] | None",
    ("Engine", "after"): "list[str] | None",
    ("Engine", "database"): "str | os.PathLike[str]",
    ("Engine", "callback"): "Callable[..., Any]",
    ("Engine", "limit"): "int | None",
    ("Engine", "calendar"): "BusinessCalendar | None",
    ("Engine", "forecaster"): "Callable[[dict[str, Any], datetime.datetime], datetime.datetime | None] | None",
    ("", "on_case"): "Callable[[dict[str, Any]], Any] | None",
    ("", "progress"): "Callable[[dict[str, Any]], Any] | None",
    ("Learner", "progress"): "Callable[[dict[str, Any]], Any] | None",
    ("", "path"): "str | os.PathLike[str]",
    ("Learner", "path"): "str | os.PathLike[str]",
    ("", "arg0"): "dict[int, type[Exception]]",  # _set_error_classes
}


def split_params(text):
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


def py_type(t, name="", owner=""):
    t = t.strip().replace("acm._acm.", "")
    t = re.sub(r"Optional\[(.*)\]$", r"\1 | None", t)
    t = re.sub(r"\bList\[", "list[", t)
    t = re.sub(r"\bDict\[", "dict[", t)
    t = re.sub(r"\bTuple\[", "tuple[", t)
    t = re.sub(r"\bCallable\[", "Callable[", t)
    if (owner, name) in PARAMS:
        return PARAMS[(owner, name)]
    if t in ("handle", "object"):
        if name == "by":
            return "Actor | str"
        if name in TIME:
            return "datetime.datetime | str"
        if name in DURATION:
            return "datetime.timedelta | str"
        return "Any"
    if t == "dict":
        return "dict[str, Any]"
    if t == "list":
        return "list[Any]"
    if t == "tuple":
        return "tuple[Any, ...]"
    if t == "cpp_function":
        return "Callable[..., Any]"
    if t == "function":
        return "Callable[..., Any]"
    return t


def signatures(name, doc):
    sigs = []
    for line in (doc or "").splitlines():
        m = re.match(r"^(?:\d+\. )?" + re.escape(name) + r"\((.*)\) -> (.*)$", line)
        if m:
            sigs.append((m.group(1), m.group(2)))
    if len(sigs) > 1 and sigs[0][0] == "*args, **kwargs":
        sigs = sigs[1:]
    return sigs


def render_params(text, owner):
    out = []
    for p in split_params(text):
        if p in ("*", "/"):
            out.append(p)
            continue
        m = re.match(r"^(\*{0,2})(\w+)(?:\s*:\s*(.*?))?(?:\s*=\s*(.*))?$", p)
        stars, pname, ptype, default = m.groups()
        if pname == "self":
            out.append("self")
            continue
        s = f"{stars}{pname}"
        if ptype and not stars:
            s += f": {py_type(ptype, pname, owner)}"
        if default is not None:
            s += " = ..."
        out.append(s)
    return ", ".join(out)


def emit_function(lines, indent, owner, name, obj, static=False):
    sigs = signatures(name, getattr(obj, "__doc__", ""))
    if not sigs:
        return
    for params, ret in sigs:
        if len(sigs) > 1:
            lines.append(f"{indent}@overload")
        if static:
            lines.append(f"{indent}@staticmethod")
        rtype = RETURNS.get((owner, name)) if ret.strip() in ("object", "handle") else None
        rtype = rtype or py_type(ret)
        lines.append(f"{indent}def {name}({render_params(params, owner)}) -> {rtype}: ...")


def prop_type(owner, name, prop):
    doc = getattr(prop.fget, "__doc__", "") or ""
    m = re.match(r"^\((?:self|arg0): [^)]*\) -> (.*)$", doc.splitlines()[0] if doc else "")
    t = m.group(1) if m else "Any"
    if t.strip() in ("object", "handle"):
        return RETURNS.get((owner, name), "Any")
    return py_type(t, name, owner)


def main():
    lines = [
        "# SPDX-License-Identifier: Apache-2.0",
        '"""Type stubs of the native module acm._acm (scripts/python_stubs.py drafts them; test_stubs.py',
        'checks them against the module). Times are timezone-aware datetimes (ISO-8601 strings accepted',
        'on input), durations timedeltas (or duration strings), views plain dicts (docs/python.md)."""',
        "",
        "import datetime",
        "import os",
        "from typing import Any, Callable, overload",
        "",
        "__version__: str",
        "",
    ]
    # Public names, and the private functions acm/__init__.py calls.
    names = sorted(n for n in vars(_acm) if not n.startswith("__") and (not n.startswith("_") or callable(getattr(_acm, n))))
    for n in names:
        obj = getattr(_acm, n)
        if isinstance(obj, type):
            bases = [b.__name__ for b in obj.__bases__ if b.__module__ == "acm._acm"]
            lines.append(f"class {n}({', '.join(bases)}):" if bases else f"class {n}:")
            body = []
            for m, v in vars(obj).items():
                if m.startswith("_") and m not in ("__init__", "__enter__", "__exit__"):
                    continue
                if isinstance(v, property):
                    body.append("    @property")
                    body.append(f"    def {m}(self) -> {prop_type(n, m, v)}: ...")
                    if v.fset is not None:
                        body.append(f"    @{m}.setter")
                        body.append(f"    def {m}(self, value: {prop_type(n, m, v)}) -> None: ...")
                elif isinstance(v, staticmethod):
                    emit_function(body, "    ", n, m, v.__func__, static=True)
                elif callable(v):
                    emit_function(body, "    ", n, m, v)
            lines += body or ["    ..."]
            lines.append("")
        elif callable(obj):
            emit_function(lines, "", "", n, obj)
    lines.append("")
    sys.stdout.write("\n".join(lines).rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
