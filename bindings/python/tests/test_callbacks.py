# SPDX-License-Identifier: Apache-2.0
"""Task handlers and subscribers written in Python: results, failures, threads, re-entry, lifetime."""

import datetime as dt
import gc
import subprocess
import sys
import textwrap
import threading
import weakref

import pytest

import acm
from conftest import state

# A fragment whose automated task runs when a timer fires (so from the thread advancing time).
TIMED = {
    "id": "timed",
    "items": [
        {"id": "wait", "kind": "timer_listener", "timer": "1h"},
        {"id": "notify", "kind": "automated_task", "handler": "notify", "output": "notified",
         "input": {"channel": "mail"}, "after": ["wait"]},
    ],
}


def test_handler_output_failure_and_reactivation(engine, admin):
    calls = []

    def charge(ctx):
        calls.append(ctx)
        if len(calls) == 1:
            raise ValueError("card declined")
        return {"charged": ctx.input["amount"]}

    engine.register_handler("charge", charge)
    case_id = engine.create_case(admin)
    item = engine.add_task(admin, case_id, "charge", kind="automated_task", handler="charge",
                           input={"amount": 10}, output="payment")
    assert state(engine, case_id, item) == "failed"
    failure = [e for e in engine.history(case_id) if e["kind"] == "item_transition"
               and e["payload"].get("to") == "failed"]
    assert failure and "ValueError: card declined" in str(failure[-1]["payload"])
    engine.reactivate_item(admin, case_id, item)
    assert state(engine, case_id, item) == "completed"
    assert engine.get_case(case_id)["file"]["payment"] == {"charged": 10}
    assert isinstance(calls[0], acm.TaskContext) and calls[0].item_id == item
    assert calls[0].case_id == case_id and calls[0].handler == "charge"  # kept contexts stay valid


def test_handler_result_that_is_not_json_fails_the_task(engine, admin):
    engine.register_handler("odd", lambda ctx: object())
    case_id = engine.create_case(admin)
    item = engine.add_task(admin, case_id, "odd", kind="automated_task", handler="odd")
    assert state(engine, case_id, item) == "failed"


def test_handler_calling_the_engine(engine, admin):
    other = engine.create_case(admin, id="other")

    def touch(ctx):
        engine.set_file(admin, other, "touched_by", ctx.case_id)  # another case: allowed
        engine.get_case(ctx.case_id)  # its own case: refused, so the task fails
        return "unreachable"

    engine.register_handler("touch", touch)
    case_id = engine.create_case(admin, id="mine")
    item = engine.add_task(admin, case_id, "touch", kind="automated_task", handler="touch")
    assert engine.get_case(other)["file"]["touched_by"] == case_id
    assert state(engine, case_id, item) == "failed"
    text = str(engine.history(case_id))
    assert "InvalidState" in text


def test_handler_called_from_the_thread_advancing_time(engine, clock, admin):
    threads = []

    def notify(ctx):
        threads.append(threading.get_ident())
        assert ctx.input["input"] == {"channel": "mail"}
        return {"at": ctx.now}

    engine.register_handler("notify", notify)
    engine.register_fragment(admin, TIMED)
    case_id = engine.create_case(admin)
    engine.add_fragment(admin, case_id, "timed")
    assert engine.next_due() == clock.now() + dt.timedelta(hours=1)

    worker = threading.Thread(target=clock.advance, args=(dt.timedelta(hours=2),))
    worker.start()
    worker.join(30)
    assert not worker.is_alive()
    assert threads == [worker.ident]
    assert engine.get_case(case_id)["file"]["notified"] == {"at": "2026-11-23T10:00:00.000Z"}


