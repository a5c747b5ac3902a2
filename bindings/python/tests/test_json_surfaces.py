# SPDX-License-Identifier: Apache-2.0
"""One JSON shape everywhere (docs/json.md): the same cases, read through the C ABI (ctypes on
libacm_c), the `acm` CLI with --json and Python's to_json(), print the same JSON."""

import ctypes
import datetime as dt
import json
import os
import subprocess

import pytest

import acm
from conftest import DEFINITIONS

CLI = os.environ.get("ACM_CLI")
C_LIB = os.environ.get("ACM_C_LIB")

pytestmark = pytest.mark.skipif(
    not CLI or not C_LIB, reason="needs ACM_CLI and ACM_C_LIB (set by the python_tests ctest)")

UTC = dt.timezone.utc
FAR = dt.datetime(2099, 1, 1, 12, tzinfo=UTC)  # far deadlines: timings do not move while we read


class CApi:
    """The few C ABI calls the comparison needs, through ctypes."""

    def __init__(self, path, database):
        lib = ctypes.CDLL(path)
        self.lib = lib
        vp, cp = ctypes.c_void_p, ctypes.c_char_p
        pp = ctypes.POINTER(ctypes.c_void_p)
        for name, args in {
            "acm_options_create": [pp, pp],
            "acm_options_set_database": [vp, cp, pp],
            "acm_options_destroy": [vp],
            "acm_engine_open": [vp, pp, pp],
            "acm_engine_close": [vp],
            "acm_case_get": [vp, vp, cp, pp, pp],
            "acm_case_history": [vp, cp, ctypes.c_uint64, pp, pp],
            "acm_queue_list": [vp, cp, pp, pp],
            "acm_queue_page": [vp, cp, pp, pp],
            "acm_case_find": [vp, cp, pp, pp],
        }.items():
            fn = getattr(lib, name)
            fn.argtypes = args
            fn.restype = ctypes.c_int
        lib.acm_free.argtypes = [vp]
        lib.acm_free.restype = None
        options = ctypes.c_void_p()
        self._ok(lib.acm_options_create(ctypes.byref(options), None), "acm_options_create")
        self._ok(lib.acm_options_set_database(options, database.encode(), None), "acm_options_set_database")
        self.engine = ctypes.c_void_p()
        err = ctypes.c_void_p()
        status = lib.acm_engine_open(options, ctypes.byref(self.engine), ctypes.byref(err))
        lib.acm_options_destroy(options)
        self._ok(status, "acm_engine_open", err)

    def _ok(self, status, what, err=None):
        if status != 0:
            message = ctypes.string_at(err.value).decode() if err is not None and err.value else ""
            raise AssertionError(f"{what} failed with status {status}: {message}")

    def _json(self, call, *args):
        out, err = ctypes.c_void_p(), ctypes.c_void_p()
        status = getattr(self.lib, call)(self.engine, *args, ctypes.byref(out), ctypes.byref(err))
        self._ok(status, call, err)
        try:
            return json.loads(ctypes.string_at(out.value).decode())
        finally:
            self.lib.acm_free(out)

    def case(self, case_id):
        return self._json("acm_case_get", None, case_id.encode())

    def history(self, case_id):
        return self._json("acm_case_history", case_id.encode(), 1)

    def queue(self, filter_json=None):
        return self._json("acm_queue_list", filter_json.encode() if filter_json else None)

    def queue_page(self, filter_json=None):
        return self._json("acm_queue_page", filter_json.encode() if filter_json else None)

    def find(self, query_json=None):
        return self._json("acm_case_find", query_json.encode() if query_json else None)

    def close(self):
        self.lib.acm_engine_close(self.engine)


