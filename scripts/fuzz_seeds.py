#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Builds the seed corpus of the fuzz harnesses (tests/fuzz) into OUT/<target>/.

Seeds come from the repository (examples/definitions, JSON documents and expressions quoted
in the tests, the XES and CSV samples of the event-log tests) and from the shared data
(ACM_DATA_DIR, default ../shared/data then /work/shared/data: help-desk logs cut to a few
cases, the CMMN corpus). Learned templates are made with the acm CLI of an ordinary build
(build/examples/acm) when there is one. Usage: scripts/fuzz_seeds.py OUT
"""
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def data_dir():
    for d in (os.environ.get("ACM_DATA_DIR"), ROOT.parent / "shared" / "data", "/work/shared/data"):
        if d and Path(d).is_dir():
            return Path(d)
    return None


class Corpus:
    def __init__(self, out):
        self.out = Path(out)
        self.counts = {}

    def add(self, target, data):
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        if len(data) > 65536:
            return
        d = self.out / target
        d.mkdir(parents=True, exist_ok=True)
        (d / hashlib.sha1(data).hexdigest()).write_bytes(data)
        self.counts[target] = self.counts.get(target, 0) + 1


def raw_strings(text):
    """The raw string literals R"d(...)d" of a C++ source."""
    for m in re.finditer(r'R"([^(\s]{0,16})\((.*?)\)\1"', text, re.S):
        yield m.group(2)


def json_strings(text):
    """JSON documents quoted as raw strings in the tests."""
    for s in raw_strings(text):
        try:
            yield json.loads(s), s
        except ValueError:
            continue


EXPRESSION_KEYS = {"if", "condition", "when", "applicability", "criterion", "repetition", "required",
                   "manual_activation", "expression"}


def expressions_in(value):
    if isinstance(value, dict):
        for k, v in value.items():
            if k in EXPRESSION_KEYS and isinstance(v, str):
                yield v
            yield from expressions_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from expressions_in(v)


def learner_via_c_abi(lib, small):
    import ctypes
    c = ctypes.CDLL(str(lib))
    c.acm_learner_create.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_char_p)]
    c.acm_learner_add.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]
    c.acm_learner_train.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p)]
    c.acm_learner_save.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t),
                                   ctypes.POINTER(ctypes.c_char_p)]
    c.acm_learner_destroy.argtypes = [ctypes.c_void_p]
    learner, err = ctypes.c_void_p(), ctypes.c_char_p()
    options = json.dumps({"next_rounds": 2, "time_rounds": 2, "min_value_count": 1} if small else {"next_rounds": 4})
    if c.acm_learner_create(options.encode(), ctypes.byref(learner), ctypes.byref(err)) != 0:
        return b""
    acts = ["Assign seriousness", "Take in charge ticket", "Resolve ticket", "Closed", "Wait", "Insert ticket"]
    for i in range(6 if small else 40):
        steps = [{"activity": acts[(i + k) % len(acts)], "time": f"2026-01-{1 + k:02d}T{(i % 20):02d}:00:00Z",
                  "resource": f"Value {i % 3}", "ad_hoc": k == 1, "attributes": {"product": f"p{i % 4}"}}
                 for k in range(2 + i % 4)]
        trace = {"id": f"c{i}", "case_type": "", "attributes": {"tier": "gold" if i % 2 else "silver"}, "steps": steps}
        c.acm_learner_add(learner, json.dumps(trace).encode(), ctypes.byref(err))
    c.acm_learner_train(learner, ctypes.byref(err))
    data, size = ctypes.c_void_p(), ctypes.c_size_t()
    out = b""
    if c.acm_learner_save(learner, ctypes.byref(data), ctypes.byref(size), ctypes.byref(err)) == 0:
        out = ctypes.string_at(data, size.value)
    c.acm_learner_destroy(learner)
    return out


def main():
    corpus = Corpus(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build-fuzz" / "seeds")
    sources = sorted((ROOT / "tests").rglob("*.cpp"))
    docs = []
    for p in sorted((ROOT / "examples" / "definitions").glob("*.json")):
        text = p.read_text()
        docs.append((json.loads(text), text))
    for p in sources:
        docs.extend(json_strings(p.read_text(errors="replace")))

    for doc, text in docs:
        if isinstance(doc, dict) and ({"fragments", "case_types", "items"} & doc.keys()):
            corpus.add("definitions", text)
            for f in doc.get("fragments", []) + doc.get("case_types", []):
                corpus.add("definitions", json.dumps(f))
        if isinstance(doc, dict) and "channel" in doc:
            corpus.add("intake", text)
        for e in expressions_in(doc):
            corpus.add("expressions", e)
    # Expressions quoted in the expression tests: ev("...") and the like.
    expr_test = (ROOT / "tests" / "test_expr.cpp").read_text()
    for m in re.finditer(r'\b(?:ev|eval|parse|is_null|what|test)\("((?:[^"\\]|\\.)*)"', expr_test):
        corpus.add("expressions", bytes(m.group(1), "utf-8").decode("unicode_escape", "replace"))
    corpus.add("expressions", 'file.customer.tier == "gold" && case.priority > 2\n{"customer": {"tier": "gold"}}')
    corpus.add("expressions", "now + duration('P2D') > time('2026-11-24') || len(file.items) >= 3")

    # Channel events.
    for e in [{"id": "e1", "channel": "email", "customer": "ann", "text": "my printer", "metadata": {"order_id": "A-17"}},
              {"id": "e2", "channel": "phone", "customer": "bob", "text": "call", "sentiment": -0.8,
               "received": "2026-11-23T08:00:00Z"},
              {"id": "e3", "channel": "chat", "customer": "ann", "text": "please unsubscribe me"}]:
        corpus.add("intake", json.dumps(e))

    # Event logs: the samples of the event-log tests, and the shared logs cut to a few cases.
    ev_test = (ROOT / "tests" / "eventlog" / "test_eventlog.cpp").read_text(errors="replace")
    for s in raw_strings(ev_test):
        if "<log" in s:
            corpus.add("xes", b"\x00" + s.encode())
            corpus.add("xes", b"\x01" + s.encode())
        elif "," in s and "\n" in s:
            corpus.add("csv", b"\x00" + s.encode())
    data = data_dir()
    if data:
        for csv in sorted((data / "helpdesk").glob("*.csv")):
            lines = csv.read_bytes().splitlines(keepends=True)
            corpus.add("csv", b"\x00" + b"".join(lines[:40]))
            corpus.add("csv", b"\x01" + b"".join(lines[:12]))
        for xes in sorted((data / "helpdesk").glob("*.xes.gz")):
            with gzip.open(xes, "rb") as f:
                head = f.read(200000)
            cut = head.find(b"</trace>", head.find(b"</trace>", head.find(b"</trace>") + 1) + 1)
            if cut > 0:
                small = head[: cut + len(b"</trace>")] + b"\n</log>\n"
                corpus.add("xes", b"\x00" + small)
                corpus.add("xes", b"\x01" + small)
                corpus.add("xes", b"\x00" + gzip.compress(small))
        for cmmn in sorted((data / "cmmn").rglob("*")):
            if cmmn.is_file() and cmmn.suffix in (".cmmn", ".xml"):
                corpus.add("cmmn", cmmn.read_bytes())

    # Store damage: one seed per mode.
    corpus.add("store", b"\x00" + bytes([0, 0, 0, 20, 0x10, 0, 0, 16, 0, 0x40]))
    corpus.add("store", b"\x01\x00\x00" + b'{"item": "handle#1/answer", "transition": "start"}')
    corpus.add("store", b"\x01\x03\x01" + b"item_transition")
    corpus.add("store", b"\x02\x00" + b"22 serialization::archive 19 0 0")

    # C ABI: records of (selector, JSON, NUL).
    records = [(1, {"id": "c2", "type": "complaint", "title": "t", "file": {"a": 1}}), (2, {"v": [1, 2]}),
               (3, {"x": 1}), (4, {"kind": "note", "title": "n", "text": "t"}),
               (5, {"id": "g2", "name": "goal", "within": "3d"}), (6, {"name": "renamed", "deadline": None}),
               (7, {"id": "p1", "what": "call back", "due": "2026-11-30T09:00:00Z"}),
               (8, {"fragment": "handle", "params": {"level": 2}}), (9, {"name": "extra", "estimate": "1h"}),
               (10, {"roles": ["agent"], "limit": 10}), (11, {"traces": 3}),
               (12, {"id": "t1", "steps": [{"activity": "a", "time": "2026-11-23T09:00:00Z"}]}),
               (13, {"steps": [{"activity": "a", "time": "2026-11-23T09:00:00Z"}]}),
               (15, {"next_rounds": 3})]
    blob = b"".join(bytes([s]) + json.dumps(j).encode() + b"\0" for s, j in records)
    corpus.add("c_api", blob)
    for s, j in records:
        corpus.add("c_api", bytes([s]) + json.dumps(j).encode() + b"\0")

    # Learned templates, made by the CLI of an ordinary build.
    cli = ROOT / "build" / "examples" / "acm"
    if cli.exists() and data:
        csv = data / "helpdesk" / "helpdesk_tax2017.csv"
        with tempfile.TemporaryDirectory() as tmp:
            small = Path(tmp) / "small.csv"
            small.write_bytes(b"".join(csv.read_bytes().splitlines(keepends=True)[:300]))
            db = str(Path(tmp) / "t.db")
            out = Path(tmp) / "t.bin"
            ok = subprocess.run([str(cli), "--db", db, "learn", "import", str(small), "--template", "t"],
                                capture_output=True).returncode == 0
            ok = ok and subprocess.run([str(cli), "--db", db, "learn", "export", "--template", "t", str(out)],
                                       capture_output=True).returncode == 0
            if ok and out.exists():
                corpus.add("learned_templates", out.read_bytes())
    # Without the CLI, the C ABI of an ordinary build (ctypes): a few traces, trained, saved.
    lib = next((p for p in (ROOT / "build" / "bindings" / "c").glob("libacm_c.so*")), None)
    if lib is not None:
        corpus.add("learned_templates", learner_via_c_abi(lib, small=True))
        corpus.add("learned_templates", learner_via_c_abi(lib, small=False))
    corpus.add("learned_templates", b"ACMLRN")

    for t, n in sorted(corpus.counts.items()):
        print(f"seeds {t}: {n}")


if __name__ == "__main__":
    main()