def test_run_due_with_a_system_clock_fires_python_handlers(admin):
    fired = threading.Event()
    with acm.Engine.open(clock=acm.SystemClock()) as engine:
        engine.register_handler("notify", lambda ctx: fired.set())
        engine.register_fragment(admin, dict(TIMED, items=[dict(TIMED["items"][0], timer="PT0.05S"),
                                                           TIMED["items"][1]]))
        case_id = engine.create_case(admin)
        engine.add_fragment(admin, case_id, "timed")
        deadline = engine.now() + dt.timedelta(seconds=20)
        while not fired.is_set() and engine.now() < deadline:
            result = []
            t = threading.Thread(target=lambda: result.append(engine.run_due()))
            t.start()
            t.join(20)
        assert fired.is_set()
        assert state(engine, case_id, "timed#1/notify") == "completed"


def test_subscribers_may_call_back_into_the_engine(engine, admin):
    seen = []

    def on_event(event):
        seen.append(event)
        # A command on the same case from inside delivery: no deadlock; its events come later.
        if event["kind"] == "file_set" and event["payload"].get("path") == "ping":
            engine.set_file(admin, event["case_id"], "pong", engine.get_case(event["case_id"])["version"])

    sub = engine.subscribe(on_event)
    case_id = engine.create_case(admin)
    engine.set_file(admin, case_id, "ping", True)
    assert "pong" in engine.get_case(case_id)["file"]
    kinds = [e["kind"] for e in seen]
    assert kinds.count("file_set") == 2
    assert all(e["time"].tzinfo is dt.timezone.utc for e in seen)
    engine.unsubscribe(sub)
    engine.set_file(admin, case_id, "after", 1)
    assert len([e for e in seen if e["payload"].get("path") == "after"]) == 0


def test_subscriber_kinds_and_exceptions(engine, admin, monkeypatch):
    reported = []
    monkeypatch.setattr("sys.unraisablehook", lambda u: reported.append(u))
    statuses = []

    def broken(event):
        raise RuntimeError("subscriber bug")

    engine.subscribe(broken)
    engine.subscribe(statuses.append, kinds=["case_status"])
    case_id = engine.create_case(admin)
    engine.suspend_case(admin, case_id, "waiting")
    engine.resume_case(admin, case_id)
    assert [e["payload"]["to"] for e in statuses] == ["suspended", "active"]
    assert reported and isinstance(reported[0].exc_value, RuntimeError)
    assert engine.get_case(case_id)["status"] == "active"  # the engine carried on


def test_close_and_advance_are_refused_inside_callbacks(engine, clock, admin):
    errors = []

    def on_event(event):
        for call in (engine.close, lambda: clock.advance(dt.timedelta(minutes=1))):
            try:
                call()
            except acm.InvalidState as e:
                errors.append(str(e))

    engine.subscribe(on_event, kinds=["case_created"])
    engine.create_case(admin)
    assert len(errors) == 2
    assert not engine.closed


class Counter:
    def __init__(self):
        self.n = 0

    def __call__(self, *args):
        self.n += 1


def test_callbacks_are_released_at_close(clock, admin):
    engine = acm.Engine.open(clock=clock)
    handler, subscriber = Counter(), Counter()
    engine.register_handler("count", handler)
    engine.subscribe(subscriber)
    refs = [weakref.ref(handler), weakref.ref(subscriber)]
    # A callback that refers to the engine makes a cycle the engine's close breaks.
    engine.register_handler("cycle", lambda ctx: engine.now())
    del handler, subscriber
    gc.collect()
    assert all(r() is not None for r in refs)  # the engine keeps them alive
    engine.close()
    gc.collect()
    assert all(r() is None for r in refs)


def test_open_engines_with_callbacks_at_interpreter_exit(tmp_path):
    script = textwrap.dedent(f"""
        import threading, acm
        engine = acm.Engine.open(database={str(tmp_path / 'exit.db')!r})
        admin = acm.Actor("root", ["admin"])
        engine.register_handler("h", lambda ctx: engine.now())  # refers to the engine
        engine.subscribe(lambda e: engine.now())
        engine.create_case(admin)
        def busy():
            while True:
                try:
                    engine.list_cases()
                except acm.InvalidState:
                    return
        threading.Thread(target=busy, daemon=True).start()
        print("done")
    """)
    for _ in range(3):
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip() == "done"
        assert run.stderr == ""