def cli(db, *args):
    out = subprocess.run([CLI, "--db", str(db), "--json", *args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"acm {' '.join(args)} failed: {out.stderr}"
    return json.loads(out.stdout)


def timeless(case):
    """The case view without the goals' remaining_work, which counts down with the wall clock
    while an estimated task is active (the CLI runs on the system clock), after checking its form."""
    for g in case["goals"]:
        assert g.pop("remaining_work").startswith("PT")
    return case


def items_of(doc):
    """The work items of a queue document: a list, or a page {"items", "total"}."""
    return doc["items"] if isinstance(doc, dict) else doc


@pytest.fixture
def store(tmp_path):
    """A store file with two busy cases, written through Python; the Python engine is closed."""
    db = tmp_path / "surfaces.db"
    admin = acm.Actor("root", ["admin"])
    with acm.Engine.open(database=db) as engine:
        engine.load_definitions(admin, DEFINITIONS / "helpdesk.json")
        first = engine.create_case(
            admin, type="complaint", title="Laptop does not boot \u2013 \"urgent\"",
            subject={"customer": "ann", "attributes": {"tier": "gold", "value": 12000.5, "tags": ["vip", None]}},
            owner="alice", priority=3, participants=[{"actor": "bob", "roles": ["agent"]}],
            file={"order": {"id": "A-17", "lines": [1, 2]}})
        engine.add_goal(admin, first, {"id": "call_back", "name": "Call back", "deadline": FAR})
        engine.add_task(admin, first, name="Call ann", role="agent", goal="call_back", estimate=dt.timedelta(minutes=15),
                        assignee="bob")
        engine.attach(admin, first, "note", title="first call", text="customer angry")
        engine.make_promise(admin, first, "p1", "a new laptop", FAR)
        engine.set_file(admin, first, "diagnosis.category", "hardware")
        second = engine.create_case(admin, type="complaint", title="Refund", subject={"customer": "bob"})
        engine.suspend_case(admin, second, "waiting on the customer")
        cases = (first, second)
    return db, cases


def test_case_views_agree(store):
    db, cases = store
    with acm.Engine.open(database=db) as engine:
        python = {c: engine.get_case(c).to_json() for c in cases}
        python_history = {c: [e.to_json() for e in engine.history(c)] for c in cases}
    c_api = CApi(C_LIB, str(db))
    try:
        c_cases = {c: c_api.case(c) for c in cases}
        c_history = {c: c_api.history(c) for c in cases}
    finally:
        c_api.close()
    for c in cases:
        shown = cli(db, "case", "show", c)
        shown.pop("graph_file", None)
        assert timeless(python[c]) == timeless(c_cases[c]), f"case {c}: Python and C differ"
        assert python[c] == timeless(shown), f"case {c}: Python and the CLI differ"
        assert python_history[c] == c_history[c] == cli(db, "case", "history", c)
    # The shape itself (docs/json.md), on the busy case.
    view = python[cases[0]]
    json.dumps(view)  # only JSON types
    assert view["subject"] == {"customer": "ann", "attributes": {"tier": "gold", "value": 12000.5, "tags": ["vip", None]}}
    assert view["created_at"].endswith("Z") and len(view["created_at"]) == 24
    goal = next(g for g in view["goals"] if g["id"] == "call_back")
    assert goal["deadline"] == "2099-01-01T12:00:00.000Z"
    assert goal["timing"] == "on_track"
    task = next(i for i in view["items"] if i["name"] == "Call ann")
    assert task["estimate"] == "PT15M"
    assert task["def"] and task["kind"] == "human_task"
    assert view["promises"][0]["due"] == "2099-01-01T12:00:00.000Z"
    assert view["assets"][0]["text"] == "customer angry"
    event = python_history[cases[0]][0]
    assert event["case"] == cases[0] and event["kind"] == "case_created"


def test_queues_and_searches_agree(store):
    db, cases = store
    with acm.Engine.open(database=db) as engine:
        queue = [w.to_json() for w in engine.queue()]
        page = engine.queue_page(limit=1).to_json()
        found = engine.find_cases(customer="ann").to_json()
        everything = engine.find_cases().to_json()
    c_api = CApi(C_LIB, str(db))
    try:
        assert c_api.queue() == queue
        assert c_api.queue_page('{"limit": 1}') == page
        assert c_api.find('{"customer": "ann"}') == found
        assert c_api.find() == everything
    finally:
        c_api.close()
    assert items_of(cli(db, "queue")) == queue
    assert page["total"] == len(queue) and len(page["items"]) == 1
    assert [c["id"] for c in everything["cases"]] == [cases[1], cases[0]]
    call = next(w for w in queue if w["name"] == "Call ann")
    assert call == {
        "case": cases[0], "item": call["item"], "name": "Call ann", "state": call["state"], "assignee": "bob",
        "role": "agent", "skills": [], "due": None, "priority": 3, "case_title": "Laptop does not boot \u2013 \"urgent\"",
        "customer": "ann", "goal": "call_back", "goal_deadline": "2099-01-01T12:00:00.000Z", "goal_timing": "on_track"}
